"""Payloads for the alert tests: the shared fixtures and our documented variants, delivered
the way AWS delivers them (an SNS message body inside an SNS record)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES_AWS = Path(__file__).resolve().parent / "fixtures" / "aws"
VARIANTS = Path(__file__).resolve().parent / "aws" / "events" / "payloads"


def load(name: str) -> dict[str, Any]:
    path = FIXTURES_AWS / name if (FIXTURES_AWS / name).exists() else VARIANTS / name
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def sns_event(message: dict[str, Any] | str, message_id: str = "msg-1") -> dict[str, Any]:
    """An SNS record as Lambda receives it, carrying ``message`` as its JSON string body."""
    body = message if isinstance(message, str) else json.dumps(message)
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:1f2e",
                "Sns": {
                    "Type": "Notification",
                    "MessageId": message_id,
                    "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
                    "Subject": None,
                    "Message": body,
                    "Timestamp": "2024-02-12T08:00:00.000Z",
                    "SignatureVersion": "1",
                    "Signature": "EXAMPLE",
                    "SigningCertUrl": "EXAMPLE",
                    "UnsubscribeUrl": "EXAMPLE",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def event_for(name: str, message_id: str = "msg-1") -> dict[str, Any]:
    """The Lambda event for a payload file: bare SNS message bodies get their SNS record."""
    data = load(name)
    is_sns_body = "Records" not in data and "detail-type" not in data and "alarmData" not in data
    return sns_event(data, message_id) if is_sns_body else data
