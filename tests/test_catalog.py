"""Every text exists in Dutch and English, with the same placeholders."""

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


def test_both_languages_have_every_key(catalog: Catalog) -> None:
    assert catalog.languages == ["en", "nl"]
    assert catalog.keys("nl") == catalog.keys("en")


def test_placeholders_match(catalog: Catalog) -> None:
    for key in catalog.keys("nl"):
        assert placeholders(catalog.raw("nl", key)) == placeholders(catalog.raw("en", key)), key


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


def test_every_command_has_help_in_both_languages(catalog: Catalog) -> None:
    for command in build_registry():
        for lang in ("nl", "en"):
            assert catalog.has(lang, command.help_key), (command.name, lang)


def test_no_text_is_left_untranslated(catalog: Catalog) -> None:
    same = {
        key
        for key in catalog.keys("nl")
        if catalog.raw("nl", key) == catalog.raw("en", key) and len(catalog.raw("nl", key)) > 12
    }
    allowed = {"help.line", "request.summary", "offer.summary", "auditlog.line", "overview.line"}
    assert same <= allowed
