"""Message catalogs: every text a person reads comes from ``bot/locale/<lang>/*.po``.

Message ids are keys (``request.placed``); the Dutch and English catalogs both carry every
key. Texts use ``{name}`` placeholders. Catalogs are read with Babel at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from string import Formatter

from babel.messages.pofile import read_po

LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT_LANGUAGE = "nl"


class Catalog:
    def __init__(self, messages: Mapping[str, Mapping[str, str]]) -> None:
        self._messages = {lang: dict(texts) for lang, texts in messages.items()}

    @classmethod
    def load(cls, folder: Path = LOCALE_DIR) -> Catalog:
        messages: dict[str, dict[str, str]] = {}
        for po_file in sorted(folder.glob("*/LC_MESSAGES/*.po")):
            lang = po_file.parent.parent.name
            with po_file.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            texts = messages.setdefault(lang, {})
            for message in catalog:
                if message.id and isinstance(message.id, str) and message.string:
                    texts[message.id] = str(message.string)
        return cls(messages)

    @property
    def languages(self) -> list[str]:
        return sorted(self._messages)

    def keys(self, lang: str) -> set[str]:
        return set(self._messages.get(lang, {}))

    def has(self, lang: str, key: str) -> bool:
        return key in self._messages.get(lang, {})

    def raw(self, lang: str, key: str) -> str:
        texts = self._messages.get(lang) or self._messages.get(DEFAULT_LANGUAGE, {})
        text = texts.get(key)
        if text is None:
            text = self._messages.get(DEFAULT_LANGUAGE, {}).get(key, key)
        return text

    def text(self, lang: str, key: str, /, **params: object) -> str:
        template = self.raw(lang, key)
        if not params:
            return template
        return template.format_map(_Lenient(params))

    def language_of(self, wanted: str | None) -> str:
        """The catalog language to use for a platform's language code ("en-GB" -> "en")."""
        if wanted:
            short = wanted.split("-")[0].split("_")[0].lower()
            if short in self._messages:
                return short
        return DEFAULT_LANGUAGE


class _Lenient(dict[str, object]):
    """Leaves an unknown placeholder visible instead of failing the whole message."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(template) if name}
