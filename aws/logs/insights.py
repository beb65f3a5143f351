"""REPORT statistics for many functions at once with CloudWatch Logs Insights.

One query covers up to 50 log groups (the Insights limit) and returns one row per log group,
for both log formats: text ``REPORT`` lines (Insights discovers ``@billedDuration``,
``@maxMemoryUsed``, ``@initDuration``) and JSON ``platform.report`` records
(``record.metrics.*``). Queries run a few at a time and are polled with a bounded wait.

When Insights is not there (denied everywhere, or an emulator that ignores ``stats``), the
result says so and the caller falls back to :mod:`aws.logs.sampling`. A denial that covers only
some log groups (a function logging to a custom ``LoggingConfig.LogGroup`` outside the grant)
costs those groups only: the batch is split, the denied groups are listed in
``InsightsResult.denied`` with the reason, and the rest is read as usual.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.logs.stats import LogStats
from aws.session import (
    AwsSession,
    error_code,
    is_access_denied,
    is_not_found,
    translate_error,
)

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("logs:StartQuery", "logs:GetQueryResults", "logs:StopQuery")

MAX_LOG_GROUPS_PER_QUERY = 50
DEFAULT_MAX_CONCURRENT = 10
DEFAULT_MAX_WAIT_S = 120.0
# The first poll comes soon: a one-function query often finishes within a second, and a
# `/tune` card waits on it. The waits then grow (0.5, 0.75, 1.1, 1.7 … s, at most 15 s), so a
# slow query over 50 log groups still costs only a handful of GetQueryResults calls.
DEFAULT_POLL_INTERVAL_S = 0.5
POLL_GROWTH = 1.5
MAX_POLL_INTERVAL_S = 15.0
BUSY = "busy"
_DONE = frozenset({"Complete", "Failed", "Cancelled", "Timeout", "Unknown"})

# Text lines: Insights parses REPORT fields itself (memory in units of 10^6 bytes).
# JSON records: fields are flattened with dots. Restore duration, statuses and error types
# are parsed from the raw message so one query reads both formats. Old runtimes show a timeout
# only as a separate "Task timed out" line, counted apart and reconciled in ``_row_stats``.
REPORT_STATS_QUERY = r"""
filter @type = "REPORT" or type = "platform.report" or @message like /Task timed out after/
| parse @message /Restore Duration: (?<textRestoreMs>[0-9.]+) ms/
| parse @message /(?<textTimeout>Status: timeout)/
| parse @message /"status"\s*:\s*"(?<jsonTimeout>timeout)"/
| parse @message /(?<timeoutLine>Task timed out after)/
| parse @message /(?<oomMark>Runtime\.OutOfMemory)/
| fields coalesce(@billedDuration, record.metrics.billedDurationMs) as billedMs,
    coalesce(@maxMemoryUsed / 1000000, record.metrics.maxMemoryUsedMB) as usedMb,
    coalesce(@initDuration, record.metrics.initDurationMs) as initMs,
    coalesce(textRestoreMs, record.metrics.restoreDurationMs) as restoreMs,
    coalesce(@duration, record.metrics.durationMs) as durationMs
| stats count(billedMs) as sampleSize,
    avg(billedMs) as billedAvgMs,
    max(usedMb) as usedMaxMb,
    pct(usedMb, 99) as usedP99Mb,
    count(initMs) as initCount,
    avg(initMs) as initAvgMs,
    max(initMs) as initMaxMs,
    count(restoreMs) as restoreCount,
    avg(restoreMs) as restoreAvgMs,
    count(textTimeout) as statusTimeouts,
    count(jsonTimeout) as jsonTimeouts,
    count(timeoutLine) as timeoutLines,
    count(oomMark) as outOfMemory,
    pct(durationMs, 50) as durationP50Ms,
    pct(durationMs, 90) as durationP90Ms,
    pct(durationMs, 99) as durationP99Ms
  by @log
