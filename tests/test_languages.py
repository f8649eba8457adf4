"""Turkish and Arabic: each member reads the bot in their own language, asks in their own
words, and Arabic text shows Latin names, times and amounts the right way round."""

from __future__ import annotations

import pytest

from adapters.matrix import as_bang_commands, notice_content, slash_commands
from bot.handlers import build_registry
from bot.i18n import BIDI_MARKS, FSI, PDI, RLM, Catalog, without_bidi_marks
from bot.types import ButtonPress, ChatKind, ChatRef, Message, Sender
from tests.conftest import Transcript

NOT_FOR_YOU_NL = "Deze knop is niet voor jou bedoeld. Er is niets veranderd."
NOT_FOR_YOU_TR = "Bu düğme senin için değil. Hiçbir şey değişmedi."


def isolated(text: str) -> str:
    return f"{FSI}{text}{PDI}"


def private(name: str) -> ChatRef:
    return ChatRef("console", name, ChatKind.PRIVATE)


def sender(name: str, language: str | None = None) -> Sender:
    return Sender("console", name, name.capitalize(), handle=f"@{name}", language=language)


async def send(chat: Transcript, event: Message | ButtonPress) -> list[str]:
    start = len(chat.lines)
    await chat.runtime.bot.handle(event)
    await chat.session.sender.drain()
    return chat.lines[start:]


async def kees_offers_shopping(chat: Transcript) -> None:
    await chat.say("kees (dm): /aanbod boodschappen vervoer ma-za")


# --- the catalog --------------------------------------------------------------------------


def test_arabic_sets_apart_what_is_filled_in_and_what_is_latin_in_the_text() -> None:
    catalog = Catalog.load()
    text = catalog.text(
        "ar",
        "match.found_requester",
        name="Kees",
        summary="التسوق، غدًا الساعة 14:00: melk",
        contact="@kees",
    )
    assert isolated("Kees") in text and isolated("@kees") in text
    assert isolated("/klaar") in text  # a command written in the Arabic text itself
    assert all(line.startswith(RLM) for line in text.split("\n"))  # read right to left
    # a line that is Arabic already reads right to left without being set apart
    assert f"{RLM}التسوق" in text
    assert without_bidi_marks(text).startswith("خبر جميل! Kees سيساعدك:")


def test_no_marks_in_dutch_english_or_turkish() -> None:
    catalog = Catalog.load()
    for lang in ("nl", "en", "tr"):
        for key in catalog.keys(lang):
            said = catalog.text(lang, key, name="Kees", nr=3, amount="€ 2,50")
            assert not set(BIDI_MARKS) & set(said), (lang, key)


def test_arabic_help_lines_keep_the_command_next_to_its_slash() -> None:
    catalog = Catalog.load()
    line = catalog.text("ar", "help.line", command="vraag", text=catalog.text("ar", "help.vraag"))
    assert line.startswith(f"{RLM}{FSI}/{FSI}vraag{PDI}{PDI} – ")


# --- what is sent: console, Matrix, the Telegram menu ---------------------------------------


async def test_a_turkish_request_reaches_a_dutch_helper_in_dutch_with_her_own_words_marked(
    chat: Transcript,
) -> None:
    await kees_offers_shopping(chat)
    await chat.say("ayse (dm): /taal tr")
    assert chat.to("ayse")[-1] == "Tamam, bundan sonra sana Türkçe yazacağım."
    await chat.say("ayse (dm): /vraag alışveriş yarın öğleden sonra süt ve ekmek")
    assert "Alışveriş, yarın öğleden sonra (Sal 24 Kas): süt ve ekmek" in chat.to("ayse")[-1]
    await chat.say("ayse (dm): [Sadece sorulan yardımcılar]")
    assert chat.to("ayse")[-1].startswith("İsteğin alındı (numara 1).")
    proposal = chat.to("kees")[-1]
    assert proposal == (
        "Kun jij helpen? Een buur vraagt:\n"
        "Boodschappen, morgenmiddag (di 24 nov): süt ve ekmek (in het Turks)\n"
        "[Ik help] [Nu niet]"
    )
    await chat.say("kees (dm): [Ik help]")
    # each in their own language; her words as she wrote them
    assert chat.to("ayse")[-1].startswith("Güzel haber! Kees sana yardım edecek:\nAlışveriş")
    assert chat.to("ayse")[-1].endswith("İş bitince /klaar yaz.")
    assert chat.to("kees")[-1].startswith("Dank je wel! Je helpt Ayse:\nBoodschappen")
    assert "süt ve ekmek (in het Turks)" in chat.to("kees")[-1]
    await chat.say("kees (dm): /klaar")
    assert chat.to("kees")[-1] == "Fijn dat het gelukt is! Vraag 1 is afgerond."
    assert chat.to("ayse")[-1] == "Kees, 1 numaralı isteğin bittiğini söylüyor. Teşekkürler!"


