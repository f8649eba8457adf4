"""The command registry: each command carries its names and its help text."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.context import Context

CommandHandler = Callable[["Context", str], Awaitable[None]]
# Decides whether a member may go on with a command or button that needs the house rules
# accepted; when not, it answers and keeps what they asked for (``text`` or ``action``).
Gate = Callable[["Context", str | None, str | None], Awaitable[bool]]
ActionHandler = Callable[["Context", list[str]], Awaitable[None]]
TextHandler = Callable[["Context", str], Awaitable[None]]
# A message in a private chat that is no command: gets the handler of the member's draft,
# if they are in a conversation, and decides what the message means.
PlainText = Callable[["Context", str, TextHandler | None], Awaitable[None]]


class Where(StrEnum):
    ANYWHERE = "anywhere"
    PRIVATE = "private"  # in a group the bot answers that this belongs in a private chat
    GROUP = "group"


@dataclass(frozen=True, slots=True)
class Command:
    names: tuple[str, ...]  # the Dutch name first, then aliases ("vraag", "ask")
    help_key: str  # catalog key of a one-line explanation
    handler: CommandHandler
    where: Where = Where.ANYWHERE
    organisers_only: bool = False
    listed: bool = True  # shown in /help and published to the platform's command menu
    needs_rules: bool = False  # asking, offering, helping: only after accepting the house rules
    # Typed in a group, answered there (nothing personal: /help). Any other command typed
    # in a group goes on privately, its errors too, and leaves the group where it may.
    answered_in_group: bool = False

    @property
    def name(self) -> str:
        return self.names[0]

    def name_in(self, lang: str) -> str:
        """The name to show: Dutch first; the English alias (the second name) in English."""
        if lang == "en" and len(self.names) > 1:
            return self.names[1]
        return self.names[0]


class Registry:
    """Commands by name, button actions by verb, and guided conversations by kind."""

    def __init__(self) -> None:
        self._commands: dict[str, Command] = {}
        self._ordered: list[Command] = []
        self._actions: dict[str, ActionHandler] = {}
        self._rules_actions: set[str] = set()
        self._drafts: dict[str, TextHandler] = {}
        self._rights: set[str] = set()
        self.gate: Gate | None = None
        self.plain_text: PlainText | None = None  # private messages that are no command
        self.group_text: TextHandler | None = None  # group messages that are no command

    def keep_for_everyone(self, commands: Iterable[str] = (), verbs: Iterable[str] = ()) -> None:
        """Commands (by their first name) and button verbs that are a member's right
        whatever their standing: seeing and erasing their own data, also when blocked."""
        self._rights.update(f"/{name}" for name in commands)
        self._rights.update(f"{verb}:" for verb in verbs)

    def is_right(self, command: Command | None = None, verb: str | None = None) -> bool:
        if command is not None:
            return f"/{command.name}" in self._rights
        return verb is not None and f"{verb}:" in self._rights

    def command(
        self,
        *names: str,
        help: str,
        where: Where = Where.ANYWHERE,
        organisers_only: bool = False,
        listed: bool = True,
        needs_rules: bool = False,
        answered_in_group: bool = False,
    ) -> Callable[[CommandHandler], CommandHandler]:
        def register(handler: CommandHandler) -> CommandHandler:
            command = Command(
                names,
                help,
                handler,
                where,
                organisers_only,
                listed,
                needs_rules,
                answered_in_group,
            )
            for name in names:
                if name in self._commands:
                    raise ValueError(f"command /{name} registered twice")
                self._commands[name] = command
            self._ordered.append(command)
            return handler

        return register

    def action(
        self, verb: str, *, needs_rules: bool = False
    ) -> Callable[[ActionHandler], ActionHandler]:
        def register(handler: ActionHandler) -> ActionHandler:
            if verb in self._actions:
                raise ValueError(f"action {verb} registered twice")
            self._actions[verb] = handler
            if needs_rules:
                self._rules_actions.add(verb)
            return handler

        return register

    def draft(self, kind: str) -> Callable[[TextHandler], TextHandler]:
        def register(handler: TextHandler) -> TextHandler:
            self._drafts[kind] = handler
            return handler

        return register

    def find(self, name: str) -> Command | None:
        return self._commands.get(name.lower())

    def find_action(self, verb: str) -> ActionHandler | None:
        return self._actions.get(verb)

    def action_needs_rules(self, verb: str) -> bool:
        return verb in self._rules_actions

    def find_draft(self, kind: str) -> TextHandler | None:
        return self._drafts.get(kind)

    def __iter__(self) -> Iterator[Command]:
        return iter(self._ordered)

    def names(self) -> list[str]:
        return sorted(self._commands)
