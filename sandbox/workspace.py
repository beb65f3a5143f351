"""The sandbox's Slack workspace: users, channels, messages and views, kept in memory.

This is the state behind both sides of the stand-in: the Web API methods the bot calls write
to it, and the page reads it (long-polling on ``version``). Everything is guarded by one
condition variable because the HTTP server answers requests on many threads.
"""

from __future__ import annotations

import copy
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

JsonDict = dict[str, Any]

TEAM_ID = "T0DEMO0001"
TEAM_DOMAIN = "tunebot-sandbox"
APP_ID = "A0DEMO0001"
BOT_USER_ID = "U0TUNEBOT1"
BOT_ID = "B0TUNEBOT1"
BOT_NAME = "tunebot"


@dataclass(frozen=True)
class DemoUser:
    id: str
    name: str
    real_name: str
    role: str  # one line shown in the user switcher


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    topic: str = ""


@dataclass
class Message:
    channel: str
    ts: str
    user: str
    text: str
    blocks: list[JsonDict]
    thread_ts: str | None = None
    # Visible only to this user (chat.postEphemeral, ephemeral responses) when set.
    ephemeral_to: str | None = None
    # "message" for normal posts, "command" for the echo of a slash command the user typed.
    kind: str = "message"
    edited: bool = False

    def visible_to(self, user_id: str) -> bool:
        return self.ephemeral_to is None or self.ephemeral_to == user_id

    def as_json(self) -> JsonDict:
        return {
            "channel": self.channel,
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "blocks": self.blocks,
            "thread_ts": self.thread_ts,
            "ephemeral": self.ephemeral_to is not None,
            "kind": self.kind,
            "edited": self.edited,
        }


@dataclass
class View:
    id: str
    user: str
    view: JsonDict
    # Only modals go on the stack; the home tab is kept apart (one per user).
    is_home: bool = False
    hash: str = ""

    def as_json(self) -> JsonDict:
        body = copy.deepcopy(self.view)
        body.update({"id": self.id, "team_id": TEAM_ID, "app_id": APP_ID, "hash": self.hash})
        body.setdefault("private_metadata", "")
        body.setdefault("callback_id", "")
        body.setdefault("external_id", "")
        return body


@dataclass(frozen=True)
class ResponseTarget:
    """What a ``response_url`` points at: where replies go and which message they replace."""

    channel: str
    user: str
    message_ts: str | None = None
    ephemeral: bool = False


class SlackApiError(Exception):
    """A Web API call the real Slack would refuse; ``code`` is Slack's error string."""

    def __init__(self, code: str, messages: list[str] | tuple[str, ...] = ()) -> None:
        super().__init__(code)
        self.code = code
        # Slack's ``response_metadata.messages``: what exactly was wrong, when it says.
        self.messages = tuple(messages)


