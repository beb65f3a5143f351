"""Tolerant readers for the loose bits of AWS payloads: timestamps, regions, placeholders."""

from __future__ import annotations

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


def lower_keys(mapping: dict[str, Any]) -> dict[str, Any]:
    return {str(key).lower(): value for key, value in mapping.items()}


def to_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
