"""A parametric model of warm duration against memory, fitted to a handful of probes.

The form mirrors how Lambda allocates CPU: below 1769 MB a function gets a fraction of one
vCPU, above it more vCPUs that only the parallel share of the work can use, and tight memory
slows CPU work down (garbage collection, paging). Duration is a non-negative combination of

    1,  1/min(v, 1),  1/v,  (mu/m)² / min(v, 1),  (mu/m)² / v        with v = m / 1769,

where mu is the observed peak memory. Fitting is weighted least squares on the per-memory
medians (robust to outliers) with non-negative coefficients; of all column subsets the one
with the best Akaike score wins, so noise does not buy spurious curvature.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

from recommendations.tuning.physics import MB_PER_VCPU

_Key = TypeVar("_Key", bound=Hashable)
BASIS_SIZE = 5
# Columns usable when no probe lies above one vCPU: nothing tells the parallel share apart,
# so the model assumes none (durations stop improving past 1769 MB) until a probe shows more.
_SINGLE_VCPU_COLUMNS = (0, 1, 3)
_ALL_COLUMNS = (0, 1, 2, 3, 4)
# Relative noise floor, so a noise-free simulator does not make the criterion divide by 0.
_MIN_RELATIVE_SD = 0.005
MODEL_PENALTY = 0.0
# Variance of a 20%-trimmed mean of n normal values ≈ this × σ² / n.
CENTRE_VARIANCE_FACTOR = 1.2


def basis(memory_mb: float, memory_used_mb: float) -> tuple[float, float, float, float, float]:
    serial = MB_PER_VCPU / min(memory_mb, MB_PER_VCPU)
    parallel = MB_PER_VCPU / memory_mb
    pressure = (memory_used_mb / memory_mb) ** 2
    return (1.0, serial, parallel, serial * pressure, parallel * pressure)


@dataclass(frozen=True, slots=True)
class FitPoint:
    memory_mb: int
    centre_ms: float  # a robust centre of the warm durations at this memory
    count: int


@dataclass(frozen=True, slots=True)
class DurationModel:
    coefficients: tuple[float, ...]
    memory_used_mb: float

    def duration_ms(self, memory_mb: float) -> float:
        row = basis(memory_mb, self.memory_used_mb)
        return sum(c * x for c, x in zip(self.coefficients, row, strict=True))

    def duration_from_row(self, row: Sequence[float]) -> float:
        return sum(c * x for c, x in zip(self.coefficients, row, strict=True))


def relative_noise_variance(samples_by_memory: Sequence[Sequence[float]]) -> float:
    """Pooled variance of log duration around each memory's median (MAD-based, robust)."""
    deviations: list[float] = []
    for samples in samples_by_memory:
        positive = [s for s in samples if s > 0]
        if len(positive) < 3:
            continue
        ordered = sorted(positive)
        centre = ordered[len(ordered) // 2]
        deviations.extend(abs(math.log(s / centre)) for s in positive)
    if not deviations:
        return _MIN_RELATIVE_SD**2
    deviations.sort()
    mad = deviations[len(deviations) // 2]
    sd = max(1.4826 * mad, _MIN_RELATIVE_SD)
    return sd * sd


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when (nearly) singular."""
    n = len(vector)
    a = [[*row, vector[i]] for i, row in enumerate(matrix)]
    scale = max((abs(x) for row in matrix for x in row), default=0.0) or 1.0
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(a[r][col]))
        if abs(a[pivot][col]) < 1e-12 * scale:
            return None
        a[col], a[pivot] = a[pivot], a[col]
        for r in range(col + 1, n):
            factor = a[r][col] / a[col][col]
            if factor:
                for c in range(col, n + 1):
                    a[r][c] -= factor * a[col][c]
    solution = [0.0] * n
    for r in range(n - 1, -1, -1):
        total = a[r][n] - sum(a[r][c] * solution[c] for c in range(r + 1, n))
        solution[r] = total / a[r][r]
    return solution


def _least_squares(
    rows: Sequence[Sequence[float]],
    targets: Sequence[float],
    weights: Sequence[float],
    columns: Sequence[int],
) -> list[float] | None:
    normal = [
        [sum(w * r[i] * r[j] for w, r in zip(weights, rows, strict=True)) for j in columns]
        for i in columns
    ]
    rhs = [
        sum(w * r[i] * y for w, r, y in zip(weights, rows, targets, strict=True)) for i in columns
    ]
    return _solve(normal, rhs)


def nnls(
    rows: Sequence[Sequence[float]],
    targets: Sequence[float],
    weights: Sequence[float],
    allowed: Sequence[int],
) -> list[float]:
    """Weighted non-negative least squares (Lawson–Hanson active set) over ``allowed`` columns."""
    width = len(rows[0])
    x = [0.0] * width
    active: list[int] = []
    for _ in range(3 * width):
        residual = [
            y - sum(c * v for c, v in zip(x, r, strict=True))
            for r, y in zip(rows, targets, strict=True)
        ]
        gradient = {
            j: sum(w * r[j] * e for w, r, e in zip(weights, rows, residual, strict=True))
            for j in allowed
            if j not in active
        }
        scale = max(
            (abs(t) * w * abs(t) for t, w in zip(targets, weights, strict=True)), default=1.0
        )
        entering = max(gradient, key=lambda j: gradient[j], default=None)
        if entering is None or gradient[entering] <= 1e-12 * scale:
            break
        active.append(entering)
        while True:
            solution = _least_squares(rows, targets, weights, active)
            if solution is None:
                active.remove(entering)
                return x
            z = dict(zip(active, solution, strict=True))
            if all(v > 0 for v in z.values()):
                for j in active:
                    x[j] = z[j]
                break
            alpha = (
                min(x[j] / (x[j] - z[j]) for j in active if z[j] <= 0 and x[j] - z[j] > 0)
                if any(z[j] <= 0 and x[j] - z[j] > 0 for j in active)
                else 0.0
            )
            for j in active:
                x[j] = x[j] + alpha * (z[j] - x[j])
            active = [j for j in active if x[j] > 1e-12]
            for j in range(width):
                if j not in active:
                    x[j] = 0.0
            if not active:
                break
    return x


def _columns_for(memories: Sequence[int]) -> tuple[int, ...]:
    if any(m > MB_PER_VCPU * 1.05 for m in memories):
        return _ALL_COLUMNS
    return _SINGLE_VCPU_COLUMNS


def chi_square(points: Sequence[FitPoint], model: DurationModel, noise_variance: float) -> float:
    unit = noise_variance * CENTRE_VARIANCE_FACTOR
    return sum(
        p.count * ((p.centre_ms - model.duration_ms(p.memory_mb)) / p.centre_ms) ** 2 / unit
        for p in points
    )


def fit(
    points: Sequence[FitPoint], memory_used_mb: float, noise_variance: float
) -> DurationModel | None:
    """The best non-negative model for one architecture's points; None with no usable point."""
    usable = [p for p in points if p.centre_ms > 0 and p.count > 0]
    if not usable:
        return None
    rows = [basis(p.memory_mb, memory_used_mb) for p in usable]
    weights = [p.count / (p.centre_ms * p.centre_ms) for p in usable]
    coefficients = nnls(
        rows, [p.centre_ms for p in usable], weights, _columns_for([p.memory_mb for p in usable])
    )
    return DurationModel(coefficients=tuple(coefficients), memory_used_mb=memory_used_mb)


_K_LIMITS = (0.25, 4.0)
# How much worse (chi-square) the shared-shape fit may be before architectures are fitted
# apart; generous, because a few noisy probes easily look like a different shape.
JOINT_TOLERANCE = 40.0
_JOINT_ITERATIONS = 12


def fit_joint(
    points: Mapping[_Key, Sequence[FitPoint]], memory_used_mb: float, noise_variance: float
) -> dict[_Key, DurationModel]:
    """Fit several architectures at once: the same waiting time and curve shape, CPU work
    scaled by a factor per architecture (the same code on a faster or slower CPU).

    Sharing the shape halves the noise of each curve. When the data contradict it (the joint
    fit is clearly worse than separate fits), the architectures are fitted separately.
    """
    usable = {
        key: [p for p in group if p.centre_ms > 0 and p.count > 0] for key, group in points.items()
    }
    usable = {key: group for key, group in usable.items() if group}
    separate = {
        key: model
        for key, group in usable.items()
        if (model := fit(group, memory_used_mb, noise_variance)) is not None
    }
    if len(usable) < 2:
        return separate
    keys = list(usable)
    columns = _columns_for([p.memory_mb for group in usable.values() for p in group])
    flat = [(key, p) for key in keys for p in usable[key]]
    raw_rows = [basis(p.memory_mb, memory_used_mb) for _, p in flat]
    targets = [p.centre_ms for _, p in flat]
    weights = [p.count / (p.centre_ms * p.centre_ms) for _, p in flat]
    scale = {key: 1.0 for key in keys}
    reference = keys[0]
    for key in keys[1:]:
        ratios = [
            p.centre_ms / q.centre_ms
            for p in usable[key]
            for q in usable[reference]
            if abs(p.memory_mb / q.memory_mb - 1) < 0.1
        ]
        if ratios:
            scale[key] = min(max(sorted(ratios)[len(ratios) // 2], _K_LIMITS[0]), _K_LIMITS[1])
    coefficients = [0.0] * BASIS_SIZE
    for _ in range(_JOINT_ITERATIONS):
        rows = [
            (r[0], *(v * scale[key] for v in r[1:]))
            for (key, _), r in zip(flat, raw_rows, strict=True)
        ]
        coefficients = nnls(rows, targets, weights, columns)
        moved = 0.0
        for key in keys[1:]:
            numerator = denominator = 0.0
            for (owner, _), r, y, w in zip(flat, raw_rows, targets, weights, strict=True):
                if owner != key:
                    continue
                cpu = sum(c * v for c, v in zip(coefficients[1:], r[1:], strict=True))
                numerator += w * (y - coefficients[0]) * cpu
                denominator += w * cpu * cpu
            if denominator > 0:
                new = min(max(numerator / denominator, _K_LIMITS[0]), _K_LIMITS[1])
                moved = max(moved, abs(new / scale[key] - 1))
                scale[key] = new
        if moved < 1e-4:
            break
    joint = {
        key: DurationModel(
            coefficients=(coefficients[0], *(c * scale[key] for c in coefficients[1:])),
            memory_used_mb=memory_used_mb,
        )
        for key in keys
    }
    joint_chi2 = sum(chi_square(usable[k], joint[k], noise_variance) for k in keys)
    separate_chi2 = sum(
        chi_square(usable[k], separate[k], noise_variance) for k in keys if k in separate
    )
    extra_parameters = len(columns) * (len(keys) - 1) - (len(keys) - 1)
    if joint_chi2 - separate_chi2 > JOINT_TOLERANCE + 5 * extra_parameters:
        return separate
    return joint
