"""Analysing functions and the fleet, and what is known about them: the use cases behind
``/tune``, ``/tune scan``, the App Home's top savings and dismissals."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from recommendations.engine import FleetReport, analyze_fleet, analyze_function, rank_key
from recommendations.recommendation import Recommendation
from recommendations.rules.base import Rule
from recommendations.snapshot import FunctionSnapshot
from recommendations.tuning.recommend import BENCHMARK_RULE_IDS
from service.api import FunctionAnalysis
from service.errors import FunctionNotFoundError, PortError, ServiceError
from service.ports import (
    AnalysisCache,
    CachedAnalysis,
    FunctionSource,
    RecommendationStore,
    revision_key,
)
from service.records import StoredRecommendation

logger = logging.getLogger(__name__)

# Recommendations stored within this span of the newest one belong to the same analysis.
SAME_ANALYSIS = timedelta(minutes=5)
# How many of a fleet scan's best recommendations are stored, for the scan card's "Show all"
# (bot.views.SCAN_LIST_SIZE) and the Home tab.
STORED_FROM_SCAN = 100
# The Home tab reads this many recommendation lists from the store at once.
HOME_READERS = 8
# A function's stored recommendations read for its latest analysis.
STORED_PER_FUNCTION = 200
# How long one read of a function revision serves every surface (TUNEBOT_ANALYSIS_TTL_HOURS):
# long enough that a flapping alarm, the Home tab and a scan reuse it, short enough that the
# statistics stay this week's.
DEFAULT_ANALYSIS_TTL = timedelta(hours=6)


ANALYSIS_TTL_ENV = "TUNEBOT_ANALYSIS_TTL_HOURS"


def analysis_ttl(environ: Mapping[str, str]) -> timedelta:
    """``TUNEBOT_ANALYSIS_TTL_HOURS`` (hours, fractions allowed; 0 turns the cache off)."""
    raw = environ.get(ANALYSIS_TTL_ENV, "").strip()
    if not raw:
        return DEFAULT_ANALYSIS_TTL
    try:
        hours = float(raw)
    except ValueError as error:
        raise ServiceError(f"{ANALYSIS_TTL_ENV} must be a number of hours, not {raw!r}.") from error
    return timedelta(hours=max(0.0, hours))


def utc_now() -> datetime:
    return datetime.now(UTC)


def service_error(error: PortError) -> ServiceError:
    """An adapter's failure as the service reports it: the same sentence and retry verdict."""
    failure = ServiceError(str(error), retryable=error.retryable)
    failure.__cause__ = error
    return failure


def _same_revision(configuration: FunctionSnapshot, cached: CachedAnalysis) -> bool:
    return revision_key(configuration.revision_id, configuration.code_sha256) == cached.revision


def _with_reads_of(configuration: FunctionSnapshot, cached: CachedAnalysis) -> FunctionSnapshot:
    """The configuration as read now, with the cached statistics and package scan: what the
    revision fixes and is costly to read (metrics, Logs Insights, a package download)."""
    if cached.package_read or configuration.native_binaries is None:
        native = cached.snapshot.native_binaries
    else:
        native = configuration.native_binaries
    return configuration.model_copy(
        update={"stats": cached.snapshot.stats, "native_binaries": native}
    )


