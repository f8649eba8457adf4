"""Configuration from a TOML file and ``BUURTBOT_*`` environment variables, checked once."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.config import LIMIT_RANGE, CommunityDefaults, CommunitySettings, CoreConfig
from bot.settings import BY_NAME, parse_hours

DEFAULT_CONFIG_FILE = Path("buurtbot.toml")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_DEFAULTS = CommunitySettings()


def _ranged(name: str, description: str) -> Any:
    """A default a community can change (/instellingen), within the range it may choose."""
    setting = BY_NAME[name]
    return Field(
        default=getattr(_DEFAULTS, name), ge=setting.low, le=setting.high, description=description
    )


def _limit(default: int, description: str) -> Any:
    low, high = LIMIT_RANGE
    return Field(default=default, ge=low, le=high, description=description)


class Settings(BaseSettings):
    """Every setting; see deploy/buurtbot.example.toml for an explained example."""

    model_config = SettingsConfigDict(env_prefix="BUURTBOT_", extra="forbid")

    database_url: str = "sqlite:///buurtbot.db"
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_webhook_url: str | None = Field(
        default=None, description="public https URL for Telegram's webhook; unset: long polling"
    )
    telegram_webhook_secret: SecretStr | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8080, ge=0, le=65535)
    matrix_homeserver: str | None = None
    matrix_user: str | None = None
    matrix_password: SecretStr | None = None
    matrix_access_token: SecretStr | None = None
    matrix_allowed: str = Field(
        default="",
        description="comma-separated room ids (!abc:example.org) and server names"
        " (:example.org) whose invites the Matrix bot accepts; empty: the bot's own server",
    )
    organisers: str = Field(
        default="", description="comma-separated platform:id, e.g. telegram:12345,console:anna"
    )
    operator_contact: str = Field(
        default="",
        description="platform:id of the person running the bot, e.g. telegram:12345: reports"
        " about an organiser go there when the community has no other organiser",
    )
    language: str = "nl"
    timezone: str = "Europe/Amsterdam"
    community_name: str = "Buurt"
    house_rules_required: bool = True  # new members accept the house rules before taking part
    # defaults for a new community; its organisers can change each with /instellingen
    widen_after_hours: float = _ranged("widen_after_hours", "hours without a helper: the group")
    organisers_after_hours: float = _ranged(
        "organisers_after_hours", "hours without a helper: the organisers"
    )
    quiet_hours: str = Field(
        default=_DEFAULTS.quiet_hours, description="nothing that can wait is sent, e.g. 21:30-08:30"
    )
    helpers_to_ask: int = _ranged("helpers_to_ask", "helpers asked privately at once")
    approve_helpers: bool = _DEFAULTS.approve_helpers  # an organiser approves each new helper
    retention_days: int = _ranged("retention_days", "days the texts of closed requests are kept")
    circle_window_hours: float = _ranged(
        "circle_window_hours", "hours a circle member's request goes to their circle only"
    )
    # limits for a new community (each community can change its own; see bot.limits)
    asks_per_day: int = _limit(_DEFAULTS.asks_per_day, "requests per member in 24 hours")
    asks_per_week: int = _limit(_DEFAULTS.asks_per_week, "requests per member in 7 days")
    tables_per_day: int = _limit(_DEFAULTS.tables_per_day, "meal tables per member in 24 hours")
    tables_per_week: int = _limit(_DEFAULTS.tables_per_week, "meal tables per member in 7 days")
    reports_per_day: int = _limit(_DEFAULTS.reports_per_day, "reports per member in 24 hours")
    reports_per_week: int = _limit(_DEFAULTS.reports_per_week, "reports per member in 7 days")
    helper_asks_per_day: int = _limit(
        _DEFAULTS.helper_asks_per_day, "times one helper is asked in 24 hours"
    )
    log_level: str = "INFO"
    log_json: bool = False
    health_port: int | None = Field(default=None, ge=0, le=65535)
    health_host: str = "127.0.0.1"
    # the organisers' web pages (adapters/web); port 0 switches them off
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8088, ge=0, le=65535)
    web_base_url: str = Field(
        default="http://127.0.0.1:8088",
        description="the address organisers open; links from /dashboard start with it",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # init (a file given on the command line) < environment: the environment wins.
        return (env_settings, init_settings)

    @field_validator("database_url")
    @classmethod
    def _database(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql", "postgres")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @field_validator("web_base_url")
    @classmethod
    def _web_base_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{value}' is not a web address, e.g. https://buurt.example.org")
        return value.rstrip("/")

    @field_validator("telegram_base_url", "matrix_homeserver")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"'{value}' is not a web address; it should start with https://")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        if value not in ("nl", "en"):
            raise ValueError("must be nl or en")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not a known time zone, e.g. Europe/Amsterdam") from None
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        if value.strip().lower() == "off":
            return "off"
        hours = parse_hours(value)
        if hours is None:
            raise ValueError(f"'{value}' should look like 21:30-08:30, or be off")
        return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"

    @field_validator("organisers")
    @classmethod
    def _organisers(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            platform, sep, ident = item.partition(":")
            if not sep or not ident or platform not in ("telegram", "matrix", "console"):
                raise ValueError(
                    f"'{item}' should look like telegram:12345, matrix:@anna:example.org"
                    " or console:anna"
                )
        return value

    @field_validator("operator_contact")
    @classmethod
    def _operator_contact(cls, value: str) -> str:
        value = value.strip()
        if not value:
            return value
        platform, sep, ident = value.partition(":")
        good = sep and ident and platform in ("telegram", "matrix", "console")
        if good and platform == "telegram":
            good = ident.lstrip("-").isdecimal()
        if good and platform == "matrix":
            good = ident.startswith("@") and ":" in ident
        if not good:
            raise ValueError(
                f"'{value}' should look like telegram:12345 (the number of the account),"
                " matrix:@beheer:example.org or console:beheer"
            )
        return value

    @field_validator("matrix_allowed")
    @classmethod
    def _matrix_allowed(cls, value: str) -> str:
        for item in filter(None, (part.strip() for part in value.split(","))):
            if not item.startswith(("!", ":")) or len(item) < 2:
                raise ValueError(
                    f"'{item}' should be a room id like !abc:example.org"
                    " or a server name like :example.org"
                )
        return value

    @model_validator(mode="after")
    def _webhook_complete(self) -> Settings:
        if self.telegram_webhook_url:
            if not self.telegram_webhook_url.startswith("https://"):
                raise ValueError("BUURTBOT_TELEGRAM_WEBHOOK_URL must start with https://")
            if self.telegram_webhook_secret is None:
                raise ValueError(
                    "BUURTBOT_TELEGRAM_WEBHOOK_SECRET is needed with a webhook URL"
                    " (1 to 256 characters: letters, digits, _ and -)"
                )
        secret = self.telegram_webhook_secret
        if secret is not None and not WEBHOOK_SECRET.fullmatch(secret.get_secret_value()):
            raise ValueError(
                "BUURTBOT_TELEGRAM_WEBHOOK_SECRET must be 1 to 256 letters, digits, _ or -"
            )
        return self

    @model_validator(mode="after")
    def _matrix_complete(self) -> Settings:
        if self.matrix_homeserver:
            if not self.matrix_user:
                raise ValueError("BUURTBOT_MATRIX_USER is needed with a Matrix homeserver")
            if not (self.matrix_password or self.matrix_access_token):
                raise ValueError(
                    "Matrix needs BUURTBOT_MATRIX_PASSWORD or BUURTBOT_MATRIX_ACCESS_TOKEN"
                )
        return self

    @model_validator(mode="after")
    def _limits(self) -> Settings:
        self.community_settings()  # raises ValueError naming the setting
        return self

    def community_settings(self) -> CommunitySettings:
        """The settings a new community starts with."""
        return CommunitySettings().checked(
            {
                "rules_required": self.house_rules_required,
                "widen_after_hours": self.widen_after_hours,
                "organisers_after_hours": self.organisers_after_hours,
                "quiet_hours": self.quiet_hours,
                "helpers_to_ask": self.helpers_to_ask,
                "approve_helpers": self.approve_helpers,
                "retention_days": self.retention_days,
                "circle_window_hours": self.circle_window_hours,
                "asks_per_day": self.asks_per_day,
                "asks_per_week": self.asks_per_week,
                "tables_per_day": self.tables_per_day,
                "tables_per_week": self.tables_per_week,
                "reports_per_day": self.reports_per_day,
                "reports_per_week": self.reports_per_week,
                "helper_asks_per_day": self.helper_asks_per_day,
            }
        )

    @property
    def telegram_enabled(self) -> bool:
        return self.telegram_token is not None

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver)

    def core(self) -> CoreConfig:
        organisers = set()
        for item in filter(None, (part.strip() for part in self.organisers.split(","))):
            platform, _, ident = item.partition(":")
            organisers.add((platform, ident.lstrip("@") if platform != "matrix" else ident))
        return CoreConfig(
            community=CommunityDefaults(
                name=self.community_name,
                language=self.language,
                timezone=self.timezone,
                settings=self.community_settings(),
            ),
            organisers=frozenset(organisers),
            operator_contact=_contact(self.operator_contact),
            web_base_url=self.web_base_url if self.web_port else None,
        )


def _contact(value: str) -> tuple[str, str] | None:
    platform, _, ident = value.partition(":")
    return (platform, ident) if ident else None


class ConfigError(Exception):
    """The configuration is wrong; the message says what, in plain words."""


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    path = config_file or (DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None)
    values: dict[str, Any] = {}
    if path is not None:
        if not path.exists():
            raise ConfigError(f"The configuration file {path} does not exist.")
        try:
            values = dict(TomlConfigSettingsSource(Settings, toml_file=path)())
        except Exception as problem:
            raise ConfigError(f"{path} is not valid TOML: {problem}") from None
    values.update(overrides)
    try:
        return Settings(**values)
    except ValidationError as problem:
        raise ConfigError(explain(problem)) from None


def explain(problem: ValidationError) -> str:
    lines = ["The configuration is not right:"]
    for error in problem.errors():
        where = ".".join(str(part) for part in error["loc"])
        name = f"BUURTBOT_{where.upper()} (or '{where}' in the file)" if where else "configuration"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "is not a setting Buurtbot knows (a typo?)"
        lines.append(f"- {name}: {message}")
    return "\n".join(lines)
