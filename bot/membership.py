"""User-group membership from Slack (``usergroups.users.list``), cached per container."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60.0


class GroupDirectory:
    """Which of the policy's user groups a user belongs to.

    ``client`` is a slack_sdk ``WebClient``; a failed lookup counts as "not a member" (the
    safe side) and is logged.
    """

    def __init__(
        self,
        client: Any,
        group_ids: Iterable[str],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.group_ids = tuple(sorted(set(group_ids)))
        self.clock = clock
        self._members: dict[str, tuple[float, frozenset[str]]] = {}

    def _members_of(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None and self.clock() - cached[0] < CACHE_SECONDS:
            return cached[1]
        try:
            response = self.client.usergroups_users_list(usergroup=group_id)
            members = frozenset(response.get("users") or ())
        except Exception:  # SlackApiError or a network failure: deny, do not crash
            logger.warning("could not list members of user group %s", group_id, exc_info=True)
            return frozenset()
        self._members[group_id] = (self.clock(), members)
        return members

    def groups_of(self, user_id: str) -> set[str]:
        return {group for group in self.group_ids if user_id in self._members_of(group)}
