"""One analysis per function revision: every surface sees the same read until it changes."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from fakes.services import NOW, snapshot
from recommendations.recommendation import Recommendation
from recommendations.snapshot import FleetSnapshot, FunctionSnapshot, NativeBinary
from service.analysis import DEFAULT_ANALYSIS_TTL, AnalysisService, analysis_ttl
from service.errors import ServiceError
from service.ports import CachedAnalysis, FunctionRevision, revision_key


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class MemoryCache:
    def __init__(self) -> None:
        self.items: dict[str, CachedAnalysis] = {}

    def get(self, function_arn: str, revision: str, *, now: datetime) -> CachedAnalysis | None:
        found = self.items.get(function_arn)
        if found is None or found.revision != revision or found.expires_at <= now:
            return None
        return found

    def put(self, analysis: CachedAnalysis) -> None:
        self.items[analysis.function_arn] = analysis


class CountingSource:
    """One function; ``read_function`` scans its package (no native binaries found), a fleet
    read does not, as aws.function_source does."""

    def __init__(self, fn: FunctionSnapshot) -> None:
        self.fn = fn
        self.full_reads = 0
        self.fleet_reads = 0
        self.configuration_reads = 0

    def read_function(self, name: str, *, now: datetime) -> FunctionSnapshot | None:
        self.full_reads += 1
        return self.fn.model_copy(update={"native_binaries": ()}) if name == self.fn.name else None

    def read_configuration(self, name: str) -> FunctionSnapshot | None:
        self.configuration_reads += 1
        return self.fn.model_copy(update={"stats": None}) if name == self.fn.name else None

    def function_revision(self, name: str) -> FunctionRevision | None:
        if name != self.fn.name:
            return None
        return FunctionRevision(self.fn.arn, revision_key(self.fn.revision_id, self.fn.code_sha256))

    def read_fleet(self, *, now: datetime) -> FleetSnapshot:
        self.fleet_reads += 1
        return FleetSnapshot(
            collected_at=now,
            window_start=now - timedelta(days=14),
            window_end=now,
            functions=(self.fn,),
        )

    def function_names(self) -> list[str]:
        return [self.fn.name]

    def fleet_function_names(self) -> list[str]:
        return [self.fn.name]

    def function_tags(self, function_arn: str) -> dict[str, str]:
        return dict(self.fn.tags)


class NullStore:
    def put_recommendation(
        self, recommendation: Recommendation, *args: object, **kw: object
    ) -> None:
        return None


def _service(
    fn: FunctionSnapshot, *, ttl: timedelta = DEFAULT_ANALYSIS_TTL
) -> tuple[AnalysisService, CountingSource, MemoryCache, Clock]:
    source, cache, clock = CountingSource(fn), MemoryCache(), Clock()
    service = AnalysisService(source, NullStore(), clock=clock, cache=cache, cache_ttl=ttl)  # type: ignore[arg-type]
    return service, source, cache, clock


def _function(revision: str = "rev-1", **extra: object) -> FunctionSnapshot:
    return snapshot("checkout-api", revision_id=revision, code_sha256="sha-1", memory=2048, **extra)


def _arm64(recs: tuple[Recommendation, ...] | list[Recommendation]) -> Recommendation:
    (rec,) = [r for r in recs if r.rule_id == "ARCH-001"]
    return rec


def test_tune_and_scan_show_the_same_confidence_and_evidence() -> None:
    service, source, _, _ = _service(_function())
    tuned = _arm64(service.analyze_function("checkout-api").report.recommendations)
    scanned = _arm64(service.scan_fleet().recommendations)
    assert tuned.confidence == scanned.confidence
    assert tuned.evidence == scanned.evidence
    assert any(e.source == "package scan" for e in scanned.evidence)
    assert tuned.id == scanned.id
    assert (source.full_reads, source.fleet_reads) == (1, 1)


def test_without_the_cache_the_scan_has_not_read_the_package() -> None:
    # The reproduction the cache fixes: the same recommendation, less certain in a scan.
    source = CountingSource(_function())
    service = AnalysisService(source, NullStore(), clock=Clock())  # type: ignore[arg-type]
    tuned = _arm64(service.analyze_function("checkout-api").report.recommendations)
    scanned = _arm64(service.scan_fleet().recommendations)
    assert tuned.confidence != scanned.confidence


def test_a_repeated_analysis_does_not_read_the_function_again() -> None:
    service, source, _, clock = _service(_function())
    first = service.analyze_function("checkout-api")
    clock.now += timedelta(minutes=10)  # a flapping alarm, ten minutes later
    again = service.analyze_function("checkout-api")
    assert source.full_reads == 1
    assert again.report.recommendations == first.report.recommendations


def test_a_change_that_keeps_the_revision_is_seen_on_a_hit() -> None:
    # Reserved concurrency, event source mappings and log retention leave RevisionId alone:
    # the configuration is read afresh, only statistics and the package scan are reused.
    service, source, _, _ = _service(_function())
    service.analyze_function("checkout-api")
    source.fn = source.fn.model_copy(update={"reserved_concurrency": 7})
    again = service.analyze_function("checkout-api")
    assert (source.full_reads, source.configuration_reads) == (1, 1)
    assert again.snapshot.reserved_concurrency == 7
    assert again.snapshot.stats is not None and again.snapshot.native_binaries == ()


def test_a_new_revision_is_a_miss() -> None:
    service, source, _, _ = _service(_function())
    service.analyze_function("checkout-api")
    source.fn = _function(revision="rev-2")
    service.analyze_function("checkout-api")
    assert source.full_reads == 2


def test_new_code_is_a_miss() -> None:
    service, source, _, _ = _service(_function())
    service.analyze_function("checkout-api")
    source.fn = source.fn.model_copy(update={"code_sha256": "sha-2"})
    service.analyze_function("checkout-api")
    assert source.full_reads == 2


def test_an_expired_analysis_is_read_again() -> None:
    service, source, _, clock = _service(_function(), ttl=timedelta(hours=6))
    service.analyze_function("checkout-api")
    clock.now += timedelta(hours=5, minutes=59)
    service.analyze_function("checkout-api")
    assert source.full_reads == 1
    clock.now += timedelta(minutes=2)
    service.analyze_function("checkout-api")
    assert source.full_reads == 2


def test_a_scans_read_does_not_stand_in_for_a_package_scan() -> None:
    service, source, cache, _ = _service(_function())
    service.scan_fleet()
    assert not next(iter(cache.items.values())).package_read
    tuned = _arm64(service.analyze_function("checkout-api").report.recommendations)
    assert source.full_reads == 1
    assert any(e.source == "package scan" for e in tuned.evidence)


def test_a_package_with_x86_binaries_is_known_to_the_scan_too() -> None:
    binary = NativeBinary(path="lib/fast.so", machine="x86_64")
    fn = _function()
    service, source, _, _ = _service(fn)
    source.read_function = lambda name, *, now: fn.model_copy(  # type: ignore[method-assign]
        update={"native_binaries": (binary,)}
    )
    service.analyze_function("checkout-api")
    assert not [r for r in service.scan_fleet().recommendations if r.rule_id == "ARCH-001"]


def test_a_function_without_a_revision_is_never_cached() -> None:
    service, source, cache, _ = _service(snapshot("checkout-api", memory=2048))
    service.analyze_function("checkout-api")
    service.analyze_function("checkout-api")
    assert source.full_reads == 2 and not cache.items


def test_ttl_zero_turns_the_cache_off() -> None:
    service, source, cache, _ = _service(_function(), ttl=timedelta(0))
    service.analyze_function("checkout-api")
    service.analyze_function("checkout-api")
    assert source.full_reads == 2 and not cache.items


def test_ttl_from_the_environment() -> None:
    assert analysis_ttl({}) == DEFAULT_ANALYSIS_TTL == timedelta(hours=6)
    assert analysis_ttl({"TUNEBOT_ANALYSIS_TTL_HOURS": "0.5"}) == timedelta(minutes=30)
    with pytest.raises(ServiceError):
        analysis_ttl({"TUNEBOT_ANALYSIS_TTL_HOURS": "soon"})
