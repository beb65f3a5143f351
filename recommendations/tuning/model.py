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

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from recommendations.tuning.physics import MB_PER_VCPU

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
    a = [[*row[:], vector[i]] for i, row in enumerate(matrix)]
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


def fit(
    points: Sequence[FitPoint], memory_used_mb: float, noise_variance: float
) -> DurationModel | None:
    """The best non-negative model for the points, or None with no usable point."""
    usable = [p for p in points if p.centre_ms > 0 and p.count > 0]
    if not usable:
        return None
    above_one_vcpu = any(p.memory_mb > MB_PER_VCPU * 1.05 for p in usable)
    columns = _ALL_COLUMNS if above_one_vcpu else _SINGLE_VCPU_COLUMNS
    rows = [basis(p.memory_mb, memory_used_mb) for p in usable]
    weights = [p.count / (p.centre_ms * p.centre_ms) for p in usable]
    unit = noise_variance * CENTRE_VARIANCE_FACTOR
    best: tuple[float, tuple[float, ...]] | None = None
    for size in range(1, min(len(columns), len(usable)) + 1):
        for subset in itertools.combinations(columns, size):
            normal = [
                [sum(w * r[i] * r[j] for w, r in zip(weights, rows, strict=True)) for j in subset]
                for i in subset
            ]
            rhs = [
                sum(w * r[i] * p.centre_ms for w, r, p in zip(weights, rows, usable, strict=True))
                for i in subset
            ]
            solution = _solve(normal, rhs)
            if solution is None or any(x < 0 for x in solution):
                continue
            coefficients = [0.0] * BASIS_SIZE
            for index, value in zip(subset, solution, strict=True):
                coefficients[index] = value
            chi2 = 0.0
            for p, r in zip(usable, rows, strict=True):
                predicted = sum(c * x for c, x in zip(coefficients, r, strict=True))
                chi2 += p.count * ((p.centre_ms - predicted) / p.centre_ms) ** 2 / unit
            criterion = chi2 + MODEL_PENALTY * size
            if best is None or criterion < best[0] - 1e-9:
                best = (criterion, tuple(coefficients))
    if best is None:
        return None
    return DurationModel(coefficients=best[1], memory_used_mb=memory_used_mb)
