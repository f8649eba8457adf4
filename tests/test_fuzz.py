"""Ten thousand random and hostile inputs through the dispatcher: no crash, no stack trace
shown to anyone, and the database intact afterwards."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.console import GROUP_ID
from bot.handlers import build_registry
from bot.types import ButtonPress, ChatKind, ChatRef, Message, Sender
from tests.conftest import Transcript, make_transcript

EXAMPLES = 10_000
NAMES = ["fatima", "kees", "anna", "henk", "mo"]
VERBS = [
    "acc",
    "dec",
    "ask",
    "offer",
    "done",
    "cancel",
    "repaid",
    "lang",
    "rules",
    "mod",
    "approve",
    "assign",
    "forget",
    "org",
    "fu",
    "ref",
    "zzz",
    "",
]
HOSTILE = [
    "<b>vet</b>",
    "<script>alert(1)</script>",
    "*vet* _schuin_ `code` [link](http://x)",
    "\x00\x01\x02",
    "\u202eesrever",
    "👍🏽" * 50,
    "’‘“”",
    "%s %d {name} {0}",
    "' OR 1=1 --",
    "\n\n\n",
    " ",
    "/",
    "//",
    "/@",
    "/vraag@",
    "/vraag@bot@bot",
    "!vraag",
    "/VRAAG BOODSCHAPPEN",
    "/vraag boodschappen 99-99 melk",
    "/vraag klusje 31 nov lamp",
    "/aanbod ma-zz",
    "/voorgeschoten € 1e9",
    "/voorgeschoten -5",
    "/klaar #99999999999999999999",
    "/namens : :",
    "/meld #0",
    "/meld @",
    "/taal " + "x" * 300,
    "/borg @@@",
]


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    chat: Transcript
    problems: list[str] = field(default_factory=list)
    events: int = 0


class _Errors(logging.Handler):
    def __init__(self, harness: Harness) -> None:
        super().__init__(logging.ERROR)
        self.harness = harness

    def emit(self, record: logging.LogRecord) -> None:
        detail = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.harness.problems.append(f"{record.getMessage()}\n{detail}")


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    loop = asyncio.new_event_loop()
    path: Path = tmp_path_factory.mktemp("fuzz") / "bot.db"
    chat = loop.run_until_complete(
        make_transcript(f"sqlite:///{path}", house_rules_required=True, organisers="console:anna")
    )
    found = Harness(loop, chat)
    handler = _Errors(found)
    logging.getLogger().addHandler(handler)
    yield found
    logging.getLogger().removeHandler(handler)
    loop.run_until_complete(chat.runtime.close())
    loop.close()


commands = st.sampled_from([*sorted(build_registry().names()), "onbekend", "x" * 80])
texts = st.one_of(
    st.text(max_size=200),
    st.sampled_from(HOSTILE),
    st.builds(lambda c, rest: f"/{c} {rest}", commands, st.text(max_size=120)),
    st.builds(lambda c, h: f"/{c} {h}", commands, st.sampled_from(HOSTILE)),
    st.just("/vraag klusje morgen " + "a" * 5000),
)
actions = st.builds(
    lambda verb, args: ":".join([verb, *args]),
    st.sampled_from(VERBS),
    st.lists(st.one_of(st.from_regex(r"\d{1,3}", fullmatch=True), st.text(max_size=8)), max_size=3),
)


@st.composite
def events(draw: st.DrawFn) -> Message | ButtonPress:
    name = draw(st.sampled_from(NAMES))
    sender = Sender("console", name, name.capitalize(), f"@{name}")
    private = draw(st.booleans())
    chat = (
        ChatRef("console", name, ChatKind.PRIVATE)
        if private
        else ChatRef("console", GROUP_ID, ChatKind.GROUP, "Buurt")
    )
    event_id = f"fuzz-{draw(st.integers(0, 10**12))}"
    if draw(st.integers(0, 3)) == 0:
        return ButtonPress(
            event_id, chat, sender, draw(actions), draw(st.sampled_from([None, "1", "x"]))
        )
    return Message(event_id, chat, sender, draw(texts))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
@given(event=events())
def test_hostile_input_never_breaks_the_bot(harness: Harness, event: Message | ButtonPress) -> None:
    chat = harness.chat
    before = len(chat.lines)
    chat.clock.advance(timedelta(seconds=4))  # stays under the per-member limit mostly
    harness.problems.clear()
    harness.loop.run_until_complete(chat.runtime.bot.handle(event))
    harness.loop.run_until_complete(chat.session.sender.drain())
    harness.events += 1
    said = "\n".join(chat.lines[before:])
    assert "Traceback" not in said
    assert "Sorry, er ging bij mij iets mis" not in said
    assert not harness.problems, (event, harness.problems)


def test_the_database_is_intact_afterwards(harness: Harness) -> None:
    from sqlalchemy import text

    assert harness.events >= EXAMPLES

    async def check() -> tuple[str, list[object]]:
        async with harness.chat.runtime.store.engine.connect() as conn:
            integrity = (await conn.execute(text("PRAGMA integrity_check"))).scalar_one()
            keys = list((await conn.execute(text("PRAGMA foreign_key_check"))).all())
            return str(integrity), keys

    integrity, broken_keys = harness.loop.run_until_complete(check())
    assert integrity == "ok"
    assert broken_keys == []
    # and the bot still answers plainly
    harness.loop.run_until_complete(harness.chat.say("henk (dm): /help"))
    assert harness.chat.to("henk")[-1].startswith("Ik help buren elkaar te helpen.")
