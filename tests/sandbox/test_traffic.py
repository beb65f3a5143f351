"""Seeded traffic follows the simulator's physics, and logs and metrics tell the same story."""

from __future__ import annotations

import dataclasses
import math
import random
from datetime import UTC, datetime, timedelta

from aws.logs.report_parser import parse_report_log
from recommendations.tuning.physics import expected_duration_ms
from sandbox.fleet import FLEET, by_name
from sandbox.seed import log_batches, log_events, metric_data
from sandbox.traffic import BUCKET, WINDOW, generate, simulate_invocation

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def quiet(name: str, **changes: object) -> object:
    """A demo function without noise or outliers, so every duration is exactly D(m, a)."""
    function = by_name(name)
    profile = function.profile.model_copy(update={"noise_cv": 0.0, "outlier_rate": 0.0})
    return dataclasses.replace(function, profile=profile, **changes)


def test_duration_and_billing_follow_the_physics() -> None:
    function = quiet("checkout-api", cold_start_rate=1.0)
    invocation = simulate_invocation(function, NOW, random.Random(1))
    expected = expected_duration_ms(function.profile, 1024, function.architecture)
    assert invocation.duration_ms == round(expected, 2)
    assert invocation.init_ms == function.profile.init_ms
    # Init is billed for zip functions on managed runtimes since August 2025.
    assert invocation.billed_ms == math.ceil(expected + function.profile.init_ms)
    assert invocation.max_memory_used_mb == 150
    assert invocation.status == "success"


def test_below_the_memory_it_needs_a_function_runs_out_of_memory() -> None:
    function = by_name("notifications-fanout")
    invocation = simulate_invocation(function, NOW, random.Random(2))
    assert (invocation.status, invocation.error_type) == ("error", "Runtime.OutOfMemory")
    assert invocation.max_memory_used_mb == invocation.memory_size_mb == 128


def test_a_slow_invocation_stops_at_the_timeout() -> None:
    function = quiet("pdf-export", timeout_s=1)
    invocation = simulate_invocation(function, NOW, random.Random(3))
    assert (invocation.status, invocation.duration_ms) == ("timeout", 1000.0)


def test_report_lines_parse_back_to_the_same_numbers() -> None:
    buckets = generate(by_name("pdf-export"), NOW, seed=7)
    invocations = [sample for bucket in buckets for sample in bucket.samples]
    text = "\n".join(event["message"] for event in log_events(invocations))
    records = parse_report_log(text)
    assert len(records) == len(invocations)
    by_id = {record.request_id: record for record in records}
    for invocation in invocations:
        record = by_id[invocation.request_id]
        assert record.duration_ms == invocation.duration_ms
        assert record.billed_duration_ms == invocation.billed_ms
        assert record.max_memory_used_mb == invocation.max_memory_used_mb
        assert record.init_duration_ms == invocation.init_ms
        assert record.timed_out == (invocation.status == "timeout")
    assert any(record.timed_out for record in records)


def test_metrics_are_computed_from_the_logged_invocations() -> None:
    function = by_name("legacy-billing")
    buckets = generate(function, NOW, seed=7)
    data = list(metric_data(function, buckets))
    durations = [d for d in data if d["MetricName"] == "Duration"]
    invocations = [d for d in data if d["MetricName"] == "Invocations"]
    busy = [bucket for bucket in buckets if bucket.invocations]
    assert len(durations) == len(invocations) == len(busy)
    for bucket, datum, count in zip(busy, durations, invocations, strict=True):
        stats = datum["StatisticValues"]
        assert stats["SampleCount"] == count["Value"] == bucket.invocations
        mean = sum(s.duration_ms for s in bucket.samples) / len(bucket.samples)
        assert math.isclose(stats["Sum"] / stats["SampleCount"], mean)
        assert stats["Maximum"] == max(s.duration_ms for s in bucket.samples)


def test_traffic_covers_the_window_and_is_reproducible() -> None:
    function = by_name("orders-consumer")
    first = generate(function, NOW, seed=7)
    assert first == generate(function, NOW, seed=7)
    assert first != generate(function, NOW, seed=8)
    assert first[0].start >= NOW - WINDOW
    assert first[-1].start + BUCKET <= NOW
    total = sum(bucket.invocations for bucket in first)
    days = (first[-1].start + BUCKET - first[0].start) / timedelta(days=1)
    assert abs(total / days / function.invocations_per_day - 1) < 0.05


def test_the_cost_anomaly_function_surged_in_the_last_day() -> None:
    function = by_name("image-resizer")
    buckets = generate(function, NOW, seed=7)
    recent = [b.invocations for b in buckets if b.start >= NOW - timedelta(days=1)]
    before = [
        b.invocations
        for b in buckets
        if NOW - timedelta(days=2) <= b.start < NOW - timedelta(days=1)
    ]
    assert sum(recent) / sum(before) > 3


def test_log_batches_respect_putlogevents_limits() -> None:
    invocations = [
        sample
        for function in FLEET[:3]
        for bucket in generate(function, NOW, seed=7)
        for sample in bucket.samples
    ]
    batches = list(log_batches(log_events(invocations)))
    assert sum(len(batch) for batch in batches) == len(invocations)
    for batch in batches:
        assert len(batch) <= 10_000
        assert batch[-1]["timestamp"] - batch[0]["timestamp"] < 24 * 3600 * 1000
        assert [e["timestamp"] for e in batch] == sorted(e["timestamp"] for e in batch)


def test_the_daily_job_runs_once_a_day() -> None:
    buckets = generate(by_name("nightly-cleanup"), NOW, seed=7)
    runs = [b.start for b in buckets if b.invocations]
    assert len(runs) == 14 or len(runs) == 13
    assert all(b.invocations in (0, 1) for b in buckets)
