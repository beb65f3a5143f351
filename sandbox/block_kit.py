"""Refuse what Slack would refuse: Block Kit payloads checked with ``slack_sdk``'s models.

Every block is parsed with :mod:`slack_sdk.models.blocks` (views with
:mod:`slack_sdk.models.views`) and serialised again, which runs the models' own checks of
Slack's published limits (section text ≤ 3000, button text ≤ 75, value ≤ 2000, …). What the
models do not know is refused too: an unknown block type, or a field the model drops (a typo
such as ``"txt"``, which Slack also rejects). On top, the counts Slack enforces: at most 50
blocks in a message and 100 in a modal or home view.

Errors carry Slack's code (``invalid_blocks`` for messages, ``invalid_arguments`` for views)
and messages in Slack's ``response_metadata`` form, ``[ERROR] … [json-pointer:/blocks/3]``.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from sandbox.workspace import SlackApiError

logger = logging.getLogger(__name__)

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
VIEW_TYPES = frozenset({"modal", "home"})


def _dropped(given: Any, kept: Any, pointer: str) -> str | None:
    """The JSON pointer of the first field in ``given`` that the model did not keep."""
    if isinstance(given, dict) and isinstance(kept, dict):
        for key, value in given.items():
            if key not in kept:
                return f"{pointer}/{key}"
            missing = _dropped(value, kept[key], f"{pointer}/{key}")
            if missing:
                return missing
    elif isinstance(given, list) and isinstance(kept, list):
        if len(given) != len(kept):
            return pointer
        for index, (value, other) in enumerate(zip(given, kept, strict=True)):
            missing = _dropped(value, other, f"{pointer}/{index}")
            if missing:
                return missing
    return None


def _block_problem(raw: Any, pointer: str) -> str | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        return f"[ERROR] a block must be an object with a type [json-pointer:{pointer}]"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # slack_sdk warns about unknown fields; we refuse them
        try:
            block = Block.parse(raw)
            if block is None:
                return f"[ERROR] unsupported type: {raw['type']} [json-pointer:{pointer}/type]"
            kept = block.to_dict()
        except SlackObjectFormationError as error:
            return f"[ERROR] {error} [json-pointer:{pointer}]"
        except (TypeError, ValueError, KeyError, AttributeError) as error:
            return f"[ERROR] invalid block: {error} [json-pointer:{pointer}]"
    missing = _dropped(raw, kept, pointer)
    if missing:
        return f"[ERROR] unknown or invalid field [json-pointer:{missing}]"
    return None


def block_problems(blocks: Any, *, limit: int, pointer: str = "/blocks") -> list[str]:
    """Slack's messages for what is wrong with ``blocks`` (empty when they are valid)."""
    if not isinstance(blocks, list):
        return [f"[ERROR] must be an array [json-pointer:{pointer}]"]
    problems: list[str] = []
    if len(blocks) > limit:
        problems.append(f"[ERROR] must be less than {limit + 1} items [json-pointer:{pointer}]")
    for index, raw in enumerate(blocks):
        problem = _block_problem(raw, f"{pointer}/{index}")
        if problem:
            problems.append(problem)
    return problems


def check_message_blocks(blocks: Any) -> None:
    """What ``chat.postMessage``, ``chat.update``, ``chat.postEphemeral`` and a
    ``response_url`` refuse; ``None`` (no blocks) is fine."""
    if blocks is None:
        return
    if not isinstance(blocks, list):
        raise SlackApiError("invalid_blocks_format", block_problems(blocks, limit=0))
    problems = block_problems(blocks, limit=MAX_MESSAGE_BLOCKS)
    if problems:
        logger.warning("Slack would refuse these message blocks: %s", "; ".join(problems))
        raise SlackApiError("invalid_blocks", problems)


def check_view(view: Any, *, expected_type: str | None = None) -> None:
    """What ``views.open``/``push``/``update``/``publish`` (and a ``response_action`` view)
    refuse: Slack answers ``invalid_arguments`` with the reasons."""
    problems: list[str] = []
    if not isinstance(view, dict):
        problems.append("[ERROR] must be an object [json-pointer:/view]")
    elif view.get("type") not in VIEW_TYPES or (
        expected_type is not None and view.get("type") != expected_type
    ):
        wanted = expected_type or "modal or home"
        problems.append(f"[ERROR] type must be {wanted} [json-pointer:/view/type]")
    else:
        problems.extend(
            block_problems(view.get("blocks"), limit=MAX_VIEW_BLOCKS, pointer="/view/blocks")
        )
        outer = {key: value for key, value in view.items() if key != "blocks"}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                # The blocks were checked above; one stand-in keeps the model's count quiet.
                kept = View(**outer, blocks=[{"type": "divider"}]).to_dict()
            except SlackObjectFormationError as error:
                problems.append(f"[ERROR] {error} [json-pointer:/view]")
                kept = None
            except (TypeError, ValueError) as error:
                problems.append(f"[ERROR] invalid view: {error} [json-pointer:/view]")
                kept = None
        if kept is not None:
            missing = _dropped(outer, kept, "/view")
            if missing:
                problems.append(f"[ERROR] unknown or invalid field [json-pointer:{missing}]")
    if problems:
        logger.warning("Slack would refuse this view: %s", "; ".join(problems))
        raise SlackApiError("invalid_arguments", problems)
