"""What the engine says about a function: recommendations with evidence, cost and risk."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import ConfigDict, Field, model_validator

from recommendations.changes import Change
from recommendations.snapshot import Frozen


class Category(StrEnum):
    MEMORY = "memory"
    ARCHITECTURE = "architecture"
    TIMEOUT = "timeout"
    BATCHING = "batching"
    ASYNC = "async"
    CONCURRENCY = "concurrency"
    COLD_START = "cold-start"
    RUNTIME = "runtime"
    PACKAGE = "package"
    ERRORS = "errors"
    STORAGE = "storage"
    IDLE = "idle"
    LOGGING = "logging"
    TRACING = "tracing"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Confidence).index(self)


class Risk(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


class TradeOff(StrEnum):
    """Why a recommendation may cost more than it saves."""

    SPEED = "speed"
    SAFETY = "safety"


class Evidence(Frozen):
    """One observed or derived number, with its unit, behind a recommendation."""

    model_config = ConfigDict(allow_inf_nan=False)

    label: str
    value: float | int | str
    unit: str = ""
    source: str = Field(default="", description="Where it comes from: metrics, logs, config, …")

    def display(self) -> str:
        value = self.value
        if isinstance(value, float):
            value = f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
        elif isinstance(value, int):
            value = f"{value:,}"
        return f"{self.label}: {value}{(' ' + self.unit) if self.unit else ''}"


class Recommendation(Frozen):
    # Money is a finite number or unknown (None): a rule whose arithmetic overflows fails
    # (and the engine reports it unknown) instead of printing NaN.
    model_config = ConfigDict(allow_inf_nan=False)

    # Derived from function, rule and change (see ``stable_id``); a value given on input is
    # recomputed, so a stored recommendation always loads with the id it was shown with.
    id: str = ""
    function: str
    function_arn: str
    region: str
    account_id: str
    rule_id: str
    category: Category
    severity: Severity
    title: str
    rationale: str
    evidence: tuple[Evidence, ...] = ()
    confidence: Confidence
    change: Change | None = None
    monthly_cost_before_usd: float | None = None
    monthly_cost_after_usd: float | None = None
    # Expected saving, with a low–high range when uncertain. Negative only with a trade_off.
    monthly_savings_usd: float | None = None
    monthly_savings_low_usd: float | None = None
    monthly_savings_high_usd: float | None = None
    trade_off: TradeOff | None = None
    risk: Risk = Risk.LOW
    benchmark_first: bool = False
    notes: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _savings_are_consistent(self) -> Recommendation:
        low, mid, high = (
            self.monthly_savings_low_usd,
            self.monthly_savings_usd,
            self.monthly_savings_high_usd,
        )
        if low is not None and high is not None and low > high:
            raise ValueError("monthly_savings_low_usd must not exceed monthly_savings_high_usd")
        if mid is not None and mid < 0 and self.trade_off is None:
            raise ValueError("a negative saving needs a trade_off (speed or safety)")
        if self.change is not None and self.change.function_name != self.function:
            raise ValueError("the change must be for the recommendation's function")
        return self

    @model_validator(mode="after")
    def _derive_id(self) -> Recommendation:
        # Frozen model: the id is derived once, while validating.
        object.__setattr__(self, "id", stable_id(self.function_arn, self.rule_id, self.change))
        return self


def stable_id(function_arn: str, rule_id: str, change: Change | None) -> str:
    """The same function, rule and change always give the same id.

    The change is serialised by pydantic (fields in declaration order, so the text is
    stable); it runs for every recommendation of a fleet, and that serialiser is several
    times faster than ``json.dumps`` of a dumped dict. An ARN and a rule id never contain a
    newline, so the three parts cannot run into each other.
    """
    change_json = change.model_dump_json() if change is not None else "null"
    key = f"{function_arn}\n{rule_id}\n{change_json}"
    return "rec-" + hashlib.sha256(key.encode()).hexdigest()[:16]
