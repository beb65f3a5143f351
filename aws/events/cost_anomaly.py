"""AWS Cost Anomaly Detection alerts, from SNS (``dimensionalValue``) or EventBridge
(``source: aws.ce``, "Anomaly Detected", ``dimensionValue``), normalised to :class:`CostAnomaly`.

The documentation's own samples carry placeholders ("AnomalousRegionName",
"AnomalousServiceName"): unknown regions become None rather than failing the alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aws.events.common import (
    account_of_arn,
    arn_part,
    console_link,
    lower_keys,
    mapping,
    parse_time,
    region_code,
)
from aws.events.common import to_float as _float
from aws.events.envelopes import Delivery, Envelope, MalformedEventError

LAMBDA_SERVICE_NAMES = ("AWS Lambda", "Lambda", "AWSLambda")


class RootCause(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str | None = None
    region: str | None = None
    linked_account: str | None = None
    linked_account_name: str | None = None
    usage_type: str | None = None
    contribution_usd: float | None = None

    @property
    def is_lambda(self) -> bool:
        if self.service in LAMBDA_SERVICE_NAMES:
            return True
        # Lambda usage types look like "USE1-Lambda-GB-Second" or "Lambda-GB-Second-ARM".
        return bool(self.usage_type and "Lambda-" in self.usage_type)


class CostImpact(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    total_impact_usd: float | None = None
    total_impact_percentage: float | None = None
    max_impact_usd: float | None = None
    total_actual_spend_usd: float | None = None
    total_expected_spend_usd: float | None = None


class CostAnomaly(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery: Delivery
    delivery_id: str
    anomaly_id: str = Field(min_length=1)
    account_id: str | None = None
    account_name: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    dimension_value: str | None = None
    impact: CostImpact
    root_causes: tuple[RootCause, ...] = ()
    score_current: float | None = None
    score_max: float | None = None
    monitor_arn: str | None = None
    monitor_name: str | None = None
    details_link: str | None = None

    @property
    def lambda_root_causes(self) -> tuple[RootCause, ...]:
        return tuple(cause for cause in self.root_causes if cause.is_lambda)

    @property
    def is_lambda(self) -> bool:
        """Lambda is a root cause, or the monitor watches the Lambda service itself."""
        return bool(self.lambda_root_causes) or self.dimension_value in LAMBDA_SERVICE_NAMES

    def window(self) -> tuple[datetime, datetime] | None:
        """The anomaly's days as a half-open interval (AWS gives whole days, start = end
        for a one-day anomaly)."""
        if self.start is None:
            return None
        end = self.end if self.end is not None and self.end >= self.start else self.start
        return self.start, end + timedelta(days=1)


def _account(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if text.isdigit() and len(text) == 12 else None


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _root_cause(raw: dict[str, Any]) -> RootCause:
    item = lower_keys(raw)
    impact = item.get("impact")
    impact = lower_keys(impact) if isinstance(impact, dict) else {}
    return RootCause(
        service=_text(item.get("service")),
        region=region_code(_text(item.get("region"))),
        linked_account=_account(item.get("linkedaccount")),
        linked_account_name=_text(item.get("linkedaccountname")),
        usage_type=_text(item.get("usagetype")),
        contribution_usd=_float(impact.get("contribution")),
    )


def parse_cost_anomaly(envelope: Envelope) -> CostAnomaly:
    """The anomaly in an envelope. Raises :class:`MalformedEventError` with the reason."""
    try:
        return _parse(envelope)
    except ValidationError as error:
        # A value of a type the tolerant reading let through: one sentence, not a crash.
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "anomaly"
        raise MalformedEventError(f"the anomaly's {where} is invalid: {first['msg']}") from error


def _parse(envelope: Envelope) -> CostAnomaly:
    body = envelope.body
    anomaly_id = _text(body.get("anomalyId"))
    if anomaly_id is None:
        raise MalformedEventError("the cost anomaly has no anomalyId")
    impact_raw = body.get("impact")
    if not isinstance(impact_raw, dict):
        raise MalformedEventError("the cost anomaly has no impact")
    impact = lower_keys(impact_raw)
    score = mapping(body.get("anomalyScore"))
    causes = body.get("rootCauses")
    if causes is not None and not isinstance(causes, list):
        raise MalformedEventError("rootCauses is not a list")
    monitor_arn = _text(body.get("monitorArn"))
    return CostAnomaly(
        delivery=envelope.delivery,
        delivery_id=envelope.delivery_id,
        anomaly_id=anomaly_id,
        account_id=_account(body.get("accountId"))
        or _account(body.get("_account"))
        or account_of_arn(monitor_arn),
        account_name=_text(body.get("accountName")),
        start=parse_time(body.get("anomalyStartDate")),
        end=parse_time(body.get("anomalyEndDate")),
        # SNS spells it dimensionalValue, EventBridge dimensionValue.
        dimension_value=_text(body.get("dimensionValue")) or _text(body.get("dimensionalValue")),
        impact=CostImpact(
            total_impact_usd=_float(impact.get("totalimpact")),
            total_impact_percentage=_float(impact.get("totalimpactpercentage")),
            max_impact_usd=_float(impact.get("maximpact")),
            total_actual_spend_usd=_float(impact.get("totalactualspend")),
            total_expected_spend_usd=_float(impact.get("totalexpectedspend")),
        ),
        root_causes=tuple(_root_cause(raw) for raw in causes or [] if isinstance(raw, dict)),
        score_current=_float(score.get("currentScore")),
        score_max=_float(score.get("maxScore")),
        monitor_arn=monitor_arn if arn_part(monitor_arn, 2) == "ce" else None,
        monitor_name=_text(body.get("monitorName")),
        details_link=console_link(_text(body.get("anomalyDetailsLink"))),
    )
