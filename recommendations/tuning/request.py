"""What to tune and how: the request, and the resumable state of a run."""

from __future__ import annotations

import json
from enum import StrEnum

from pydantic import Field, ValidationError, model_validator

from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, Architecture, Frozen
from recommendations.tuning.errors import TuningError
from recommendations.tuning.objective import Objective
from recommendations.tuning.observation import Observation

POWER_TUNING_MEMORY_VALUES = (128, 256, 512, 1024, 1536, 3008)
STATE_SCHEMA_VERSION = 1


class SearchKind(StrEnum):
    ADAPTIVE = "adaptive"
    GRID = "grid"


class StopCap(StrEnum):
    """The user's cap that stopped a run."""

    MAX_COST = "max_cost"
    MAX_INVOCATIONS = "max_invocations"
    MAX_TIME = "max_time"


class TuningRequest(Frozen):
    function_name: str = Field(min_length=1)
    region: str | None = None
    search: SearchKind = SearchKind.ADAPTIVE
    objective: Objective = Objective()
    architectures: tuple[Architecture, ...] = (Architecture.X86_64,)
    # Grid only: memory values and invocations per value, as Power Tuning's ``num``.
    memory_values: tuple[int, ...] = POWER_TUNING_MEMORY_VALUES
    num: int = Field(default=20, ge=1, le=1000)
    current_memory_mb: int = Field(default=1024, ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    current_architecture: Architecture = Architecture.X86_64
    invocations_per_month: float | None = Field(default=None, ge=0)
    # The function's timeout: configurations predicted to come close to it are not chosen.
    timeout_ms: float | None = Field(default=None, gt=0)
    max_invocations: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, gt=0)
    # Seconds the benchmarked function may run in all (durations plus init of cold starts).
    max_time_s: float | None = Field(default=None, gt=0)
    # Error types (the function's errorType, e.g. "ValidationError") that count as measured
    # invocations rather than failures, like Power Tuning's allowedExceptions.
    allowed_errors: tuple[str, ...] = ()
    # Seeds the adaptive search's resampling, so a run is reproducible and resumable.
    seed: int = 0

    @model_validator(mode="after")
    def _valid_lists(self) -> TuningRequest:
        if not self.architectures:
            raise ValueError("at least one architecture is needed")
        if len(set(self.architectures)) != len(self.architectures):
            raise ValueError("architectures must not repeat")
        if not self.memory_values:
            raise ValueError("at least one memory value is needed")
        for value in self.memory_values:
            if not MIN_MEMORY_MB <= value <= MAX_MEMORY_MB:
                raise ValueError(f"memory values must be {MIN_MEMORY_MB}..{MAX_MEMORY_MB} MB")
        if len(set(self.memory_values)) != len(self.memory_values):
            raise ValueError("memory values must not repeat")
        return self


class TuningState(Frozen):
    """Everything a run knows. Saved as JSON between steps (Step Functions, or a file)."""

    schema_version: int = STATE_SCHEMA_VERSION
    request: TuningRequest
    observations: tuple[Observation, ...] = ()
    rounds: int = 0
    finished: bool = False
    stop_reason: str | None = None
    # Which of the user's caps stopped the run (None: the search ended by itself).
    stopped_by: StopCap | None = None

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> TuningState:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise TuningError(
                f"The tuning state is not valid JSON (line {error.lineno})."
            ) from error
        if isinstance(data, dict) and data.get("schema_version", STATE_SCHEMA_VERSION) != (
            STATE_SCHEMA_VERSION
        ):
            raise TuningError("The tuning state was saved by another version of tunebot.")
        try:
            return cls.model_validate(data)
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "state"
            raise TuningError(f"The tuning state is invalid: {where}: {first['msg']}.") from error
