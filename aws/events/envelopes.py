"""Unwrap what Lambda receives into payloads: SNS records, EventBridge events, alarm actions.

One Lambda event may carry several payloads (SNS can batch records); each comes out as an
:class:`Envelope` with a delivery id (stable across redeliveries, used for idempotency) or as a
:class:`Rejected` saying why it could not be read. Nothing here raises on bad input.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.utilities.parser import parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aws.errors import AwsError
from aws.events.common import MAX_DEPTH, Loose, mapping, parse_time, too_deep


class MalformedEventError(AwsError):
    """The event is not one of the shapes tunebot reads."""


class Delivery(StrEnum):
    SNS = "sns"
    EVENTBRIDGE = "eventbridge"
    ALARM_ACTION = "alarm_action"  # a CloudWatch alarm invoking the function directly
    DIRECT = "direct"  # a bare message, as in a manual test invoke


class PayloadKind(StrEnum):
    ALARM = "alarm"
    COST_ANOMALY = "cost_anomaly"
    UNKNOWN = "unknown"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True)

    delivery: Delivery
    delivery_id: str = Field(min_length=1)
    kind: PayloadKind
    body: dict[str, Any]
    sent_at: datetime | None = None


class Rejected(BaseModel):
    model_config = ConfigDict(frozen=True)

    delivery_id: str | None = None
    reason: str


class _SnsMessage(Loose):
    message_id: str = Field(alias="MessageId", min_length=1)
    message: str = Field(alias="Message")
    timestamp: str | None = Field(default=None, alias="Timestamp")


class _SnsRecord(Loose):
    event_source: str | None = Field(default=None, alias="EventSource")
    sns: _SnsMessage = Field(alias="Sns")


class _SnsEvent(Loose):
    records: list[_SnsRecord] = Field(alias="Records", min_length=1)


class _EventBridgeEvent(Loose):
    id: str = Field(min_length=1)
    source: str
    detail_type: str = Field(alias="detail-type")
    time: str | None = None
    detail: dict[str, Any]


class _AlarmActionEvent(Loose):
    source: str
    alarm_arn: str = Field(alias="alarmArn", min_length=1)
    time: str | None = None
    alarm_data: dict[str, Any] = Field(alias="alarmData")


def _kind_of_message(body: dict[str, Any]) -> PayloadKind:
    if "AlarmName" in body and "NewStateValue" in body:
        return PayloadKind.ALARM
    if "alarmName" in body and "state" in body:
        return PayloadKind.ALARM
    if "anomalyId" in body:
        return PayloadKind.COST_ANOMALY
    return PayloadKind.UNKNOWN


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "event"
    return f"{where}: {first['msg']}"


def _content_id(body: Any) -> str:
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return "sha256-" + digest[:32]


def _unwrap_sns(event: dict[str, Any]) -> list[Envelope | Rejected]:
    try:
        parsed = parse(event=event, model=_SnsEvent)
    except ValidationError as error:
        return [Rejected(reason=f"not an SNS event ({_first_error(error)})")]
    out: list[Envelope | Rejected] = []
    for record in parsed.records:
        message_id = record.sns.message_id
        if record.event_source not in (None, "aws:sns"):
            out.append(Rejected(delivery_id=message_id, reason="the record is not from SNS"))
            continue
        try:
            body = json.loads(record.sns.message)
            deep = too_deep(body)
        except ValueError:
            out.append(Rejected(delivery_id=message_id, reason="the SNS message is not JSON"))
            continue
        except RecursionError:
            deep = True
        if deep:
            out.append(Rejected(delivery_id=message_id, reason=_TOO_DEEP.format("SNS message")))
            continue
        if not isinstance(body, dict):
            out.append(
                Rejected(delivery_id=message_id, reason="the SNS message is not a JSON object")
            )
            continue
        out.append(
            Envelope(
                delivery=Delivery.SNS,
                delivery_id=message_id,
                kind=_kind_of_message(body),
                body=body,
                sent_at=parse_time(record.sns.timestamp),
            )
        )
    return out


def _unwrap_eventbridge(event: dict[str, Any]) -> list[Envelope | Rejected]:
    try:
        parsed = parse(event=event, model=_EventBridgeEvent)
    except ValidationError as error:
        return [Rejected(reason=f"not an EventBridge event ({_first_error(error)})")]
    kind = PayloadKind.UNKNOWN
    if parsed.source == "aws.cloudwatch" and parsed.detail_type == "CloudWatch Alarm State Change":
        kind = PayloadKind.ALARM
    elif parsed.source == "aws.ce" and parsed.detail_type == "Anomaly Detected":
        kind = PayloadKind.COST_ANOMALY
    body = dict(parsed.detail)
    # EventBridge keeps account and region outside the detail; the parsers look for them there.
    body.setdefault("_account", event.get("account"))
    body.setdefault("_region", event.get("region"))
    body.setdefault("_resources", event.get("resources") or [])
    return [
        Envelope(
            delivery=Delivery.EVENTBRIDGE,
            delivery_id=parsed.id,
            kind=kind,
            body=body,
            sent_at=parse_time(parsed.time),
        )
    ]


def _unwrap_alarm_action(event: dict[str, Any]) -> list[Envelope | Rejected]:
    try:
        parsed = parse(event=event, model=_AlarmActionEvent)
    except ValidationError as error:
        return [Rejected(reason=f"not an alarm action event ({_first_error(error)})")]
    body = dict(parsed.alarm_data)
    body.setdefault("_alarm_arn", parsed.alarm_arn)
    body.setdefault("_account", event.get("accountId"))
    body.setdefault("_region", event.get("region"))
    state = mapping(body.get("state"))
    # CloudWatch retries an alarm action with the same transition; that is the delivery.
    transition = f"{parsed.alarm_arn}#{state.get('value')}#{state.get('timestamp')}"
    return [
        Envelope(
            delivery=Delivery.ALARM_ACTION,
            delivery_id=_content_id(transition),
            kind=PayloadKind.ALARM,
            body=body,
            sent_at=parse_time(parsed.time),
        )
    ]


_TOO_DEEP = "the {} is nested more than " + str(MAX_DEPTH) + " levels deep"


def unwrap(event: Any) -> list[Envelope | Rejected]:
    """Every payload in a Lambda event, or why it cannot be read. Never raises."""
    if not isinstance(event, dict):
        return [Rejected(reason=f"the event is a {type(event).__name__}, not a JSON object")]
    if too_deep(event):
        return [Rejected(reason=_TOO_DEEP.format("event"))]
    if "Records" in event:
        return _unwrap_sns(event)
    if "detail-type" in event or "detail" in event:
        return _unwrap_eventbridge(event)
    if "alarmData" in event or "alarmArn" in event:
        return _unwrap_alarm_action(event)
    kind = _kind_of_message(event)
    if kind is PayloadKind.UNKNOWN:
        return [Rejected(reason="the event is neither SNS, EventBridge nor an alarm action")]
    return [
        Envelope(delivery=Delivery.DIRECT, delivery_id=_content_id(event), kind=kind, body=event)
    ]
