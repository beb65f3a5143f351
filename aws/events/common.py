"""Tolerant readers for the loose bits of AWS payloads: timestamps, regions, placeholders."""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

REGION_CODE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")

# CloudWatch puts the console's display name ("Asia Pacific (Singapore)") in SNS alarm messages.
REGION_BY_DISPLAY_NAME: dict[str, str] = {
    "US East (N. Virginia)": "us-east-1",
    "US East (Ohio)": "us-east-2",
    "US West (N. California)": "us-west-1",
    "US West (Oregon)": "us-west-2",
    "Africa (Cape Town)": "af-south-1",
    "Asia Pacific (Hong Kong)": "ap-east-1",
    "Asia Pacific (Hyderabad)": "ap-south-2",
    "Asia Pacific (Jakarta)": "ap-southeast-3",
    "Asia Pacific (Malaysia)": "ap-southeast-5",
    "Asia Pacific (Melbourne)": "ap-southeast-4",
    "Asia Pacific (Mumbai)": "ap-south-1",
    "Asia Pacific (Osaka)": "ap-northeast-3",
    "Asia Pacific (Seoul)": "ap-northeast-2",
    "Asia Pacific (Singapore)": "ap-southeast-1",
    "Asia Pacific (Sydney)": "ap-southeast-2",
    "Asia Pacific (Thailand)": "ap-southeast-7",
    "Asia Pacific (Tokyo)": "ap-northeast-1",
    "Canada (Central)": "ca-central-1",
    "Canada West (Calgary)": "ca-west-1",
    "Europe (Frankfurt)": "eu-central-1",
    "Europe (Ireland)": "eu-west-1",
    "Europe (London)": "eu-west-2",
    "Europe (Milan)": "eu-south-1",
    "Europe (Paris)": "eu-west-3",
    "Europe (Spain)": "eu-south-2",
    "Europe (Stockholm)": "eu-north-1",
    "Europe (Zurich)": "eu-central-2",
    # Older spellings still seen in SNS alarm messages.
    "EU (Frankfurt)": "eu-central-1",
    "EU (Ireland)": "eu-west-1",
    "EU (London)": "eu-west-2",
    "EU (Milan)": "eu-south-1",
    "EU (Paris)": "eu-west-3",
    "EU (Stockholm)": "eu-north-1",
    "Israel (Tel Aviv)": "il-central-1",
    "Mexico (Central)": "mx-central-1",
    "Middle East (Bahrain)": "me-south-1",
    "Middle East (UAE)": "me-central-1",
    "South America (Sao Paulo)": "sa-east-1",
    "South America (São Paulo)": "sa-east-1",
    "AWS GovCloud (US-East)": "us-gov-east-1",
    "AWS GovCloud (US-West)": "us-gov-west-1",
}


class Loose(BaseModel):
    """Raw AWS shapes: unknown fields are ignored, the normalised models are strict."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def region_code(value: str | None) -> str | None:
    """A region code from a code or a display name; None for placeholders and unknown names."""
    if not value:
        return None
    value = value.strip()
    if REGION_CODE.match(value):
        return value
    return REGION_BY_DISPLAY_NAME.get(value)


_CONSOLE_LINK = re.compile(r"^https://([a-z0-9-]+\.)*console\.aws\.amazon\.com/[^\s<>|]*$")


def console_link(value: str | None) -> str | None:
    """An AWS console URL fit to put in a Slack link (``<url|text>``); anything else is None.

    The link comes from the event; a ``|`` or ``>`` in it would end Slack's link syntax early
    and turn the rest into message text (a mention of the whole channel, say).
    """
    if value and _CONSOLE_LINK.match(value.strip()):
        return value.strip()
    return None


def arn_part(arn: str | None, index: int) -> str | None:
    """One colon-separated field of an ARN, or None when the ARN is missing or malformed."""
    if not arn or not arn.startswith("arn:"):
        return None
    parts = arn.split(":")
    return parts[index] if len(parts) > index and parts[index] else None


def region_of_arn(arn: str | None) -> str | None:
    return region_code(arn_part(arn, 3))


def account_of_arn(arn: str | None) -> str | None:
    account = arn_part(arn, 4)
    return account if account and account.isdigit() and len(account) == 12 else None


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 in any of the spellings AWS uses (``Z``, ``+0000``, ``+00:00``); else None."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty one (AWS sends null for absent parts)."""
    return value if isinstance(value, dict) else {}


# AWS's alarm and anomaly payloads nest a handful of levels; far deeper ones are not AWS's, and
# would overflow the recursion of json, pydantic and the logger.
MAX_DEPTH = 64


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether ``value`` nests objects or arrays more than ``limit`` levels (checked without
    recursion, so any depth is safe to ask about)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list | tuple):
            stack.extend((child, depth + 1) for child in item)
    return False


def json_object(text: str) -> dict[str, Any] | None:
    """The JSON object in ``text`` (such as an alarm's ``reasonData``); None when the text is
    not JSON, not an object, or nested too deeply to read safely."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) and not too_deep(value) else None


def json_type(value: Any) -> str:
    """The JSON name of a value's type with its article ("a number", "an object"), for
    one-sentence reasons."""
    name = _json_type_name(value)
    return f"an {name}" if name[0] in "aeiou" else f"a {name}"


def _json_type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def lower_keys(mapping: dict[str, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in mapping.items()}


def to_float(value: Any) -> float | None:
    """A finite number from a number or numeric text; None for anything else (AWS never sends
    infinities, and an integer too large for a float is not a figure to show)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = float(value)
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None
