"""Times and money as residents write them, through the bot: the failures named in issue 15.

Each test here failed before times and amounts were read as people write them.
"""

from __future__ import annotations

from tests.conftest import Transcript

TABLE = "/tafel di 18:00 Wijkpaleis, 8 plaatsen, {price}, stamppot, vegetarisch"


async def summary_after(chat: Transcript, who: str, line: str) -> str:
    await chat.say(f"{who} (dm): {line}")
    return chat.to(who)[-1]


async def test_next_week_tuesday_is_a_day_not_a_week_with_a_description(chat: Transcript) -> None:
    for line in (
        "/vraag klusje volgende week dinsdag lamp ophangen",
        "/vraag klusje dinsdag volgende week lamp ophangen",
        "/vraag klusje dinsdag over een week lamp ophangen",
    ):
        answer = await summary_after(chat, "fatima", line)
        assert "Klusje, dinsdag 1 dec: lamp ophangen" in answer, line


async def test_a_day_at_the_end_of_the_sentence_is_kept_as_the_time(chat: Transcript) -> None:
    answer = await summary_after(chat, "henk", "/vraag anders hulp bij de computer donderdag")
    assert "Iets anders, donderdag 26 nov: hulp bij de computer" in answer
    assert "Wanneer" not in answer


async def test_days_ahead_in_words(chat: Transcript) -> None:
    answer = await summary_after(chat, "henk", "/vraag gezelschap over twee dagen koffie")
    assert "Gezelschap, woensdag 25 nov: koffie" in answer
    answer = await summary_after(chat, "henk", "/vraag vervoer morgenavond om 8 naar de kerk")
    assert "Vervoer, morgen (di 24 nov) om 20:00: naar de kerk" in answer


async def test_yesterday_is_refused_as_past_and_not_kept(chat: Transcript) -> None:
    answer = await summary_after(chat, "henk", "/vraag boodschappen gisteren brood")
    assert answer == "'gisteren' is al voorbij. Kies een moment dat nog moet komen."
    answer = await summary_after(chat, "henk", "/vraag klusje vorige week maandag lamp")
    assert "'vorige week maandag' is al voorbij" in answer


async def test_an_offer_every_tuesday_afternoon(chat: Transcript) -> None:
    answer = await summary_after(chat, "kees", "/aanbod klusje elke dinsdagmiddag")
    assert "Je biedt aan: Klusje, di, middag." in answer
    answer = await summary_after(chat, "piet", "/aanbod gezelschap om de week op zaterdag")
    assert "Je biedt aan: Gezelschap, za." in answer and "hooguit 1 keer per week" in answer


async def test_a_price_with_cents_is_announced_as_written(chat: Transcript) -> None:
    # three hosts, so that no one reaches the limit of tables a day
    cases = (("rosa", "€ 2,50", "€ 2,50"), ("ali", "€ 12,75", "€ 12,75"), ("els", "2,50", "€ 2,50"))
    for host, price, shown in cases:
        await chat.say(f"{host} (dm): {TABLE.format(price=price)}")
        assert f"Bijdrage: {shown}" in chat.to("group")[-1], price


async def test_a_number_that_could_be_seats_or_euros_is_asked_about(chat: Transcript) -> None:
    answer = await summary_after(chat, "rosa", "/tafel di 18:00 Wijkpaleis, 8, 3, soep")
    assert answer.startswith("Is '8' het aantal plaatsen of de bijdrage (€ 8,00)?")
    answer = await summary_after(chat, "rosa", TABLE.format(price="€ 3, vrije gift"))
    assert answer.startswith("Je noemt twee bijdragen.")
    assert chat.to("group") == []


async def test_money_advanced_as_people_write_it(chat: Transcript) -> None:
    await chat.say(
        "kees (dm): /aanbod boodschappen elke dag",
        "fatima: /vraag boodschappen morgen brood",
        "fatima (dm): [Ja, ik betaal het terug]",
        "fatima (dm): [Alleen helpers die gevraagd worden]",
        "kees (dm): [Ik help]",
    )
    answer = await summary_after(chat, "kees", "/voorgeschoten ik heb € 12,75 betaald")
    assert answer.startswith("Genoteerd: je hebt € 12,75 voorgeschoten voor Fatima.")
    assert "€ 12,75" in chat.to("fatima")[-1]
    answer = await summary_after(chat, "kees", "/voorgeschoten € 2 of € 3")
    assert answer.startswith("Ik zie in '€ 2 of € 3' meer dan één bedrag: € 2,00 / € 3,00.")


async def test_a_near_miss_is_asked_about_with_buttons(chat: Transcript) -> None:
    answer = await summary_after(chat, "fatima", "/vraag klusje morgn 14:00 lamp")
    assert answer.startswith("Ik begrijp 'morgn' niet als dag of tijd. Bedoel je morgen?")
    assert "[Ja, morgen] [Nee, dat bedoel ik niet]" in answer
    # someone else cannot answer it for her
    await chat.say("kees (dm): [Ja, morgen]")
    assert chat.lines[-1].startswith("! Er is geen knop")
    await chat.say("fatima (dm): [Ja, morgen]")
    assert "Klusje, morgen (di 24 nov) om 14:00: lamp" in chat.to("fatima")[-1]


async def test_a_near_miss_answered_by_typing(chat: Transcript) -> None:
    await chat.say("fatima (dm): /vraag klusje dondredag lamp")
    await chat.say("fatima (dm): ja")
    assert "Klusje, donderdag 26 nov: lamp" in chat.to("fatima")[-1]
    await chat.say("henk (dm): /vraag klusje zatredag lamp", "henk (dm): zondag")
    assert "Klusje, zondag 29 nov: lamp" in chat.to("henk")[-1]


async def test_a_near_miss_that_is_no_time_stays_in_the_description(chat: Transcript) -> None:
    await chat.say(
        "fatima (dm): /vraag klusje morgn lamp", "fatima (dm): [Nee, dat bedoel ik niet]"
    )
    assert chat.to("fatima")[-1].startswith("Wanneer heb je de hulp nodig?")
    await chat.say("fatima (dm): [Morgen]")
    assert chat.to("fatima")[-1].startswith("Hoe laat ongeveer, morgen (di 24 nov)?")
    await chat.say("fatima (dm): [Hele dag]")
    assert "Klusje, morgen (di 24 nov): morgn lamp" in chat.to("fatima")[-1]