async def test_a_dutch_request_reaches_a_turkish_helper_in_turkish(chat: Transcript) -> None:
    await chat.say("ayse (dm): /taal tr", "ayse (dm): /aanbod alışveriş pzt-cmt")
    assert chat.to("ayse")[-1].startswith("Teşekkürler! Teklifin: Alışveriş, Pzt–Cmt.")
    await chat.say("fatima (dm): /vraag boodschappen morgen 14:00 melk en brood")
    await chat.say("fatima (dm): [Alleen helpers die gevraagd worden]")
    assert chat.to("ayse")[-1] == (
        "Yardım edebilir misin? Bir komşu soruyor:\n"
        "Alışveriş, yarın (Sal 24 Kas) saat 14:00: melk en brood (Felemenkçe)\n"
        "[Ben yardım ederim] [Şimdi olmaz]"
    )


async def test_arabic_messages_set_names_times_and_amounts_apart(chat: Transcript) -> None:
    await kees_offers_shopping(chat)
    await chat.say("fatima (dm): /taal ar", "fatima (dm): /vraag تسوق غدا 14:00-16:00 حليب وخبز")
    asked = chat.to("fatima")[-1]
    assert isolated("14:00–16:00") in asked  # not turned around into 16:00–14:00
    assert "التسوق، غدًا (الثلاثاء 24 نوفمبر)" in without_bidi_marks(asked)
    await chat.say("fatima (dm): [فقط للمساعدين الذين أسألهم]")
    proposal = chat.to("kees")[-1]
    assert "14:00–16:00: حليب وخبز (in het Arabisch)\n[Ik help]" in proposal
    assert not set(BIDI_MARKS) & set(proposal)  # the Dutch text has no marks
    await chat.say("kees (dm): [Ik help]", "kees (dm): /voorgeschoten € 12,50")
    found, repay = chat.to("fatima")[-2:]
    assert isolated("Kees") in found and isolated("@kees") in found
    assert repay.startswith(f"{RLM}{isolated('Kees')} دفع {isolated('€ 12,50')} مقدمًا للطلب 1.")
    # she can type a button's label as she sees it, marks or not
    await chat.say("fatima (dm): [دفعت المبلغ]")
    assert without_bidi_marks(chat.to("fatima")[-1]) == "شكرًا! سجّلت أن € 12,50 تم دفعه."


def test_matrix_renders_arabic_with_its_marks_and_bang_commands() -> None:
    catalog = Catalog.load()
    text = catalog.text("ar", "mine.nothing")
    commands = slash_commands(name for command in build_registry() for name in command.names)
    content = notice_content(as_bang_commands(text, commands))
    assert isolated("!vraag") in content["body"] and isolated("!aanbod") in content["body"]
    assert content["body"].startswith(RLM)
    assert content["formatted_body"].startswith(RLM)  # the marks survive the HTML escaping
    assert isolated("!vraag") in content["formatted_body"]


