"""Signing in on the organisers' web pages through the chat.

An organiser types /dashboard in a private chat and gets a link with a one-time token:
good for ``LINK_VALID``, once, for that organiser and their community. Opening it starts a
session of ``SESSION_VALID``. Only hashes of both tokens are stored. Every page asks
``session_of``, which checks again that the member is still an organiser there.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from bot.model import MemberStatus, Role, WebSession
from bot.store import Tx

LINK_VALID = timedelta(minutes=15)
SESSION_VALID = timedelta(hours=12)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


async def is_organiser(tx: Tx, member_id: int, community_id: int) -> bool:
    membership = await tx.membership(member_id, community_id)
    return (
        membership is not None
        and membership.left_at is None
        and membership.role is Role.ORGANISER
        and membership.status is MemberStatus.ACTIVE
        and not (await tx.member(member_id)).erased
    )


async def new_login(tx: Tx, member_id: int, community_id: int, now: datetime) -> str | None:
    """A fresh one-time login token for an organiser; None for anyone else."""
    if not await is_organiser(tx, member_id, community_id):
        return None
    token = new_token()
    await tx.add_web_login(digest(token), member_id, community_id, now, now + LINK_VALID)
    return token


async def start_session(tx: Tx, login_token: str, now: datetime) -> tuple[str, WebSession] | None:
    """Use a login token: (session token, session), or None when the link was used before,
    is too old, unknown, or its organiser is no longer one."""
    if not login_token or len(login_token) > 200:
        return None
    used = await tx.use_web_login(digest(login_token), now)
    if used is None:
        return None
    member_id, community_id = used
    if not await is_organiser(tx, member_id, community_id):
        return None
    token, csrf = new_token(), new_token()
    until = now + SESSION_VALID
    await tx.add_web_session(digest(token), member_id, community_id, csrf, now, until)
    await tx.add_audit(community_id, member_id, "web_login", f"member:{member_id}", now)
    return token, WebSession(member_id, community_id, csrf, until)


async def session_of(tx: Tx, session_token: str | None, now: datetime) -> WebSession | None:
    """The session behind a cookie, while it lasts and its member is still an organiser."""
    if not session_token or len(session_token) > 200:
        return None
    session = await tx.web_session(digest(session_token), now)
    if session is None or not await is_organiser(tx, session.member_id, session.community_id):
        return None
    return session


async def end_session(tx: Tx, session_token: str, now: datetime) -> None:
    session = await tx.web_session(digest(session_token), now)
    await tx.end_web_session(digest(session_token), now)
    if session is not None:
        await tx.add_audit(
            session.community_id,
            session.member_id,
            "web_logout",
            f"member:{session.member_id}",
            now,
        )
