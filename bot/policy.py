"""Who may apply what: ``TUNEBOT_POLICY`` parsed and decided.

The format (documented in ``docs/slack.md``)::

    {
      "admins": ["U012ADMIN"],
      "appliers": ["U034ALICE", "S056PLATFORM"],
      "approvers": 1,
      "rules": [{"tag": "env=prod", "approvers": 2, "appliers": ["S078SRE"]}]
    }

Entries are Slack user ids (``U…``/``W…``) or user-group ids (``S…``). With no policy nobody
may apply and everyone may read. Admins may approve anything. A function matching a tag rule
needs that rule's number of *distinct* approvers (the strictest rule wins), and when the rule
names appliers, only they (and admins) may approve it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping

from pydantic import Field, ValidationError, field_validator

from bot.errors import ConfigurationError
from recommendations.snapshot import Frozen

_PRINCIPAL = re.compile(r"^[UWS][A-Z0-9]{2,}$")


def _check_principals(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not _PRINCIPAL.match(value):
            raise ValueError(f"{value!r} is not a Slack user id (U…/W…) or user-group id (S…)")
    return values


class TagRule(Frozen):
    tag: str = Field(pattern=r"^[^=]+=.*$", description="key=value")
    approvers: int = Field(default=1, ge=1, le=10)
    appliers: tuple[str, ...] | None = None

    @field_validator("appliers")
    @classmethod
    def _appliers_are_principals(cls, values: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if values is None else _check_principals(values)

    def matches(self, tags: Mapping[str, str]) -> bool:
        key, value = self.tag.split("=", 1)
        return tags.get(key) == value


class Policy(Frozen):
    admins: tuple[str, ...] = ()
    appliers: tuple[str, ...] = ()
    approvers: int = Field(default=1, ge=1, le=10)
    rules: tuple[TagRule, ...] = ()

    @field_validator("admins", "appliers")
    @classmethod
    def _entries_are_principals(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _check_principals(values)

    @property
    def configured(self) -> bool:
        return bool(self.admins or self.appliers)

    def group_ids(self) -> set[str]:
        """User groups the policy names; only their membership needs looking up."""
        names = [*self.admins, *self.appliers]
        for rule in self.rules:
            names.extend(rule.appliers or ())
        return {name for name in names if name.startswith("S")}

    def required_approvals(self, tags: Mapping[str, str]) -> int:
        return max([self.approvers, *(rule.approvers for rule in self.rules if rule.matches(tags))])

    def refusal(
        self, user_id: str, user_groups: Collection[str], tags: Mapping[str, str]
    ) -> str | None:
        """Why ``user_id`` may not approve a change to a function with ``tags``; None: allowed."""
        principals = {user_id, *user_groups}
        if principals & set(self.admins):
            return None
        if not self.configured:
            return "Nobody may apply changes yet: an admin has to set TUNEBOT_POLICY first."
        if not principals & set(self.appliers):
            return "You are not allowed to apply changes (not listed in TUNEBOT_POLICY)."
        for rule in self.rules:
            if (
                rule.matches(tags)
                and rule.appliers is not None
                and not principals & set(rule.appliers)
            ):
                return f"Functions tagged {rule.tag} may only be changed by their listed appliers."
        return None


def parse_policy(text: str | None) -> Policy:
    """``TUNEBOT_POLICY`` to a :class:`Policy`; empty means the default (nobody may apply)."""
    if text is None or not text.strip():
        return Policy()
    try:
        return Policy.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise ConfigurationError(f"TUNEBOT_POLICY is not valid JSON ({error.msg}).") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the policy"
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigurationError(f"TUNEBOT_POLICY: {where}: {problem}.") from error
