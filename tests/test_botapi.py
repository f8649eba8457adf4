"""The localhost Bot API server, driven by the real python-telegram-bot."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, CommandHandler, ContextTypes

from tests.botapi import NO_LIMITS, BotApiServer, Chat, CommandScope, Limit, Limits, User

GROUP_ID = -1001234567890


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label.lower()) for label in labels]]
    )


def button_with_data(data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Knop", callback_data=data)]])


@pytest.fixture
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22 warns on every ``RetryAfter`` unless its periods are timedeltas."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def server() -> AsyncIterator[BotApiServer]:
    async with BotApiServer(limits=NO_LIMITS) as server:
        yield server


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[Bot]:
    async with server.bot() as bot:
        yield bot


@pytest.fixture
def fatima(server: BotApiServer) -> User:
    return server.user(1001, "Fatima", "fatima_r")


@pytest.fixture
def kees(server: BotApiServer) -> User:
    return server.user(1002, "Kees", language_code="en")


@pytest.fixture
def group(server: BotApiServer) -> Chat:
    return server.group(GROUP_ID, "Buurt Middelland")


async def test_the_bot_learns_who_it_is(server: BotApiServer, bot: Bot) -> None:
    assert (bot.id, bot.username) == (server.bot_user.id, "buurtbot_test_bot")
    assert [record.status for record in server.calls("getMe")] == [200]


async def test_a_message_with_an_inline_keyboard(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    message = await bot.send_message(
        fatima.id, "Wil je <b>helpen</b>?", reply_markup=keyboard("Ja", "Nee"), parse_mode="HTML"
    )

    assert message.reply_markup == keyboard("Ja", "Nee")
    [sent] = server.sent
    assert (sent.method, sent.chat_id, sent.message_id) == ("sendMessage", 1001, message.id)
    assert (sent.text, sent.parse_mode) == ("Wil je <b>helpen</b>?", "HTML")
    [current] = server.messages_in(fatima)
    assert current.labels == [["Ja", "Nee"]]
    assert current.callback_data("Nee") == "nee"
    # PTB posts a form whose values are JSON encoded, the keyboard included.
    [request] = server.calls("sendMessage")
    assert request.content_type == "application/x-www-form-urlencoded"
    assert request.params["chat_id"] == "1001"
    assert json.loads(request.params["reply_markup"]) == keyboard("Ja", "Nee").to_dict()


async def test_json_bodies_and_query_strings_are_understood(
    server: BotApiServer, fatima: User
) -> None:
    url = f"{server.base_url}{server.token}"
    markup = {"inline_keyboard": [[{"text": "Ja", "callback_data": "ja"}]]}
    async with aiohttp.ClientSession() as http:
        for reply_markup in (markup, json.dumps(markup)):
            body = {"chat_id": fatima.id, "text": "Hoi", "reply_markup": reply_markup}
            async with http.post(f"{url}/sendmessage", json=body) as response:
                answer = await response.json()
                assert answer["result"]["reply_markup"] == markup
        async with http.get(f"{url}/getMe?unused=1") as response:
            assert (await response.json())["result"]["is_bot"] is True

    assert [sent.reply_markup for sent in server.sent] == [markup, markup]


@pytest.mark.parametrize(
    ("text", "markup", "error"),
    [
        ("", None, "message text is empty"),
        ("  \n", None, "message text is empty"),
        ("x" * 4097, None, "message is too long"),
        ("😀" * 2049, None, "message is too long"),
        ("Hoi", button_with_data("é" * 33), "BUTTON_DATA_INVALID"),
    ],
)
async def test_bad_requests_are_refused(
    server: BotApiServer,
    bot: Bot,
    fatima: User,
    text: str,
    markup: InlineKeyboardMarkup | None,
    error: str,
) -> None:
    with pytest.raises(BadRequest, match=rf"(?i){error}"):
        await bot.send_message(fatima.id, text, reply_markup=markup)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(4711, "Hoi")
    assert server.sent == []


async def test_the_limits_count_what_people_see(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    await bot.send_message(fatima.id, "x" * 4096)
    await bot.send_message(fatima.id, f"<b>{'x' * 4095}&amp;</b>", parse_mode="HTML")
    await bot.send_message(fatima.id, "Hoi", reply_markup=button_with_data("a" * 64))
    assert len(server.sent) == 3


async def test_editing_text_and_buttons(server: BotApiServer, bot: Bot, fatima: User) -> None:
    message = await bot.send_message(fatima.id, "Boodschappen?", reply_markup=keyboard("Ik help"))

    edited = await bot.edit_message_text(
        "Kees helpt", fatima.id, message.id, reply_markup=keyboard("Bedankt")
    )
    assert isinstance(edited, Message)
    assert edited.edit_date is not None
    current = server.message(fatima, message.id)
    assert (current.text, current.labels, current.edit_count) == ("Kees helpt", [["Bedankt"]], 1)

    await bot.edit_message_reply_markup(fatima.id, message.id, reply_markup=None)
    assert server.message(fatima, message.id).reply_markup is None
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Kees helpt", fatima.id, message.id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("Weg", fatima.id, message.id + 1)
    # Edits change the message; the record of what was sent keeps the original.
    assert [sent.text for sent in server.sent] == ["Boodschappen?"]


async def test_editing_text_without_a_keyboard_removes_it(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    message = await bot.send_message(fatima.id, "Nog iemand?", reply_markup=keyboard("Ik"))
    await bot.edit_message_text("Vol", fatima.id, message.id)
    assert server.message(fatima, message.id).labels == []


async def test_a_button_press_and_its_answer(
    server: BotApiServer, bot: Bot, fatima: User, group: Chat
) -> None:
    message = await bot.send_message(group.id, "Wie helpt?", reply_markup=keyboard("Ik help"))
    with pytest.raises(ValueError, match="no button"):
        server.press(group, fatima, message.id, "ik-niet")

    update_id = server.press(group, fatima, message.id, "ik help")
    [update] = await bot.get_updates()

    assert update.update_id == update_id
    query = update.callback_query
    assert query is not None and query.message is not None
    assert (query.data, query.from_user.id, query.message.message_id) == (
        "ik help",
        fatima.id,
        message.id,
    )
    assert await query.answer("Dank je!", show_alert=True)
    [answer] = server.answered_callbacks
    assert (answer.callback_query_id, answer.text, answer.show_alert) == (
        query.id,
        "Dank je!",
        True,
    )
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await query.answer()


async def test_commands_per_scope_and_language(server: BotApiServer, bot: Bot, group: Chat) -> None:
    await bot.set_my_commands([BotCommand("vraag", "Vraag om hulp")], language_code="nl")
    await bot.set_my_commands([BotCommand("ask", "Ask for help")])
    group_scope = BotCommandScopeChat(group.id)
    await bot.set_my_commands([BotCommand("tafel", "Schuif aan")], scope=group_scope)

    assert server.commands_for(language_code="nl") == [("vraag", "Vraag om hulp")]
    assert server.commands_for() == [("ask", "Ask for help")]
    assert server.commands_for(CommandScope("chat", chat_id=group.id)) == [("tafel", "Schuif aan")]
    assert await bot.get_my_commands(scope=group_scope) == (BotCommand("tafel", "Schuif aan"),)
    assert await bot.get_my_commands(language_code="en") == ()

    await bot.set_my_commands([], language_code="nl")
    assert server.commands_for(language_code="nl") == []
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Vraag", "Hoofdletters mogen niet")])


async def test_offsets_confirm_updates_and_redelivery_brings_one_back(
    server: BotApiServer, bot: Bot, fatima: User, group: Chat
) -> None:
    first = server.send_text(fatima, fatima, "/start")
    second = server.send_text(group, fatima, "/vraag@buurtbot_test_bot boodschappen")
    server.jump_update_ids(1000)
    third = server.send_text(group, fatima, "dank jullie")
    assert third == second + 1001

    updates = await bot.get_updates()
    assert [update.update_id for update in updates] == [first, second, third]
    command = updates[1].effective_message
    assert command is not None
    [(entity, command_text)] = command.parse_entities().items()
    assert (entity.type, command_text) == (MessageEntity.BOT_COMMAND, "/vraag@buurtbot_test_bot")
    assert updates[2].effective_message is not None
    assert updates[2].effective_message.entities == ()

    assert await bot.get_updates(offset=third + 1) == ()
    assert not server.is_pending(first)

    # After a restart the bot polls without an offset and gets the redelivered update.
    server.redeliver(first)
    [again] = await bot.get_updates()
    assert again.to_dict() == updates[0].to_dict()


async def test_a_long_poll_returns_when_an_update_arrives(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=20))
    await server.wait_for(lambda: bool(server.calls("getUpdates")), what="the poll")
    update_id = server.send_text(fatima, fatima, "Hallo")

    [update] = await asyncio.wait_for(poll, timeout=5)
    assert update.update_id == update_id


async def test_a_long_poll_without_updates_lasts_its_timeout(bot: Bot) -> None:
    began = time.monotonic()
    assert await bot.get_updates(timeout=dtm.timedelta(seconds=0.3)) == ()
    assert time.monotonic() - began >= 0.3


async def test_a_newer_poll_ends_the_older_one(server: BotApiServer, bot: Bot) -> None:
    async with server.bot() as other:
        poll = asyncio.create_task(bot.get_updates(timeout=20))
        await server.wait_for(lambda: bool(server.calls("getUpdates")), what="the poll")
        assert await other.get_updates() == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await poll


async def test_members_coming_and_going(
    server: BotApiServer, bot: Bot, fatima: User, kees: User, group: Chat
) -> None:
    added = server.bot_added(group, fatima)
    joined = server.add_member(group, kees, by=fatima)
    left = server.member_left(group, kees)

    updates = {update.update_id: update for update in await bot.get_updates()}
    my_member = updates[added].my_chat_member
    assert my_member is not None
    assert (my_member.new_chat_member.status, my_member.new_chat_member.user.id) == (
        ChatMember.MEMBER,
        bot.id,
    )
    joined_message, left_message = updates[joined].message, updates[left].message
    assert joined_message is not None and left_message is not None
    assert [user.id for user in joined_message.new_chat_members] == [kees.id]
    assert left_message.left_chat_member is not None
    assert left_message.left_chat_member.id == kees.id
    # chat_member updates reach only a bot that asks for them.
    assert not any(update.chat_member for update in updates.values())

    server.add_member(group, fatima)
    polled = await bot.get_updates(offset=max(updates) + 1, allowed_updates=Update.ALL_TYPES)
    assert [update.chat_member is not None for update in polled] == [False, True]


async def test_a_removed_bot_cannot_write_to_the_group(
    server: BotApiServer, bot: Bot, fatima: User, group: Chat
) -> None:
    server.bot_removed(group, fatima)
    [update] = await bot.get_updates()
    assert update.my_chat_member is not None
    assert update.my_chat_member.new_chat_member.status == ChatMember.BANNED
    with pytest.raises(Forbidden, match="bot was kicked"):
        await bot.send_message(group.id, "Hallo?")


async def test_a_person_who_never_started_the_bot(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    server.block_private(fatima)
    with pytest.raises(Forbidden, match="bot can't initiate conversation with a user"):
        await bot.send_message(fatima.id, "Kees wil helpen")

    server.send_text(fatima, fatima, "/start")
    await bot.send_message(fatima.id, "Kees wil helpen")
    assert [sent.text for sent in server.sent] == ["Kees wil helpen"]


async def test_one_message_per_second_per_chat(retry_after_as_timedelta: None) -> None:
    async with BotApiServer() as server, server.bot() as bot:
        fatima = server.user(1001, "Fatima")
        await bot.send_message(fatima.id, "Een")
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(fatima.id, "Twee")
        delay = refused.value.retry_after
        assert isinstance(delay, dtm.timedelta) and delay.total_seconds() == 1
        assert server.too_many_requests == 1
        assert server.calls("sendMessage")[-1].response == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }

        # Honest: after waiting as told, the send goes through.
        await asyncio.sleep(delay.total_seconds())
        await bot.send_message(fatima.id, "Twee")
        assert [sent.text for sent in server.sent] == ["Een", "Twee"]


async def test_thirty_messages_per_second_overall(retry_after_as_timedelta: None) -> None:
    async with BotApiServer() as server, server.bot() as bot:
        people = [server.user(2000 + n, f"Buur {n}") for n in range(31)]
        for person in people[:30]:
            await bot.send_message(person.id, "Welkom")
        with pytest.raises(RetryAfter):
            await bot.send_message(people[30].id, "Welkom")
        assert server.too_many_requests == 1


async def test_twenty_per_minute_per_group_with_time_scaled(
    retry_after_as_timedelta: None,
) -> None:
    limits = Limits(per_chat=None)
    async with BotApiServer(limits=limits, time_scale=0.05) as server, server.bot() as bot:
        group = server.group(GROUP_ID, "Buurt")
        assert server.effective_limits.per_group == Limit(20, 3.0)
        for n in range(20):
            await bot.send_message(group.id, f"Bericht {n}")
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(group.id, "Eén te veel")
        # "A minute" lasts 3 s here; retry_after is the real wait rounded up to a second.
        assert refused.value.retry_after == dtm.timedelta(seconds=3)
        assert len(server.sent) == 20


async def test_forced_429(
    server: BotApiServer, bot: Bot, fatima: User, retry_after_as_timedelta: None
) -> None:
    server.force_429(2, retry_after=3, method="sendMessage")
    for _ in range(2):
        with pytest.raises(RetryAfter) as refused:
            await bot.send_message(fatima.id, "Hoi")
        assert refused.value.retry_after == dtm.timedelta(seconds=3)
    assert await bot.get_updates() == ()
    await bot.send_message(fatima.id, "Hoi")
    assert (server.too_many_requests, len(server.sent)) == (2, 1)


async def test_a_dropped_connection(server: BotApiServer, bot: Bot, fatima: User) -> None:
    server.fail_next(kind="drop", method="sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(fatima.id, "Verloren")
    assert server.sent == []
    assert server.calls("sendMessage")[0].status is None

    await bot.send_message(fatima.id, "Aangekomen")
    assert [sent.text for sent in server.sent] == ["Aangekomen"]


async def test_a_lost_answer_to_a_message_that_was_sent(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    server.fail_next(kind="drop_after")
    with pytest.raises(NetworkError):
        await bot.send_message(fatima.id, "Toch verstuurd")
    assert [sent.text for sent in server.sent] == ["Toch verstuurd"]


async def test_a_stalled_request_times_out(server: BotApiServer, bot: Bot, fatima: User) -> None:
    server.fail_next(kind="stall", method="sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(fatima.id, "Hallo?", read_timeout=0.3)
    assert server.sent == []


async def test_unknown_methods_and_wrong_tokens(server: BotApiServer, bot: Bot) -> None:
    # PTB turns a 404 into EndPointNotFound once initialised, and a 401 into InvalidToken.
    with pytest.raises(EndPointNotFound, match="sendPigeon"):
        await bot.do_api_request("sendPigeon")
    assert server.calls("sendPigeon")[0].status == 404
    with pytest.raises(InvalidToken, match="was rejected"):
        async with Bot("1:wrong", base_url=server.base_url):
            pass
    assert server.calls("getMe")[-1].status == 401


async def test_a_document_is_stored_and_can_be_downloaded(
    server: BotApiServer, bot: Bot, fatima: User
) -> None:
    data = b"naam;bedrag\nKees;12,50\n"
    message = await bot.send_document(
        fatima.id, data, filename="voorschoten.csv", caption="Overzicht"
    )

    [sent] = server.sent
    assert sent.document is not None
    assert (sent.document.file_name, sent.document.data, sent.text) == (
        "voorschoten.csv",
        data,
        "Overzicht",
    )
    assert server.calls("sendDocument")[0].content_type == "multipart/form-data"
    assert message.document is not None
    file = await bot.get_file(message.document.file_id)
    assert await file.download_as_bytearray() == data


async def test_webhook_and_chat(server: BotApiServer, bot: Bot, group: Chat) -> None:
    await bot.set_webhook("https://buurt.example/telegram", secret_token="geheim")
    assert server.webhook is not None and server.webhook["url"] == "https://buurt.example/telegram"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    await bot.delete_webhook()
    assert server.webhook is None
    assert (await bot.get_chat(group.id)).title == "Buurt Middelland"


async def test_a_wait_that_is_not_met_says_what_it_waited_for(server: BotApiServer) -> None:
    with pytest.raises(TimeoutError, match="2 sent to chat 1001"):
        await server.wait_sent(2, chat_id=1001, timeout=0.05)


async def test_a_real_application_answers_start(
    server: BotApiServer, fatima: User, group: Chat
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        assert message is not None and user is not None
        await message.reply_text(f"Welkom, {user.first_name}!")

    application = (
        Application.builder()
        .token(server.token)
        .base_url(server.base_url)
        .base_file_url(server.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", start))
    async with application:
        await application.start()
        updater = application.updater
        assert updater is not None
        await updater.start_polling(timeout=10)
        server.send_text(fatima, fatima, "/start")
        last = server.send_text(group, fatima, "/start@buurtbot_test_bot")
        replies = await server.wait_sent(2)
        await updater.stop()
        await application.stop()

    assert [(sent.chat_id, sent.text) for sent in replies] == [
        (fatima.id, "Welkom, Fatima!"),
        (group.id, "Welkom, Fatima!"),
    ]
    # Stopping confirms what was fetched, so a restart does not see it again.
    assert not server.is_pending(last)
    assert server.calls("deleteWebhook")
