"""What the search asks for (a probe) and what comes back (one invocation's REPORT)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, Architecture, Frozen


class ErrorKind(StrEnum):
    OUT_OF_MEMORY = "out_of_memory"
    TIMEOUT = "timeout"
    ERROR = "error"  # the function failed (or cannot run on this architecture)


class Probe(Frozen):
    """Invoke the function ``count`` times at one configuration, one after the other."""

    memory_mb: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    architecture: Architecture
    count: int = Field(ge=1)

    @property
    def config(self) -> tuple[int, Architecture]:
        return (self.memory_mb, self.architecture)


class Observation(Frozen):
    """One invocation, as its REPORT line tells it."""

    memory_mb: int = Field(ge=MIN_MEMORY_MB, le=MAX_MEMORY_MB)
    architecture: Architecture
    duration_ms: float = Field(ge=0)
    billed_duration_ms: int = Field(ge=0)
    # Present only on a cold start.
    init_duration_ms: float | None = Field(default=None, ge=0)
    max_memory_used_mb: int | None = Field(default=None, ge=0)
    error: ErrorKind | None = None
    # The error's type when Lambda or the function names one ("Runtime.OutOfMemory",
    # "ValueError"). Set with ``error`` None for an error of an allowed type: measured.
    error_type: str | None = None

    @property
    def config(self) -> tuple[int, Architecture]:
        return (self.memory_mb, self.architecture)

    @property
    def allowed_error(self) -> bool:
        """An error of a type the request allows: it counts as a measured invocation."""
        return self.error is None and self.error_type is not None

    @property
    def cold(self) -> bool:
        return self.init_duration_ms is not None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def gb_seconds(self) -> float:
        return self.billed_duration_ms / 1000.0 * self.memory_mb / 1024.0
