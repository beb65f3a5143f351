"""The simulator invoker: exact physics without noise, seeded noise, REPORT-equivalent output."""

from __future__ import annotations

import math

import pytest

from aws.invokers.base import observation_from_report
from aws.invokers.simulator import SimulatorInvoker, report_line
from aws.logs.report_parser import parse_report_log
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import ErrorKind, Probe
from recommendations.tuning.physics import expected_duration_ms
from recommendations.tuning.profile import SimulationProfile

X86 = Architecture.X86_64
ARM = Architecture.ARM64
EXACT = SimulationProfile(cpu_ms=500, io_ms=40, memory_used_mb=300, init_ms=250, gc_factor=0.5)


def test_first_invocation_after_a_change_is_cold_and_billed_with_init() -> None:
    invoker = SimulatorInvoker(EXACT)
    first, second = invoker.invoke([Probe(memory_mb=1024, architecture=X86, count=2)])
    duration = expected_duration_ms(EXACT, 1024, X86)
    assert first.cold and first.init_duration_ms == 250.0
    assert first.billed_duration_ms == math.ceil(duration + 250)
    assert not second.cold
    assert second.duration_ms == pytest.approx(duration, abs=0.005)
    assert second.billed_duration_ms == math.ceil(duration)
    assert second.max_memory_used_mb == 300
    # Another memory is a configuration change: cold again; the other architecture is a
    # separate environment.
    assert invoker.invoke([Probe(memory_mb=2048, architecture=X86, count=1)])[0].cold
    assert invoker.invoke([Probe(memory_mb=2048, architecture=ARM, count=1)])[0].cold
    assert not invoker.invoke([Probe(memory_mb=2048, architecture=X86, count=1)])[0].cold


def test_out_of_memory_is_billed_and_stops_the_probe() -> None:
    observations = SimulatorInvoker(EXACT).invoke([Probe(memory_mb=256, architecture=X86, count=5)])
    assert len(observations) == 1
    (oom,) = observations
    assert oom.error is ErrorKind.OUT_OF_MEMORY
    assert oom.max_memory_used_mb == 256
    assert oom.billed_duration_ms > 0


def test_arm64_fails_when_unsupported() -> None:
    profile = EXACT.model_copy(update={"supports_arm": False})
    (failed,) = SimulatorInvoker(profile).invoke([Probe(memory_mb=1024, architecture=ARM, count=3)])
    assert failed.error is ErrorKind.ERROR


def test_timeouts() -> None:
    profile = EXACT.model_copy(update={"timeout_s": 1})
    (timed_out,) = SimulatorInvoker(profile).invoke(
        [Probe(memory_mb=300, architecture=X86, count=3)]
    )
    assert timed_out.error is ErrorKind.TIMEOUT
    assert timed_out.duration_ms == 1000


def test_same_seed_same_samples_and_noise_has_the_profile_shape() -> None:
    noisy = EXACT.model_copy(update={"noise_cv": 0.3, "outlier_rate": 0.1, "outlier_factor": 4})
    probe = [Probe(memory_mb=1024, architecture=X86, count=400)]
    first = SimulatorInvoker(noisy, seed=9).invoke(probe)
    again = SimulatorInvoker(noisy, seed=9).invoke(probe)
    other = SimulatorInvoker(noisy, seed=10).invoke(probe)
    assert first == again
    assert first != other
    durations = [o.duration_ms for o in first[1:]]
    expected = expected_duration_ms(noisy, 1024, X86)
    slow = sum(1 for d in durations if d > 2.5 * expected)
    assert 20 <= slow <= 60  # about 10% outliers at 4×, a few noisy ones beyond 2.5×


def test_report_lines_parse_back_to_the_same_observation() -> None:
    invoker = SimulatorInvoker(EXACT)
    observations = invoker.invoke([Probe(memory_mb=1024, architecture=X86, count=2)])
    observations += invoker.invoke([Probe(memory_mb=256, architecture=X86, count=1)])
    for index, observation in enumerate(observations):
        request_id = f"8f507cfc-0000-4697-b07a-ac58fc914c{index:02d}"
        (record,) = parse_report_log(report_line(observation, request_id))
        assert observation_from_report(record, X86) == observation
