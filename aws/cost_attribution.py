"""Which functions a Lambda cost anomaly comes from.

For every function in the region: GB-seconds (``Duration`` Sum × memory) and requests
(``Invocations`` Sum) in the anomaly window and in the equal window just before, from one
batch of ``GetMetricData`` (two queries per function, each returning both windows as two
periods; at most 500 queries per call). The functions whose estimated cost grew most are the
top contributors, each with what changed (:func:`recommendations.alerts.explain_cost_change`).

GB-seconds use the memory size the function has now: a memory change inside the window shows
as a deploy (``LastModified``) rather than being priced at the old size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict

from aws.events.common import parse_time
from aws.inventory import list_function_configs, unqualified_arn
from aws.session import AwsSession, translate_errors
from recommendations.alerts import UsageWindow, explain_cost_change
from recommendations.pricing import prices_for
from recommendations.snapshot import Architecture

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("lambda:ListFunctions", "cloudwatch:GetMetricData")

MAX_QUERIES_PER_CALL = 500
QUERIES_PER_FUNCTION = 2
DEFAULT_TOP = 5


class Contributor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    function_name: str
    function_arn: str
    memory_mb: int
    architecture: Architecture
    last_modified: datetime | None = None
    before: UsageWindow
    during: UsageWindow
    gb_seconds_before: float
    gb_seconds_during: float
    cost_before_usd: float
    cost_during_usd: float
    changes: tuple[str, ...] = ()

    @property
    def cost_increase_usd(self) -> float:
        return self.cost_during_usd - self.cost_before_usd


class CostAttribution(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    region: str
    window_start: datetime
    window_end: datetime
    previous_start: datetime
    functions_compared: int
    # Functions whose cost grew, largest increase first, at most ``top``.
    contributors: tuple[Contributor, ...] = ()
    total_increase_usd: float = 0.0


def _period(start: datetime, end: datetime) -> int:
    seconds = int((end - start).total_seconds())
    # GetMetricData periods are multiples of 60 s (of 3600 s for data older than 63 days);
    # anomaly windows are whole days, so this is only a guard.
    return max(3600, -(-seconds // 3600) * 3600)


def _query(query_id: str, name: str, metric: str, period: int) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Lambda",
                "MetricName": metric,
                "Dimensions": [{"Name": "FunctionName", "Value": name}],
            },
            "Period": period,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def _chunks(items: Sequence[str], size: int) -> Iterator[tuple[int, Sequence[str]]]:
    for start in range(0, len(items), size):
        yield start, items[start : start + size]


def _split_periods(result: Mapping[str, Any], window_start: datetime) -> tuple[float, float]:
    """(before, during) sums from a result with one datapoint per period.

    A Sum without datapoints is zero: Lambda emits nothing when nothing happened.
    """
    before = during = 0.0
    for stamp, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
        if stamp >= window_start:
            during += float(value)
        else:
            before += float(value)
    return before, during


def fetch_usage(
    session: AwsSession,
    names: Sequence[str],
    *,
    window_start: datetime,
    window_end: datetime,
) -> dict[str, tuple[UsageWindow, UsageWindow]]:
    """(before, during) usage per function name, in ⌈2n / 500⌉ GetMetricData calls."""
    period = _period(window_start, window_end)
    previous_start = window_start - timedelta(seconds=period)
    client = session.client("cloudwatch")
    sums: dict[str, dict[str, tuple[float, float]]] = {name: {} for name in names}
    per_call = MAX_QUERIES_PER_CALL // QUERIES_PER_FUNCTION
    for offset, chunk in _chunks(list(names), per_call):
        queries: list[dict[str, Any]] = []
        ids: dict[str, tuple[str, str]] = {}
        for index, name in enumerate(chunk, start=offset):
            for prefix, metric in (("d", "Duration"), ("n", "Invocations")):
                query_id = f"{prefix}{index}"
                ids[query_id] = (name, metric)
                queries.append(_query(query_id, name, metric, period))
        request: dict[str, Any] = {
            "MetricDataQueries": queries,
            "StartTime": previous_start,
            "EndTime": previous_start + timedelta(seconds=2 * period),
            "ScanBy": "TimestampAscending",
        }
        while True:
            with translate_errors("read Lambda metrics (cloudwatch:GetMetricData)"):
                response = client.get_metric_data(**request)
            for result in response.get("MetricDataResults", []):
                name, metric = ids[result["Id"]]
                before, during = _split_periods(result, window_start)
                old = sums[name].get(metric, (0.0, 0.0))
                sums[name][metric] = (old[0] + before, old[1] + during)
            token = response.get("NextToken")
            if not token:
                break
            request["NextToken"] = token
    usage: dict[str, tuple[UsageWindow, UsageWindow]] = {}
    for name, metrics in sums.items():
        duration = metrics.get("Duration", (0.0, 0.0))
        invocations = metrics.get("Invocations", (0.0, 0.0))
        usage[name] = (
            UsageWindow(invocations=invocations[0], duration_sum_ms=duration[0]),
            UsageWindow(invocations=invocations[1], duration_sum_ms=duration[1]),
        )
    return usage


def _architecture(config: Mapping[str, Any]) -> Architecture:
    values = config.get("Architectures") or ["x86_64"]
    return Architecture.ARM64 if "arm64" in values else Architecture.X86_64


def _cost(usage: UsageWindow, memory_mb: int, architecture: Architecture, region: str) -> float:
    prices = prices_for(region)
    gb_seconds = usage.gb_seconds(memory_mb) or 0.0
    return gb_seconds * prices.gb_second[architecture] + (usage.invocations or 0.0) * prices.request


def attribute_cost(
    session: AwsSession,
    *,
    window_start: datetime,
    window_end: datetime,
    top: int = DEFAULT_TOP,
    configs: Sequence[Mapping[str, Any]] | None = None,
) -> CostAttribution:
    """The functions of ``session``'s region that grew most in cost during the window."""
    listed = list(configs) if configs is not None else list_function_configs(session)
    by_name = {str(config["FunctionName"]): config for config in listed}
    usage = fetch_usage(session, sorted(by_name), window_start=window_start, window_end=window_end)
    previous_start = window_start - timedelta(seconds=_period(window_start, window_end))
    contributors: list[Contributor] = []
    for name, (before, during) in usage.items():
        config = by_name[name]
        memory = int(config.get("MemorySize") or 128)
        architecture = _architecture(config)
        cost_before = _cost(before, memory, architecture, session.region)
        cost_during = _cost(during, memory, architecture, session.region)
        if cost_during <= cost_before:
            continue
        last_modified = parse_time(config.get("LastModified"))
        contributors.append(
            Contributor(
                function_name=name,
                function_arn=unqualified_arn(str(config.get("FunctionArn", name))),
                memory_mb=memory,
                architecture=architecture,
                last_modified=last_modified,
                before=before,
                during=during,
                gb_seconds_before=before.gb_seconds(memory) or 0.0,
                gb_seconds_during=during.gb_seconds(memory) or 0.0,
                cost_before_usd=cost_before,
                cost_during_usd=cost_during,
                changes=explain_cost_change(
                    before,
                    during,
                    memory_mb=memory,
                    last_modified=last_modified,
                    window_start=window_start,
                    window_end=window_end,
                ),
            )
        )
    contributors.sort(key=lambda item: item.cost_increase_usd, reverse=True)
    return CostAttribution(
        region=session.region,
        window_start=window_start,
        window_end=window_end,
        previous_start=previous_start,
        functions_compared=len(usage),
        contributors=tuple(contributors[:top]),
        total_increase_usd=sum(item.cost_increase_usd for item in contributors),
    )
