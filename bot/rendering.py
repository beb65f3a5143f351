"""Block Kit from jinja2 templates: ``bot/templates/*.j2`` fed with view models.

Templates write JSON. Each array element is followed by a comma and every array ends with
``null``, so conditional elements never leave a dangling comma; ``null`` entries are dropped
after parsing. Text goes through ``esc`` (mrkdwn escaping of ``&``, ``<``, ``>``), ``clip``
(Slack's length limits) and ``tojson`` (JSON string quoting) — in that order.

jinja2 is imported on first render, not when the Lambda starts.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import BotError

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100


def escape_mrkdwn(text: object) -> str:
    """Slack's three control characters; everything else is shown as typed."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_ESCAPED_MENTION = re.compile(r"&lt;@([UW][A-Z0-9]{2,})&gt;")


def escape_keeping_mentions(text: object) -> str:
    """Like :func:`escape_mrkdwn`, but user mentions (``<@U123>``) stay mentions: messages from
    the AWS side name who did something, and a mention cannot notify a channel."""
    return _ESCAPED_MENTION.sub(r"<@\1>", escape_mrkdwn(text))


def clip(text: object, limit: int) -> str:
    value = str(text)
    if len(value) <= limit:
        return value
    return value[: max(0, limit - 1)] + "…"


@cache
def environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["esc"] = escape_mrkdwn
    env.filters["clip"] = clip
    env.filters["esc_mentions"] = escape_keeping_mentions
    # Plain JSON quoting (the builtin tojson HTML-escapes, which Slack would show as is).
    env.filters["tojson"] = lambda value: json.dumps(value, ensure_ascii=False)
    return env


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, list):
        return [_drop_nulls(item) for item in value if item is not None]
    if isinstance(value, dict):
        return {key: _drop_nulls(item) for key, item in value.items()}
    return value


def render(template: str, **context: Any) -> Any:
    """Render one template to its JSON value (a list of blocks or a view)."""
    text = environment().get_template(template).render(**context)
    try:
        return _drop_nulls(json.loads(text))
    except json.JSONDecodeError as error:  # a template bug, not user input
        raise BotError(f"Template {template} produced invalid JSON: {error}") from error


def render_blocks(template: str, **context: Any) -> list[dict[str, Any]]:
    blocks = render(template, **context)
    if not isinstance(blocks, list) or len(blocks) > MAX_MESSAGE_BLOCKS:
        raise BotError(f"Template {template} must give a list of at most 50 blocks.")
    return blocks


def render_view(template: str, **context: Any) -> dict[str, Any]:
    view = render(template, **context)
    if not isinstance(view, dict) or len(view.get("blocks", [])) > MAX_VIEW_BLOCKS:
        raise BotError(f"Template {template} must give a view of at most 100 blocks.")
    return view