# --- choosing a language ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/taal tr", "Tamam, bundan sonra sana Türkçe yazacağım."),
        ("/taal Türkçe", "Tamam, bundan sonra sana Türkçe yazacağım."),
        ("/language turkish", "Tamam, bundan sonra sana Türkçe yazacağım."),
        ("/taal ar", f"{RLM}حسنًا، من الآن سأكتب لك بالعربية."),
        ("/taal العربية", f"{RLM}حسنًا، من الآن سأكتب لك بالعربية."),
        ("/taal arabisch", f"{RLM}حسنًا، من الآن سأكتب لك بالعربية."),
    ],
)
async def test_taal_chooses_turkish_or_arabic_as_typed(
    chat: Transcript, typed: str, answer: str
) -> None:
    await chat.say(f"fatima (dm): {typed}")
    assert chat.to("fatima")[-1] == answer


async def test_taal_offers_turkish_and_arabic_buttons(chat: Transcript) -> None:
    await chat.say("fatima (dm): /taal")
    assert "[Türkçe] [العربية]" in chat.text()
    await chat.say("fatima (dm): [Türkçe]")
    assert chat.to("fatima")[-1] == "Tamam, bundan sonra sana Türkçe yazacağım."


async def test_an_unknown_language_names_all_four(chat: Transcript) -> None:
    await chat.say("fatima (dm): /taal tr", "fatima (dm): /taal fr")
    assert chat.to("fatima")[-1] == (
        "Bu dili bilmiyorum: 'fr'. Şunlardan birini seç: tr (Türkçe), ar (العربية), "
        "nl (Nederlands) ya da en (English)."
    )


@pytest.mark.parametrize(
    ("code", "greeting"),
    [("tr-TR", "Merhaba Ayse! Ben Buurtbot."), ("ar", "أهلًا ⁨Ayse⁩! أنا ⁨Buurtbot⁩.")],
)
async def test_the_platform_language_picks_turkish_or_arabic_for_a_new_member(
    chat: Transcript, code: str, greeting: str
) -> None:
    said = await send(chat, Message("new-1", private("ayse"), sender("ayse", code), "/start"))
    assert said[0].removeprefix("buurtbot -> ayse (dm): ").removeprefix(RLM).startswith(greeting)


async def test_the_platform_language_does_not_overrule_a_chosen_one(chat: Transcript) -> None:
    await chat.say("ayse (dm): /taal nl")
    said = await send(chat, Message("later-1", private("ayse"), sender("ayse", "tr"), "/mijn"))
    assert said[0].startswith("buurtbot -> ayse (dm): Je hebt nu geen open vragen")


# --- typed answers and presses ------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "sentence", "yes", "what", "placed"),
    [
        (
            "tr",
            "Yarın alışveriş için yardıma ihtiyacım var",
            "evet",
            "süt ve ekmek",
            "Alışveriş, yarın (Sal 24 Kas): süt ve ekmek\nÖnce birkaç komşuya özelden soracağım.",
        ),
        (
            "ar",
            "هل يستطيع أحد أن يساعدني في التسوق غدا؟",
            "نعم",
            "حليب وخبز",
            "التسوق، غدًا (الثلاثاء 24 نوفمبر): حليب وخبز\nسأسأل أولًا بعض الجيران بشكل خاص.",
        ),
    ],
)
async def test_a_plain_sentence_and_a_typed_yes_in_turkish_or_arabic(
    chat: Transcript, lang: str, sentence: str, yes: str, what: str, placed: str
) -> None:
    await chat.say(f"fatima (dm): /taal {lang}", f"fatima (dm): {sentence}")
    understood = without_bidi_marks(chat.to("fatima")[-1])
    assert ("Tür: Alışveriş" if lang == "tr" else "النوع: التسوق") in understood
    await chat.say(f"fatima (dm): {yes}")  # then she is asked what she needs
    await chat.say(f"fatima (dm): {what}")
    assert placed in without_bidi_marks(chat.to("fatima")[-1])


@pytest.mark.parametrize(("lang", "no"), [("tr", "hayır"), ("ar", "لا")])
async def test_a_typed_no_in_turkish_or_arabic(chat: Transcript, lang: str, no: str) -> None:
    await chat.say(f"fatima (dm): /taal {lang}", "fatima (dm): /vraag alışveriş morgn")
    check = without_bidi_marks(chat.to("fatima")[-1])
    assert "morgn" in check and "morgen" in check  # asked in her language about the word
    await chat.say(f"fatima (dm): {no}")
    asked_again = without_bidi_marks(chat.to("fatima")[-1])
    assert asked_again.startswith(("Yardıma ne zaman", "متى تحتاج المساعدة"))


