"""CloudWatch metrics for every function of a region in as few ``GetMetricData`` calls as possible.

Each function gets one query per figure with the whole window as a single period (and each
log group one for its ``IncomingBytes``, in the same calls), packed 500 queries to a call.
Metrics most functions never emit (async events, provisioned concurrency, iterator age) are
only queried for functions that ``ListMetrics`` shows have them, and when the window lies
within the last two weeks (what ``ListMetrics`` covers) functions without any ``Invocations``
data are known idle without querying them at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from aws.session import AwsSession, translate_error

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("cloudwatch:GetMetricData", "cloudwatch:ListMetrics")

NAMESPACE = "AWS/Lambda"
LOGS_NAMESPACE = "AWS/Logs"
MAX_QUERIES_PER_CALL = 500
# ListMetrics returns metrics that received data in the last two weeks.
LIST_METRICS_HORIZON = timedelta(days=14)
LIST_METRICS_ABOVE = 30


@dataclass(frozen=True)
class Figure:
    """One number per function: a FunctionStats field, the metric and the statistic."""

    key: str
    metric: str
    stat: str
    namespace: str = NAMESPACE
    dimension: str = "FunctionName"

    @property
    def is_count(self) -> bool:
        # Lambda emits nothing when nothing happened, so a count without data points is zero.
        return self.stat == "Sum"

    @property
    def is_percentile(self) -> bool:
        return self.stat.startswith("p")


CORE_FIGURES: tuple[Figure, ...] = (
    Figure("invocations", "Invocations", "Sum"),
    Figure("errors", "Errors", "Sum"),
    Figure("throttles", "Throttles", "Sum"),
    Figure("duration_avg_ms", "Duration", "Average"),
    Figure("duration_max_ms", "Duration", "Maximum"),
    Figure("duration_p50_ms", "Duration", "p50"),
    Figure("duration_p90_ms", "Duration", "p90"),
    Figure("duration_p99_ms", "Duration", "p99"),
    Figure("concurrent_executions_max", "ConcurrentExecutions", "Maximum"),
)
SPARSE_FIGURES: tuple[Figure, ...] = (
    Figure("async_events_received", "AsyncEventsReceived", "Sum"),
    Figure("async_events_dropped", "AsyncEventsDropped", "Sum"),
    Figure("async_event_age_max_ms", "AsyncEventAge", "Maximum"),
    Figure("async_event_age_avg_ms", "AsyncEventAge", "Average"),
    Figure(
        "provisioned_concurrency_utilization_max", "ProvisionedConcurrencyUtilization", "Maximum"
    ),
    Figure(
        "provisioned_concurrency_utilization_avg", "ProvisionedConcurrencyUtilization", "Average"
    ),
    Figure("iterator_age_max_ms", "IteratorAge", "Maximum"),
)
# Per log group, not per function: a group several functions share is queried once.
LOG_INGESTION = Figure(
    "log_ingested_bytes", "IncomingBytes", "Sum", namespace=LOGS_NAMESPACE, dimension="LogGroupName"
)
SPARSE_METRICS: tuple[str, ...] = tuple(dict.fromkeys(figure.metric for figure in SPARSE_FIGURES))
# Which listing tells that a function has a sparse metric: async events that were dropped or
# aged were first received, so one listing serves all three async metrics.
LISTED_BY: dict[str, str] = {
    "AsyncEventsReceived": "AsyncEventsReceived",
    "AsyncEventsDropped": "AsyncEventsReceived",
    "AsyncEventAge": "AsyncEventsReceived",
    "ProvisionedConcurrencyUtilization": "ProvisionedConcurrencyUtilization",
    "IteratorAge": "IteratorAge",
}
# A function did something in the window when any of these has data: a function throttled to
# zero (reserved concurrency 0) has Throttles but no Invocations.
ACTIVITY_METRICS: tuple[str, ...] = ("Invocations", "Throttles", "AsyncEventsReceived")
# IDLE-001 needs 30 days without invocations; a shorter window alone cannot tell. Functions
# with none in the window get this one figure over the 30 days ending with it, 500 to a call.
IDLE_LOOKBACK = timedelta(days=30)
LOOKBACK_FIGURE = Figure("invocations_last_30_days", "Invocations", "Sum")
COUNT_KEYS = frozenset(
    figure.key for figure in (*CORE_FIGURES, *SPARSE_FIGURES, LOOKBACK_FIGURE) if figure.is_count
)


@dataclass
class MetricsResult:
    """Figures by function name; a missing key means unknown."""

    figures: dict[str, dict[str, float]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # Functions ListMetrics shows had no Invocations data in the window (known idle).
    idle: set[str] = field(default_factory=set)
    # IncomingBytes by log group name, for the groups queried; a missing key means unknown.
    log_group_bytes: dict[str, float] = field(default_factory=dict)

    def for_function(self, name: str) -> dict[str, float]:
        return self.figures.get(name, {})


@dataclass(frozen=True)
class _Query:
    # The dimension's value: a function name, or a log group name for LOG_INGESTION.
    function: str
    figure: Figure


def _chunks(items: Sequence[_Query], size: int) -> Iterator[Sequence[_Query]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _period_seconds(start: datetime, end: datetime) -> int:
    """The whole window as one period, rounded up to a whole hour (valid at any data age)."""
    seconds = int((end - start).total_seconds())
    return max(3600, -(-seconds // 3600) * 3600)


def functions_with_metric(session: AwsSession, metric: str) -> set[str]:
    """Functions (by name) with data for ``metric`` at the function level in the last 2 weeks."""
    client = session.client("cloudwatch")
    names: set[str] = set()
    paginator = client.get_paginator("list_metrics")
    for page in paginator.paginate(Namespace=NAMESPACE, MetricName=metric):
        for listed in page.get("Metrics", []):
            dimensions = listed.get("Dimensions", [])
            # Skip the per-version/alias ("Resource") and ExecutedVersion series.
            if len(dimensions) == 1 and dimensions[0].get("Name") == "FunctionName":
                names.add(str(dimensions[0]["Value"]))
    return names


def _metric_query(index: int, query: _Query, period: int) -> MetricDataQueryTypeDef:
    return {
        "Id": f"q{index}",
        "MetricStat": {
            "Metric": {
                "Namespace": query.figure.namespace,
                "MetricName": query.figure.metric,
                "Dimensions": [{"Name": query.figure.dimension, "Value": query.function}],
            },
            "Period": period,
            "Stat": query.figure.stat,
        },
        "ReturnData": True,
    }


def _combine(figure: Figure, values: Iterable[float]) -> float | None:
    """Several periods (a window AWS split) folded into one figure."""
    numbers = [float(value) for value in values]
    if not numbers:
        return 0.0 if figure.is_count else None
    if figure.stat == "Sum":
        return sum(numbers)
    if figure.stat == "Maximum":
        return max(numbers)
    if len(numbers) == 1:
        return numbers[0]
    # Averages and percentiles of several periods cannot be combined exactly; the mean of the
    # periods is the honest approximation (there is one period unless AWS splits the window).
    return sum(numbers) / len(numbers)


def get_metric_data(
    session: AwsSession,
    queries: Sequence[_Query],
    start: datetime,
    end: datetime,
    result: MetricsResult,
) -> None:
    """Run ``queries`` 500 to a call; a failed call loses its figures, never the scan."""
    client = session.client("cloudwatch")
    period = _period_seconds(start, end)
    for chunk in _chunks(queries, MAX_QUERIES_PER_CALL):
        by_id = {f"q{index}": query for index, query in enumerate(chunk)}
        values: dict[str, list[float]] = {}
        complete: set[str] = set()
        try:
            paginator = client.get_paginator("get_metric_data")
            pages = paginator.paginate(
                MetricDataQueries=[_metric_query(i, q, period) for i, q in enumerate(chunk)],
                StartTime=start,
                EndTime=end,
                ScanBy="TimestampAscending",
            )
            for page in pages:
                for item in page.get("MetricDataResults", []):
                    query_id = str(item.get("Id"))
                    values.setdefault(query_id, []).extend(item.get("Values", []))
                    if item.get("StatusCode", "Complete") != "InternalError":
                        complete.add(query_id)
        except (ClientError, BotoCoreError) as error:
            sentence = str(translate_error(error, action="read CloudWatch metrics"))
            logger.warning("%s (%d figures unknown)", sentence, len(chunk))
            result.warnings.append(sentence)
            continue
        except Exception as error:  # e.g. an emulator that cannot serialise percentiles
            logger.warning("GetMetricData failed: %r (%d figures unknown)", error, len(chunk))
            result.warnings.append(f"Could not read CloudWatch metrics: {type(error).__name__}.")
            continue
        for query_id, query in by_id.items():
            if query_id not in complete:
                continue
            combined = _combine(query.figure, values.get(query_id, []))
            if combined is not None and query.figure is LOG_INGESTION:
                result.log_group_bytes[query.function] = combined
            elif combined is not None:
                result.figures.setdefault(query.function, {})[query.figure.key] = combined


def collect_metrics(
    session: AwsSession,
    function_names: Iterable[str],
    *,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    list_metrics_above: int = LIST_METRICS_ABOVE,
    log_groups: Mapping[str, str] | None = None,
) -> MetricsResult:
    """Every figure of ``CORE_FIGURES``/``SPARSE_FIGURES`` for every function named, and the
    ``IncomingBytes`` of the log groups in ``log_groups`` (function name -> group) of the
    functions that were active, in the same calls.

    ``ListMetrics`` narrows the queries only for more than ``list_metrics_above`` functions:
    for a few, its five listings cost more calls than they save.
    """
    names = sorted(set(function_names))
    result = MetricsResult()
    if not names:
        return result
    listing_covers_window = start >= (now or end) - LIST_METRICS_HORIZON
    listing_covers_window = listing_covers_window and len(names) > list_metrics_above
    active = set(names)
    sparse: dict[str, set[str]] = {metric: set(names) for metric in SPARSE_METRICS}
    if listing_covers_window:
        try:
            listed = {
                metric: functions_with_metric(session, metric) & set(names)
                for metric in dict.fromkeys((*ACTIVITY_METRICS, *LISTED_BY.values()))
            }
            active = set().union(*(listed[metric] for metric in ACTIVITY_METRICS))
            sparse = {metric: listed[LISTED_BY[metric]] for metric in SPARSE_METRICS}
        except (ClientError, BotoCoreError) as error:
            sentence = str(translate_error(error, action="list CloudWatch metrics"))
            logger.warning("%s; querying every figure of every function", sentence)
            result.warnings.append(sentence)
            active = set(names)
            sparse = {metric: set(names) for metric in SPARSE_METRICS}
        for idle in set(names) - active:
            result.idle.add(idle)
            result.figures[idle] = {key: 0.0 for key in COUNT_KEYS}
    queries = [_Query(name, figure) for name in sorted(active) for figure in CORE_FIGURES]
    queries += [
        _Query(name, figure) for figure in SPARSE_FIGURES for name in sorted(sparse[figure.metric])
    ]
    groups = sorted({group for name, group in (log_groups or {}).items() if name in active})
    queries += [_Query(group, LOG_INGESTION) for group in groups]
    # Percentiles go in calls of their own: a backend that cannot compute them (or a call
    # that fails) then loses only the percentiles.
    plain = [query for query in queries if not query.figure.is_percentile]
    percentiles = [query for query in queries if query.figure.is_percentile]
    get_metric_data(session, plain, start, end, result)
    get_metric_data(session, percentiles, start, end, result)
    _read_lookback(session, names, start, end, result)
    # A function that never emitted a sparse metric has zero of its counts.
    for name in active:
        figures = result.figures.get(name)
        if figures is None:
            continue
        for figure in SPARSE_FIGURES:
            if figure.is_count and name not in sparse[figure.metric]:
                figures.setdefault(figure.key, 0.0)
    return result


def _read_lookback(
    session: AwsSession,
    names: Sequence[str],
    start: datetime,
    end: datetime,
    result: MetricsResult,
) -> None:
    """``invocations_last_30_days`` for functions with no invocations in a shorter window."""
    if end - start >= IDLE_LOOKBACK:
        return  # the window itself says it
    quiet = [name for name in names if result.figures.get(name, {}).get("invocations") == 0]
    if quiet:
        queries = [_Query(name, LOOKBACK_FIGURE) for name in quiet]
        get_metric_data(session, queries, end - IDLE_LOOKBACK, end, result)


def figures_as_stats_fields(figures: Mapping[str, float]) -> dict[str, float | int]:
    """Figures converted to FunctionStats field types (counts are integers)."""
    return {key: round(value) if key in COUNT_KEYS else value for key, value in figures.items()}
