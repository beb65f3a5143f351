"""Properties over generated snapshots: no rule ever crashes, savings keep their promises."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from recommendations.engine import analyze_fleet, analyze_function, rank_key
from recommendations.snapshot import (
    MAX_MEMORY_MB,
    MIN_MEMORY_MB,
    Architecture,
    AsyncInvokeConfig,
    EventSourceKind,
    EventSourceMapping,
    FleetSnapshot,
    FunctionSnapshot,
    FunctionStats,
    InvokeSource,
    Layer,
    NativeBinary,
    PackageType,
    RedrivePolicy,
)
from tests.recommendations.builders import NOW

RUNTIMES = [
    "python3.9",
    "python3.12",
    "python3.13",
    "nodejs22.x",
    "java21",
    "go1.x",
    "ruby3.3",
    "provided.al2023",
    "unknown9",
]


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


counts = st.integers(min_value=0, max_value=10**9)
millis = st.floats(min_value=0, max_value=900_000, allow_nan=False)
ratios = st.floats(min_value=0, max_value=1.5, allow_nan=False)

function_stats = st.builds(
    FunctionStats,
    window_days=st.floats(min_value=0.01, max_value=90),
    invocations=maybe(counts),
    errors=maybe(counts),
    throttles=maybe(counts),
    duration_avg_ms=maybe(millis),
    duration_p50_ms=maybe(millis),
    duration_p90_ms=maybe(millis),
    duration_p99_ms=maybe(millis),
    duration_max_ms=maybe(millis),
    log_sample_invocations=maybe(counts),
    billed_duration_avg_ms=maybe(millis),
    max_memory_used_mb=maybe(st.integers(min_value=0, max_value=MAX_MEMORY_MB)),
    timeouts=maybe(counts),
    out_of_memory=maybe(counts),
    cold_starts=maybe(counts),
    init_duration_avg_ms=maybe(millis),
    async_events_received=maybe(counts),
    async_events_dropped=maybe(counts),
    async_event_age_max_ms=maybe(millis),
    concurrent_executions_max=maybe(st.floats(min_value=0, max_value=10_000)),
    provisioned_concurrency_utilization_max=maybe(ratios),
    provisioned_concurrency_utilization_avg=maybe(ratios),
    iterator_age_max_ms=maybe(millis),
)

mappings = st.builds(
    EventSourceMapping,
    uuid=st.uuids().map(str),
    source_arn=st.sampled_from(
        [
            "arn:aws:sqs:us-east-1:123456789012:q",
            "arn:aws:kinesis:us-east-1:123456789012:stream/s",
            "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-01-01T00:00:00.000",
        ]
    ),
    kind=st.sampled_from(list(EventSourceKind)),
    state=st.sampled_from(["Enabled", "Disabled"]),
    batch_size=maybe(st.integers(min_value=0, max_value=20000)),
    maximum_batching_window_s=maybe(st.integers(min_value=0, max_value=600)),
    function_response_types=st.sampled_from([(), ("ReportBatchItemFailures",)]),
    maximum_retry_attempts=maybe(st.integers(min_value=-1, max_value=10000)),
    bisect_batch_on_function_error=maybe(st.booleans()),
    maximum_record_age_s=maybe(st.integers(min_value=-1, max_value=604800)),
    on_failure_destination=maybe(st.just("arn:aws:sqs:us-east-1:123456789012:f")),
    queue_visibility_timeout_s=maybe(st.integers(min_value=0, max_value=43200)),
    queue_redrive_policy=maybe(
        st.builds(
            RedrivePolicy, dead_letter_target_arn=st.just("arn:x"), max_receive_count=st.just(5)
        )
    ),
    queue_is_fifo=maybe(st.booleans()),
)


@st.composite
def functions(draw: st.DrawFn) -> FunctionSnapshot:
    image = draw(st.booleans())
    return FunctionSnapshot(
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        account_id="123456789012",
        region=draw(st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-3"])),
        runtime=None if image else draw(maybe(st.sampled_from(RUNTIMES))),
        package_type=PackageType.IMAGE if image else PackageType.ZIP,
        architecture=draw(st.sampled_from(list(Architecture))),
        memory_mb=draw(st.integers(min_value=MIN_MEMORY_MB, max_value=MAX_MEMORY_MB)),
        timeout_s=draw(st.integers(min_value=1, max_value=900)),
        ephemeral_storage_mb=draw(st.integers(min_value=512, max_value=10240)),
        code_size_bytes=draw(maybe(st.integers(min_value=0, max_value=300 * 1024 * 1024))),
        layers=tuple(
            draw(
                st.lists(
                    st.builds(
                        Layer,
                        arn=st.just("arn:aws:lambda:us-east-1:123456789012:layer:l:1"),
                        code_size_bytes=maybe(st.integers(min_value=0, max_value=10**8)),
                        compatible_architectures=maybe(
                            st.sampled_from([(), (Architecture.X86_64,), tuple(Architecture)])
                        ),
                    ),
                    max_size=2,
                )
            )
        ),
        native_binaries=draw(
            maybe(st.sampled_from([(), (NativeBinary(path="a.so", machine="x86_64"),)]))
        ),
        reserved_concurrency=draw(maybe(st.integers(min_value=0, max_value=1000))),
        provisioned_concurrency=draw(maybe(st.integers(min_value=0, max_value=500))),
        provisioned_concurrency_qualifier=draw(maybe(st.just("live"))),
        event_source_mappings=tuple(draw(st.lists(mappings, max_size=2))),
        async_config=draw(
            maybe(
                st.builds(
                    AsyncInvokeConfig,
                    maximum_retry_attempts=st.integers(min_value=0, max_value=5),
                    maximum_event_age_s=st.integers(min_value=0, max_value=30000),
                )
            )
        ),
        dead_letter_target_arn=draw(maybe(st.just("arn:aws:sqs:us-east-1:123456789012:dlq"))),
        invoked_by=draw(
            maybe(st.lists(st.sampled_from(list(InvokeSource)), max_size=3).map(tuple))
        ),
        snap_start=draw(st.booleans()),
        stats=draw(maybe(function_stats)),
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(functions())
def test_no_rule_fails_and_savings_keep_their_promises(fn: FunctionSnapshot) -> None:
    report = analyze_function(fn, now=NOW)
    failed = [r.rule_id for r in report.results if r.reason.startswith("the rule failed")]
    assert failed == []
    settings_changed = [rec.change.setting for rec in report.recommendations if rec.change]
    assert len(settings_changed) == len(set(settings_changed))
    for rec in report.recommendations:
        if rec.monthly_savings_usd is not None and rec.monthly_savings_usd < 0:
            assert rec.trade_off is not None
        low, high = rec.monthly_savings_low_usd, rec.monthly_savings_high_usd
        if low is not None and high is not None:
            assert low <= high
        if rec.change is not None:
            assert rec.change.before != rec.change.after
            assert rec.change.function_name == fn.name


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(functions(), max_size=5))
def test_fleet_analysis_never_raises_and_is_ranked(fns: list[FunctionSnapshot]) -> None:
    fleet = FleetSnapshot(
        collected_at=NOW,
        window_start=NOW - timedelta(days=14),
        window_end=NOW,
        functions=tuple(fn.model_copy(update={"name": f"fn-{i}"}) for i, fn in enumerate(fns)),
    )
    report = analyze_fleet(fleet)
    keys = [rank_key(rec) for rec in report.recommendations]
    assert keys == sorted(keys)
    # The fleet's saving is the sum of its functions' plans (a plan that buys safety or speed
    # is negative), to the cent.
    assert report.total_monthly_savings_usd == pytest.approx(
        sum(plan.savings_usd or 0.0 for plan in report.plans), abs=0.005
    )
    assert len(report.functions) == len(fns)
