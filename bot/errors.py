"""Errors the core tells apart at its boundary.

- ``UserError``: something the member can fix; answered with a friendly text, and the
  update counts as handled.
- ``StoreUnavailable``: the database could not be used (it is down, restarting, locked by
  another process, out of connections). Not the member's doing and not an answer: the
  update is left unacknowledged, so the platform delivers it again, and it is handled when
  the database is back. The storage layer raises it; the core imports no storage library.
- Anything else is a bug in a handler: the member gets the general error text, the update
  counts as handled, and the error is logged.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the member can fix. ``key`` names a text in the message catalogs."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class StoreUnavailable(Exception):
    """The database could not be reached or used just now; trying again later may work.

    ``reason`` is short and safe to log or show on /healthz (no texts of members)."""

    def __init__(self, reason: str, /) -> None:
        super().__init__(reason)
        self.reason = reason
