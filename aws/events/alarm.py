"""CloudWatch alarm state changes, normalised from the three ways they arrive.

- SNS: the alarm JSON is the record's ``Message`` (PascalCase keys, ``Trigger``; composite alarms
  carry ``AlarmRule``; metric-math and anomaly-detection alarms ``Trigger.Metrics``).
- EventBridge "CloudWatch Alarm State Change": camelCase ``detail`` with ``state``,
  ``previousState`` and ``configuration.metrics`` (``metricStat`` or ``expression``).
- An alarm invoking Lambda directly: the same camelCase shape under ``alarmData``.

AWS is loose in places (nulls, lower-case dimension keys, display-name regions, ``EXAMPLE``
placeholders), so reading is tolerant; the result, :class:`AlarmEvent`, is strict and frozen.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aws.events.common import (
    account_of_arn,
    arn_part,
    json_object,
    json_type,
    lower_keys,
    parse_time,
    region_code,
    region_of_arn,
    to_float,
)
from aws.events.envelopes import Delivery, Envelope, MalformedEventError


class AlarmState(StrEnum):
    ALARM = "ALARM"
    OK = "OK"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class AlarmKind(StrEnum):
    METRIC = "metric"
    METRIC_MATH = "metric_math"
    ANOMALY_DETECTION = "anomaly_detection"
    COMPOSITE = "composite"


class MetricQuery(BaseModel):
    """One metric of an alarm: a plain metric (namespace, name, dimensions) or an expression."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    namespace: str | None = None
    metric_name: str | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    stat: str | None = None
    period_s: int | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = True


class AlarmEvent(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    delivery: Delivery
    delivery_id: str
    alarm_name: str = Field(min_length=1)
    alarm_arn: str | None = None
    account_id: str | None = None
    region: str | None = None
    description: str | None = None
    state: AlarmState
    previous_state: AlarmState | None = None
    reason: str = ""
    state_changed_at: datetime | None = None
    kind: AlarmKind
    metrics: tuple[MetricQuery, ...] = ()
    statistic: str | None = None
    comparison: str | None = None
    threshold: float | None = None
    # Anomaly-detection alarms compare with a band instead of a threshold.
    band_lower: float | None = None
    band_upper: float | None = None
    observed_value: float | None = None
    alarm_rule: str | None = None
    child_alarms: tuple[str, ...] = ()

    @property
    def thread_key(self) -> str:
        """What identifies the alarm across transitions (one Slack thread per alarm)."""
        if self.alarm_arn:
            return self.alarm_arn
        return f"alarm:{self.account_id or '-'}:{self.region or '-'}:{self.alarm_name}"

    @property
    def transition_key(self) -> str:
        """The same transition delivered twice (or by SNS and EventBridge) has the same key."""
        when = self.state_changed_at.isoformat() if self.state_changed_at else self.delivery_id
        return f"{self.thread_key}#{self.state.value}#{when}"

    @property
    def data_metrics(self) -> tuple[MetricQuery, ...]:
        """Metrics that read CloudWatch data (the inputs of any expression)."""
        return tuple(metric for metric in self.metrics if metric.metric_name)

    @property
    def console_url(self) -> str | None:
        if not self.region:
            return None
        from urllib.parse import quote

        return (
            f"https://{self.region}.console.aws.amazon.com/cloudwatch/home?region={self.region}"
            f"#alarmsV2:alarm/{quote(self.alarm_name, safe='')}"
        )


_NUMBER = r"(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)"
_DATAPOINT = re.compile(r"datapoints? \[" + _NUMBER)
_THRESHOLD = re.compile(r"the threshold \(" + _NUMBER + r"\)")
_UPPER = re.compile(r"upper thresholds? \[" + _NUMBER)
_LOWER = re.compile(r"lower thresholds? \[" + _NUMBER)
_RULE_CHILD = re.compile(r"\b(?:ALARM|OK|INSUFFICIENT_DATA)\(\s*\"?([^\")]+?)\"?\s*\)")
_STATISTICS = {
    "SUM": "Sum",
    "AVERAGE": "Average",
    "MAXIMUM": "Maximum",
    "MINIMUM": "Minimum",
    "SAMPLECOUNT": "SampleCount",
}


def _string(part: dict[str, Any], key: str, where: str = "") -> str | None:
    """A text field: absent, null or empty is None; any other type makes the alarm malformed
    (AWS always sends these as strings, so a number here is not an alarm we can trust)."""
    value = part.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise MalformedEventError(f"{where}{key} is {json_type(value)}, not a string")
    return value


def _part(part: dict[str, Any], key: str, where: str = "") -> dict[str, Any]:
    """A nested object: absent or null is empty; any other type makes the alarm malformed."""
    value = part.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MalformedEventError(f"{where}{key} is {json_type(value)}, not an object")
    return value


def _parts(part: dict[str, Any], key: str, where: str = "") -> list[Any]:
    value = part.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedEventError(f"{where}{key} is {json_type(value)}, not an array")
    return value


def _state(value: Any, *, required: bool) -> AlarmState | None:
    text = str(value).strip().upper() if value is not None else ""
    try:
        return AlarmState(text)
    except ValueError:
        if required:
            raise MalformedEventError(f"unknown alarm state {value!r}") from None
        return None


def _statistic(value: Any) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    return _STATISTICS.get(text.upper(), text)


def _dimensions(value: Any) -> dict[str, str]:
    """``[{"name": .., "value": ..}]`` (any key case) or a ``{name: value}`` mapping."""
    out: dict[str, str] = {}
    if isinstance(value, dict):
        return {str(key): str(val) for key, val in value.items() if val is not None}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, dict):
                keys = lower_keys(item)
                if keys.get("name") is not None and keys.get("value") is not None:
                    out[str(keys["name"])] = str(keys["value"])
    return out