@dataclass
class Workspace:
    users: tuple[DemoUser, ...]
    channels: tuple[Channel, ...]
    usergroups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    messages: list[Message] = field(default_factory=list)
    modals: dict[str, list[View]] = field(default_factory=dict)
    homes: dict[str, View] = field(default_factory=dict)
    responses: dict[str, ResponseTarget] = field(default_factory=dict)
    # trigger_id -> the user whose click or command made it (views.open needs one).
    triggers: dict[str, str] = field(default_factory=dict)
    # Web API calls as made (method and arguments), newest last; for tests and debugging.
    calls: list[tuple[str, JsonDict]] = field(default_factory=list)
    version: int = 0

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self._ids = itertools.count(1)
        self._last_ts = 0.0

    # -- identities ---------------------------------------------------------------------

    def user(self, user_id: str) -> DemoUser:
        for candidate in self.users:
            if candidate.id == user_id:
                return candidate
        raise SlackApiError("user_not_found")

    def channel(self, channel_id_or_name: str) -> Channel:
        wanted = channel_id_or_name.lstrip("#")
        for candidate in self.channels:
            if wanted in (candidate.id, candidate.name):
                return candidate
        raise SlackApiError("channel_not_found")

    def _next_ts(self) -> str:
        # Slack's ts is unique per channel and increasing; microseconds keep it so.
        now = max(time.time(), self._last_ts + 0.000001)
        self._last_ts = now
        return f"{now:.6f}"

    def _next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def _bump(self) -> None:
        self.version += 1
        self._changed.notify_all()

    def record_call(self, method: str, arguments: JsonDict) -> None:
        with self._changed:
            self.calls.append((method, copy.deepcopy(arguments)))

    # -- messages -----------------------------------------------------------------------

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: list[JsonDict] | None = None,
        *,
        user: str = BOT_USER_ID,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        kind: str = "message",
    ) -> Message:
        with self._changed:
            message = Message(
                channel=self.channel(channel).id,
                ts=self._next_ts(),
                user=user,
                text=text,
                blocks=copy.deepcopy(blocks or []),
                thread_ts=thread_ts,
                ephemeral_to=ephemeral_to,
                kind=kind,
            )
            self.messages.append(message)
            self._bump()
            return message

    def find_message(self, channel: str, ts: str) -> Message:
        channel_id = self.channel(channel).id
        for message in self.messages:
            if message.channel == channel_id and message.ts == ts:
                return message
        raise SlackApiError("message_not_found")

    def update_message(
        self, channel: str, ts: str, text: str | None, blocks: list[JsonDict] | None
    ) -> Message:
        with self._changed:
            message = self.find_message(channel, ts)
            if text is not None:
                message.text = text
            if blocks is not None:
                message.blocks = copy.deepcopy(blocks)
            message.edited = True
            self._bump()
            return message

    def delete_message(self, channel: str, ts: str) -> None:
        with self._changed:
            message = self.find_message(channel, ts)
            self.messages.remove(message)
            self._bump()

    def drop_ephemeral(self) -> int:
        """What a Slack client's reload does: ephemeral messages (and the echoes of slash
        commands) are gone. Returns how many were dropped."""
        with self._changed:
            kept = [m for m in self.messages if m.ephemeral_to is None]
            dropped = len(self.messages) - len(kept)
            if dropped:
                self.messages[:] = kept
                self._bump()
            return dropped

    # -- response_url -------------------------------------------------------------------

    def new_response_url_token(self, target: ResponseTarget) -> str:
        with self._changed:
            token = self._next_id("R")
            self.responses[token] = target
            return token

    def respond(self, token: str, payload: JsonDict) -> None:
        """What Slack does with a POST to a ``response_url``."""
        with self._changed:
            target = self.responses.get(token)
            if target is None:
                raise SlackApiError("expired_url")
            text = str(payload.get("text") or "")
            blocks = payload.get("blocks")
            if not payload.get("delete_original"):
                from sandbox.block_kit import check_message_blocks  # imports this module

                check_message_blocks(blocks)
            original = target.message_ts
            edits = payload.get("delete_original") or payload.get("replace_original")
            if edits and original and target.ephemeral and self._gone(target.channel, original):
                return  # an ephemeral message a reload dropped: Slack says ok, shows nothing
            if payload.get("delete_original") and original:
                self.delete_message(target.channel, original)
                return
            if payload.get("replace_original") and original:
                self.update_message(target.channel, original, text, blocks or [])
                return
            in_channel = payload.get("response_type") == "in_channel"
            self.post_message(
                target.channel,
                text,
                blocks,
                thread_ts=payload.get("thread_ts"),
                ephemeral_to=None if in_channel else target.user,
            )

    def _gone(self, channel: str, ts: str) -> bool:
        try:
            self.find_message(channel, ts)
        except SlackApiError:
            return True
        return False

    # -- triggers -----------------------------------------------------------------------

    def new_trigger(self, user: str) -> str:
        with self._changed:
            trigger_id = f"{next(self._ids)}.{TEAM_ID}.{self._next_id('t')}"
            self.triggers[trigger_id] = user
            return trigger_id

    def user_for_trigger(self, trigger_id: str) -> str:
        with self._changed:
            user = self.triggers.get(trigger_id)
            if user is None:
                raise SlackApiError("invalid_trigger_id")
            return user

    # -- views --------------------------------------------------------------------------

    def open_view(self, user: str, view: JsonDict, *, push: bool = False) -> View:
        with self._changed:
            self.user(user)
            opened = View(id=self._next_id("V"), user=user, view=copy.deepcopy(view))
            opened.hash = self._next_id("h")
            stack = self.modals.setdefault(user, [])
            if not push:
                stack.clear()
            stack.append(opened)
            self._bump()
            return opened

    def find_view(self, view_id: str | None = None, external_id: str | None = None) -> View:
        candidates = [view for stack in self.modals.values() for view in stack]
        candidates.extend(self.homes.values())
        for candidate in candidates:
            if view_id and candidate.id == view_id:
                return candidate
            if external_id and candidate.view.get("external_id") == external_id:
                return candidate
        raise SlackApiError("not_found")

    def update_view(
        self, view: JsonDict, view_id: str | None = None, external_id: str | None = None
    ) -> View:
        with self._changed:
            existing = self.find_view(view_id, external_id)
            existing.view = copy.deepcopy(view)
            existing.hash = self._next_id("h")
            self._bump()
            return existing

    def close_modals(self, user: str, view_id: str | None = None) -> None:
        """Close one modal (``view_id``) or the whole stack of the user."""
        with self._changed:
            stack = self.modals.get(user, [])
            if view_id is None:
                stack.clear()
            else:
                stack[:] = [view for view in stack if view.id != view_id]
            self._bump()

    def publish_home(self, user: str, view: JsonDict) -> View:
        with self._changed:
            self.user(user)
            home = self.homes.get(user)
            if home is None:
                home = View(id=self._next_id("V"), user=user, view={}, is_home=True)
                self.homes[user] = home
            home.view = copy.deepcopy(view)
            home.hash = self._next_id("h")
            self._bump()
            return home

    # -- what the page sees -------------------------------------------------------------

    def state_for(self, user: str) -> JsonDict:
        with self._changed:
            stack = self.modals.get(user, [])
            home = self.homes.get(user)
            return {
                "version": self.version,
                "messages": [m.as_json() for m in self.messages if m.visible_to(user)],
                "modal": stack[-1].as_json() if stack else None,
                "home": home.as_json() if home else None,
            }

    def wait_for_change(self, since: int, timeout_s: float) -> int:
        """Block until ``version`` moves past ``since`` (or the timeout); returns the version."""
        with self._changed:
            self._changed.wait_for(lambda: self.version != since, timeout=timeout_s)
            return self.version

    def wake_all(self) -> None:
        """Release every long-poll (used when the server stops)."""
        with self._changed:
            self._bump()
