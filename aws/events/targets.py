"""Which Lambda functions an alarm is about.

A Lambda metric names its function by the ``FunctionName`` dimension or by ``Resource``
(``name``, ``name:alias`` or ``name:version``); Lambda Insights uses ``function_name``. For
metric math the inputs are searched; composite alarms are resolved from their children by the
caller (that needs CloudWatch).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from aws.events.alarm import AlarmEvent, MetricQuery

LAMBDA_NAMESPACES = ("AWS/Lambda", "LambdaInsights")
_NAME_KEYS = ("functionname", "function_name")


class FunctionTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    qualifier: str | None = None
    region: str | None = None
    # The metrics of this function the alarm watches, e.g. ("Duration",).
    metric_names: tuple[str, ...] = ()


def _function_of(metric: MetricQuery) -> tuple[str, str | None] | None:
    if metric.namespace not in LAMBDA_NAMESPACES:
        return None
    by_key = {key.lower(): value for key, value in metric.dimensions.items()}
    for key in _NAME_KEYS:
        if by_key.get(key):
            return by_key[key], None
    resource = by_key.get("resource")
    if resource:
        name, _, qualifier = resource.partition(":")
        return name, qualifier or None
    return None


def lambda_targets(alarm: AlarmEvent) -> tuple[FunctionTarget, ...]:
    """The functions named by the alarm's metrics, in order of first mention."""
    found: dict[str, tuple[str | None, list[str]]] = {}
    for metric in alarm.data_metrics:
        function = _function_of(metric)
        if function is None:
            continue
        name, qualifier = function
        current_qualifier, metric_names = found.setdefault(name, (qualifier, []))
        if metric.metric_name and metric.metric_name not in metric_names:
            metric_names.append(metric.metric_name)
        if current_qualifier is None and qualifier is not None:
            found[name] = (qualifier, metric_names)
    return tuple(
        FunctionTarget(
            name=name, qualifier=qualifier, region=alarm.region, metric_names=tuple(metrics)
        )
        for name, (qualifier, metrics) in found.items()
    )


def watches_lambda(alarm: AlarmEvent) -> bool:
    """Whether any metric is in a Lambda namespace (even without a function dimension)."""
    return any(metric.namespace in LAMBDA_NAMESPACES for metric in alarm.data_metrics)
