"""Handlers: each module registers its commands, button actions and conversations."""

from __future__ import annotations

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
    onboarding,
    organisers,
    privacy,
    requests,
    tables,
    understanding,
)


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
