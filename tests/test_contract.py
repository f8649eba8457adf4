"""The storage contract: every method of the storage port, on SQLite and on PostgreSQL.

One suite for the whole port (``bot.store.Tx`` and the outbox sender's ``OutboxQueue``),
so that the storage layer can be rebuilt and checked against it. Each test says which
methods it covers with ``@covers("method", ...)``; while the test runs, the store it is
given records which methods were called, and the test fails when one it names was not.
``test_every_method_of_the_port_has_a_test`` fails when a method of the port is named by no
test here: a method added to ``Tx`` without a test here turns the suite red.

To add a method: write a test here that takes ``db`` (a ``Contract``), call the method
through ``db.transaction()`` (or ``db.queue`` for the outbox sender's methods), assert what
it returns and what the database then holds (empty, one, many, another community's rows
left out, order, limits), and name the method in ``@covers``.

The database is migrated once per module and database kind; between tests it is emptied
(a fresh copy of the migrated file on SQLite, ``TRUNCATE`` on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import inspect
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from bot.circle_records import CircleRole, InviteKind, InviteStatus
from bot.model import (
    Category,
    Draft,
    HelperStatus,
    MemberStatus,
    NewMealTable,
    NewOffer,
    NewRequest,
    OfferSearch,
    ProposalStatus,
    RequestStatus,
    Role,
    SeatStatus,
    TableStatus,
    Visibility,
)
from bot.omkijken_records import Answer, LookAnswer, LookResult, OmkijkenPlan
from bot.store import OutboxQueue, Tx
from bot.types import Button, ChatKind
from bot.work import NewWork, WorkKind
from storage.engine import make_engine
from storage.sql import SqlStore
from tests.conftest import POSTGRES_URL, _postgres_reachable

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

F = TypeVar("F", bound=Callable[..., Awaitable[None]])


def covers(*methods: str) -> Callable[[F], F]:
    """Name the port's methods a test covers (checked while it runs, and by the meta-test)."""

    def mark(test: F) -> F:
        test.covers = methods  # type: ignore[attr-defined]
        return test

    return mark


def port_methods() -> set[str]:
    """The public methods of the storage port, read from its protocols."""
    return {
        name
        for protocol in (Tx, OutboxQueue)
        for name, _ in inspect.getmembers(protocol, inspect.isfunction)
        if not name.startswith("_")
    }


# --- one migrated database per module and kind, emptied between tests -------------------


async def _create_postgres(name: str) -> str:
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        await admin.dispose()
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    store = await SqlStore.open(url)
    await store.close()
    return url


async def _drop_postgres(name: str) -> None:
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