class AnalysisService:
    """Reads functions through :class:`FunctionSource`, runs the rules, keeps what they found.

    With an :class:`AnalysisCache`, one read of a function revision (metrics, logs and the
    package scan) serves every surface until the revision changes or ``cache_ttl`` passes:
    `/tune`, alerts, the digest and scans then show the same confidence and evidence, and a
    flapping alarm costs one configuration read instead of a new analysis.
    """

    def __init__(
        self,
        functions: FunctionSource,
        store: RecommendationStore,
        *,
        rules: Sequence[Rule] | None = None,
        clock: Callable[[], datetime] = utc_now,
        cache: AnalysisCache | None = None,
        cache_ttl: timedelta = DEFAULT_ANALYSIS_TTL,
    ) -> None:
        self.functions = functions
        self.store = store
        self.rules = rules
        self.clock = clock
        self.cache = cache if cache_ttl > timedelta(0) else None
        self.cache_ttl = cache_ttl

    def analyze_function(self, name: str) -> FunctionAnalysis:
        """Read the function and run the rules; ``FunctionNotFoundError`` with close names."""
        cached = self._cached_function(name)
        if cached is not None:
            try:
                configuration = self.functions.read_configuration(name)
            except PortError as error:
                raise service_error(error) from error
            if configuration is not None and _same_revision(configuration, cached):
                return self._analysis_of(_with_reads_of(configuration, cached), cached.analysed_at)
        now = self.clock()
        try:
            snapshot = self.functions.read_function(name, now=now)
        except PortError as error:
            raise service_error(error) from error
        if snapshot is None:
            raise FunctionNotFoundError(name, self._close_names(name))
        self._remember(snapshot, now, package_read=True)
        return self._analysis_of(snapshot, now)

    def _analysis_of(self, snapshot: FunctionSnapshot, analysed_at: datetime) -> FunctionAnalysis:
        # The rules run at the time of the read, so a cached read gives the same report.
        report = analyze_function(snapshot, now=analysed_at, rules=self.rules)
        return FunctionAnalysis(snapshot=snapshot, report=report)

    def _cached_function(self, name: str) -> CachedAnalysis | None:
        """The full analysis of the function's current revision, when one is cached."""
        if self.cache is None:
            return None
        try:
            current = self.functions.function_revision(name)
        except PortError as error:
            raise service_error(error) from error
        if current is None:
            raise FunctionNotFoundError(name, self._close_names(name))
        if current.revision is None:
            return None
        cached = self._cache_get(current.function_arn, current.revision)
        # A fleet scan's read has no package scan: a one-function analysis reads it whole.
        return cached if cached is not None and cached.package_read else None

    def _cache_get(self, function_arn: str, revision: str) -> CachedAnalysis | None:
        assert self.cache is not None
        try:
            return self.cache.get(function_arn, revision, now=self.clock())
        except PortError as error:
            # The cache saves reads; without it the function is read as it always was.
            logger.warning("analysis cache unavailable: %s", error)
            return None

    def _remember(
        self, snapshot: FunctionSnapshot, analysed_at: datetime, *, package_read: bool
    ) -> None:
        revision = revision_key(snapshot.revision_id, snapshot.code_sha256)
        if self.cache is None or revision is None:
            return
        try:
            self.cache.put(
                CachedAnalysis(
                    function_arn=snapshot.arn,
                    revision=revision,
                    snapshot=snapshot,
                    analysed_at=analysed_at,
                    expires_at=analysed_at + self.cache_ttl,
                    package_read=package_read,
                )
            )
        except PortError as error:
            logger.warning("analysis not cached: %s", error)

    def _close_names(self, name: str) -> list[str]:
        try:
            names = self.functions.function_names()
        except PortError:
            return []
        return difflib.get_close_matches(name, names, n=3, cutoff=0.5)

    def scan_fleet(self) -> FleetReport:
        """Every function tunebot reads; the best recommendations are stored so the scan card's
        buttons work (a button carries only an id); the long tail is left to `tunebot scan`."""
        try:
            fleet = self.functions.read_fleet(now=self.clock())
        except PortError as error:
            raise service_error(error) from error
        if self.cache is not None:
            fleet = fleet.model_copy(update={"functions": tuple(self._share(fleet.functions))})
        report = analyze_fleet(fleet, rules=self.rules, now=self.clock())
        self._store_top(fleet.functions, report)
        return report

    def _share(self, functions: Sequence[FunctionSnapshot]) -> list[FunctionSnapshot]:
        """Each function as the cached read of its revision has it (package scan included,
        when a `/tune` or an alert read it), else as the scan read it, which is then cached."""

        def shared(fn: FunctionSnapshot) -> FunctionSnapshot:
            revision = revision_key(fn.revision_id, fn.code_sha256)
            cached = self._cache_get(fn.arn, revision) if revision is not None else None
            if cached is not None:
                return _with_reads_of(fn, cached)
            self._remember(fn, self.clock(), package_read=False)
            return fn

        with ThreadPoolExecutor(max_workers=HOME_READERS) as pool:
            return list(pool.map(shared, functions))

    def _store_top(self, functions: Sequence[FunctionSnapshot], report: FleetReport) -> None:
        by_arn = {fn.arn: fn for fn in functions}
        ranked = sorted(report.recommendations, key=lambda rec: -(rec.monthly_savings_usd or 0.0))
        for rec in ranked[:STORED_FROM_SCAN]:
            self.store.put_recommendation(rec, by_arn.get(rec.function_arn))

    def save_recommendations(self, analysis: FunctionAnalysis, *, requested_by: str | None) -> None:
        for rec in analysis.report.recommendations:
            self.store.put_recommendation(rec, analysis.snapshot, requested_by=requested_by)

    def latest_recommendations(self, function_arn: str) -> list[StoredRecommendation]:
        """The function's latest analysis as stored, best first."""
        found = self.store.recommendations_for(function_arn, limit=STORED_PER_FUNCTION)
        if not found:
            return []
        # A benchmark's recommendation, stored when the benchmark ends, joins the analysis
        # before it rather than starting a new one of its own.
        analysed = [item for item in found if item.recommendation.rule_id not in BENCHMARK_RULE_IDS]
        newest = max(item.stored_at for item in analysed or found)
        latest = [item for item in found if newest - item.stored_at <= SAME_ANALYSIS]
        return sorted(latest, key=lambda s: rank_key(s.recommendation))

    def top_savings(self, limit: int, *, applied: set[str]) -> list[Recommendation]:
        """The best stored recommendations across the fleet (from `/tune`, scans, alerts and the
        digest), without scanning: the Home tab opens often, a scan reads every function.

        Each function contributes its latest analysis; ``applied`` recommendation ids and
        dismissed recommendations are left out.
        """
        try:
            names = sorted(set(self.functions.fleet_function_names()))
            with ThreadPoolExecutor(max_workers=HOME_READERS) as pool:
                latest = [
                    stored.recommendation
                    for found in pool.map(self.latest_recommendations, names)
                    for stored in found
                ]
        except PortError as error:
            raise service_error(error) from error
        saving = [
            rec for rec in latest if (rec.monthly_savings_usd or 0.0) > 0 and rec.id not in applied
        ]
        dismissed = self.active_dismissals(saving, self.clock())
        ranked = sorted(saving, key=lambda rec: -(rec.monthly_savings_usd or 0.0))
        return [rec for rec in ranked if rec.id not in dismissed][:limit]

    def function_tags(self, function_arn: str) -> dict[str, str]:
        try:
            return self.functions.function_tags(function_arn)
        except PortError as error:
            raise service_error(error) from error

    def dismiss(self, recommendation_id: str, *, actor: str, until: datetime) -> None:
        stored = self.store.get_recommendation(recommendation_id)
        if stored is None:
            raise ServiceError("tunebot no longer knows this recommendation: run /tune again.")
        rec = stored.recommendation
        self.store.dismiss(rec.function, rec.rule_id, until=until, actor=actor, reason=rec.title)

    def active_dismissals(
        self, recommendations: Sequence[Recommendation], now: datetime
    ) -> set[str]:
        """Ids of the recommendations whose rule is dismissed for their function until after now."""
        by_function: dict[str, set[str]] = {}
        dismissed: set[str] = set()
        for rec in recommendations:
            if rec.function not in by_function:
                by_function[rec.function] = {
                    d.rule_id for d in self.store.dismissals(rec.function) if d.until > now
                }
            if rec.rule_id in by_function[rec.function]:
                dismissed.add(rec.id)
        return dismissed
