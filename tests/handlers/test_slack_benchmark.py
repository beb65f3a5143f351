"""Benchmark first in the deployed bot: the real Lambda invoker is wired by default (temporary
copies, never the function itself), entered and left around the run, and capped."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import boto3
import pytest
from moto import mock_aws

import service.benchmarks
from aws.errors import AwsCallError
from aws.invokers.lambda_invoker import LambdaBenchmark
from aws.invokers.simulator import SimulatorInvoker
from aws.session import AwsSession
from aws.store import create_tables
from fakes.services import NOW
from handlers import compose
from handlers.compose import build_services, lambda_copy_invoker
from recommendations.changes import ArchitectureChange
from recommendations.recommendation import Recommendation
from recommendations.snapshot import Architecture, FunctionSnapshot
from recommendations.tuning.observation import Observation, Probe
from service.errors import ServiceError
from service.tunebot import Tunebot
from tests.handlers.test_slack_moto import REGION, TABLE, HalveMemory, _create_function
from tests.handlers.test_slack_wiring import PROFILE


class ScopedSimulator:
    """The simulator behind a context manager, as ``LambdaBenchmark`` is."""

    def __init__(self, fail: bool = False) -> None:
        self.simulator = SimulatorInvoker(PROFILE, seed=7)
        self.fail = fail
        self.entered = False
        self.exited = False
        self.invocations = 0
        self.architectures: set[Architecture] = set()

    def __enter__(self) -> ScopedSimulator:
        self.entered = True
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.exited = True

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]:
        assert self.entered and not self.exited
        self.architectures.update(probe.architecture for probe in probes)
        if self.fail:
            raise AwsCallError("Lambda refused to create the benchmark copy.")
        observations = self.simulator.invoke(probes)
        self.invocations += len(observations)
        return observations


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
    with mock_aws():
        create_tables(TABLE, "idem", client=boto3.client("dynamodb", region_name=REGION))
        _create_function("report-builder", 2048, {"tunebot:managed": "true"})
        yield


def _services(factory: Any) -> Tunebot:
    return build_services(
        session=AwsSession(region=REGION),
        rules=[HalveMemory()],
        scan_packages=False,
        invoker_factory=factory,
        clock=lambda: NOW,
    )


def _stored_recommendation(services: Tunebot) -> str:
    analysis = services.analyze_function("report-builder")
    services.save_recommendations(analysis, requested_by="UALICE1")
    return analysis.report.recommendations[0].id


def test_the_deployed_bot_benchmarks_on_temporary_copies_of_the_function(aws: None) -> None:
    services = build_services(session=AwsSession(region=REGION))
    assert services.benchmarks.invoker_factory is lambda_copy_invoker
    snapshot = services.analyze_function("report-builder").snapshot
    invoker = lambda_copy_invoker(snapshot)
    assert isinstance(invoker, LambdaBenchmark)
    assert invoker.in_place is False
    assert invoker.function_name == snapshot.arn
    assert invoker.function.region == REGION
    assert invoker._should_stop is not None and invoker._should_stop() is False


def test_the_copy_invoker_stops_invoking_when_its_time_budget_is_spent(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compose, "BENCHMARK_TIME_BUDGET_S", -1.0)
    snapshot = build_services(session=AwsSession(region=REGION)).analyze_function("report-builder")
    invoker = lambda_copy_invoker(snapshot.snapshot)
    assert invoker._should_stop is not None and invoker._should_stop() is True


def test_a_benchmark_is_capped_and_its_invoker_left_after_the_run(
    aws: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service.benchmarks, "BENCHMARK_MAX_INVOCATIONS", 12)
    invokers: list[ScopedSimulator] = []

    def factory(fn: FunctionSnapshot) -> ScopedSimulator:
        invokers.append(ScopedSimulator())
        return invokers[-1]

    services = _services(factory)
    outcome = services.benchmark(_stored_recommendation(services), user_id="UALICE1")
    (invoker,) = invokers
    assert invoker.exited
    assert 0 < invoker.invocations <= 12
    assert outcome.invocations == invoker.invocations


def test_a_failed_benchmark_still_leaves_its_invoker_and_is_one_sentence(aws: None) -> None:
    invokers: list[ScopedSimulator] = []

    def factory(fn: FunctionSnapshot) -> ScopedSimulator:
        invokers.append(ScopedSimulator(fail=True))
        return invokers[-1]

    services = _services(factory)
    with pytest.raises(ServiceError, match=r"^Lambda refused to create the benchmark copy\.$"):
        services.benchmark(_stored_recommendation(services), user_id="UALICE1")
    assert invokers[0].exited


def test_a_benchmarks_recommendation_joins_the_functions_latest_analysis(aws: None) -> None:
    services = _services(lambda fn: ScopedSimulator())
    start = datetime.now(UTC)
    services.store._clock = lambda: start
    rec_id = _stored_recommendation(services)
    # The benchmark ends well after the analysis (more than SAME_ANALYSIS later).
    services.store._clock = lambda: start + timedelta(minutes=9)
    outcome = services.benchmark(rec_id, user_id="UALICE1")
    assert outcome.recommendation is not None
    arn = outcome.recommendation.function_arn
    assert sorted(s.recommendation.rule_id for s in services.recommendations_for(arn)) == [
        "TEST-HALF",
        "TUNE-MEM",
    ]
    # A later analysis starts afresh: the older benchmark result is not part of it.
    services.store._clock = lambda: start + timedelta(minutes=30)
    _stored_recommendation(services)
    assert [s.recommendation.rule_id for s in services.recommendations_for(arn)] == ["TEST-HALF"]


def test_an_architecture_change_is_benchmarked_on_both_architectures(aws: None) -> None:
    invokers: list[ScopedSimulator] = []

    def factory(fn: FunctionSnapshot) -> ScopedSimulator:
        invokers.append(ScopedSimulator())
        return invokers[-1]

    services = _services(factory)
    analysis = services.analyze_function("report-builder")
    fn = analysis.snapshot
    arm = analysis.report.recommendations[0].model_copy(
        update={
            "id": "",
            "rule_id": "ARCH-TEST",
            "title": "Switch to arm64",
            "change": ArchitectureChange(
                function_name=fn.name, before=Architecture.X86_64, after=Architecture.ARM64
            ),
        }
    )
    arm = Recommendation.model_validate(arm.model_dump())
    services.store.put_recommendation(arm, fn)
    outcome = services.benchmark(arm.id, user_id="UALICE1")
    assert invokers[0].architectures == {Architecture.X86_64, Architecture.ARM64}
    # The simulated function runs as fast on arm64, which is 20% cheaper per GB-second.
    assert re.search(
        r"arm64 at \d+ MB costs \d+% less per invocation than x86_64 at \d+ MB: apply the "
        r"architecture change to get it\.$",
        outcome.summary,
    ), outcome.summary
    # A memory change is measured on the function's own architecture only.
    invokers.clear()
    services.benchmark(_stored_recommendation(services), user_id="UALICE1")
    assert invokers[0].architectures == {Architecture.X86_64}
