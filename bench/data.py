"""Big databases made quickly: members, offers, requests and history, written in bulk.

The schema is made by the project's own migrations (``SqlStore.open``); the rows are then
written with SQLAlchemy Core on a plain synchronous connection, many at a time, through the
same table definitions the store uses, so every value has the type the store expects.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, insert, select

from storage.rows import (
    community_t,
    due_t,
    group_chat_t,
    identity_t,
    inbox_t,
    member_t,
    membership_t,
    offer_kind_rows,
    offer_kind_t,
    offer_t,
    outbox_t,
    request_t,
)
from storage.sql import SqlStore

CATEGORIES = ("shopping", "meal", "company", "transport", "chore", "other")
PARTS = ("morning", "afternoon", "evening")
BATCH = 5000


async def migrated(path: Path) -> str:
    """An empty, migrated SQLite database at ``path``; returns its URL."""
    url = f"sqlite:///{path}"
    store = await SqlStore.open(url)
    await store.close()
    return url


def connect(path: Path) -> Any:
    engine = create_engine(f"sqlite:///{path}")
    return engine


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def write(conn: Connection, table: Any, rows: Iterator[dict[str, Any]]) -> None:
    for batch in _batches(rows):
        conn.execute(insert(table), batch)


def community(conn: Connection, *, settings: dict[str, Any] | None = None) -> int:
    """One community with one Telegram group chat; returns its id."""
    row = conn.execute(
        insert(community_t)
        .values(name="Buurt", language="nl", timezone="Europe/Amsterdam", settings=settings or {})
        .returning(community_t.c.id)
    ).one()
    conn.execute(
        insert(group_chat_t).values(
            platform="telegram", chat_id="-1001000000001", community_id=row.id, title="Buurt"
        )
    )
    return int(row.id)


def members(
    conn: Connection, community_id: int, count: int, now: datetime, *, first_user: int = 100_000
) -> list[int]:
    """``count`` members with a Telegram identity each (user id ``first_user + n``)."""
    first = conn.execute(select(member_t.c.id).order_by(member_t.c.id.desc()).limit(1)).first()
    start = (first.id if first else 0) + 1
    ids = list(range(start, start + count))
    write(
        conn,
        member_t,
        (
            {"id": i, "display_name": f"Buur {n}", "language": "nl", "created_at": now}
            for n, i in enumerate(ids)
        ),
    )
    write(
        conn,
        identity_t,
        (
            {
                "member_id": i,
                "platform": "telegram",
                "user_id": str(first_user + n),
                "handle": f"@buur{first_user + n}",
                "last_seen_at": now,
            }
            for n, i in enumerate(ids)
        ),
    )
    write(
        conn,
        membership_t,
        (
            {
                "member_id": i,
                "community_id": community_id,
                "role": "resident",
                "joined_at": now,
                "status": "active",
                "helper_status": "none",
                "rules_accepted_at": now,
            }
            for i in ids
        ),
    )
    return ids


def offers(
    conn: Connection, community_id: int, member_ids: Sequence[int], now: datetime, seed: int = 3
) -> None:
    """One offer per member: one or two kinds, some days, some parts of the day, a postcode."""
    pick = random.Random(seed)

    def rows() -> Iterator[dict[str, Any]]:
        for member_id in member_ids:
            days = sorted(pick.sample(range(7), pick.randint(2, 7)))
            parts = sorted(pick.sample(PARTS, pick.randint(1, 3)))
            yield {
                "community_id": community_id,
                "member_id": member_id,
                "categories": ",".join(sorted(pick.sample(CATEGORIES, pick.randint(1, 2)))),
                "days": ",".join(map(str, days)),
                "parts": ",".join(parts),
                "area": str(3000 + pick.randint(0, 99)),
                "max_per_week": 3,
                "paused": pick.random() < 0.05,
                "created_at": now - timedelta(days=pick.randint(1, 400)),
            }

    write(conn, offer_t, rows())
    kinds = (
        kind
        for offer in conn.execute(
            select(offer_t).where(offer_t.c.community_id == community_id)
        ).all()
        for kind in offer_kind_rows(
            offer.id,
            offer.community_id,
            offer.member_id,
            offer.categories.split(","),
            (int(day) for day in offer.days.split(",") if day),
            [part for part in offer.parts.split(",") if part],
            offer.area,
        )
    )
    write(conn, offer_kind_t, kinds)


def history(
    conn: Connection, community_id: int, member_ids: Sequence[int], count: int, now: datetime
) -> None:
    """``count`` historical records, as a year of use leaves them: closed requests, the
    inbox, sent outbox rows and done due work, in about equal parts."""
    pick = random.Random(5)
    quarter = count // 4

    def when(n: int) -> datetime:
        return now - timedelta(minutes=n * 5 + 60)

    write(
        conn,
        request_t,
        (
            {
                "community_id": community_id,
                "requester_id": pick.choice(member_ids),
                "category": pick.choice(CATEGORIES),
                "description": "boodschappen: melk en brood",
                "visibility": "helpers",
                "status": pick.choice(("done", "done", "done", "cancelled", "unknown")),
                "helper_id": pick.choice(member_ids),
                "created_at": when(n),
                "matched_at": when(n) + timedelta(minutes=20),
                "closed_at": when(n) + timedelta(days=2),
                "group_posts": "",
            }
            for n in range(quarter)
        ),
    )
    write(
        conn,
        inbox_t,
        (
            {"platform": "telegram", "event_id": str(500_000_000 + n), "received_at": when(n)}
            for n in range(quarter)
        ),
    )
    write(
        conn,
        outbox_t,
        (
            {
                "platform": "telegram",
                "chat_id": str(100_000 + n % len(member_ids)),
                "kind": "private",
                "member_id": member_ids[n % len(member_ids)],
                "text": "Dank je wel! Je helpt Fatima met boodschappen.",
                "buttons": [],
                "status": "sent",
                "attempts": 1,
                "created_at": when(n),
                "not_before": when(n),
                "sent_at": when(n),
                "message_ref": f"{100_000 + n % len(member_ids)}:{n}",
            }
            for n in range(quarter)
        ),
    )
    write(
        conn,
        due_t,
        (
            {
                "kind": "followup",
                "dedupe_key": f"history:{n}",
                "community_id": community_id,
                "member_id": pick.choice(member_ids),
                "urgent": False,
                "due_at": when(n),
                "created_at": when(n),
                "claimed_at": when(n),
                "done_at": when(n),
                "outcome": "sent",
                "attempts": 0,
                "payload": {},
            }
            for n in range(count - 3 * quarter)
        ),
    )
