"""Every text exists in every language (Dutch, English, Turkish, Arabic), with the same
placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.handlers import build_registry
from bot.i18n import Catalog, placeholders

ROOT = Path(__file__).parent.parent
KEY = re.compile(r"""["']((?:[a-z]+)\.[a-z_0-9.]+)["']""")


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


LANGUAGES = ["ar", "en", "nl", "tr"]


def test_every_language_has_every_key(catalog: Catalog) -> None:
    assert catalog.languages == LANGUAGES
    for lang in LANGUAGES:
        assert catalog.keys(lang) == catalog.keys("nl"), lang


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "nl"])
def test_placeholders_match(catalog: Catalog, lang: str) -> None:
    different = {
        key
        for key in catalog.keys("nl")
        if placeholders(catalog.raw("nl", key)) != placeholders(catalog.raw(lang, key))
    }
    assert not different


def test_every_key_the_code_names_exists(catalog: Catalog) -> None:
    prefixes = {key.split(".")[0] for key in catalog.keys("nl")}
    missing = set()
    for source in [
        *ROOT.glob("bot/**/*.py"),
        *ROOT.glob("adapters/**/*.py"),
        *ROOT.glob("scheduler/**/*.py"),
    ]:
        for key in KEY.findall(source.read_text(encoding="utf-8")):
            if key.split(".")[0] in prefixes and not catalog.has("nl", key):
                missing.add(f"{source.relative_to(ROOT)}: {key}")
    assert not missing


def test_every_command_has_help_in_every_language(catalog: Catalog) -> None:
    for command in build_registry():
        for lang in LANGUAGES:
            assert catalog.has(lang, command.help_key), (command.name, lang)


def test_no_text_is_left_untranslated(catalog: Catalog) -> None:
    same = {
        key
        for key in catalog.keys("nl")
        if catalog.raw("nl", key) == catalog.raw("en", key) and len(catalog.raw("nl", key)) > 12
    }
    assert same <= SAME_IN_EVERY_LANGUAGE


# Texts that are only placeholders and signs, the same in every language.
SAME_IN_EVERY_LANGUAGE = {
    "help.line",
    "request.summary",
    "offer.summary",
    "auditlog.line",
    "overview.line",
    "request.written_in",
}


@pytest.mark.parametrize("lang", ["tr", "ar"])
def test_turkish_and_arabic_are_translated(catalog: Catalog, lang: str) -> None:
    """No Dutch or English text is left standing in the Turkish or Arabic catalog."""
    same = {
        key
        for key in catalog.keys("nl")
        for other in ("nl", "en")
        if catalog.raw(lang, key) == catalog.raw(other, key) and len(catalog.raw(lang, key)) > 12
    }
    assert same <= SAME_IN_EVERY_LANGUAGE


def test_arabic_is_written_in_arabic(catalog: Catalog) -> None:
    """Every Arabic text with words in it has Arabic letters, not a forgotten copy."""
    latin_only = {
        key
        for key in catalog.keys("ar")
        if re.search(r"[A-Za-z]{4}", placeholder_free(catalog.raw("ar", key)))
        and not re.search(r"[\u0600-\u06ff]", catalog.raw("ar", key))
    }
    assert latin_only <= {"language.name_nl", "language.name_en", "language.name_tr"}


def placeholder_free(template: str) -> str:
    return re.sub(r"\{[a-z_]+\}", "", template)
