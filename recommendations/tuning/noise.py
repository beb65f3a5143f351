"""The simulator's run-to-run noise, shared by the benchmark simulator and verification's
traffic generator so both draw durations from the same model (design.md, simulator physics)."""

from __future__ import annotations

import math
import random

from recommendations.tuning.profile import SimulationProfile


class ProfileNoise:
    """Log-normal noise of mean 1 with the profile's coefficient of variation, and its outliers."""

    def __init__(self, profile: SimulationProfile, rng: random.Random) -> None:
        self.profile = profile
        self._rng = rng
        sigma2 = math.log(1 + profile.noise_cv**2)
        self._sigma = math.sqrt(sigma2)
        self._mu = -sigma2 / 2  # so the log-normal noise has mean 1

    def noise(self) -> float:
        if self._sigma == 0:
            return 1.0
        return self._rng.lognormvariate(self._mu, self._sigma)

    def outlier(self) -> float:
        profile = self.profile
        if profile.outlier_rate and self._rng.random() < profile.outlier_rate:
            return profile.outlier_factor
        return 1.0