def metric_from_query(raw: dict[str, Any], where: str = "") -> MetricQuery:
    """One entry of ``Trigger.Metrics`` (SNS) or ``configuration.metrics`` (EventBridge)."""
    item = lower_keys(raw)
    stat_block = lower_keys(_part(item, "metricstat", where))
    metric = lower_keys(_part(stat_block, "metric", f"{where}metricstat."))
    inner = f"{where}metricstat.metric."
    period = to_float(stat_block.get("period"))
    return MetricQuery(
        id=str(item.get("id") or ""),
        namespace=_string(metric, "namespace", inner),
        metric_name=_string(metric, "metricname", inner) or _string(metric, "name", inner),
        dimensions=_dimensions(metric.get("dimensions")),
        stat=_statistic(stat_block.get("stat")),
        period_s=_period(period),
        expression=_string(item, "expression", where),
        label=_string(item, "label", where),
        return_data=item.get("returndata") is not False,
    )


def _period(seconds: float | None) -> int | None:
    # inf and nan are floats too; a period is a whole, positive number of seconds.
    if seconds is None or not 0 < seconds < 10**9:
        return None
    return int(seconds)


def _reason_figures(reason: str, reason_data: Any) -> dict[str, float | None]:
    figures: dict[str, float | None] = {
        "threshold": None,
        "value": None,
        "upper": None,
        "lower": None,
    }
    data: Any = None
    if isinstance(reason_data, str) and reason_data.strip():
        data = json_object(reason_data)
    elif isinstance(reason_data, dict):
        data = reason_data
    if isinstance(data, dict):
        figures["threshold"] = to_float(data.get("threshold"))
        recent = data.get("recentDatapoints")
        if isinstance(recent, list) and recent:
            figures["value"] = to_float(recent[-1])
        upper = data.get("recentUpperThresholds")
        lower = data.get("recentLowerThresholds")
        if isinstance(upper, list) and upper:
            figures["upper"] = to_float(upper[-1])
        if isinstance(lower, list) and lower:
            figures["lower"] = to_float(lower[-1])
    for key, pattern in (
        ("value", _DATAPOINT),
        ("threshold", _THRESHOLD),
        ("upper", _UPPER),
        ("lower", _LOWER),
    ):
        if figures[key] is None:
            match = pattern.search(reason)
            if match:
                figures[key] = float(match.group(1))
    return figures


def _kind(metrics: tuple[MetricQuery, ...], rule: str | None, comparison: str | None) -> AlarmKind:
    if rule:
        return AlarmKind.COMPOSITE
    expressions = [metric.expression or "" for metric in metrics]
    band_comparisons = ("LessThanLowerOrGreaterThanUpperThreshold",)
    if any("ANOMALY_DETECTION_BAND" in text.upper() for text in expressions) or (
        comparison is not None
        and (comparison in band_comparisons or comparison.endswith("UpperThreshold"))
    ):
        return AlarmKind.ANOMALY_DETECTION
    if any(expressions):
        return AlarmKind.METRIC_MATH
    return AlarmKind.METRIC


def child_alarm_names(rule: str | None, listed: Any) -> tuple[str, ...]:
    names: list[str] = []
    if rule:
        names.extend(match.strip() for match in _RULE_CHILD.findall(rule))
    if isinstance(listed, list):
        for child in listed:
            if isinstance(child, dict):
                arn = lower_keys(child).get("arn")
                if isinstance(arn, str):
                    names.append(arn)
    unique: list[str] = []
    for name in names:
        # Child alarms are named in rules either by name or by ARN; keep names.
        short = name.split(":alarm:", 1)[1] if ":alarm:" in name else name
        if short and short not in unique:
            unique.append(short)
    return tuple(unique)


