"""Adaptive search: a few probes, a parametric duration model, resampling to know when to stop.

One round:

1. Discovery. Each architecture is probed once (one cold and four warm invocations) at the
   current memory. Max Memory Used sets the floor (10% headroom); out-of-memory or timeouts
   move the probe up, other errors at two memories rule the architecture out.
2. Design. Each architecture gets probes at the floor (raised to where the function finishes
   within its timeout), at one vCPU (1769 MB, or 1.5 × the floor when that is higher) and
   between them (for speed or a duration limit also at 4 and 10 GB; for balanced and
   fastest-within also at two vCPUs, so the model can see the parallel share).
3. Model. ``model.fit_joint`` fits robust centres of the warm durations of every architecture
   at once (shared waiting time and shape, CPU work scaled per architecture). Candidate
   memories (1% apart, inside a trust region of 1.6 × the largest probe) are priced with the
   fitted model and the objective picks one configuration over all architectures.
4. Sequential test. A parametric bootstrap refits the models to perturbed centres; for each
   resample we ask how much worse our choice is than that resample's best. When, in 80% of
   resamples, it is within 1%, and the choice sits next to a probed memory, the search stops.
   Otherwise the next round probes the choice itself, or samples where the resamples put the
   best memory elsewhere and next to the choice, or probes the rival architecture.

Cold invocations only tell memory use and init time; they never enter the duration model.
Everything is derived from the observations, so a state saved between rounds resumes exactly.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from recommendations.pricing import RegionPrices
from recommendations.recommendation import Confidence
from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, Architecture
from recommendations.tuning.model import (
    CENTRE_VARIANCE_FACTOR,
    DurationModel,
    FitPoint,
    basis,
    fit_joint,
    relative_noise_variance,
)
from recommendations.tuning.objective import (
    Candidate,
    Objective,
    Strategy,
    choose,
    shortfall,
)
from recommendations.tuning.observation import ErrorKind, Probe
from recommendations.tuning.physics import MB_PER_VCPU, cost_for_duration, minimum_memory_mb
from recommendations.tuning.request import TuningState
from recommendations.tuning.samples import (
    ConfigSamples,
    cheapest_measured,
    group,
    peak_memory_used_mb,
    quantile,
)

WARM_PER_CONFIG = 4
TOP_UP_WARM = 4
MIN_WARM_TO_FIT = 3
MAX_WARM_PER_CONFIG = 24
DEFAULT_MAX_PER_ARCHITECTURE = 42
NOISY_EXTRA_PER_ARCHITECTURE = 24
BOOTSTRAPS = 30
SETTLE_QUANTILE = 0.8
SETTLE_SHORTFALL = 0.01
# "high" confidence: this share of resamples within SETTLE_SHORTFALL (calibrated in
# benchmarks/tuning.py so that ≥ 95% of high-confidence runs are within 1% of the optimum).
HIGH_QUANTILE = 0.95
# Share of resamples preferring another place (or architecture) that earns it a probe.
RIVAL_SHARE = 0.15
NEAR = 0.10  # memories within 10% count as the same place
TRUST_GROWTH = 1.6
GRID_STEP = 1.01
TIMEOUT_MARGIN = 0.9
_HARD_LIMITS = (ErrorKind.OUT_OF_MEMORY, ErrorKind.TIMEOUT)


def _near(a: float, b: float) -> bool:
    return abs(a / b - 1) <= NEAR


def memory_grid(low: int, high: int) -> list[int]:
    """Integer memories from ``low`` to ``high``, 1% apart, plus one vCPU when inside."""
    values = {low, high}
    value = float(low)
    while value < high:
        values.add(round(value))
        value *= GRID_STEP
    if low <= MB_PER_VCPU <= high:
        values.add(MB_PER_VCPU)
    return sorted(v for v in values if low <= v <= high)


@dataclass
class ArchitectureFit:
    architecture: Architecture
    lower_mb: int
    upper_mb: int
    points: list[ConfigSamples]
    model: DurationModel
    mean_factor: float
    p99_factor: float
    grid: list[int]
    rows: list[tuple[float, float, float, float, float]]
    excluded: set[int] = field(default_factory=set)
    timeout_ms: float | None = None

    def too_slow(self, centre_ms: float) -> bool:
        """Predicted to come within 10% of the timeout at its p99."""
        return self.timeout_ms is not None and centre_ms * self.p99_factor >= (
            TIMEOUT_MARGIN * self.timeout_ms
        )

    def candidates(self, model: DurationModel, prices: RegionPrices) -> list[Candidate]:
        result = []
        for memory, row in zip(self.grid, self.rows, strict=True):
            if memory in self.excluded:
                continue
            centre = model.duration_from_row(row)
            if self.too_slow(centre):
                continue
            duration = centre * self.mean_factor
            result.append(
                Candidate(
                    memory_mb=memory,
                    architecture=self.architecture,
                    duration_ms=duration,
                    cost_usd=cost_for_duration(duration, memory, self.architecture, prices),
                    duration_p99_ms=centre * self.p99_factor,
                )
            )
        return result

    def estimate(self, memory_mb: int, prices: RegionPrices) -> Candidate:
        centre = self.model.duration_ms(memory_mb)
        duration = centre * self.mean_factor
        return Candidate(
            memory_mb=memory_mb,
            architecture=self.architecture,
            duration_ms=duration,
            cost_usd=cost_for_duration(duration, memory_mb, self.architecture, prices),
            duration_p99_ms=centre * self.p99_factor,
        )


@dataclass
class Analysis:
    floor_mb: int
    memory_used_mb: int | None
    fits: dict[Architecture, ArchitectureFit]
    infeasible: dict[Architecture, str]
    choice: Candidate | None = None
    shortfall_quantile: float = math.inf
    shortfall_high_quantile: float = math.inf
    validated: bool = False
    at_edge: bool = False
    # Share of resamples whose best configuration used each architecture.
    architecture_votes: dict[Architecture, float] = field(default_factory=dict)
    resampled_choices: list[Candidate] = field(default_factory=list)
    # fastest-within: the cheapest configuration measured, whose cost bounds the choice's.
    cheapest: ConfigSamples | None = None
    cheapest_usd: float | None = None
    # fastest-within: nothing predicted under (1 + X) × the cheapest measured cost.
    over_ceiling: bool = False
    ceiling_binds: bool = False

    @property
    def settled(self) -> bool:
        return (
            self.choice is not None
            and self.validated
            and not self.at_edge
            and not self.over_ceiling
            and self.shortfall_quantile <= SETTLE_SHORTFALL
        )

    def confidence(self) -> Confidence:
        if self.choice is None:
            return Confidence.LOW
        if self.settled and self.shortfall_high_quantile <= SETTLE_SHORTFALL:
            return Confidence.HIGH
        if self.settled:
            return Confidence.MEDIUM
        if self.validated and self.shortfall_quantile <= 0.05:
            return Confidence.MEDIUM
        return Confidence.LOW


def floor_mb(state: TuningState) -> tuple[int, int | None]:
    """The smallest memory worth trying (10% headroom, above any out-of-memory) and the peak."""
    used = peak_memory_used_mb(state.observations)
    floor = MIN_MEMORY_MB if used is None else minimum_memory_mb(used)
    for o in state.observations:
        if o.error is ErrorKind.OUT_OF_MEMORY:
            floor = max(floor, o.memory_mb + 1)
    return min(floor, MAX_MEMORY_MB), used


def timeout_ms(state: TuningState) -> float | None:
    """The function's timeout: the request's, or what timed-out invocations ran for."""
    seen = [o.duration_ms for o in state.observations if o.error is ErrorKind.TIMEOUT]
    known = [t for t in (state.request.timeout_ms, min(seen, default=None)) if t]
    return min(known) if known else None


def _architecture_groups(
    groups: dict[tuple[int, Architecture], ConfigSamples], architecture: Architecture
) -> list[ConfigSamples]:
    return [g for g in groups.values() if g.architecture is architecture]


def _lower_bound(configs: list[ConfigSamples], floor: int) -> int:
    """Above every memory that ran out of memory or time (less memory is never faster)."""
    lower = floor
    for g in configs:
        if any(e in (ErrorKind.OUT_OF_MEMORY, ErrorKind.TIMEOUT) for e in g.errors):
            lower = max(lower, g.memory_mb + 1)
    return min(lower, MAX_MEMORY_MB)


def infeasible_reason(configs: list[ConfigSamples]) -> str | None:
    if any(g.successes for g in configs):
        return None
    plain_errors = [g for g in configs if ErrorKind.ERROR in g.errors]
    if len(plain_errors) >= 2:
        return "every invocation failed"
    limit_hits = [g for g in configs if g.failed and g.memory_mb >= MAX_MEMORY_MB]
    if limit_hits:
        return "it fails even at the largest memory size"
    return None


def _discovery_probe(
    state: TuningState,
    architecture: Architecture,
    configs: list[ConfigSamples],
    floor: int,
    groups: dict[tuple[int, Architecture], ConfigSamples],
) -> Probe | None:
    request = state.request
    if not configs:
        start = request.current_memory_mb
        if architecture is not request.current_architecture:
            others = [g.memory_mb for g in groups.values() if g.successes]
            if others:
                start = others[0]
        memory = min(MAX_MEMORY_MB, max(start, floor))
        return Probe(memory_mb=memory, architecture=architecture, count=1 + WARM_PER_CONFIG)
    last = configs[-1]
    if last.successes:
        return None
    memory = min(MAX_MEMORY_MB, max(2 * last.memory_mb, floor))
    if memory == last.memory_mb:
        memory = MB_PER_VCPU if last.memory_mb != MB_PER_VCPU else MIN_MEMORY_MB
    return Probe(memory_mb=memory, architecture=architecture, count=1 + WARM_PER_CONFIG)


def _design_points(lower: int, objective: Objective) -> list[int]:
    upper = min(MAX_MEMORY_MB, max(MB_PER_VCPU, int(lower * 1.5)))
    points = [lower]
    if upper > lower * (1 + NEAR):
        points.append(upper)
        middle = round(math.sqrt(lower * upper))
        if middle > lower * (1 + NEAR) and middle < upper * (1 - NEAR):
            points.append(middle)
    if objective.strategy is Strategy.SPEED or objective.max_duration_ms is not None:
        points.extend(p for p in (4096, MAX_MEMORY_MB) if p > upper * (1 + NEAR))
    elif objective.strategy is not Strategy.COST:
        # Balanced and fastest-within can pay for more vCPUs; without a probe above one vCPU
        # the model cannot see the parallel share, and the trust region never reaches it.
        points.extend(p for p in (2 * MB_PER_VCPU,) if p > upper * (1 + NEAR))
    return points


def _fitted_points(configs: list[ConfigSamples], floor: int) -> list[ConfigSamples]:
    return [g for g in configs if len(g.warm_durations) >= MIN_WARM_TO_FIT and g.memory_mb >= floor]


def _architecture_fit(
    architecture: Architecture,
    configs: list[ConfigSamples],
    points: list[ConfigSamples],
    model: DurationModel,
    floor: int,
    memory_used: float,
) -> ArchitectureFit:
    lower = _lower_bound(configs, floor)
    probed = max(g.memory_mb for g in points)
    upper = min(MAX_MEMORY_MB, max(lower, int(probed * TRUST_GROWTH)))
    grid = memory_grid(lower, upper)
    ratios = [d / model.duration_ms(g.memory_mb) for g in points for d in g.warm_durations]
    excluded = {
        m
        for g in configs
        if ErrorKind.ERROR in g.errors
        for m in grid
        if abs(m / g.memory_mb - 1) <= 0.03
    }
    return ArchitectureFit(
        architecture=architecture,
        lower_mb=lower,
        upper_mb=upper,
        points=points,
        model=model,
        mean_factor=sum(ratios) / len(ratios),
        p99_factor=quantile(ratios, 0.99),
        grid=grid,
        rows=[basis(m, memory_used) for m in grid],
        excluded=excluded,
    )


def _pool_spread_factors(analysis: Analysis) -> None:
    """One mean and p99 factor for every architecture.

    Outliers come from the code and its dependencies, not the CPU; with a handful of samples
    per architecture, per-architecture factors would let the luck of the draw (two slow
    outliers here, none there) decide the architecture.
    """
    ratios = [
        d / f.model.duration_ms(g.memory_mb)
        for f in analysis.fits.values()
        for g in f.points
        for d in g.warm_durations
    ]
    if not ratios:
        return
    mean_factor = sum(ratios) / len(ratios)
    p99_factor = quantile(ratios, 0.99)
    for f in analysis.fits.values():
        f.mean_factor = mean_factor
        f.p99_factor = p99_factor


def _pooled_noise(points: dict[Architecture, list[ConfigSamples]]) -> float:
    return relative_noise_variance([g.warm_durations for group in points.values() for g in group])


def robust_centre(durations: list[float], noise_variance: float) -> float:
    """Geometric mean of the samples near the median (within 3 pooled standard deviations).

    Noise is multiplicative, so logs are where it is symmetric; slow outliers are dropped
    whatever their number (up to half), which a fixed trim cannot promise with five samples.
    """
    logs = sorted(math.log(max(d, 1e-3)) for d in durations)
    n = len(logs)
    middle = logs[n // 2] if n % 2 else (logs[n // 2 - 1] + logs[n // 2]) / 2
    reach = max(3 * math.sqrt(noise_variance), 0.05)
    kept = [x for x in logs if abs(x - middle) <= reach] or [middle]
    return math.exp(sum(kept) / len(kept))


def _fit_point(g: ConfigSamples, noise_variance: float) -> FitPoint:
    values = g.warm_durations
    return FitPoint(
        memory_mb=g.memory_mb,
        centre_ms=robust_centre(values, noise_variance),
        count=len(values),
    )


def analyse(state: TuningState, prices: RegionPrices) -> Analysis:
    """Fit, choose and resample. Deterministic for a given state."""
    request = state.request
    groups = group(state.observations)
    floor, used = floor_mb(state)
    analysis = Analysis(floor_mb=floor, memory_used_mb=used, fits={}, infeasible={})
    points: dict[Architecture, list[ConfigSamples]] = {}
    configs_of: dict[Architecture, list[ConfigSamples]] = {}
    for architecture in request.architectures:
        configs = _architecture_groups(groups, architecture)
        reason = infeasible_reason(configs)
        if reason:
            analysis.infeasible[architecture] = reason
            continue
        fitted = _fitted_points(configs, floor)
        if used is not None and fitted:
            points[architecture] = fitted
            configs_of[architecture] = configs
    if used is not None and points:
        noise = _pooled_noise(points)
        models = fit_joint(
            {a: [_fit_point(g, noise) for g in group] for a, group in points.items()}, used, noise
        )
        for architecture, model in models.items():
            analysis.fits[architecture] = _architecture_fit(
                architecture, configs_of[architecture], points[architecture], model, floor, used
            )
        _pool_spread_factors(analysis)
        limit = timeout_ms(state)
        for f in analysis.fits.values():
            f.timeout_ms = limit
    if not analysis.fits:
        return analysis
    offered = [c for f in analysis.fits.values() for c in f.candidates(f.model, prices)]
    if request.objective.strategy is Strategy.FASTEST_WITHIN:
        found = cheapest_measured(
            (
                g
                for g in groups.values()
                if g.architecture in analysis.fits and g.memory_mb >= floor
            ),
            prices,
        )
        if found is not None:
            analysis.cheapest, analysis.cheapest_usd = found
    choice = choose(offered, request.objective, analysis.cheapest_usd)
    if analysis.cheapest_usd is not None and choice != choose(offered, request.objective):
        # The measured ceiling binds: the cheapest measured may just have been lucky, and
        # more samples there tell (until it has its fill, see ``_probe_or_top_up``).
        analysis.ceiling_binds = True
    if choice is None and analysis.cheapest_usd is not None and offered:
        # Nothing is predicted under the measured ceiling: measure more (the cheapest
        # measured may just have been lucky) and meanwhile lean to the cheapest.
        analysis.over_ceiling = True
        choice = choose(offered, Objective(strategy=Strategy.COST))
    analysis.choice = choice
    if choice is None:
        return analysis
    chosen_fit = analysis.fits[choice.architecture]
    analysis.validated = any(
        _near(g.memory_mb, choice.memory_mb) and len(g.warm_durations) >= WARM_PER_CONFIG
        for g in chosen_fit.points
    )
    analysis.at_edge = (
        chosen_fit.upper_mb < MAX_MEMORY_MB and choice.memory_mb >= chosen_fit.upper_mb * 0.97
    )
    _resample(state, analysis, prices)
    return analysis


def _resample(state: TuningState, analysis: Analysis, prices: RegionPrices) -> None:
    choice = analysis.choice
    assert choice is not None
    rng = random.Random(f"{state.request.seed}:{len(state.observations)}")
    objective = state.request.objective
    shortfalls: list[float] = []
    votes: dict[Architecture, int] = {}
    noise = _pooled_noise({a: f.points for a, f in analysis.fits.items()})
    # Parametric bootstrap: the fitted curves plus noise of the pooled size, which is better
    # estimated than each probe's own spread from a handful of samples.
    sd = math.sqrt(noise * CENTRE_VARIANCE_FACTOR)
    memory_used = next(iter(analysis.fits.values())).model.memory_used_mb
    centres = {a: [_fit_point(g, noise) for g in f.points] for a, f in analysis.fits.items()}
    # Each probe's spread is its sampling error, or its misfit when the model misses it by
    # more: a model of the wrong shape must not look certain.
    spread = {
        (a, p.memory_mb): max(
            sd / math.sqrt(p.count), abs(math.log(p.centre_ms / f.model.duration_ms(p.memory_mb)))
        )
        for a, f in analysis.fits.items()
        for p in centres[a]
    }
    for _ in range(BOOTSTRAPS):
        resampled = {
            architecture: [
                FitPoint(
                    memory_mb=p.memory_mb,
                    centre_ms=f.model.duration_ms(p.memory_mb)
                    * math.exp(rng.gauss(0.0, spread[(architecture, p.memory_mb)])),
                    count=p.count,
                )
                for p in centres[architecture]
            ]
            for architecture, f in analysis.fits.items()
        }
        models = fit_joint(resampled, memory_used, noise)
        offered: list[Candidate] = []
        mine: Candidate | None = None
        for architecture, f in analysis.fits.items():
            model = models.get(architecture) or f.model
            candidates = f.candidates(model, prices)
            offered.extend(candidates)
            if architecture is choice.architecture:
                mine = next((c for c in candidates if c.memory_mb == choice.memory_mb), None)
        best = choose(offered, objective, analysis.cheapest_usd)
        if best is None or mine is None:
            shortfalls.append(1.0)
            continue
        votes[best.architecture] = votes.get(best.architecture, 0) + 1
        analysis.resampled_choices.append(best)
        shortfalls.append(max(0.0, shortfall(mine, best, objective, offered)))
    analysis.shortfall_quantile = quantile(shortfalls, SETTLE_QUANTILE)
    analysis.shortfall_high_quantile = quantile(shortfalls, HIGH_QUANTILE)
    analysis.architecture_votes = {a: n / BOOTSTRAPS for a, n in votes.items()}


def _used_at(state: TuningState, architecture: Architecture) -> int:
    return sum(1 for o in state.observations if o.architecture is architecture)


def _cap_per_architecture(state: TuningState) -> int:
    """Invocations one architecture may use: more when durations are noisy.

    Five samples pin a curve down to ~3% at 5% noise but only to ~20% at 35% noise, so a
    function with more than 15% noise earns up to ``NOISY_EXTRA_PER_ARCHITECTURE`` more.
    """
    groups = [g for g in group(state.observations).values() if len(g.warm_durations) >= 3]
    if not groups:
        return DEFAULT_MAX_PER_ARCHITECTURE
    sd = math.sqrt(relative_noise_variance([g.warm_durations for g in groups]))
    extra = min(NOISY_EXTRA_PER_ARCHITECTURE, int(sd * 100))
    return DEFAULT_MAX_PER_ARCHITECTURE + (extra if sd > 0.15 else 0)


def _probe_or_top_up(
    memory: int, architecture: Architecture, configs: list[ConfigSamples]
) -> Probe | None:
    near = [g for g in configs if _near(g.memory_mb, memory) and not g.failed]
    if near:
        target = min(near, key=lambda g: abs(math.log(g.memory_mb / memory)))
        if len(target.warm_durations) >= MAX_WARM_PER_CONFIG:
            return None
        return Probe(memory_mb=target.memory_mb, architecture=architecture, count=1 + TOP_UP_WARM)
    return Probe(memory_mb=memory, architecture=architecture, count=1 + WARM_PER_CONFIG)


def plan_adaptive(state: TuningState, prices: RegionPrices) -> tuple[list[Probe], str]:
    """The next probes, or none and the reason the search is over."""
    request = state.request
    groups = group(state.observations)
    floor, _used = floor_mb(state)
    live: list[Architecture] = []
    probes: list[Probe] = []
    for architecture in request.architectures:
        configs = _architecture_groups(groups, architecture)
        if infeasible_reason(configs):
            continue
        live.append(architecture)
        probe = _discovery_probe(state, architecture, configs, floor, groups)
        if probe is not None:
            probes.append(probe)
    if not live:
        return [], "no architecture can run the function"
    if not probes:
        probes = _design_probes(state, live, groups, floor)
    if not probes:
        analysis = analyse(state, prices)
        if analysis.choice is None:
            return [], "no configuration meets the objective"
        if analysis.settled:
            return [], "the choice is clear"
        probes = _refinement_probes(analysis, groups, request.objective, prices)
    probes = _within_architecture_caps(state, probes)
    if not probes:
        return [], "the search used its invocation allowance"
    return probes, ""


def _fast_enough_floor(configs: list[ConfigSamples], lower: int, limit: float | None) -> int:
    """Raise the design's floor to where the function can finish within its timeout.

    Below one vCPU duration grows at most in proportion to 1 / memory (apart from memory
    pressure), so a probe that took d ms at m MB needs at least m × d / (0.9 × timeout) MB.
    """
    if limit is None:
        return lower
    needed = lower
    for g in configs:
        warm = g.warm_durations
        if g.memory_mb <= MB_PER_VCPU and len(warm) >= MIN_WARM_TO_FIT:
            centre = sorted(warm)[len(warm) // 2]
            needed = max(needed, math.ceil(g.memory_mb * centre / (TIMEOUT_MARGIN * limit)))
    return min(needed, MAX_MEMORY_MB)


def _design_probes(
    state: TuningState,
    live: list[Architecture],
    groups: dict[tuple[int, Architecture], ConfigSamples],
    floor: int,
) -> list[Probe]:
    probes: list[Probe] = []
    limit = timeout_ms(state)
    for architecture in live:
        configs = _architecture_groups(groups, architecture)
        lower = _fast_enough_floor(configs, _lower_bound(configs, floor), limit)
        for point in _design_points(lower, state.request.objective):
            # The floor must be covered from above: below it is out of memory or headroom.
            # A memory that ran out of time or memory rules out the points below it.
            covered = [
                g
                for g in configs
                if (_near(g.memory_mb, point) and (point != lower or g.memory_mb >= lower))
                or (g.memory_mb >= point and any(e in _HARD_LIMITS for e in g.errors))
            ]
            if not covered:
                probes.append(
                    Probe(memory_mb=point, architecture=architecture, count=1 + WARM_PER_CONFIG)
                )
            elif all(len(g.warm_durations) < MIN_WARM_TO_FIT and not g.failed for g in covered):
                target = covered[0]
                probes.append(
                    Probe(
                        memory_mb=target.memory_mb,
                        architecture=architecture,
                        count=1 + TOP_UP_WARM,
                    )
                )
    return probes


def _refinement_probes(
    analysis: Analysis,
    groups: dict[tuple[int, Architecture], ConfigSamples],
    objective: Objective,
    prices: RegionPrices,
) -> list[Probe]:
    choice = analysis.choice
    assert choice is not None
    probes: list[Probe] = []
    configs = _architecture_groups(groups, choice.architecture)
    cheapest = analysis.cheapest
    if analysis.ceiling_binds and cheapest is not None:
        probe = _probe_or_top_up(
            cheapest.memory_mb,
            cheapest.architecture,
            _architecture_groups(groups, cheapest.architecture),
        )
        if probe is not None:
            probes.append(probe)
    if not analysis.validated or analysis.at_edge:
        probe = _probe_or_top_up(choice.memory_mb, choice.architecture, configs)
        if probe is not None:
            probes.append(probe)
    else:
        # Where else do resamples put the best memory? Sample there: that is the alternative
        # the data cannot yet rule out.
        elsewhere = sorted(
            c.memory_mb
            for c in analysis.resampled_choices
            if c.architecture is choice.architecture and not _near(c.memory_mb, choice.memory_mb)
        )
        if len(elsewhere) >= RIVAL_SHARE * BOOTSTRAPS:
            alternative = _probe_or_top_up(
                elsewhere[len(elsewhere) // 2], choice.architecture, configs
            )
            if alternative is not None:
                probes.append(alternative)
        # More samples at the probes that pin the curve down around the choice.
        fitted = analysis.fits[choice.architecture].points
        nearest = sorted(fitted, key=lambda g: abs(math.log(g.memory_mb / choice.memory_mb)))
        taken = {p.memory_mb for p in probes}
        for g in nearest:
            if len(probes) >= 2:
                break
            if g.memory_mb not in taken and len(g.warm_durations) < MAX_WARM_PER_CONFIG:
                probes.append(
                    Probe(
                        memory_mb=g.memory_mb,
                        architecture=choice.architecture,
                        count=1 + TOP_UP_WARM,
                    )
                )
    for architecture, share in analysis.architecture_votes.items():
        if architecture is choice.architecture or share < RIVAL_SHARE:
            continue
        rival_fit = analysis.fits[architecture]
        rival = choose(
            rival_fit.candidates(rival_fit.model, prices), objective, analysis.cheapest_usd
        )
        target = rival.memory_mb if rival is not None else choice.memory_mb
        probe = _probe_or_top_up(target, architecture, _architecture_groups(groups, architecture))
        if probe is not None:
            probes.append(probe)
    return probes


def _within_architecture_caps(state: TuningState, probes: list[Probe]) -> list[Probe]:
    cap = _cap_per_architecture(state)
    used: dict[Architecture, int] = {}
    kept: list[Probe] = []
    for probe in probes:
        already = used.get(probe.architecture, _used_at(state, probe.architecture))
        room = cap - already
        if room < 2:
            continue
        count = min(probe.count, room)
        kept.append(probe.model_copy(update={"count": count}))
        used[probe.architecture] = already + count
    return kept
