"""Errors the core turns into friendly messages."""

from __future__ import annotations


class UserError(Exception):
    """Something the member can fix. ``key`` names a text in the message catalogs."""

    def __init__(self, key: str, /, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