""".strip()


def source_query(prefix: str, query: str = REPORT_STATS_QUERY) -> str:
    """The stats query over every log group whose name starts with ``prefix`` (at most
    10,000 groups; Insights refuses more)."""
    if "'" in prefix or "\\" in prefix:
        raise ValueError(f"unsupported log group prefix: {prefix!r}")
    return f"SOURCE logGroups(namePrefix: ['{prefix}'])\n| {query}"


@dataclass
class InsightsResult:
    """Stats by log group name. ``unavailable``: Insights cannot be used, fall back."""

    # LogStats for REPORT_STATS_QUERY; whatever the runner's ``parse`` returns for another.
    stats: dict[str, Any] = field(default_factory=dict)
    unavailable: bool = False
    # Log groups whose query failed or timed out: their figures stay unknown.
    failed: set[str] = field(default_factory=set)
    # The subset of ``failed`` whose query ran out of time (not worth running again).
    timed_out: set[str] = field(default_factory=set)
    # The subset of ``failed`` the credentials may not query: log group -> why.
    denied: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def _number(row: Mapping[str, str], key: str) -> float | None:
    raw = row.get(key)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        return None


def _count(row: Mapping[str, str], key: str) -> int:
    value = _number(row, key)
    return 0 if value is None else round(value)


def log_group_from_field(value: str) -> str:
    """``@log`` is ``account-id:log-group-name``; the name itself may contain colons."""
    account, separator, name = value.partition(":")
    return name if separator and account.isdigit() else value


def _row_stats(row: Mapping[str, str]) -> LogStats:
    used_max = _number(row, "usedMaxMb")
    used_p99 = _number(row, "usedP99Mb")
    init_count = _count(row, "initCount")
    restore_count = _count(row, "restoreCount")
    return LogStats(
        sample_size=_count(row, "sampleSize"),
        billed_duration_avg_ms=_number(row, "billedAvgMs"),
        max_memory_used_mb=None if used_max is None else round(used_max),
        memory_used_p99_mb=None if used_p99 is None else round(used_p99),
        cold_starts=init_count + restore_count,
        init_duration_avg_ms=_number(row, "initAvgMs") if init_count else None,
        init_duration_max_ms=_number(row, "initMaxMs") if init_count else None,
        restore_duration_avg_ms=_number(row, "restoreAvgMs") if restore_count else None,
        # Newer runtimes write both a Status and the "Task timed out" line: never add them.
        timeouts=max(
            _count(row, "statusTimeouts") + _count(row, "jsonTimeouts"),
            _count(row, "timeoutLines"),
        ),
        out_of_memory=_count(row, "outOfMemory"),
        duration_p50_ms=_number(row, "durationP50Ms"),
        duration_p90_ms=_number(row, "durationP90Ms"),
        duration_p99_ms=_number(row, "durationP99Ms"),
    )


def parse_results(rows: Sequence[Sequence[Mapping[str, object]]]) -> dict[str, LogStats] | None:
    """Rows of GetQueryResults as stats by log group; None when rows are not our stats."""
    parsed: dict[str, LogStats] = {}
    for raw_row in rows:
        row = {str(cell.get("field")): str(cell.get("value", "")) for cell in raw_row}
        if "sampleSize" not in row or "@log" not in row:
            return None
        parsed[log_group_from_field(row["@log"])] = _row_stats(row)
    return parsed


# IAM denials name the resource: "... not authorized to perform: logs:StartQuery on resource:
# arn:aws:logs:us-east-1:123456789012:log-group:/custom/orders:* because ...".
_DENIED_RESOURCE = re.compile(
    r"on resource: arn:[^:\s]+:logs:[^:\s]*:[0-9]*:log-group:(\S+?)(?::\*)?(?:\s|$)"
)


def denied_log_group(message: str, groups: Sequence[str]) -> str | None:
    """The log group of ``groups`` that an AccessDenied message names, if it names one."""
    match = _DENIED_RESOURCE.search(message)
    if match is None:
        return None
    named = match.group(1)
    return named if named in groups else None


@dataclass
class _RunningQuery:
    query_id: str
    groups: list[str]


Rows = Sequence[Sequence[Mapping[str, object]]]


class InsightsRunner:
    """Runs REPORT stats queries over many log groups; clocks are injectable for tests.

    ``query`` and ``parse`` run another per-log-group query the same way (the error types
    of :mod:`aws.logs.error_types`); ``parse`` returns None for rows that are not its own.
    """

    def __init__(
        self,
        session: AwsSession,
        *,
        max_wait_s: float = DEFAULT_MAX_WAIT_S,
        poll_interval_s: float = DEFAULT_POLL_INTERVAL_S,
        max_concurrent: int = DEFAULT_MAX_CONCURRENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        query: str = REPORT_STATS_QUERY,
        parse: Callable[[Rows], Mapping[str, Any] | None] = parse_results,
    ) -> None:
        self._client = session.client("logs")
        self._query = query
        self._parse = parse
        self._max_wait_s = max_wait_s
        self._poll_interval_s = poll_interval_s
        self._max_concurrent = max(1, max_concurrent)
        self._sleep = sleep
        self._clock = clock

    def run(
        self,
        log_groups: Sequence[str],
        start: datetime,
        end: datetime,
        *,
        source_prefix: str | None = None,
    ) -> InsightsResult:
        """Stats for ``log_groups``. With ``source_prefix`` (say ``/aws/lambda/``) and more
        groups under it than one query takes, those groups are read by a single query that
        selects them with ``SOURCE logGroups(namePrefix: [...])``; if that query cannot run,
        they go through batches of 50 like the rest."""
        result = InsightsResult()
        groups = list(dict.fromkeys(log_groups))
        probed = False
        if source_prefix:
            under = [group for group in groups if group.startswith(source_prefix)]
            if len(under) > MAX_LOG_GROUPS_PER_QUERY:
                self._run_wave([under], start, end, result, probe=True, source=source_prefix)
                if result.unavailable:
                    return result
                retry = [g for g in under if g in result.failed and g not in result.timed_out]
                # Only a SOURCE query that ran tells whether Insights answers our stats.
                probed = not retry
                result.failed.difference_update(retry)
                done = set(under) - set(retry)
                groups = [group for group in groups if group not in done]
        batches = [
            groups[i : i + MAX_LOG_GROUPS_PER_QUERY]
            for i in range(0, len(groups), MAX_LOG_GROUPS_PER_QUERY)
        ]
        if not batches:
            return result
        if not probed:
            # The first batch alone tells whether Insights works here before the rest starts.
            self._run_wave(batches[:1], start, end, result, probe=True)
            if not result.unavailable and all(group in result.denied for group in batches[0]):
                # Denied for every group tried: the credentials may not use Insights at all.
                result.unavailable = True
                result.warnings.append(result.denied[batches[0][0]])
            if result.unavailable:
                return result
            batches = batches[1:]
        for i in range(0, len(batches), self._max_concurrent):
            wave = batches[i : i + self._max_concurrent]
            self._run_wave(wave, start, end, result, probe=False)
        return result

    def _start(
        self,
        groups: list[str],
        start: datetime,
        end: datetime,
        result: InsightsResult,
        source: str | None = None,
    ) -> list[_RunningQuery] | str | None:
        """Start one query; a missing or denied log group splits the batch. None: Insights
        unusable; ``BUSY``: too many queries running in the account, try again later."""
        arguments: dict[str, Any] = {
            "startTime": int(start.timestamp()),
            "endTime": int(end.timestamp()),
        }
        if source:
            arguments["queryString"] = source_query(source, self._query)
        else:
            arguments["logGroupNames"] = groups
            arguments["queryString"] = self._query
        try:
            response = self._client.start_query(**arguments)
        except ClientError as error:
            if error_code(error) == "LimitExceededException":
                return BUSY
            if is_not_found(error) and not source:
                if len(groups) == 1:
                    logger.info("log group %s does not exist", groups[0])
                    return []
                return self._split(groups, start, end, result)
            sentence = str(translate_error(error, action="run a Logs Insights query"))
            if is_access_denied(error) and not source:
                return self._denied(groups, start, end, result, error, sentence)
            # A refused SOURCE query (denied: it needs the grant on every log group it may
            # select; or too many groups) is retried by the caller in batches of 50.
            result.warnings.append(sentence)
            logger.warning("%s", sentence)
            result.failed.update(groups)
            return []
        except BotoCoreError as error:
            result.warnings.append(str(translate_error(error, action="run a Logs Insights query")))
            result.failed.update(groups)
            return []
        except Exception as error:
            if not source:
                raise
            # SOURCE is newer than the rest of Insights: an emulator (or a partition without
            # it) may fail in any way. The groups then go through batches instead.
            logger.info("a SOURCE query could not start: %r", error)
            result.failed.update(groups)
            return []
        return [_RunningQuery(str(response["queryId"]), groups)]

    def _denied(
        self,
        groups: list[str],
        start: datetime,
        end: datetime,
        result: InsightsResult,
        error: ClientError,
        sentence: str,
    ) -> list[_RunningQuery] | str | None:
        """Only the denied groups lose their figures. The denial usually names the log group
        it refused, which is then left out at once; otherwise the batch is halved."""
        message = str(error.response.get("Error", {}).get("Message", ""))
        named = denied_log_group(message, groups) if len(groups) > 1 else groups[0]
        if named is None:
            return self._split(groups, start, end, result)
        logger.info("Logs Insights may not read %s: %s", named, sentence)
        result.denied[named] = sentence
        result.failed.add(named)
        rest = [group for group in groups if group != named]
        if not rest:
            return []
        return self._start(rest, start, end, result)

    def _split(
        self, groups: list[str], start: datetime, end: datetime, result: InsightsResult
    ) -> list[_RunningQuery] | None:
        middle = len(groups) // 2
        halves: list[_RunningQuery] = []
        for half in (groups[:middle], groups[middle:]):
            started = self._start(half, start, end, result)
            if started is None:
                return None
            if isinstance(started, str):  # busy while splitting: give up on this half
                result.failed.update(half)
                continue
            halves.extend(started)
        return halves

    def _run_wave(
        self,
        batches: Sequence[list[str]],
        start: datetime,
        end: datetime,
        result: InsightsResult,
        *,
        probe: bool,
        source: str | None = None,
    ) -> None:
        pending = list(batches)
        running: list[_RunningQuery] = []
        deadline = self._clock() + self._max_wait_s
        interval = self._poll_interval_s
        while pending or running:
            waiting: list[list[str]] = []
            for batch in pending:
                started = self._start(batch, start, end, result, source)
                if started is None:
                    result.unavailable = True
                    return
                if isinstance(started, str):
                    # The account's concurrent-query limit (shared with dashboards and other
                    # users) is reached: start this batch when a slot frees up.
                    waiting.append(batch)
                    continue
                running.extend(started)
            pending = waiting
            if not pending and not running:
                return
            # Growing waits: a query over 50 log groups takes seconds to tens of seconds, and
            # every poll of every query is an API call against the scan's budget.
            self._sleep(interval)
            interval = min(interval * POLL_GROWTH, MAX_POLL_INTERVAL_S)
            still_running: list[_RunningQuery] = []
            for query in running:
                outcome = self._poll(query, result)
                if outcome == "unsupported" and probe:
                    result.unavailable = True
                    return
                if outcome == "running":
                    still_running.append(query)
            running = still_running
            if (running or pending) and self._clock() >= deadline:
                for query in running:
                    self._stop(query)
                    result.failed.update(query.groups)
                    result.timed_out.update(query.groups)
                for batch in pending:
                    result.failed.update(batch)
                    result.timed_out.update(batch)
                result.warnings.append(
                    f"{len(running) + len(pending)} Logs Insights queries did not finish within "
                    f"{self._max_wait_s:.0f} s; their log figures are unknown."
                )
                return

    def _poll(self, query: _RunningQuery, result: InsightsResult) -> str:
        try:
            response = self._client.get_query_results(queryId=query.query_id)
        except (ClientError, BotoCoreError) as error:
            result.warnings.append(str(translate_error(error, action="read Logs Insights results")))
            result.failed.update(query.groups)
            return "failed"
        status = str(response.get("status", "Unknown"))
        if status not in _DONE:
            return "running"
        if status != "Complete":
            result.warnings.append(f"A Logs Insights query ended as {status}.")
            result.failed.update(query.groups)
            return "failed"
        parsed = self._parse(response.get("results", []))
        if parsed is None:
            return "unsupported"
        result.stats.update(parsed)
        return "done"

    def _stop(self, query: _RunningQuery) -> None:
        try:
            self._client.stop_query(queryId=query.query_id)
        except (ClientError, BotoCoreError):
            logger.debug("could not stop query %s", query.query_id, exc_info=True)
