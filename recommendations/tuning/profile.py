"""A simulation profile: how a function behaves, in the terms of the simulator's physics.

The fields are the contract in the design notes ("The simulator"). ``name``, ``description``,
``memory_mb`` (the function's current memory), ``timeout_s``, ``invocations_per_month``,
``error_rate`` and ``error_type`` are optional additions so a profile can stand in for a
whole function.
"""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, Architecture, Frozen
from recommendations.tuning.errors import TuningError


class SimulationProfile(Frozen):
    name: str = ""
    description: str = ""
    cpu_ms: float = Field(ge=0, description="CPU work at one full x86_64 vCPU")
    parallel_fraction: float = Field(default=0.0, ge=0, le=1)
    io_ms: float = Field(default=0.0, ge=0, description="waiting, independent of memory")
    memory_used_mb: int = Field(ge=1, le=MAX_MEMORY_MB)
    init_ms: float = Field(default=0.0, ge=0)
    noise_cv: float = Field(default=0.0, ge=0, le=3)
    outlier_rate: float = Field(default=0.0, ge=0, le=1)
    outlier_factor: float = Field(default=1.0, ge=1)
    arm_speed: float = Field(default=1.0, gt=0)
    supports_arm: bool = True
    gc_factor: float = Field(default=0.0, ge=0)
    architecture: Architecture = Architecture.X86_64
    memory_mb: int = Field(default=1024, ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    timeout_s: int = Field(default=900, ge=1, le=900)
    invocations_per_month: float | None = Field(default=None, ge=0)
    # Optional: a share of invocations that raise ``error_type`` (a flaky dependency, or
    # payloads the function rejects), whatever the memory.
    error_rate: float = Field(default=0.0, ge=0, le=1)
    error_type: str = Field(default="Error", min_length=1)

    @model_validator(mode="after")
    def _does_some_work(self) -> SimulationProfile:
        if self.cpu_ms + self.io_ms <= 0:
            raise ValueError("a profile needs cpu_ms or io_ms above zero")
        return self


def load_profile(path: Path) -> SimulationProfile:
    """Read a profile file; a bad file raises ``TuningError`` with one sentence."""
    try:
        text = path.read_text()
    except OSError as error:
        raise TuningError(f"Cannot read profile {path}: {error.strerror or error}.") from error
    try:
        return SimulationProfile.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise TuningError(f"Profile {path} is not valid JSON (line {error.lineno}).") from error
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "profile"
        raise TuningError(f"Profile {path} is invalid: {where}: {first['msg']}.") from error
