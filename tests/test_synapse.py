"""The test homeserver: real Synapse, real matrix-nio clients."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nio import RoomSendError, RoomSendResponse

if TYPE_CHECKING:
    from tests.synapse import MatrixUsers, SynapseServer

pytest_plugins = ["tests.synapse"]


async def test_two_neighbours_talk_in_a_room(synapse: SynapseServer, matrix: MatrixUsers) -> None:
    fatima = await matrix.login(synapse.register("fatima-talk"))
    kees = await matrix.login(synapse.register("kees-talk"))

    room_id = await matrix.create_room(fatima, kees, name="Burenhulp")
    await matrix.send_text(fatima, room_id, "Wie kan morgen melk meenemen?")
    [question] = await matrix.receive_texts(kees, room_id)
    await matrix.send_text(kees, room_id, "Ik, rond 14:00.")
    texts = await matrix.receive_texts(fatima, room_id, count=2)

    assert (question.sender, question.body) == (fatima.user_id, "Wie kan morgen melk meenemen?")
    assert [(text.sender, text.body) for text in texts] == [
        (fatima.user_id, "Wie kan morgen melk meenemen?"),
        (kees.user_id, "Ik, rond 14:00."),
    ]


async def test_bot_with_the_ratelimit_override_sends_quickly(matrix: MatrixUsers) -> None:
    bot = await matrix.client("buurtbot", rate_limited=False)
    room_id = await matrix.create_room(bot)

    for number in range(30):
        await matrix.send_text(bot, room_id, f"Herinnering {number}")


async def test_ordinary_user_is_rate_limited_after_a_burst(matrix: MatrixUsers) -> None:
    neighbour = await matrix.client("anna")
    room_id = await matrix.create_room(neighbour)

    content = {"msgtype": "m.text", "body": "Hallo"}
    accepted = 0
    for _ in range(30):
        response = await neighbour.room_send(room_id, "m.room.message", content)
        if not isinstance(response, RoomSendResponse):
            break
        accepted += 1

    assert isinstance(response, RoomSendError)
    assert response.status_code == "M_LIMIT_EXCEEDED"
    # A burst of 10 requests, one of which created the room, then 0.2 per second.
    assert 9 <= accepted < 30


async def test_restart_keeps_users_and_rooms(synapse: SynapseServer, matrix: MatrixUsers) -> None:
    account = synapse.register("piet-restart")
    piet = await matrix.login(account)
    room_id = await matrix.create_room(piet, name="Aanschuiven")
    await matrix.send_text(piet, room_id, "Soep om zes uur")

    synapse.restart()

    piet_again = await matrix.login(account)
    [text] = await matrix.receive_texts(piet_again, room_id)
    await matrix.send_text(piet, room_id, "Nog twee plaatsen")
    assert text.body == "Soep om zes uur"