async def test_a_turkish_button_pressed_by_someone_else_changes_nothing(
    chat: Transcript,
) -> None:
    await chat.say("ayse (dm): /taal tr", "ayse (dm): /vraag alışveriş yarın süt")
    hers = chat.press("ayse", "Sadece sorulan yardımcılar", "hers")
    await chat.say("mallory (dm): /start")
    forged = ButtonPress(
        "forged-1", private("mallory"), sender("mallory"), hers.action, hers.message_ref
    )
    assert await send(chat, forged) == [f"buurtbot -> mallory (dm): {NOT_FOR_YOU_NL}"]
    # and the other way round: a Turkish member pressing a Dutch member's button
    await chat.say("kees (dm): /vraag boodschappen morgen melk")
    his = chat.press("kees", "Alleen helpers die gevraagd worden", "his")
    forged = ButtonPress("forged-2", private("ayse"), sender("ayse"), his.action, his.message_ref)
    assert await send(chat, forged) == [f"buurtbot -> ayse (dm): {NOT_FOR_YOU_TR}"]


@pytest.mark.parametrize("lang", ["tr", "ar"])
@pytest.mark.parametrize(
    ("help_key", "answer_key"),
    [
        ("help.vraag", "request.ask_visibility"),
        ("help.aanbod", "offer.saved"),
        ("help.tafel", "table.posted"),
        ("help.voorgeschoten", "expense.no_request"),
    ],
)
async def test_the_examples_in_the_turkish_and_arabic_help_work_as_written(
    chat: Transcript, lang: str, help_key: str, answer_key: str
) -> None:
    catalog = Catalog.load()
    example = without_bidi_marks(catalog.text(lang, help_key)).split(": ", 1)[1]
    await chat.say(f"ayse (dm): /taal {lang}", f"ayse (dm): {example}")
    opening = without_bidi_marks(catalog.text(lang, answer_key)).split("{")[0].split(":")[0]
    assert without_bidi_marks(chat.to("ayse")[-1]).startswith(opening[:12]), example


@pytest.mark.parametrize(
    ("lang", "line", "summary"),
    [
        ("tr", "/vraag küçük iş yarın lamba asmak", "Küçük iş, yarın (Sal 24 Kas): lamba asmak"),
        (
            "ar",
            "/vraag عمل صغير غدا تعليق مصباح",
            "عمل صغير، غدًا (الثلاثاء 24 نوفمبر): تعليق مصباح",
        ),
        (
            "nl",
            "/vraag iets anders morgen de kat voeren",
            "Iets anders, morgen (di 24 nov): de kat voeren",
        ),
    ],
)
async def test_a_kind_of_help_in_two_words_as_the_button_says_it(
    chat: Transcript, lang: str, line: str, summary: str
) -> None:
    await chat.say(f"fatima (dm): /taal {lang}", f"fatima (dm): {line}")
    assert summary in without_bidi_marks(chat.to("fatima")[-1])


@pytest.mark.parametrize(
    ("lang", "typed", "changed"),
    [
        ("tr", "verbreden_na 3 saat", "Değişti:"),
        ("ar", "verbreden_na 3 ساعات", "تم التغيير:"),
        ("tr", "huisregels_eerst evet", "Değişti:"),
        ("ar", "huisregels_eerst نعم", "تم التغيير:"),
    ],
)
async def test_an_organiser_sets_a_setting_in_turkish_or_arabic_words(
    chat: Transcript, lang: str, typed: str, changed: str
) -> None:
    """A value is shown in the organiser's language, and can be typed back so."""
    await chat.say(
        "@organiser anna", f"anna (dm): /taal {lang}", f"anna (dm): /instellingen {typed}"
    )
    assert without_bidi_marks(chat.to("anna")[-1]).startswith(changed)