def _from_sns_message(envelope: Envelope) -> AlarmEvent:
    body = envelope.body
    name = body.get("AlarmName")
    if not isinstance(name, str) or not name.strip():
        raise MalformedEventError("the alarm message has no AlarmName")
    trigger = _part(body, "Trigger")
    metrics: list[MetricQuery] = []
    metric_name = _string(trigger, "MetricName", "Trigger.")
    namespace = _string(trigger, "Namespace", "Trigger.")
    if metric_name:
        metrics.append(
            MetricQuery(
                id="m1",
                namespace=namespace,
                metric_name=metric_name,
                dimensions=_dimensions(trigger.get("Dimensions")),
                stat=_statistic(trigger.get("ExtendedStatistic"))
                or _statistic(trigger.get("Statistic")),
                period_s=_period(to_float(trigger.get("Period"))),
            )
        )
    for index, raw in enumerate(_parts(trigger, "Metrics", "Trigger.")):
        if isinstance(raw, dict):
            metrics.append(metric_from_query(raw, f"Trigger.Metrics[{index}]."))
    reason = _string(body, "NewStateReason") or ""
    figures = _reason_figures(reason, body.get("NewStateReasonData"))
    comparison = _string(trigger, "ComparisonOperator", "Trigger.")
    rule = _string(body, "AlarmRule")
    description = _string(body, "AlarmDescription")
    arn = body.get("AlarmArn") if isinstance(body.get("AlarmArn"), str) else None
    statistic = _statistic(trigger.get("ExtendedStatistic")) or _statistic(trigger.get("Statistic"))
    threshold = to_float(trigger.get("Threshold"))
    return AlarmEvent(
        delivery=envelope.delivery,
        delivery_id=envelope.delivery_id,
        alarm_name=name.strip(),
        alarm_arn=arn if arn_part(arn, 2) == "cloudwatch" else None,
        account_id=account_of_arn(arn) or _account(body.get("AWSAccountId")),
        region=region_of_arn(arn) or region_code(body.get("Region")),
        description=description,
        state=_state(body.get("NewStateValue"), required=True),
        previous_state=_state(body.get("OldStateValue"), required=False),
        reason=reason,
        state_changed_at=parse_time(body.get("StateChangeTime")) or envelope.sent_at,
        kind=_kind(tuple(metrics), rule, comparison),
        metrics=tuple(metrics),
        statistic=statistic or (metrics[0].stat if metrics else None),
        comparison=comparison,
        threshold=threshold if threshold is not None else figures["threshold"],
        band_lower=figures["lower"],
        band_upper=figures["upper"],
        observed_value=figures["value"],
        alarm_rule=rule,
        child_alarms=child_alarm_names(rule, body.get("TriggeringChildren")),
    )


def _account(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text if text.isdigit() and len(text) == 12 else None


def _from_state_change(envelope: Envelope) -> AlarmEvent:
    """EventBridge ``detail`` and alarm-action ``alarmData`` share this camelCase shape."""
    body = envelope.body
    name = body.get("alarmName")
    if not isinstance(name, str) or not name.strip():
        raise MalformedEventError("the alarm event has no alarmName")
    state = body.get("state")
    if not isinstance(state, dict):
        raise MalformedEventError("the alarm event has no state")
    previous = _part(body, "previousState")
    configuration = _part(body, "configuration")
    metrics = tuple(
        metric_from_query(raw, f"configuration.metrics[{index}].")
        for index, raw in enumerate(_parts(configuration, "metrics", "configuration."))
        if isinstance(raw, dict)
    )
    reason = _string(state, "reason", "state.") or ""
    reason_data = state.get("reasonData")
    figures = _reason_figures(reason, reason_data)
    rule = _string(configuration, "alarmRule", "configuration.")
    description = _string(configuration, "description", "configuration.")
    comparison = _string(configuration, "comparisonOperator", "configuration.")
    resources = [item for item in body.get("_resources") or [] if isinstance(item, str)]
    arn = body.get("_alarm_arn") or next((item for item in resources if ":alarm:" in item), None)
    triggering: Any = None
    if isinstance(reason_data, str) and reason_data.strip().startswith("{"):
        triggering = (json_object(reason_data) or {}).get("triggeringAlarms")
    statistic = next((metric.stat for metric in metrics if metric.stat), None)
    return AlarmEvent(
        delivery=envelope.delivery,
        delivery_id=envelope.delivery_id,
        alarm_name=name.strip(),
        alarm_arn=arn,
        account_id=account_of_arn(arn) or _account(body.get("_account")),
        region=region_of_arn(arn) or region_code(body.get("_region")),
        description=description,
        state=_state(state.get("value"), required=True),
        previous_state=_state(previous.get("value"), required=False),
        reason=reason,
        state_changed_at=parse_time(state.get("timestamp")) or envelope.sent_at,
        kind=_kind(metrics, rule, comparison),
        metrics=metrics,
        statistic=statistic,
        comparison=comparison,
        threshold=figures["threshold"],
        band_lower=figures["lower"],
        band_upper=figures["upper"],
        observed_value=figures["value"],
        alarm_rule=rule,
        child_alarms=child_alarm_names(rule, triggering),
    )


def parse_alarm(envelope: Envelope) -> AlarmEvent:
    """The alarm in an envelope. Raises :class:`MalformedEventError` with the reason."""
    try:
        if "AlarmName" in envelope.body:
            return _from_sns_message(envelope)
        if "alarmName" in envelope.body:
            return _from_state_change(envelope)
    except ValidationError as error:
        # A value of a type the reading above let through: still one sentence, not a crash.
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "alarm"
        raise MalformedEventError(f"the alarm's {where} is invalid: {first['msg']}") from error
    raise MalformedEventError("the payload is not a CloudWatch alarm state change")