@pytest.fixture(scope="module")
def migrated(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(kind, url) of a database migrated once for the module: a SQLite file to copy, or a
    PostgreSQL database of its own, dropped at the end."""
    kind = str(request.param)
    if kind == "sqlite":
        path = tmp_path_factory.mktemp("contract") / "migrated.db"
        url = f"sqlite:///{path}"
        asyncio.run(_migrate(url))
        yield kind, str(path)
        return
    reason = asyncio.run(_postgres_reachable())
    if reason:
        pytest.skip(reason)
    name = f"contract_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(_create_postgres(name))
    try:
        yield kind, url
    finally:
        asyncio.run(_drop_postgres(name))


async def _migrate(url: str) -> None:
    store = await SqlStore.open(url)
    await store.close()


_TABLES = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)


@dataclass
class Contract:
    """The store under test; ``transaction()`` yields a ``Tx`` that records what is called."""

    store: SqlStore
    called: set[str] = field(default_factory=set)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        async with self.store.transaction() as tx:
            yield cast(Tx, _Recording(tx, self.called))

    @property
    def queue(self) -> OutboxQueue:
        return cast(OutboxQueue, _Recording(self.store, self.called))

    async def count(self, table: str, where: str = "1=1") -> int:
        async with self.store.engine.connect() as conn:
            return int(
                (
                    await conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}"))
                ).scalar_one()
            )

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        async with self.store.engine.connect() as conn:
            return [tuple(r) for r in (await conn.execute(text(sql))).all()]


class _Recording:
    def __init__(self, inner: Any, called: set[str]) -> None:
        self._inner = inner
        self._called = called

    def __getattr__(self, name: str) -> Any:
        self._called.add(name)
        return getattr(self._inner, name)


@pytest.fixture
async def db(
    migrated: tuple[str, str], request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[Contract]:
    kind, where = migrated
    if kind == "sqlite":
        copy = tmp_path / "contract.db"
        shutil.copyfile(where, copy)
        store = await SqlStore.open(f"sqlite:///{copy}", run_migrations=False)
    else:
        store = await SqlStore.open(where, run_migrations=False)
        async with store.engine.begin() as conn:
            await conn.exec_driver_sql(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")
    contract = Contract(store)
    try:
        yield contract
    finally:
        await store.close()
    declared = set(getattr(request.function, "covers", ()))
    missing = declared - contract.called
    assert not missing, f"the test names methods it never called: {sorted(missing)}"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "migrated" in metafunc.fixturenames:
        metafunc.parametrize("migrated", ["sqlite", "postgresql"], indirect=True, scope="module")


# --- the meta-test ------------------------------------------------------------------------


def test_every_method_of_the_port_has_a_test() -> None:
    named = {
        method
        for test in globals().values()
        if callable(test) and getattr(test, "__name__", "").startswith("test_")
        for method in getattr(test, "covers", ())
    }
    methods = port_methods()
    assert len(methods) > 100  # the protocols were read
    assert sorted(named - methods) == [], "tests name methods the port does not have"
    assert sorted(methods - named) == [], "methods of the port without a test in this module"


# --- shared set-up ------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    """Two members in one community, and one member of another community."""

    community: int
    fatima: int
    kees: int
    elsewhere: int
    stranger: int


async def town(tx: Tx) -> Town:
    community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
    other = await tx.create_community("Elders", "en", "Europe/Amsterdam", {})
    ids = []
    for name, where in (("Fatima", community.id), ("Kees", community.id), ("Sam", other.id)):
        member = await tx.create_member(name, None, NOW)
        await tx.add_identity(member.id, "console", name.lower(), f"@{name.lower()}", NOW)
        await tx.join(member.id, where, Role.RESIDENT, NOW)
        ids.append(member.id)
    return Town(community.id, ids[0], ids[1], other.id, ids[2])


def asking(
    community: int,
    requester: int,
    category: Category = Category.SHOPPING,
    description: str = "melk en brood",
) -> NewRequest:
    return NewRequest(
        community_id=community,
        requester_id=requester,
        category=category,
        starts_at=NOW + DAY,
        ends_at=NOW + DAY + HOUR,
        exact=True,
        place="3021",
        description=description,
        visibility=Visibility.ANONYMOUS,
        advance=True,
    )


def offering(
    community: int,
    member: int,
    *categories: Category,
    area: str | None = "3021",
) -> NewOffer:
    return NewOffer(
        community_id=community,
        member_id=member,
        categories=frozenset(categories or (Category.SHOPPING,)),
        days=frozenset(),
        parts=frozenset(),
        area=area,
        max_per_week=2,
    )


async def message(
    tx: Tx,
    chat: str,
    text: str = "hallo",
    *,
    member: int | None = None,
    kind: ChatKind = ChatKind.PRIVATE,
    edit_of: int | None = None,
    buttons: tuple[tuple[Button, ...], ...] = (),
    about: tuple[int, ...] = (),
    platform: str = "telegram",
) -> int:
    return await tx.enqueue(
        platform=platform,
        chat_id=chat,
        kind=kind,
        member_id=member,
        text=text,
        buttons=buttons,
        edit_of=edit_of,
        attachment=None,
        now=NOW,
        about=about,
    )


def table(community: int, host: int, starts_at: datetime, seats: int = 2) -> NewMealTable:
    return NewMealTable(
        community_id=community,
        host_id=host,
        place="Wijkpaleis",
        address="Straat 1",
        starts_at=starts_at,
        seats=seats,
        contribution="€ 3",
        menu="stamppot",
        diets=("halal", "vegetarisch"),
        signup_until=starts_at - HOUR,
        max_plus=1,
        weekly_until=None,
    )


# --- inbox and cursors --------------------------------------------------------------------


@covers("remember_event", "get_cursor", "set_cursor")
async def test_inbox_and_cursors(db: Contract) -> None:
    async with db.transaction() as tx:
        assert await tx.remember_event("telegram", "1", NOW)
        assert not await tx.remember_event("telegram", "1", NOW + HOUR)
        assert await tx.remember_event("matrix", "1", NOW)
        assert await tx.get_cursor("telegram.offset") is None
        await tx.set_cursor("telegram.offset", "10")
        await tx.set_cursor("telegram.offset", "11")
        await tx.set_cursor("matrix.next_batch", "s1")
    async with db.transaction() as tx:
        assert await tx.get_cursor("telegram.offset") == "11"
        assert await tx.get_cursor("matrix.next_batch") == "s1"
    assert await db.count("inbox") == 2
    assert await db.count("cursor") == 2


# --- communities and chats ----------------------------------------------------------------


@covers("create_community", "community", "communities", "update_community_settings")
async def test_communities_and_their_settings(db: Contract) -> None:
    async with db.transaction() as tx:
        assert await tx.communities() == []
        first = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {"a": 1})
        second = await tx.create_community("Elders", "en", "Europe/London", {})
        assert await tx.community(first.id) == first
        assert (first.name, first.language, first.timezone, first.settings) == (
            "Buurt",
            "nl",
            "Europe/Amsterdam",
            {"a": 1},
        )
        with pytest.raises(LookupError):
            await tx.community(second.id + 100)
        await tx.update_community_settings(first.id, {"b": "x", "a": None})
        assert (await tx.community(first.id)).settings == {"b": "x"}
    async with db.transaction() as tx:
        assert [c.id for c in await tx.communities()] == [first.id, second.id]
        assert (await tx.community(first.id)).settings == {"b": "x"}
        assert (await tx.community(second.id)).settings == {}


@covers("group_chat", "link_group_chat", "group_chats", "move_group_chat")
async def test_group_chats_and_moving_one(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.group_chat("telegram", "-1") is None
        assert await tx.group_chats(t.community) == []
        await tx.link_group_chat("telegram", "-2", t.community, "Buurt B")
        linked = await tx.link_group_chat("telegram", "-1", t.community, "Buurt A")
        await tx.link_group_chat("matrix", "!x", t.elsewhere, "Elders")
        assert await tx.group_chat("telegram", "-1") == linked
        assert [c.chat_id for c in await tx.group_chats(t.community)] == ["-1", "-2"]
        assert [c.chat_id for c in await tx.group_chats(t.elsewhere)] == ["!x"]
        waiting = await message(tx, "-1", kind=ChatKind.GROUP)
        sent = await message(tx, "-1", kind=ChatKind.GROUP)
    [claimed] = [
        d for d in await db.store.claim("telegram", NOW, 10, "w", NOW + HOUR) if d.outbox_id == sent
    ]
    assert await db.store.mark_sent(claimed.outbox_id, "m1", NOW, "w")
    async with db.transaction() as tx:
        assert not await tx.move_group_chat("telegram", "-1", "-2")  # the new id is taken
        assert await tx.move_group_chat("telegram", "-1", "-100")
        assert not await tx.move_group_chat("telegram", "-1", "-101")  # moved already
        assert await tx.group_chat("telegram", "-1") is None
        moved = await tx.group_chat("telegram", "-100")
        assert moved is not None and moved.community_id == t.community
    # what still waits goes to the new id; what was sent stays where it was
    assert await db.rows("SELECT id, chat_id FROM outbox ORDER BY id") == [
        (waiting, "-100"),
        (sent, "-1"),
    ]


# --- members ------------------------------------------------------------------------------


@covers(
    "create_member",
    "member",
    "identity",
    "add_identity",
    "touch_identity",
    "identities",
    "set_language",
)
async def test_members_and_their_identities(db: Contract) -> None:
    async with db.transaction() as tx:
        assert await tx.identity("telegram", "7") is None
        fatima = await tx.create_member("Fatima", None, NOW)
        kees = await tx.create_member("Kees", "en", NOW)
        assert await tx.identities(fatima.id) == []
        await tx.add_identity(fatima.id, "telegram", "7", "@fatima", NOW)
        await tx.add_identity(fatima.id, "matrix", "@f:buurt", None, NOW)
        await tx.add_identity(kees.id, "telegram", "8", None, NOW)
        with pytest.raises(LookupError):
            await tx.member(kees.id + 100)
    async with db.transaction() as tx:
        assert await tx.member(fatima.id) == fatima
        assert (fatima.display_name, fatima.language, fatima.created_at) == ("Fatima", None, NOW)
        found = await tx.identity("telegram", "7")
        assert found is not None and (found.member_id, found.handle) == (fatima.id, "@fatima")
        assert sorted(i.platform for i in await tx.identities(fatima.id)) == [
            "matrix",
            "telegram",
        ]
        assert [i.user_id for i in await tx.identities(kees.id)] == ["8"]
        await tx.touch_identity("telegram", "7", "Fatima B", "@fatimab", NOW + HOUR)
        touched = await tx.identity("telegram", "7")
        assert touched is not None and touched.handle == "@fatimab"
        assert touched.last_seen_at == NOW + HOUR
        await tx.set_language(fatima.id, "en")
        assert (await tx.member(fatima.id)).language == "en"
    assert await db.rows("SELECT id, language FROM member ORDER BY id") == [
        (fatima.id, "en"),
        (kees.id, "en"),
    ]


@covers(
    "membership",
    "memberships",
    "join",
    "leave",
    "organisers",
    "set_role",
    "accept_rules",
    "set_member_status",
    "set_helper_status",
)
async def test_memberships_roles_and_standing(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.organisers(t.community) == []
        assert await tx.membership(t.stranger, t.community) is None
        await tx.join(t.kees, t.community, Role.ORGANISER, NOW)  # a member becomes organiser
        await tx.join(t.kees, t.community, Role.RESIDENT, NOW)  # and stays one
        await tx.join(t.stranger, t.community, Role.RESIDENT, NOW + HOUR)
        assert await tx.organisers(t.community) == [t.kees]
        assert await tx.organisers(t.elsewhere) == []
        assert [m.community_id for m in await tx.memberships(t.stranger)] == [
            t.elsewhere,
            t.community,
        ]
        await tx.leave(t.kees, t.community, NOW + DAY)
        assert await tx.organisers(t.community) == []
        left = await tx.membership(t.kees, t.community)
        assert left is not None and left.left_at == NOW + DAY
        await tx.join(t.kees, t.community, Role.RESIDENT, NOW + 2 * DAY)  # back again
        back = await tx.membership(t.kees, t.community)
        assert back is not None and back.left_at is None and back.role is Role.ORGANISER
        await tx.set_role(t.kees, t.community, Role.RESIDENT)
        await tx.set_role(t.fatima, t.community, Role.ORGANISER)
        assert await tx.organisers(t.community) == [t.fatima]
        await tx.accept_rules(t.fatima, t.community, NOW)
        await tx.set_member_status(t.fatima, t.community, MemberStatus.PAUSED)
        await tx.set_helper_status(t.fatima, t.community, HelperStatus.APPROVED)
    async with db.transaction() as tx:
        fatima = await tx.membership(t.fatima, t.community)
        assert fatima is not None
        assert (fatima.rules_accepted_at, fatima.status, fatima.helper_status) == (
            NOW,
            MemberStatus.PAUSED,
            HelperStatus.APPROVED,
        )
        other = await tx.membership(t.stranger, t.elsewhere)  # another community untouched
        assert other is not None and other.status is MemberStatus.ACTIVE
        assert other.helper_status is HelperStatus.NONE and other.rules_accepted_at is None
    assert await db.count("membership") == 4


@covers("sender_rows")
async def test_the_rows_of_a_sender_at_once(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        await tx.link_group_chat("console", "-1", t.community, "Buurtgroep")
        await tx.link_group_chat("telegram", "-2", t.elsewhere, "Elders")
        await tx.join(t.stranger, t.community, Role.RESIDENT, NOW + HOUR)
        await tx.leave(t.stranger, t.elsewhere, NOW + DAY)
    async with db.transaction() as tx:
        # someone never seen: nothing of them, but the group they wrote in
        nobody = await tx.sender_rows("console", "nobody", None)
        assert (nobody.identity, nobody.member, nobody.memberships) == (None, None, ())
        assert nobody.communities == {} and nobody.group is None
        new = await tx.sender_rows("console", "nobody", "-1")
        assert new.member is None and new.group is not None
        assert (new.group.community_id, new.group.title) == (t.community, "Buurtgroep")
        # a member of two communities, oldest first; the group of another platform is not this one
        sam = await tx.sender_rows("console", "sam", "-2")
        assert sam.identity is not None and sam.identity.handle == "@sam"
        assert sam.member is not None and (sam.member.id, sam.member.display_name) == (
            t.stranger,
            "Sam",
        )
        assert [(m.community_id, m.left_at) for m in sam.memberships] == [
            (t.elsewhere, NOW + DAY),
            (t.community, None),
        ]
        assert sorted(c.name for c in sam.communities.values()) == ["Buurt", "Elders"]
        assert sam.group is None
        fatima = await tx.sender_rows("console", "fatima", "-1")
        assert fatima.member is not None and fatima.member.id == t.fatima
        assert [m.community_id for m in fatima.memberships] == [t.community]
        assert fatima.group is not None and fatima.group.chat_id == "-1"
        # what it read is what the single look-ups give, also after a write in between
        assert await tx.member(t.fatima) == fatima.member
        assert await tx.identities(t.fatima) == [fatima.identity]
        assert await tx.membership(t.fatima, t.community) == fatima.memberships[0]
        assert await tx.membership(t.fatima, t.elsewhere) is None
        assert (await tx.community(t.community)).name == "Buurt"
        await tx.set_role(t.fatima, t.community, Role.ORGANISER)
        changed = await tx.membership(t.fatima, t.community)
        assert changed is not None and changed.role is Role.ORGANISER
        # a member made in this transaction is a member of nothing until they join
        newcomer = await tx.create_member("Noor", None, NOW)
        await tx.add_identity(newcomer.id, "console", "noor", None, NOW)
        assert await tx.identities(newcomer.id) == [await tx.identity("console", "noor")]
        await tx.add_identity(newcomer.id, "telegram", "42", None, NOW + HOUR)
        assert [i.user_id for i in await tx.identities(newcomer.id)] == ["42", "noor"]
        assert await tx.membership(newcomer.id, t.community) is None
        await tx.join(newcomer.id, t.community, Role.RESIDENT, NOW)
        joined = await tx.membership(newcomer.id, t.community)
        assert joined is not None and joined.role is Role.RESIDENT and joined.left_at is None
    async with db.transaction() as tx:
        noor = await tx.sender_rows("console", "noor", None)
        assert noor.member == newcomer and noor.memberships == (joined,)
        assert [i.user_id for i in await tx.identities(newcomer.id)] == ["42", "noor"]
    assert await db.rows(
        "SELECT member_id, role FROM membership WHERE community_id = "
        f"{t.community} ORDER BY member_id"
    ) == [
        (t.fatima, "organiser"),
        (t.kees, "resident"),
        (t.stranger, "resident"),
        (newcomer.id, "resident"),
    ]


@covers("add_vouch", "vouchers", "find_members", "create_proxy_member", "members_of")
async def test_vouches_finding_members_and_proxies(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.vouchers(t.kees, t.community) == []
        assert await tx.add_vouch(t.kees, t.community, t.fatima, NOW) == [t.fatima]
        assert await tx.add_vouch(t.kees, t.community, t.fatima, NOW) == [t.fatima]
        assert await tx.add_vouch(t.kees, t.community, t.stranger, NOW) == sorted(
            [t.fatima, t.stranger]
        )
        assert await tx.vouchers(t.kees, t.elsewhere) == []
        assert [m.id for m in await tx.find_members(t.community, "@KEES")] == [t.kees]
        assert [m.id for m in await tx.find_members(t.community, "kees")] == [t.kees]
        assert [m.id for m in await tx.find_members(t.community, " Fatima ")] == [t.fatima]
        assert await tx.find_members(t.community, "sam") == []  # of another community
        assert await tx.find_members(t.community, "nobody") == []
        proxy = await tx.create_proxy_member("Mevrouw Jansen", t.kees, t.community, NOW)
        assert proxy.contact_id == t.kees and proxy.language is None
        membership = await tx.membership(proxy.id, t.community)
        assert membership is not None and membership.rules_accepted_at == NOW
        everyone = await tx.members_of(t.community)
        assert [(m.id, s.community_id) for m, s in everyone] == [
            (t.fatima, t.community),
            (t.kees, t.community),
            (proxy.id, t.community),
        ]
        assert [m.id for m, _ in await tx.members_of(t.elsewhere)] == [t.stranger]
    assert await db.count("vouch") == 2


# --- help requests ------------------------------------------------------------------------


@covers(
    "add_request",
    "request",
    "requests_of",
    "requests_helped_by",
    "claim_request",
    "close_request",
    "mark_posted_in_group",
    "open_requests",
    "reopen_request",
)
async def test_requests_through_their_life(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.request(1) is None
        assert await tx.open_requests(t.community) == []
        first = await tx.add_request(asking(t.community, t.fatima), NOW)
        second = await tx.add_request(asking(t.community, t.fatima, Category.MEAL), NOW)
        await tx.add_request(asking(t.elsewhere, t.stranger), NOW)
        assert await tx.request(first.id) == first
        assert (first.status, first.helper_id, first.group_posts) == (RequestStatus.OPEN, None, ())
        assert [r.id for r in await tx.open_requests(t.community)] == [first.id, second.id]
        assert await tx.claim_request(first.id, t.kees, NOW + HOUR)
        assert not await tx.claim_request(first.id, t.stranger, NOW + HOUR)
        assert [r.id for r in await tx.open_requests(t.community)] == [second.id]
        open_ = [RequestStatus.OPEN]
        assert [r.id for r in await tx.requests_of(t.fatima, open_)] == [second.id]
        both = [RequestStatus.OPEN, RequestStatus.MATCHED]
        assert [r.id for r in await tx.requests_of(t.fatima, both)] == [first.id, second.id]
        assert await tx.requests_of(t.kees, both) == []
        assert [r.id for r in await tx.requests_helped_by(t.kees, both)] == [first.id]
        assert await tx.requests_helped_by(t.kees, open_) == []
        await tx.mark_posted_in_group(first.id, [5, 6])
        matched = await tx.request(first.id)
        assert matched is not None and matched.group_posts == (5, 6)
        assert (matched.helper_id, matched.matched_at) == (t.kees, NOW + HOUR)
        assert await tx.reopen_request(first.id, True, NOW + 2 * HOUR)
        assert not await tx.reopen_request(first.id, True, NOW + 2 * HOUR)  # open already
        reopened = await tx.request(first.id)
        assert reopened is not None
        assert (reopened.status, reopened.helper_id, reopened.group_posts) == (
            RequestStatus.OPEN,
            None,
            (),
        )
        assert (reopened.starts_at, reopened.ends_at, reopened.exact) == (None, None, False)
        assert await tx.claim_request(second.id, t.kees, NOW)
        assert await tx.reopen_request(second.id, False, NOW)
        kept = await tx.request(second.id)
        assert kept is not None and kept.starts_at == NOW + DAY
        assert await tx.close_request(first.id, RequestStatus.CANCELLED, NOW + DAY)
        assert not await tx.close_request(first.id, RequestStatus.DONE, NOW + DAY)
        closed = await tx.request(first.id)
        assert closed is not None and closed.closed_at == NOW + DAY
    assert await db.rows("SELECT id, status FROM help_request ORDER BY id") == [
        (first.id, "cancelled"),
        (second.id, "open"),
        (second.id + 1, "open"),
    ]


@covers(
    "requests_waiting_for",
    "add_proposal",
    "set_proposal_outbox",
    "pending_proposals_of",
    "proposals",
    "set_proposal_status",
)
async def test_proposals_and_requests_waiting_for_a_helper(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        piet = await tx.create_member("Piet", None, NOW)
        await tx.join(piet.id, t.community, Role.RESIDENT, NOW)
        shopping = [Category.SHOPPING]
        assert await tx.requests_waiting_for(t.community, shopping, t.kees) == []
        first = await tx.add_request(asking(t.community, t.fatima), NOW)
        second = await tx.add_request(asking(t.community, t.fatima), NOW + HOUR)
        await tx.add_request(asking(t.community, t.fatima, Category.MEAL), NOW)
        await tx.add_request(asking(t.elsewhere, t.stranger), NOW)
        waiting = await tx.requests_waiting_for(t.community, shopping, t.kees)
        assert [r.id for r in waiting] == [first.id, second.id]  # oldest first, this kind
        assert await tx.requests_waiting_for(t.community, shopping, t.fatima) == []  # her own
        assert await tx.proposals(first.id) == []
        assert await tx.pending_proposals_of(t.kees) == []
        asked = await tx.add_proposal(first.id, t.kees, NOW, outbox_id=None)
        assert (asked.status, asked.outbox_id) == (ProposalStatus.PENDING, None)
        # nobody else is asked about a request someone is thinking about
        assert [r.id for r in await tx.requests_waiting_for(t.community, shopping, piet.id)] == [
            second.id
        ]
        await tx.add_proposal(second.id, t.kees, NOW, outbox_id=None)
        assert await tx.pending_proposals_of(t.kees) == [first.id, second.id]
        await tx.set_proposal_status(first.id, t.kees, ProposalStatus.DECLINED)
        assert await tx.pending_proposals_of(t.kees) == [second.id]
        # declined by kees: others may be asked, kees not again
        assert [r.id for r in await tx.requests_waiting_for(t.community, shopping, piet.id)] == [
            first.id
        ]
        assert await tx.requests_waiting_for(t.community, shopping, t.kees) == []
        outbox = await message(tx, "8")
        await tx.set_proposal_outbox(asked.id, outbox)
        [loaded] = await tx.proposals(first.id)
        assert (loaded.id, loaded.helper_id, loaded.status, loaded.outbox_id) == (
            asked.id,
            t.kees,
            ProposalStatus.DECLINED,
            outbox,
        )
    assert await db.count("proposal") == 2


# --- offers and matching ------------------------------------------------------------------


@covers("add_offer", "offer", "offers_of", "set_offer_paused", "delete_offer", "community_offers")
async def test_offers_kept_paused_and_deleted(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.offer(1) is None
        assert await tx.offers_of(t.kees) == []
        first = await tx.add_offer(offering(t.community, t.kees, Category.SHOPPING), NOW)
        second = await tx.add_offer(
            offering(t.community, t.kees, Category.MEAL, Category.COMPANY, area=None), NOW
        )
        await tx.add_offer(offering(t.elsewhere, t.stranger), NOW)
        assert await tx.offer(first.id) == first
        assert second.categories == {Category.MEAL, Category.COMPANY} and second.area is None
        assert (first.paused, first.max_per_week, first.created_at) == (False, 2, NOW)
        assert [o.id for o in await tx.offers_of(t.kees)] == [first.id, second.id]
        assert [o.id for o in await tx.community_offers(t.community)] == [first.id, second.id]
        await tx.set_offer_paused(first.id, True)
        paused = await tx.offer(first.id)
        assert paused is not None and paused.paused
        await tx.delete_offer(second.id)
        assert await tx.offer(second.id) is None
        assert [o.id for o in await tx.offers_of(t.kees)] == [first.id]
        assert await tx.community_offers(t.community) == [paused]
    assert await db.count("offer") == 2
    assert await db.count("offer_kind", f"offer_id = {second.id}") == 0


def search(t: Town, requester: int, **rest: Any) -> OfferSearch:
    fields: dict[str, Any] = {
        "community_id": t.community,
        "category": Category.SHOPPING,
        "requester_id": requester,
        "slots": None,
        "unasked_for": None,
        "near": None,
    } | rest
    return OfferSearch(**fields)


@covers("offers_for", "offers_near", "helps_since", "helpers_of")
async def test_matching_finds_idle_helpers_nearest_first(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        idle = NOW - 30 * DAY
        assert await tx.offers_near(search(t, t.fatima), idle, 10) == []
        assert await tx.offers_for(search(t, t.fatima), [t.kees]) == []
        helpers = []
        for number, area in enumerate(["3030", "3010", None, "3022"]):
            member = await tx.create_member(f"Helper {number}", None, NOW)
            await tx.join(member.id, t.community, Role.RESIDENT, NOW)
            await tx.add_offer(offering(t.community, member.id, area=area), NOW)
            helpers.append(member.id)
        await tx.add_offer(offering(t.community, t.fatima), NOW)  # never asked to help herself
        await tx.add_offer(offering(t.elsewhere, t.stranger, area="3021"), NOW)  # elsewhere

        async def near(at: int | None, limit: int, since: datetime = idle) -> list[int]:
            return [
                o.member_id
                for o in await tx.offers_near(search(t, t.fatima, near=at), since, limit)
            ]

        assert await near(3021, 10) == [helpers[3], helpers[0], helpers[1], helpers[2]]
        assert await near(3021, 1) == [helpers[3], helpers[1], helpers[2]]
        assert await near(None, 2) == helpers[:2]
        for_two = await tx.offers_for(search(t, t.fatima), [helpers[1], helpers[3], t.stranger])
        assert [o.member_id for o in for_two] == [helpers[1], helpers[3]]
        assert await tx.offers_for(search(t, t.fatima, category=Category.MEAL), helpers) == []
        # helpers who took on a request lately come after (are left out of) the idle ones
        assert await tx.helps_since(NOW - DAY) == {}
        request = await tx.add_request(asking(t.community, t.fatima), NOW)
        await tx.claim_request(request.id, helpers[3], NOW)
        again = await tx.add_request(asking(t.community, t.kees), NOW)
        await tx.claim_request(again.id, helpers[3], NOW - 2 * DAY)
        assert await tx.helps_since(NOW - DAY) == {helpers[3]: 1}
        assert await tx.helps_since(NOW - 3 * DAY) == {helpers[3]: 2}
        assert await near(3021, 10, NOW - DAY) == [helpers[0], helpers[1], helpers[2]]
        assert await tx.helpers_of(t.fatima) == {}  # not done yet
        await tx.close_request(request.id, RequestStatus.DONE, NOW)
        assert await tx.helpers_of(t.fatima) == {helpers[3]: 1}
        assert await tx.helpers_of(t.kees) == {}


@covers("request_figures", "helpers_since", "idle_helpers", "community_requests")
async def test_figures_of_a_community(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        zero = {"asked": 0, "matched": 0, "done": 0, "unknown": 0, "referred": 0, "cancelled": 0}
        assert await tx.request_figures(t.community, NOW - DAY) == zero
        assert await tx.helpers_since(t.community, NOW - DAY) == []
        assert await tx.community_requests(t.community) == []
        old = await tx.add_request(asking(t.community, t.fatima), NOW - 10 * DAY)
        done = await tx.add_request(asking(t.community, t.fatima), NOW)
        cancelled = await tx.add_request(asking(t.community, t.kees), NOW + HOUR)
        await tx.add_request(asking(t.elsewhere, t.stranger), NOW)
        await tx.claim_request(done.id, t.kees, NOW)
        await tx.close_request(done.id, RequestStatus.DONE, NOW)
        await tx.close_request(cancelled.id, RequestStatus.CANCELLED, NOW + HOUR)
        await tx.add_offer(offering(t.community, t.kees), NOW - 20 * DAY)
        await tx.add_offer(offering(t.community, t.fatima), NOW - 20 * DAY)
        late = await tx.create_member("Laat", None, NOW)
        await tx.join(late.id, t.community, Role.RESIDENT, NOW)
        await tx.add_offer(offering(t.community, late.id), NOW)  # offering since after
        await tx.add_offer(offering(t.elsewhere, t.stranger), NOW - 20 * DAY)
        assert await tx.request_figures(t.community, NOW - DAY) == zero | {
            "asked": 2,
            "matched": 1,
            "done": 1,
            "cancelled": 1,
        }
        assert await tx.helpers_since(t.community, NOW - DAY) == [t.kees]
        assert await tx.helpers_since(t.elsewhere, NOW - DAY) == []
        assert await tx.idle_helpers(t.community, NOW - DAY) == [t.fatima]
        await tx.leave(t.fatima, t.community, NOW)
        assert await tx.idle_helpers(t.community, NOW - DAY) == []
        assert [r.id for r in await tx.community_requests(t.community)] == [
            old.id,
            done.id,
            cancelled.id,
        ]
        assert [r.id for r in await tx.community_requests(t.community, since=NOW)] == [
            done.id,
            cancelled.id,
        ]
        only_open = await tx.community_requests(t.community, [RequestStatus.OPEN])
        assert [r.id for r in only_open] == [old.id]


# --- expenses, drafts, referrals, settings ------------------------------------------------


@covers("add_expense", "expenses", "expense", "mark_repaid")
async def test_expenses_and_repaying_them(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        request = await tx.add_request(asking(t.community, t.fatima), NOW)
        other = await tx.add_request(asking(t.community, t.kees), NOW)
        assert await tx.expenses(request.id) == []
        assert await tx.expense(1) is None
        first = await tx.add_expense(request.id, 1250, NOW)
        second = await tx.add_expense(request.id, 300, NOW + HOUR)
        await tx.add_expense(other.id, 99, NOW)
        assert (first.amount_cents, first.recorded_at, first.repaid_at) == (1250, NOW, None)
        assert await tx.expenses(request.id) == [first, second]
        found = await tx.expense(second.id)
        assert found is not None and found == (second, request)
        assert await tx.mark_repaid(first.id, NOW + DAY)
        assert not await tx.mark_repaid(first.id, NOW + 2 * DAY)
        [repaid, open_] = await tx.expenses(request.id)
        assert (repaid.repaid_at, open_.repaid_at) == (NOW + DAY, None)
    assert await db.count("expense", "repaid_at IS NULL") == 2


@covers("draft", "save_draft", "drop_draft")
async def test_drafts_one_per_member(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.draft(t.fatima) is None
        await tx.save_draft(Draft(t.fatima, "ask", "when", {"category": "shopping"}, NOW))
        await tx.save_draft(Draft(t.fatima, "ask", "where", {"when": "morgen"}, NOW + HOUR))
        await tx.save_draft(Draft(t.kees, "offer", "what", {}, NOW))
    async with db.transaction() as tx:
        draft = await tx.draft(t.fatima)
        assert draft == Draft(t.fatima, "ask", "where", {"when": "morgen"}, NOW + HOUR)
        await tx.drop_draft(t.fatima)
        await tx.drop_draft(t.fatima)
        assert await tx.draft(t.fatima) is None
        kept = await tx.draft(t.kees)
        assert kept is not None and kept.kind == "offer"
    assert await db.count("draft") == 1


@covers("add_referral", "referral", "answer_referral")
async def test_referrals_are_answered_once(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        request = await tx.add_request(asking(t.community, t.fatima), NOW)
        assert await tx.referral(1) is None
        referral = await tx.add_referral(request.id, t.kees, NOW)
        assert (referral.request_id, referral.organiser_id, referral.asked_at) == (
            request.id,
            t.kees,
            NOW,
        )
        assert (referral.answered_at, referral.consent) == (None, None)
        assert await tx.referral(referral.id) == referral
        assert await tx.answer_referral(referral.id, True, NOW + HOUR)
        assert not await tx.answer_referral(referral.id, False, NOW + DAY)
        answered = await tx.referral(referral.id)
        assert answered is not None and (answered.answered_at, answered.consent) == (
            NOW + HOUR,
            True,
        )


@covers("member_settings", "set_member_settings")
async def test_member_settings(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.member_settings(t.fatima) == {}
        await tx.set_member_settings(t.fatima, {"quiet": [22, 8]})
        await tx.set_member_settings(t.fatima, {"quiet": [23, 7], "digest": False})
        await tx.set_member_settings(t.kees, {"digest": True})
    async with db.transaction() as tx:
        assert await tx.member_settings(t.fatima) == {"quiet": [23, 7], "digest": False}
        assert await tx.member_settings(t.kees) == {"digest": True}
        assert await tx.member_settings(t.stranger) == {}
    assert await db.count("member_settings") == 2


# --- reports and the audit log ------------------------------------------------------------


@covers("add_report", "reports", "add_audit", "audit_log")
async def test_reports_and_the_audit_log(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.reports(t.community) == []
        assert await tx.audit_log(t.community) == []
        request = await tx.add_request(asking(t.community, t.fatima), NOW)
        first = await tx.add_report(t.community, t.kees, request.id, None, "spam", NOW)
        second = await tx.add_report(t.community, t.fatima, None, t.kees, "rude", NOW)
        await tx.add_report(t.elsewhere, t.stranger, None, None, "elsewhere", NOW)
        assert (first.request_id, first.member_id, first.reason, first.handled_at) == (
            request.id,
            None,
            "spam",
            None,
        )
        assert await tx.reports(t.community) == [first, second]
        for number in range(5):
            await tx.add_audit(t.community, t.kees, f"action{number}", f"member:{number}", NOW)
        await tx.add_audit(t.elsewhere, None, "elsewhere", "", NOW)
        newest = await tx.audit_log(t.community, limit=3)
        assert [e.action for e in newest] == ["action4", "action3", "action2"]
        assert (newest[0].actor_id, newest[0].subject, newest[0].created_at) == (
            t.kees,
            "member:4",
            NOW,
        )
        assert len(await tx.audit_log(t.community)) == 5
        assert [e.action for e in await tx.audit_log(t.elsewhere)] == ["elsewhere"]
    await _handle(db, first.id)
    async with db.transaction() as tx:
        assert await tx.reports(t.community) == [second]
        assert [r.id for r in await tx.reports(t.community, open_only=False)] == [
            first.id,
            second.id,
        ]


async def _handle(db: Contract, report_id: int) -> None:
    # no port method marks a report handled yet; the organisers' pages write it directly
    async with db.store.engine.begin() as conn:
        await conn.execute(
            text("UPDATE report SET handled_at = :now WHERE id = :id"),
            {"now": NOW.replace(tzinfo=None), "id": report_id},
        )


# --- the outbox ---------------------------------------------------------------------------


@covers("enqueue", "outbox_row", "outbox_row_by_ref", "newest_message_to", "shown_buttons")
async def test_messages_queued_edited_and_found_again(db: Contract) -> None:
    yes_no = ((Button("Ja", "a:1"), Button("Nee", "a:2")),)
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.outbox_row(1) is None
        assert await tx.newest_message_to("telegram", "7") is None
        assert await tx.shown_buttons(1) == ()
        first = await message(tx, "7", "eerste", member=t.fatima, buttons=yes_no, about=[t.kees])
        second = await message(tx, "7", "tweede", member=t.fatima)
        await message(tx, "8", "aan kees", member=t.kees)
        await message(tx, "7", "ander platform", platform="matrix")
        edit = await message(tx, "7", "eerste ✔", member=t.fatima, edit_of=first)
        row = await tx.outbox_row(first)
        assert row is not None
        assert (row.platform, row.chat_id, row.kind, row.member_id, row.text, row.buttons) == (
            "telegram",
            "7",
            ChatKind.PRIVATE,
            t.fatima,
            "eerste",
            yes_no,
        )
        edited = await tx.outbox_row(edit)
        assert edited is not None and edited.edit_of == first
        newest = await tx.newest_message_to("telegram", "7")  # an edit is not a new message
        assert newest is not None and newest.outbox_id == second
        assert await tx.shown_buttons(first) == ()  # its newest edit shows none
        assert await tx.shown_buttons(second) == ()
        assert await tx.outbox_row_by_ref("telegram", "m-1") is None
    # the edit carries whom the edited message is about
    assert await db.rows("SELECT outbox_id, member_id FROM outbox_about ORDER BY outbox_id") == [
        (first, t.kees),
        (edit, t.kees),
    ]
    claimed = await db.store.claim("telegram", NOW, 10, "w", NOW + HOUR)
    assert first in [d.outbox_id for d in claimed]
    assert await db.store.mark_sent(first, "m-1", NOW, "w")
    async with db.transaction() as tx:
        found = await tx.outbox_row_by_ref("telegram", "m-1")
        assert found is not None and found.outbox_id == first
        assert await tx.outbox_row_by_ref("matrix", "m-1") is None
        third = await message(tx, "9", "met knoppen", buttons=yes_no)
        assert await tx.shown_buttons(third) == yes_no


@covers("park_waiting", "release_waiting", "waiting_count")
async def test_private_messages_wait_for_an_open_chat(db: Contract) -> None:
    async with db.transaction() as tx:
        assert await tx.waiting_count("telegram", "7") == 0
        first = await message(tx, "7", "een")
        second = await message(tx, "7", "twee")
        other = await message(tx, "8", "ander")
        assert await tx.park_waiting(first)
        assert not await tx.park_waiting(first)
        assert await tx.park_waiting(second)
        assert await tx.park_waiting(other)
        assert await tx.waiting_count("telegram", "7") == 2
        assert await tx.waiting_count("matrix", "7") == 0
    assert await db.store.claim("telegram", NOW, 10, "w", NOW + HOUR) == []
    async with db.transaction() as tx:
        assert await tx.release_waiting("telegram", "7") == 2
        assert await tx.release_waiting("telegram", "7") == 0
        assert await tx.waiting_count("telegram", "7") == 0
        assert await tx.waiting_count("telegram", "8") == 1
    claimed = await db.store.claim("telegram", NOW, 10, "w", NOW + HOUR)
    assert [d.outbox_id for d in claimed] == [first, second]


@covers("claim", "extend_lease", "release", "release_all", "mark_sent", "postpone", "mark_failed")
async def test_the_outbox_senders_leases(db: Contract) -> None:
    queue = db.queue
    assert await queue.claim("telegram", NOW, 10, "a", NOW + HOUR) == []
    async with db.transaction() as tx:
        ids = [
            await message(tx, chat, text)
            for chat, text in [("1", "a"), ("1", "b"), ("2", "c"), ("3", "d")]
        ]
        await message(tx, "1", "matrix", platform="matrix")
        later = await tx.enqueue(
            platform="telegram",
            chat_id="4",
            kind=ChatKind.PRIVATE,
            member_id=None,
            text="later",
            buttons=(),
            edit_of=None,
            attachment=("a.csv", b"x"),
            now=NOW + DAY,
        )
    mine = await queue.claim("telegram", NOW, 2, "a", NOW + HOUR)
    assert [d.outbox_id for d in mine] == ids[:2]  # oldest first, up to the limit
    theirs = await queue.claim("telegram", NOW, 10, "b", NOW + HOUR)
    assert [d.outbox_id for d in theirs] == ids[2:]  # not yet due: ``later``
    assert await queue.extend_lease(ids, "a", NOW + 2 * HOUR) == set(ids[:2])
    assert await queue.extend_lease([], "a", NOW) == set()
    await queue.release([ids[0]], "b")  # not b's to give back
    assert await queue.mark_sent(ids[0], "m-0", NOW, "a")
    assert not await queue.mark_sent(ids[0], "m-0", NOW, "a")
    assert not await queue.mark_sent(ids[2], "m-2", NOW, "a")
    await queue.postpone(ids[1], NOW + 3 * HOUR, "a")
    await queue.mark_failed(ids[2], "Bad Request: chat not found", NOW, "b")
    await queue.release([ids[3]], "b")
    assert [d.outbox_id for d in await queue.claim("telegram", NOW, 10, "c", NOW + HOUR)] == [
        ids[3]
    ]
    due = await queue.claim("telegram", NOW + DAY, 10, "c", NOW + DAY + HOUR)
    assert [d.outbox_id for d in due] == [ids[1], ids[3], later]  # c's lease ran out
    assert due[2].attachment == ("a.csv", b"x")
    assert await queue.release_all("telegram") == 3
    assert await queue.release_all("telegram") == 0
    assert await db.rows("SELECT id, status, message_ref, error FROM outbox ORDER BY id") == [
        (ids[0], "sent", "m-0", None),
        (ids[1], "pending", None, None),
        (ids[2], "failed", None, "Bad Request: chat not found"),
        (ids[3], "pending", None, None),
        (ids[3] + 1, "pending", None, None),
        (later, "pending", None, None),
    ]
    assert await db.count("outbox", "status = 'pending' AND claimed_by IS NOT NULL") == 0


@covers("mark_part_sent")
async def test_a_long_text_goes_out_part_by_part(db: Contract) -> None:
    queue = db.queue
    async with db.transaction() as tx:
        long, short = await message(tx, "7", "lang " * 2000), await message(tx, "8", "kort")
    lease = NOW + HOUR
    claimed = {d.outbox_id: d for d in await queue.claim("telegram", NOW, 10, "a", lease)}
    assert (claimed[long].parts_sent, claimed[short].parts_sent) == (0, 0)
    assert await queue.mark_part_sent(long, 0, "a")
    assert not await queue.mark_part_sent(long, 0, "a")  # that part is counted already
    assert await queue.mark_part_sent(long, 1, "a")
    assert not await queue.mark_part_sent(long, 2, "b")  # not b's row
    await queue.postpone(long, NOW, "a")
    [again] = await queue.claim("telegram", NOW, 10, "b", lease)
    assert again.outbox_id == long and again.parts_sent == 2  # b goes on from the third part
    assert await db.rows("SELECT id, parts_sent FROM outbox ORDER BY id") == [
        (long, 2),
        (short, 0),
    ]


# --- due work -----------------------------------------------------------------------------


def work(
    t: Town,
    kind: WorkKind,
    due_at: datetime,
    *,
    subject: int | None = None,
    member: int | None = None,
    urgent: bool = False,
    key: str | None = None,
) -> NewWork:
    return NewWork(
        kind=kind,
        community_id=t.community,
        due_at=due_at,
        subject_id=subject,
        member_id=member,
        urgent=urgent,
        payload={"n": 1},
        dedupe_key=key,
    )


@covers(
    "schedule_work", "claim_due_work", "finish_work", "postpone_work", "work_failed", "next_due_at"
)
async def test_due_work_claimed_in_order(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.next_due_at() is None
        assert await tx.claim_due_work(NOW, "w") is None
        later = await tx.schedule_work(work(t, WorkKind.WIDEN, NOW + HOUR, key="widen:1"), NOW)
        first = await tx.schedule_work(work(t, WorkKind.DIGEST, NOW - HOUR), NOW)
        assert await tx.schedule_work(work(t, WorkKind.WIDEN, NOW, key="widen:1"), NOW) is None
        assert later is not None and first is not None
        assert await tx.next_due_at() == NOW - HOUR
        claimed = await tx.claim_due_work(NOW, "w")
        assert claimed is not None and claimed.id == first
        assert (claimed.kind, claimed.claimed_at, claimed.payload) == (
            WorkKind.DIGEST,
            NOW,
            {"n": 1},
        )
        assert await tx.claim_due_work(NOW, "w") is None  # the other is not due yet
        assert await tx.next_due_at() == NOW + HOUR
        await tx.finish_work(first, NOW, "sent", None)
        again = await tx.claim_due_work(NOW + HOUR, "w")
        assert again is not None and again.id == later
        await tx.postpone_work(later, NOW + 2 * HOUR)
        assert await tx.next_due_at() == NOW + 2 * HOUR
        assert await tx.claim_due_work(NOW + HOUR, "w") is None
        assert await tx.claim_due_work(NOW + 2 * HOUR, "w") is not None
        assert await tx.work_failed(later, NOW, "boom", NOW + 3 * HOUR) == 1
        assert await tx.next_due_at() == NOW + 3 * HOUR
        assert await tx.claim_due_work(NOW + 3 * HOUR, "w") is not None
        assert await tx.work_failed(later, NOW + 3 * HOUR, "boom again", None) == 2
        assert await tx.next_due_at() is None
        assert await tx.work_failed(later + 100, NOW, "no such work", None) == 0
        # work of some kinds left to another process (the nightly jobs, to the leader)
        nightly = await tx.schedule_work(work(t, WorkKind.RETENTION, NOW - DAY), NOW)
        digest = await tx.schedule_work(work(t, WorkKind.DIGEST, NOW), NOW)
        assert await tx.next_due_at() == NOW - DAY
        skip = {WorkKind.RETENTION}
        assert await tx.next_due_at(skip=skip) == NOW
        assert await tx.next_due_at(skip={WorkKind.RETENTION, WorkKind.DIGEST}) is None
        taken = await tx.claim_due_work(NOW, "w", skip=skip)
        assert taken is not None and taken.id == digest
        assert await tx.claim_due_work(NOW, "w", skip=skip) is None
        taken = await tx.claim_due_work(NOW, "w")
        assert taken is not None and taken.id == nightly
    assert await db.rows("SELECT id, outcome, attempts, error FROM due_work ORDER BY id") == [
        (later, "failed", 2, "boom again"),
        (first, "sent", 0, None),
        (nightly, None, 0, None),
        (digest, None, 0, None),
    ]


@covers(
    "claim_member_work", "cancel_work", "work_about", "has_pending_work", "scheduled_messages_since"
)
async def test_due_work_of_a_member_and_about_a_request(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        request = await tx.add_request(asking(t.community, t.fatima), NOW)
        assert await tx.work_about(request.id) == []
        assert not await tx.has_pending_work(WorkKind.DIGEST, t.community)
        evening = await tx.schedule_work(
            work(t, WorkKind.REMIND_EVENING, NOW, subject=request.id, member=t.kees), NOW
        )
        follow = await tx.schedule_work(
            work(t, WorkKind.FOLLOWUP, NOW - HOUR, subject=request.id, member=t.kees), NOW
        )
        urgent = await tx.schedule_work(
            work(t, WorkKind.REMIND_HOUR, NOW, subject=request.id, member=t.kees, urgent=True),
            NOW,
        )
        future = await tx.schedule_work(
            work(t, WorkKind.FOLLOWUP_NUDGE, NOW + DAY, subject=request.id, member=t.kees), NOW
        )
        await tx.schedule_work(work(t, WorkKind.FOLLOWUP, NOW, member=t.fatima), NOW)
        digest = await tx.schedule_work(work(t, WorkKind.DIGEST, NOW + DAY), NOW)
        assert await tx.has_pending_work(WorkKind.DIGEST, t.community)
        assert not await tx.has_pending_work(WorkKind.DIGEST, t.elsewhere)
        assert not await tx.has_pending_work(WorkKind.RETENTION, t.community)
        # every other non-urgent item for kees due by now, in due order
        mine = await tx.claim_member_work(t.kees, NOW, "w")
        assert [w.id for w in mine] == [follow, evening]
        assert await tx.claim_member_work(t.kees, NOW, "w") == []
        about = await tx.work_about(request.id)
        assert [w.id for w in about] == [follow, evening, urgent, future]
        assert await tx.scheduled_messages_since(t.kees, NOW - DAY) == 0
        await tx.finish_work(follow, NOW, "sent", outbox_id=await message(tx, "8"))
        assert evening is not None
        await tx.finish_work(evening, NOW, "sent", outbox_id=await message(tx, "8"))
        assert await tx.scheduled_messages_since(t.kees, NOW - DAY) == 2
        assert await tx.scheduled_messages_since(t.kees, NOW + HOUR) == 0
        assert await tx.scheduled_messages_since(t.fatima, NOW - DAY) == 0
        assert await tx.cancel_work(request.id, [WorkKind.REMIND_HOUR], NOW) == 1
        assert await tx.cancel_work(request.id, None, NOW) == 1  # the nudge; the rest is done
        assert await tx.cancel_work(request.id, None, NOW) == 0
        cancelled = {w.id: w.cancelled_at for w in await tx.work_about(request.id)}
        assert cancelled == {follow: None, evening: None, urgent: NOW, future: NOW}
        assert digest is not None
    assert await db.count("due_work", "cancelled_at IS NULL AND done_at IS NULL") == 2


# --- limits -------------------------------------------------------------------------------


@covers("limit_uses", "add_limit_use", "limit_notice", "set_limit_notice", "forget_limit_uses")
async def test_limits_counted_and_forgotten(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.limit_uses("ask", [t.fatima, t.kees], NOW - DAY) == {}
        await tx.add_limit_use(t.fatima, "ask", NOW - HOUR)
        await tx.add_limit_use(t.fatima, "ask", NOW - 3 * DAY)
        await tx.add_limit_use(t.fatima, "ask", NOW - 2 * HOUR)
        await tx.add_limit_use(t.kees, "ask", NOW)
        await tx.add_limit_use(t.kees, "report", NOW)
        await tx.add_limit_use(t.stranger, "ask", NOW)
        uses = await tx.limit_uses("ask", [t.fatima, t.kees, t.kees], NOW - DAY, lock=True)
        assert uses == {t.fatima: [NOW - 2 * HOUR, NOW - HOUR], t.kees: [NOW]}
        assert await tx.limit_uses("report", [t.fatima], NOW - DAY) == {}
        assert await tx.limit_notice(t.fatima, "ask") is None
        await tx.set_limit_notice(t.fatima, "ask", NOW + HOUR)
        await tx.set_limit_notice(t.fatima, "ask", NOW + DAY)
        await tx.set_limit_notice(t.kees, "ask", NOW - 2 * DAY)
        assert await tx.limit_notice(t.fatima, "ask") == NOW + DAY
        assert await tx.limit_notice(t.fatima, "report") is None
        assert await tx.forget_limit_uses(NOW - DAY) == 1
        assert await tx.limit_notice(t.kees, "ask") is None  # ran out before
        assert await tx.limit_notice(t.fatima, "ask") == NOW + DAY
    assert await db.count("limit_use") == 5


# --- a member's own data, erasure and retention -------------------------------------------


@covers("member_records", "erase_member")
async def test_a_members_records_and_forgetting_them(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        empty = await tx.member_records(t.stranger)
        assert [r["display_name"] for r in empty["member"]] == ["Sam"]
        assert empty["requests"] == [] and empty["offers"] == []
        request = await tx.add_request(asking(t.community, t.fatima, description="geheim"), NOW)
        await tx.claim_request(request.id, t.kees, NOW)
        await tx.add_offer(offering(t.community, t.fatima), NOW)
        await tx.add_expense(request.id, 500, NOW)
        await tx.set_member_settings(t.fatima, {"quiet": [22, 8]})
        await tx.add_limit_use(t.fatima, "ask", NOW)
        await tx.save_draft(Draft(t.fatima, "ask", "when", {"text": "privé"}, NOW))
        await tx.add_vouch(t.fatima, t.community, t.kees, NOW)
        to_her = await message(tx, "fatima", "aan fatima", member=t.fatima)
        about_her = await message(tx, "-1", "over fatima", kind=ChatKind.GROUP, about=[t.fatima])
        to_kees = await message(tx, "kees", "aan kees", member=t.kees)
        await tx.schedule_work(work(t, WorkKind.FOLLOWUP, NOW + DAY, member=t.fatima), NOW)
        records = await tx.member_records(t.fatima)
        assert [r["description"] for r in records["requests"]] == ["geheim"]
        assert records["helped_with"] == []
        assert [r["amount_cents"] for r in records["expenses"]] == [500]
        assert [r["settings"] for r in records["settings"]] == [{"quiet": [22, 8]}]
        assert len(records["offers"]) == len(records["limits"]) == len(records["vouches"]) == 1
        assert [r["user_id"] for r in records["identities"]] == ["fatima"]
        kees = await tx.member_records(t.kees)
        assert [r["id"] for r in kees["helped_with"]] == [request.id]
        assert [r["amount_cents"] for r in kees["expenses"]] == [500]
    claimed = await db.store.claim("telegram", NOW, 10, "w", NOW + HOUR)
    assert about_her in [d.outbox_id for d in claimed]
    assert await db.store.mark_sent(about_her, "g-1", NOW, "w")
    async with db.transaction() as tx:
        # delivered to others, about her: to be replaced there by a neutral text
        assert await tx.erase_member(t.fatima, NOW + HOUR) == [about_her]
        forgotten = await tx.member(t.fatima)
        assert forgotten.erased and forgotten.display_name == ""
        assert await tx.identity("console", "fatima") is None
        assert await tx.offers_of(t.fatima) == [] and await tx.draft(t.fatima) is None
        assert await tx.member_settings(t.fatima) == {}
        assert await tx.limit_uses("ask", [t.fatima], NOW - DAY) == {}
        erased = await tx.request(request.id)
        assert erased is not None and (erased.description, erased.place) == ("", None)
        assert await tx.outbox_row(to_her) is None  # never sent: gone
        assert (await tx.outbox_row(to_kees)) is not None
        membership = await tx.membership(t.fatima, t.community)
        assert membership is not None and membership.left_at == NOW + HOUR
        records = await tx.member_records(t.fatima)
        assert records["identities"] == records["offers"] == records["settings"] == []
        kees_after = await tx.member(t.kees)
        assert kees_after.display_name == "Kees"
    assert await db.rows(f"SELECT text FROM outbox WHERE id = {about_her}") == [("",)]
    assert await db.count("due_work", "cancelled_at IS NULL") == 0


@covers("purge_closed_texts", "purge_personal")
async def test_retention_removes_old_personal_data(db: Contract) -> None:
    old = NOW - 100 * DAY
    async with db.transaction() as tx:
        t = await town(tx)
        await tx.link_group_chat("telegram", "-1", t.community, "Buurt")
        assert await tx.purge_closed_texts(t.community, NOW) == 0
        assert await tx.purge_personal(t.community, NOW) == dict.fromkeys(
            ("messages", "proposals", "seats", "reports", "audit", "drafts", "inbox"), 0
        ) | {"web sessions": 0, "circle invites": 0}
        circle = await tx.create_circle(t.community, "Kerklaan", t.kees, old)
        theirs = await tx.create_circle(t.elsewhere, "Dorpsstraat", t.stranger, old)
        answered_long_ago = await tx.add_circle_invite(
            circle.id, t.fatima, t.kees, InviteKind.INVITE, old
        )
        await tx.answer_circle_invite(answered_long_ago.id, InviteStatus.DECLINED, old)
        asked_long_ago = await tx.add_circle_invite(circle.id, t.fatima, None, InviteKind.ASK, old)
        await tx.answer_circle_invite(asked_long_ago.id, InviteStatus.WITHDRAWN, old)
        answered_lately = await tx.add_circle_invite(
            circle.id, t.fatima, t.kees, InviteKind.INVITE, old
        )
        await tx.answer_circle_invite(answered_lately.id, InviteStatus.ACCEPTED, NOW)
        still_pending = await tx.add_circle_invite(circle.id, t.fatima, t.kees, InviteKind.ASK, old)
        elsewhere_invite = await tx.add_circle_invite(
            theirs.id, t.kees, t.stranger, InviteKind.INVITE, old
        )
        await tx.answer_circle_invite(elsewhere_invite.id, InviteStatus.DECLINED, old)
        closed = await tx.add_request(asking(t.community, t.fatima, description="oud"), old)
        await tx.add_proposal(closed.id, t.kees, old)
        await tx.close_request(closed.id, RequestStatus.DONE, old)
        recent = await tx.add_request(asking(t.community, t.fatima, description="nieuw"), NOW)
        await tx.close_request(recent.id, RequestStatus.DONE, NOW)
        still_open = await tx.add_request(asking(t.community, t.kees, description="open"), old)
        elsewhere = await tx.add_request(asking(t.elsewhere, t.stranger, description="elders"), old)
        await tx.close_request(elsewhere.id, RequestStatus.DONE, old)
        await tx.add_report(t.community, t.kees, None, t.fatima, "oud", old)
        await tx.add_report(t.community, t.kees, None, t.fatima, "nieuw", NOW)
        await tx.add_audit(t.community, t.kees, "ban", "member:1", old)
        await tx.add_audit(t.community, t.kees, "ban", "member:2", NOW)
        await tx.save_draft(Draft(t.fatima, "ask", "when", {}, old))
        await tx.save_draft(Draft(t.stranger, "ask", "when", {}, old))
        await tx.remember_event("telegram", "old", old)
        await tx.remember_event("telegram", "new", NOW)
        await tx.add_web_session("gone", t.kees, t.community, "c1", old, old + 12 * HOUR)
        await tx.add_web_session("kept", t.kees, t.community, "c2", NOW, NOW + 12 * HOUR)
        dinner = await tx.add_table(table(t.community, t.kees, old + DAY), old)
        await tx.take_seat(dinner.id, t.fatima, old)
        group_post = await message(tx, "-1", "oud bericht", kind=ChatKind.GROUP)
        await message(tx, "-1", "nieuw bericht", kind=ChatKind.GROUP)
    await db.store.claim("telegram", NOW, 10, "w", NOW + HOUR)
    assert await db.store.mark_sent(group_post, "g", old, "w")
    async with db.transaction() as tx:
        assert await tx.purge_closed_texts(t.community, NOW - DAY) == 1
        assert await tx.purge_closed_texts(t.community, NOW - DAY) == 0
        texts = {r.id: r.description for r in await tx.community_requests(t.community)}
        assert texts == {closed.id: "", recent.id: "nieuw", still_open.id: "open"}
        assert (await tx.request(elsewhere.id)).description == "elders"  # type: ignore[union-attr]
        assert await tx.purge_personal(t.community, NOW - DAY) == {
            "messages": 1,
            "proposals": 1,
            "seats": 1,
            "reports": 1,
            "audit": 1,
            "drafts": 1,
            "inbox": 1,
            "web sessions": 1,
            "circle invites": 2,
        }
        assert [r.reason for r in await tx.reports(t.community)] == ["nieuw"]
        statuses = (InviteStatus.PENDING, InviteStatus.ACCEPTED, InviteStatus.DECLINED)
        left = await tx.circle_invites(
            member_id=t.fatima, statuses=[*statuses, InviteStatus.WITHDRAWN]
        )
        assert [i.id for i in left] == [answered_lately.id, still_pending.id]
        assert [i.id for i in await tx.circle_invites(member_id=t.kees, statuses=statuses)] == [
            elsewhere_invite.id  # another community's circle
        ]
        assert [(e.actor_id, e.subject) for e in await tx.audit_log(t.community)] == [
            (t.kees, "member:2"),
            (None, ""),
        ]
        assert await tx.draft(t.stranger) is not None  # another community's member
        kept = await tx.meal_table(dinner.id)
        assert kept is not None and kept.address is None
    assert await db.rows("SELECT text FROM outbox") == [("nieuw bericht",)]
    assert await db.rows("SELECT event_id FROM inbox") == [("new",)]


# --- circles ------------------------------------------------------------------------------


async def circle_town(tx: Tx) -> tuple[Town, int]:
    """The town, with a third member (Piet) in its community."""
    place = await town(tx)
    piet = await tx.create_member("Piet", None, NOW)
    await tx.join(piet.id, place.community, Role.RESIDENT, NOW)
    return place, piet.id


@covers(
    "create_circle",
    "circle",
    "circles",
    "circle_sizes",
    "circle_of_member",
    "circle_members",
    "set_circle_open",
    "remove_circle",
)
async def test_circles_started_found_and_removed(db: Contract) -> None:
    async with db.transaction() as tx:
        place, piet = await circle_town(tx)
        circle = await tx.create_circle(place.community, "Kerklaan", place.fatima, NOW)
        closed = await tx.create_circle(place.community, "Dorpsstraat", piet, NOW, open=False)
        theirs = await tx.create_circle(place.elsewhere, "Elders", place.stranger, NOW)
        assert circle.name == "Kerklaan" and circle.open and not closed.open
        assert await tx.circle(circle.id) == circle
        assert await tx.circle(theirs.id + 100) is None
        assert await tx.circles(place.community) == [circle, closed]
        assert await tx.circle_sizes(place.community) == {circle.id: 1, closed.id: 1}
        [founder] = await tx.circle_members(circle.id)
        assert (founder.member_id, founder.role) == (place.fatima, CircleRole.CONTACT)
        assert (founder.likes_to_do, founder.might_need, founder.joined_at) == ("", "", NOW)
        assert await tx.circle_of_member(place.fatima, place.community) == circle
        assert await tx.circle_of_member(place.fatima, place.elsewhere) is None
        assert await tx.circle_of_member(place.kees, place.community) is None
        await tx.set_circle_open(circle.id, False)
        found = await tx.circle(circle.id, lock=True)
        assert found is not None and not found.open
        await tx.add_circle_invite(circle.id, place.kees, place.fatima, InviteKind.INVITE, NOW)
        await tx.add_circle_partner(circle.id, "Welzijn", "071", NOW)
        await tx.remove_circle(circle.id)
        assert await tx.circle(circle.id) is None
        assert await tx.circles(place.community) == [closed]
        assert await tx.circles(place.elsewhere) == [theirs]
    assert await db.count("circle_invite") == 0
    assert await db.count("circle_partner") == 0
    assert await db.count("circle_member") == 2


@covers("add_circle_member", "remove_circle_member", "set_circle_role", "set_circle_answers")
async def test_circle_members_join_up_to_the_limit_and_leave(db: Contract) -> None:
    async with db.transaction() as tx:
        place, piet = await circle_town(tx)
        circle = await tx.create_circle(place.community, "Kerklaan", place.fatima, NOW)
        joined = await tx.add_circle_member(circle.id, place.kees, NOW + HOUR, 2)
        assert joined is not None and joined.role is CircleRole.MEMBER
        assert joined.joined_at == NOW + HOUR
        assert await tx.add_circle_member(circle.id, piet, NOW, 2) is None  # full
        assert await tx.add_circle_member(circle.id, place.kees, NOW, 2) == joined  # in it
        await tx.set_circle_answers(circle.id, place.kees, likes_to_do="boodschappen")
        await tx.set_circle_answers(circle.id, place.kees, might_need="een lift")
        await tx.set_circle_answers(circle.id, place.kees)  # nothing changes
        assert await tx.set_circle_role(circle.id, place.kees, CircleRole.CONTACT)
        assert not await tx.set_circle_role(circle.id, piet, CircleRole.CONTACT)  # not in it
        members = await tx.circle_members(circle.id)
        assert [m.member_id for m in members] == [place.fatima, place.kees]
        assert (members[1].likes_to_do, members[1].might_need) == ("boodschappen", "een lift")
        assert members[1].role is CircleRole.CONTACT
        assert await tx.remove_circle_member(circle.id, place.kees)
        assert not await tx.remove_circle_member(circle.id, place.kees)
        assert [m.member_id for m in await tx.circle_members(circle.id)] == [place.fatima]


async def test_the_last_place_in_a_circle_goes_to_one_of_two(db: Contract) -> None:
    async with db.transaction() as tx:
        place, piet = await circle_town(tx)
        circle = await tx.create_circle(place.community, "Kerklaan", place.fatima, NOW)

    async def join(member_id: int) -> bool:
        async with db.transaction() as tx:
            return await tx.add_circle_member(circle.id, member_id, NOW, 2) is not None

    assert sorted(await asyncio.gather(join(place.kees), join(piet))) == [False, True]
    assert await db.count("circle_member") == 2


@covers("add_circle_invite", "circle_invite", "circle_invites", "answer_circle_invite")
async def test_circle_invitations_are_answered_once(db: Contract) -> None:
    async with db.transaction() as tx:
        place, piet = await circle_town(tx)
        circle = await tx.create_circle(place.community, "Kerklaan", place.fatima, NOW)
        other = await tx.create_circle(place.elsewhere, "Elders", place.stranger, NOW)
        invite = await tx.add_circle_invite(
            circle.id, place.kees, place.fatima, InviteKind.INVITE, NOW
        )
        ask = await tx.add_circle_invite(circle.id, piet, None, InviteKind.ASK, NOW)
        await tx.add_circle_invite(other.id, place.kees, place.stranger, InviteKind.INVITE, NOW)
        assert invite.status is InviteStatus.PENDING and invite.inviter_id == place.fatima
        assert ask.kind is InviteKind.ASK and ask.inviter_id is None
        assert await tx.circle_invite(invite.id) == invite
        assert await tx.circle_invite(ask.id + 100) is None
        assert await tx.circle_invites(circle_id=circle.id) == [invite, ask]
        assert len(await tx.circle_invites(member_id=place.kees)) == 2  # of any circle
        assert await tx.circle_invites(circle_id=circle.id, member_id=place.kees) == [invite]
        assert await tx.answer_circle_invite(invite.id, InviteStatus.ACCEPTED, NOW + HOUR)
        assert not await tx.answer_circle_invite(invite.id, InviteStatus.DECLINED, NOW)
        assert await tx.circle_invites(circle_id=circle.id) == [ask]
        answered = await tx.circle_invites(
            circle_id=circle.id, statuses=(InviteStatus.ACCEPTED, InviteStatus.DECLINED)
        )
        assert [(i.id, i.status, i.answered_at) for i in answered] == [
            (invite.id, InviteStatus.ACCEPTED, NOW + HOUR)
        ]


@covers("add_circle_partner", "circle_partners", "remove_circle_partner", "circle_figures")
async def test_circle_partners_and_figures(db: Contract) -> None:
    async with db.transaction() as tx:
        place, piet = await circle_town(tx)
        first = await tx.create_circle(place.community, "Kerklaan", place.fatima, NOW)
        second = await tx.create_circle(place.community, "Dorpsstraat", piet, NOW)
        other = await tx.create_circle(place.elsewhere, "Elders", place.stranger, NOW)
        await tx.add_circle_member(first.id, place.kees, NOW, 15)
        partner = await tx.add_circle_partner(first.id, "Welzijn Oegstgeest", "071 123", NOW)
        await tx.add_circle_partner(other.id, "Elders Welzijn", "", NOW)
        assert (partner.name, partner.contact, partner.created_at) == (
            "Welzijn Oegstgeest",
            "071 123",
            NOW,
        )
        assert await tx.circle_partners(first.id) == [partner]
        assert await tx.circle_partners(second.id) == []
        assert await tx.circle_figures(place.community) == {
            "circles": 2,
            "members": 3,
            "partners": 1,
        }
        assert await tx.remove_circle_partner(partner.id)
        assert not await tx.remove_circle_partner(partner.id)
        assert (await tx.circle_figures(place.community))["partners"] == 0


async def test_a_members_circle_data_is_theirs_and_goes_with_them(db: Contract) -> None:
    async with db.transaction() as tx:
        place, piet = await circle_town(tx)
        shared = await tx.create_circle(place.community, "Kerklaan", place.fatima, NOW)
        alone = await tx.create_circle(place.community, "Achterom", place.kees, NOW)
        await tx.add_circle_member(shared.id, piet, NOW, 15)
        await tx.set_circle_answers(shared.id, piet, likes_to_do="fietsen maken")
        await tx.add_circle_invite(shared.id, place.kees, piet, InviteKind.INVITE, NOW)
        await tx.add_circle_partner(alone.id, "Welzijn", "", NOW)
        records = await tx.member_records(piet)
        assert [r["likes_to_do"] for r in records["circles"]] == ["fietsen maken"]
        assert [r["inviter_id"] for r in records["circle_invites"]] == [piet]
        await tx.erase_member(piet, NOW)
        await tx.erase_member(place.kees, NOW)
        assert [m.member_id for m in await tx.circle_members(shared.id)] == [place.fatima]
        assert await tx.circle_invites(circle_id=shared.id) == []
        assert await tx.circle(alone.id) is None  # nobody left in it
        assert (await tx.member_records(piet))["circles"] == []
    assert await db.count("circle_partner") == 0


# --- meal tables --------------------------------------------------------------------------


@covers(
    "add_table",
    "meal_table",
    "upcoming_tables",
    "tables_hosted_by",
    "tables_between",
    "set_table_posts",
    "close_table",
    "set_table_outcome",
)
async def test_meal_tables(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        assert await tx.meal_table(1) is None
        assert await tx.upcoming_tables(t.community, NOW, NOW + 7 * DAY) == []
        tuesday = await tx.add_table(table(t.community, t.kees, NOW + DAY), NOW)
        monday = await tx.add_table(table(t.community, t.fatima, NOW + HOUR), NOW)
        far = await tx.add_table(table(t.community, t.kees, NOW + 30 * DAY), NOW)
        await tx.add_table(table(t.elsewhere, t.stranger, NOW + DAY), NOW)
        weekly = await tx.add_table(
            replace(table(t.community, t.kees, NOW + 2 * DAY), weekly_until=NOW + 60 * DAY), NOW
        )
        assert weekly.series_id == weekly.id
        assert (tuesday.status, tuesday.taken, tuesday.group_posts, tuesday.outcome) == (
            TableStatus.OPEN,
            0,
            (),
            None,
        )
        assert tuesday.diets == ("halal", "vegetarisch") and tuesday.left == 2
        assert await tx.meal_table(tuesday.id, lock=True) == tuesday
        week = await tx.upcoming_tables(t.community, NOW, NOW + 7 * DAY)
        assert [m.id for m in week] == [monday.id, tuesday.id, weekly.id]
        assert [m.id for m in await tx.tables_hosted_by(t.kees, NOW)] == [
            tuesday.id,
            weekly.id,
            far.id,
        ]
        assert [m.id for m in await tx.tables_hosted_by(t.kees, NOW + 3 * DAY)] == [far.id]
        await tx.set_table_posts(tuesday.id, [11, 12])
        assert await tx.close_table(monday.id, TableStatus.CANCELLED)
        assert not await tx.close_table(monday.id, TableStatus.DONE)
        await tx.set_table_outcome(tuesday.id, "gezellig")
        assert [m.id for m in await tx.upcoming_tables(t.community, NOW, NOW + 7 * DAY)] == [
            tuesday.id,
            weekly.id,
        ]
        assert await tx.tables_hosted_by(t.fatima, NOW) == []
        between = await tx.tables_between(t.community, NOW, NOW + 7 * DAY)  # any state
        assert [(m.id, m.status) for m in between] == [
            (monday.id, TableStatus.CANCELLED),
            (tuesday.id, TableStatus.OPEN),
            (weekly.id, TableStatus.OPEN),
        ]
        posted = await tx.meal_table(tuesday.id)
        assert posted is not None and (posted.group_posts, posted.outcome) == ((11, 12), "gezellig")


@covers("take_seat", "seats", "seat", "seat_by_id", "update_seat", "seats_of_member")
async def test_seats_and_the_waiting_list(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        piet = await tx.create_member("Piet", None, NOW)
        dinner = await tx.add_table(table(t.community, t.stranger, NOW + DAY, seats=2), NOW)
        lunch = await tx.add_table(table(t.community, t.stranger, NOW + HOUR, seats=5), NOW)
        everyone = list(SeatStatus)
        assert await tx.seats(dinner.id, everyone) == []
        assert await tx.seat(dinner.id, t.fatima) is None
        assert await tx.seat_by_id(1) is None
        fatima = await tx.take_seat(dinner.id, t.fatima, NOW)
        assert (fatima.status, fatima.position, fatima.plus) == (SeatStatus.SEATED, 1, 0)
        await tx.update_seat(fatima.id, plus=1, diet="halal")  # she brings someone: full
        kees = await tx.take_seat(dinner.id, t.kees, NOW)
        assert (kees.status, kees.position) == (SeatStatus.WAITING, 2)
        table_now = await tx.meal_table(dinner.id)
        assert table_now is not None and table_now.taken == 2 and table_now.left == 0
        await tx.take_seat(lunch.id, t.kees, NOW)
        assert await tx.seat_by_id(fatima.id) == await tx.seat(dinner.id, t.fatima)
        await tx.update_seat(fatima.id, status=SeatStatus.CANCELLED)
        assert [s.member_id for s in await tx.seats(dinner.id, [SeatStatus.SEATED])] == []
        assert [s.member_id for s in await tx.seats(dinner.id, everyone)] == [t.fatima, t.kees]
        again = await tx.take_seat(dinner.id, t.fatima, NOW + HOUR)  # back: end of the line
        assert (again.id, again.status, again.position, again.plus) == (
            fatima.id,
            SeatStatus.SEATED,
            3,
            0,
        )
        assert [s.member_id for s in await tx.seats(dinner.id, everyone)] == [t.kees, t.fatima]
        mine = await tx.seats_of_member(t.kees, [SeatStatus.SEATED, SeatStatus.WAITING])
        assert [(s.table_id, s.status) for s, _ in mine] == [
            (lunch.id, SeatStatus.SEATED),
            (dinner.id, SeatStatus.WAITING),
        ]
        assert [m.id for _, m in mine] == [lunch.id, dinner.id]
        assert await tx.seats_of_member(t.kees, [SeatStatus.CANCELLED]) == []
        assert await tx.seats_of_member(piet.id, everyone) == []
    assert await db.count("seat") == 3


# --- omkijken: plans, check-ins, the rota, gatherings -------------------------------------
async def omkijken_circle(db: Contract) -> tuple[int, int, list[int]]:
    async with db.transaction() as tx:
        community = await tx.create_community("Buurt", "nl", "Europe/Amsterdam", {})
        ids = []
        for name in ("Els", "Kees", "Piet"):
            member = await tx.create_member(name, None, NOW)
            await tx.join(member.id, community.id, Role.RESIDENT, NOW)
            ids.append(member.id)
        circle = await tx.create_circle(community.id, "Kerklaan", ids[0], NOW)
        for member_id in ids[1:]:
            await tx.add_circle_member(circle.id, member_id, NOW, 15)
    return community.id, circle.id, ids


@covers("omkijken_plan", "save_omkijken_plan", "omkijken_plans", "drop_omkijken_plan")
async def test_a_plan_is_saved_replaced_and_dropped(db: Contract) -> None:
    _, circle, (els, kees, _) = await omkijken_circle(db)
    plan = OmkijkenPlan(els, circle, (4, 0, 2), "09:30", None, False, NOW)
    async with db.transaction() as tx:
        assert await tx.omkijken_plan(els) is None
        await tx.save_omkijken_plan(plan)
        await tx.save_omkijken_plan(OmkijkenPlan(kees, circle, (), "", None, True, NOW))
    async with db.transaction() as tx:
        saved = await tx.omkijken_plan(els)
        assert saved is not None and saved.days == (0, 2, 4) and not saved.active
        agreed = OmkijkenPlan(els, circle, (0, 2, 4), "09:30", NOW, False, NOW)
        await tx.save_omkijken_plan(agreed)
        assert await tx.omkijken_plan(els) == agreed and agreed.active
        assert [p.member_id for p in await tx.omkijken_plans(circle)] == [els, kees]
        await tx.drop_omkijken_plan(kees)
        assert [p.member_id for p in await tx.omkijken_plans(circle)] == [els]


@covers(
    "add_checkin",
    "checkin",
    "open_checkin",
    "set_checkin_message",
    "answer_checkin",
    "checkin_missed",
    "checkin_step",
    "set_checkin_looker",
    "set_look_result",
    "add_checkin_ask",
    "checkin_asks",
    "answer_checkin_ask",
    "checkin_figures",
    "purge_checkins",
)
async def test_a_check_in_is_answered_once_and_its_asking_goes_step_by_step(db: Contract) -> None:
    community, circle, (els, kees, piet) = await omkijken_circle(db)
    async with db.transaction() as tx:
        checkin = await tx.add_checkin(community, circle, els, NOW)
        await tx.set_checkin_message(checkin.id, None)
        assert await tx.open_checkin(els, NOW - timedelta(hours=1)) == checkin
        assert await tx.open_checkin(els, NOW + timedelta(minutes=1)) is None
        assert await tx.checkin_missed(checkin.id, NOW + timedelta(hours=2))
        assert not await tx.checkin_missed(checkin.id, NOW + timedelta(hours=3))
        assert await tx.checkin_step(checkin.id, 1)
        assert not await tx.checkin_step(checkin.id, 1)  # never the same step twice
        assert await tx.add_checkin_ask(checkin.id, kees, 1, NOW)
        assert not await tx.add_checkin_ask(checkin.id, kees, 2, NOW)
        assert await tx.checkin_step(checkin.id, 2)
        assert await tx.add_checkin_ask(checkin.id, piet, 2, NOW)
        assert await tx.answer_checkin_ask(checkin.id, kees, LookAnswer.CANNOT)
        assert not await tx.answer_checkin_ask(checkin.id, kees, LookAnswer.LOOK)
        assert not await tx.answer_checkin_ask(checkin.id, els, LookAnswer.LOOK)  # not asked
        assert await tx.set_checkin_looker(checkin.id, piet, NOW)
        assert not await tx.set_checkin_looker(checkin.id, kees, NOW)
        assert await tx.set_look_result(checkin.id, LookResult.GOOD)
        assert not await tx.set_look_result(checkin.id, LookResult.NOBODY)
        assert await tx.answer_checkin(checkin.id, Answer.GOOD, NOW)
        assert not await tx.answer_checkin(checkin.id, Answer.CALL, NOW)
    async with db.transaction() as tx:
        row = await tx.checkin(checkin.id, lock=True)
        assert row is not None
        assert (row.answer, row.step, row.looker_id, row.look_result) == (
            Answer.GOOD,
            2,
            piet,
            LookResult.GOOD,
        )
        asks = await tx.checkin_asks(checkin.id)
        assert [(a.member_id, a.step, a.answer) for a in asks] == [
            (kees, 1, LookAnswer.CANNOT),
            (piet, 2, None),
        ]
        assert await tx.checkin_figures(community, NOW - timedelta(days=7)) == {
            "asked": 1,
            "missed": 1,
            "looked_in": 1,
        }
        other = await tx.create_community("Elders", "en", "Europe/Amsterdam", {})
        assert await tx.checkin_figures(other.id, NOW - timedelta(days=7)) == {
            "asked": 0,
            "missed": 0,
            "looked_in": 0,
        }
        assert await tx.purge_checkins(other.id, NOW + timedelta(days=1)) == 0  # not theirs
        assert await tx.purge_checkins(community, NOW) == 0
        assert await tx.purge_checkins(community, NOW + timedelta(days=1)) == 1
        assert await tx.checkin(checkin.id) is None
        assert await tx.checkin_asks(checkin.id) == []


@covers("rota", "save_rota", "rota_counts")
async def test_the_rota_of_a_week_and_the_pairs_before_it(db: Contract) -> None:
    _, circle, (els, kees, piet) = await omkijken_circle(db)
    async with db.transaction() as tx:
        assert await tx.rota(circle, "2026-11-23") == {}
        await tx.save_rota(circle, "2026-11-16", {els: kees, kees: piet, piet: els})
        await tx.save_rota(circle, "2026-11-23", {els: piet, piet: els})
        await tx.save_rota(circle, "2026-11-23", {els: kees, kees: els})  # replaced
    async with db.transaction() as tx:
        assert await tx.rota(circle, "2026-11-23") == {els: kees, kees: els}
        assert await tx.rota_counts(circle, "2026-11-23") == {
            (els, kees): 1,
            (kees, piet): 1,
            (piet, els): 1,
        }
        assert len(await tx.rota_counts(circle, "2026-11-30")) == 4


@covers("create_rota")
async def test_a_weeks_rota_is_made_once_also_by_two_at_once(db: Contract) -> None:
    _, circle, (els, kees, piet) = await omkijken_circle(db)
    two = {els: kees, kees: els}
    three = {els: piet, kees: els, piet: kees}
    async with db.transaction() as tx:
        assert await tx.create_rota(circle, "2026-11-16", {}) == {}
        assert await tx.create_rota(circle, "2026-11-16", two) == two
        assert await tx.create_rota(circle, "2026-11-16", three) == two  # made: not mixed
    # Two transactions at once: the first holds its rows until it ends, the second waits
    # for it (PostgreSQL) or for its turn (SQLite), and then gets the first's rota.
    first_made, let_go = asyncio.Event(), asyncio.Event()

    async def first() -> dict[int, int]:
        async with db.transaction() as tx:
            made = await tx.create_rota(circle, "2026-11-23", three)
            first_made.set()
            await let_go.wait()
            return made

    async def second() -> dict[int, int]:
        await first_made.wait()
        async with db.transaction() as tx:
            return await tx.create_rota(circle, "2026-11-23", two)

    async def release() -> None:
        await first_made.wait()
        await asyncio.sleep(0.2)  # the second is at its insert by now, or still before it
        let_go.set()

    made, got, _ = await asyncio.gather(first(), second(), release())
    assert made == got == three
    assert await db.count("rota", "week = '2026-11-23'") == 3
    assert await db.count("rota", "week = '2026-11-16'") == 2


@covers("add_gathering", "gathering", "gatherings", "answer_gathering", "gathering_answers")
async def test_a_gathering_and_who_comes(db: Contract) -> None:
    community, circle, (els, kees, piet) = await omkijken_circle(db)
    starts = NOW + timedelta(days=5)
    async with db.transaction() as tx:
        gathering = await tx.add_gathering(community, circle, els, starts, "koffie", NOW)
        await tx.answer_gathering(gathering.id, kees, True, NOW)
        await tx.answer_gathering(gathering.id, piet, True, NOW + timedelta(minutes=1))
        await tx.answer_gathering(gathering.id, piet, False, NOW + timedelta(minutes=2))
    async with db.transaction() as tx:
        assert await tx.gathering(gathering.id) == gathering
        assert await tx.gathering(gathering.id + 1) is None
        assert await tx.gatherings(circle, NOW) == [gathering]
        assert await tx.gatherings(circle, starts) == []
        assert await tx.gathering_answers(gathering.id) == {kees: True, piet: False}


# --- the organisers' web sign-in ----------------------------------------------------------


@covers("add_web_login", "use_web_login", "add_web_session", "web_session", "end_web_session")
async def test_web_links_are_used_once_and_sessions_end(db: Contract) -> None:
    async with db.transaction() as tx:
        t = await town(tx)
        soon = NOW + timedelta(minutes=15)
        await tx.add_web_login("one", t.fatima, t.community, NOW, soon)
        await tx.add_web_login("two", t.kees, t.community, NOW, soon)
    async with db.transaction() as tx:
        assert await tx.use_web_login("one", NOW + timedelta(minutes=1)) == (t.fatima, t.community)
        assert await tx.use_web_login("one", NOW + timedelta(minutes=2)) is None  # used
        assert await tx.use_web_login("two", soon) is None  # too late
        assert await tx.use_web_login("unknown", NOW) is None
        until = NOW + 12 * HOUR
        await tx.add_web_session("s1", t.fatima, t.community, "csrf1", NOW, until)
        await tx.add_web_session("s2", t.kees, t.community, "csrf2", NOW, until)
    async with db.transaction() as tx:
        session = await tx.web_session("s1", NOW + HOUR)
        assert session is not None
        assert (session.member_id, session.community_id) == (t.fatima, t.community)
        assert session.csrf_token == "csrf1" and session.expires_at == until
        assert await tx.web_session("s1", until) is None  # expired
        await tx.end_web_session("s2", NOW + HOUR)
        assert await tx.web_session("s2", NOW + HOUR) is None
        assert await tx.web_session("nothing", NOW) is None
    assert await db.count("web_login") == 2
    assert await db.count("web_session", "ended_at IS NOT NULL") == 1
