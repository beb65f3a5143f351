"""Why a function is throttled, or spills over its provisioned concurrency."""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.diagnoses.base import AlarmSignal, CauseKind, Diagnosis, LikelyCause
from recommendations.recommendation import Category, Confidence, Evidence, Recommendation
from recommendations.snapshot import FunctionSnapshot

THROTTLE_METRICS = ("Throttles", "ConcurrentExecutions")
# A peak this close to the reservation shows it is the limit that throttles.
RESERVATION_REACHED_SHARE = 0.9


class ReservedConcurrencyReached(Diagnosis):
    """Throttled against the function's own reserved concurrency.

    What it checks:
    The function's reserved concurrency (0 throttles every invocation) and, when known, its
    peak concurrency against it.

    Why it matters:
    A reservation is also a ceiling: invocations above it are throttled even when the account
    has concurrency to spare.

    What to do:
    Raise the reservation if the peak needs it, or smooth the traffic (a queue in front, a
    batching window).
    """

    diagnosis_id = "DX-008"
    name = "Reserved concurrency reached"
    kind = CauseKind.RESERVED_CONCURRENCY
    addressed_by = (Category.CONCURRENCY,)
    metrics = THROTTLE_METRICS
    needs = ("reserved_concurrency", "stats.concurrent_executions_max")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        reserved = fn.reserved_concurrency
        if reserved is None:
            return None
        if reserved == 0:
            return self.cause(
                "Reserved concurrency is 0: every invocation of the function is throttled.",
                Confidence.HIGH,
                Evidence(label="reserved concurrency", value=0, source="config"),
            )
        peak = fn.stats.concurrent_executions_max if fn.stats is not None else None
        evidence = [Evidence(label="reserved concurrency", value=reserved, source="config")]
        confidence = Confidence.MEDIUM
        if peak is not None:
            evidence.append(Evidence(label="peak concurrency", value=peak, source="metrics"))
            reached = peak >= RESERVATION_REACHED_SHARE * reserved
            confidence = Confidence.HIGH if reached else Confidence.LOW
        return self.cause(
            f"Throttled against its reserved concurrency of {reserved}"
            + (f" (peak {peak:,.0f} concurrent)" if peak is not None else "")
            + ".",
            confidence,
            *evidence,
        )


class AccountConcurrencyReached(Diagnosis):
    """Throttled by the account's regional concurrency limit or the scaling rate.

    What it checks:
    The function has no reserved concurrency, so it shares the account's regional limit with
    every other unreserved function.

    Why it matters:
    Another function's burst can throttle this one, and a fast ramp-up can outrun Lambda's
    scaling rate (1,000 environments every 10 seconds per function).

    What to do:
    Reserve concurrency for the functions that must not be throttled, ask AWS for a higher
    account limit, or put a queue in front of bursty callers.
    """

    diagnosis_id = "DX-009"
    name = "Account concurrency reached"
    kind = CauseKind.ACCOUNT_CONCURRENCY
    addressed_by = (Category.CONCURRENCY,)
    metrics = THROTTLE_METRICS
    needs = ("reserved_concurrency", "stats.concurrent_executions_max")

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        if fn.reserved_concurrency is not None:
            return None
        peak = fn.stats.concurrent_executions_max if fn.stats is not None else None
        evidence = (
            (Evidence(label="peak concurrency", value=peak, source="metrics"),)
            if peak is not None
            else ()
        )
        return self.cause(
            "No reserved concurrency: the function is throttled by the account's regional "
            "concurrency limit, shared with every other function, or by the scaling rate.",
            Confidence.MEDIUM,
            *evidence,
        )


class ProvisionedTooLow(Diagnosis):
    """Provisioned concurrency is not enough at peak.

    What it checks:
    Spillover invocations on a function with provisioned concurrency.

    Why it matters:
    Invocations beyond the provisioned environments run on demand and start cold, which is
    what provisioned concurrency was bought to avoid.

    What to do:
    Raise provisioned concurrency to the peak (or schedule it with Application Auto Scaling),
    or accept the spillover where the cold starts are short.
    """

    diagnosis_id = "DX-017"
    name = "Provisioned concurrency too low"
    kind = CauseKind.PROVISIONED_TOO_LOW
    addressed_by = (Category.CONCURRENCY, Category.COLD_START)
    metrics = ("ProvisionedConcurrencySpilloverInvocations",)
    needs = ("provisioned_concurrency",)

    def examine(
        self, fn: FunctionSnapshot, signal: AlarmSignal, recommendations: Sequence[Recommendation]
    ) -> LikelyCause | None:
        if not fn.provisioned_concurrency:
            return None
        return self.cause(
            f"Provisioned concurrency of {fn.provisioned_concurrency} is not enough at peak: "
            "the rest spill over to on-demand environments and start cold.",
            Confidence.MEDIUM,
            Evidence(
                label="provisioned concurrency", value=fn.provisioned_concurrency, source="config"
            ),
        )
