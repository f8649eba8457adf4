"""Logging set-up: plain lines or JSON, with tokens and secrets taken out of every record.

What Buurtbot logs is meant for the operator, never about residents: event ids, platforms,
durations and errors. Personal texts are not logged by the core. As a second line of
defence, every record passes ``Redactor`` before it is written: anything shaped like a
Telegram bot token, and every configured secret (tokens, passwords, the password in the
database URL), is replaced by ``[redacted]``, in the message, its arguments, extra fields
and tracebacks alike.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from adapters.settings import Settings

REDACTED = "[redacted]"
TELEGRAM_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
# Secrets shorter than this are not hunted for in every line: they would garble the logs
# (a password "nl" would blank out every Dutch word) and protect little.
MIN_SECRET_LENGTH = 4
# The one line per handled event comes from this logger; it is kept at INFO so metrics can
# count events even when the operator only wants warnings printed.
EVENTS_LOGGER = "buurtbot.events"

# The attributes every LogRecord has; anything else on a record came in through ``extra``.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys() | {"message", "asctime"}
)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra={...}`` values given to one log call."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES}


class Redactor(logging.Filter):
    """Replaces tokens and configured secrets in every record that passes a handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        kept = {s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is taken out whole.
        self.secrets = sorted(kept, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return TELEGRAM_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # wrong arguments for the format: still write something
            message = f"{record.msg!s} {record.args!r}"
        record.msg, record.args = self.redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


def secrets_of(settings: Settings) -> list[str]:
    """Every secret in the configuration (each secret setting, and the password in the
    database URL), to keep out of the logs."""
    from pydantic import SecretStr
    from sqlalchemy.engine import make_url

    found = [
        value.get_secret_value()
        for name in type(settings).model_fields
        if isinstance(value := getattr(settings, name), SecretStr)
    ]
    try:
        password = make_url(settings.database_url).password
    except Exception:  # an unparsable URL holds nothing we can find
        password = None
    if password:
        found.append(str(password))
    return found


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields, traceback."""

    def __init__(self, *, tracebacks: bool = True) -> None:
        super().__init__()
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry[key] = (
                value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
            )
        if self.tracebacks:
            if record.exc_info and not record.exc_text:
                record.exc_text = self.formatException(record.exc_info)
            if record.exc_text:
                entry["exception"] = record.exc_text
            if record.stack_info:
                entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


class _NoTraceback(logging.Formatter):
    """For the console, where the operator and the resident are the same person."""

    def formatException(self, ei: object) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        record.exc_text = ""
        return super().format(record).rstrip()


def configure_logging(
    level: str,
    *,
    tracebacks: bool = True,
    json_lines: bool = False,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> logging.Handler:
    """Send log records to stderr (or ``stream``), redacted; returns the handler."""
    handler = logging.StreamHandler(stream)
    handler.setLevel(level.upper())
    if json_lines:
        handler.setFormatter(JsonFormatter(tracebacks=tracebacks))
    else:
        formatter_class = logging.Formatter if tracebacks else _NoTraceback
        handler.setFormatter(formatter_class("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redactor(secrets))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
    logging.getLogger(EVENTS_LOGGER).setLevel(
        min(logging.INFO, logging.getLevelNamesMapping()[level.upper()])
    )
    # httpx logs whole URLs, and a Telegram URL holds the bot token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    return handler
