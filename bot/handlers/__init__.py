"""Handlers: each module registers its commands, button actions and conversations."""

from __future__ import annotations

from bot import duework, gatherings, tablejobs
from bot import omkijken as omkijken_work
from bot.commands import Registry
from bot.handlers import (
    circles,
    community_settings,
    dashboard,
    expenses,
    followup,
    general,
    mine,
    moderation,
    offers,
    omkijken,
    onboarding,
    organisers,
    privacy,
    requests,
    tables,
    understanding,
)
from bot.workkinds import WorkKinds


def build_registry() -> Registry:
    registry = Registry()
    modules = (
        general,
        onboarding,
        requests,
        offers,
        mine,
        expenses,
        tables,
        circles,
        omkijken,
        followup,
        organisers,
        community_settings,
        dashboard,
        moderation,
        privacy,
        understanding,
    )
    for module in modules:
        module.register(registry)
    return registry


def build_work() -> WorkKinds:
    """Every kind of scheduled work with what it does, for the due-work runner."""
    kinds = WorkKinds()
    for part in (duework, tablejobs, omkijken_work, gatherings):
        part.register_work(kinds)
    if missing := kinds.missing():
        raise LookupError(f"kinds of work nobody does: {', '.join(missing)}")
    return kinds
