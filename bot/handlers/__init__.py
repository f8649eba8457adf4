"""Handlers: each module registers its commands, button actions and conversations."""

from __future__ import annotations

from bot.commands import Registry
from bot.handlers import expenses, followup, general, mine, offers, requests


def build_registry() -> Registry:
    registry = Registry()
    for module in (general, requests, offers, mine, expenses, followup):
        module.register(registry)
    return registry
