"""Functions at system log level WARN (or above) write no REPORT lines: every rule that needs a
REPORT-line figure says that is why it cannot tell, instead of a bare "no REPORT log lines".

Lambda's log-level filtering: REPORT (``platform.report``) is an INFO system event, so at WARN,
ERROR or FATAL Lambda drops it — tunebot's own template sets ``SystemLogLevel: WARN``.
"""

from __future__ import annotations

import pytest

from recommendations.rules.base import Outcome, Rule
from recommendations.rules.cold_start import FrequentColdStarts
from recommendations.rules.memory import (
    CpuBoundNeedsMoreMemory,
    MemoryOverProvisioned,
    MemoryUnderProvisioned,
)
from recommendations.rules.timeout import TimeoutsHappening
from recommendations.snapshot import InvokeSource, LogFormat, LogLevel
from tests.recommendations.builders import function, run, stats

# What a scan of such a function finds: CloudWatch metrics, nothing from the logs.
METRICS_ONLY = {"invocations": 100_000, "duration_avg_ms": 120.0, "errors": 0}
RULES: list[Rule] = [
    MemoryOverProvisioned(),
    MemoryUnderProvisioned(),
    FrequentColdStarts(),
    TimeoutsHappening(),
]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
@pytest.mark.parametrize("level", [LogLevel.WARN, LogLevel.ERROR])
def test_log_figure_rules_name_the_system_log_level(rule: Rule, level: LogLevel) -> None:
    fn = function(
        log_format=LogFormat.JSON,
        system_log_level=level,
        invoked_by=(InvokeSource.API_GATEWAY,),
        stats_=stats(**METRICS_ONLY),
    )
    assert not fn.writes_report_lines
    result = run(rule, fn)
    assert result.outcome is Outcome.UNKNOWN
    assert result.reason == f"REPORT lines are off (system log level {level.value})"


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.rule_id)
def test_at_info_the_reason_stays_the_missing_lines(rule: Rule) -> None:
    fn = function(
        log_format=LogFormat.JSON,
        system_log_level=LogLevel.INFO,
        invoked_by=(InvokeSource.API_GATEWAY,),
        stats_=stats(**METRICS_ONLY),
    )
    result = run(rule, fn)
    assert result.outcome is Outcome.UNKNOWN
    assert "REPORT lines are off" not in result.reason


def test_percentile_rules_add_the_reason_when_cloudwatch_has_none_either() -> None:
    fn = function(
        memory_mb=512,
        log_format=LogFormat.JSON,
        system_log_level=LogLevel.WARN,
        stats_=stats(**METRICS_ONLY),
    )
    result = run(CpuBoundNeedsMoreMemory(), fn)
    assert result.reason == (
        "median and p90 duration are unknown; REPORT lines are off (system log level WARN)"
    )
