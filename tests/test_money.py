"""Amounts as people write them (bot/words.py)."""

from __future__ import annotations

import pytest

from bot.words import AmbiguousAmount, find_amount, read_amount


@pytest.mark.parametrize(
    ("text", "cents", "currency"),
    [
        ("€ 2,50", 250, True),
        ("2,50", 250, False),
        ("2.50", 250, False),
        ("€2", 200, True),
        ("€ 12,75", 1275, True),
        ("€ 3,-", 300, True),
        ("2,5", 250, False),
        ("3 euro p.p.", 300, True),
        ("€ 1.250,00", 125000, True),
        ("1,250.00", 125000, False),
        ("twee euro", 200, True),
        ("twee euro vijftig", 250, True),
        ("vijfentwintig euro", 2500, True),
        ("drieëntwintig euro", 2300, True),
        ("twenty-five euros", 2500, True),
    ],
)
def test_reads_amounts(text: str, cents: int, currency: bool) -> None:
    assert read_amount(text) == (cents, currency)


@pytest.mark.parametrize("text", ["gratis", "veel geld", "twee", "€", "2,505", "-5", "1e9"])
def test_what_is_no_amount(text: str) -> None:
    assert read_amount(text) is None


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("ik heb € 12,50 betaald", 1250),
        ("12,50 voor 3 pakken melk", 1250),
        ("12 voor de melk", 1200),
        ("voor 3 pakken melk", None),
    ],
)
def test_finds_the_one_amount_in_a_sentence(text: str, cents: int | None) -> None:
    assert find_amount(text) == cents


@pytest.mark.parametrize(("text", "choices"), [("€ 2 of € 3", [200, 300]), ("23 40", [2300, 4000])])
def test_two_amounts_are_asked_about(text: str, choices: list[int]) -> None:
    with pytest.raises(AmbiguousAmount) as caught:
        find_amount(text)
    assert caught.value.choices == choices
