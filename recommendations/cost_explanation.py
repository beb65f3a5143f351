"""How much of a cost anomaly tunebot's per-function attribution explains, and where the rest
may lie.

Pure. Cost Anomaly Detection reports an impact (actual minus *expected* spend) for a service,
with root causes by region, linked account and usage type; tunebot attributes Lambda compute
(GB-seconds) and requests to the functions it can list in its own account and region, against
the same span just before. The two rarely agree, so the card says how much of the impact the
attribution covers and names the places the rest may come from, most specific first.
"""

from __future__ import annotations

from collections.abc import Sequence

from recommendations.snapshot import Frozen

# Usage types tunebot prices per function (on-demand compute and requests, x86 and arm64):
# "USE1-Lambda-GB-Second", "Lambda-GB-Second-ARM", "USE1-Request", "Request-ARM".
ATTRIBUTED_USAGE_MARKERS = ("Lambda-GB-Second", "Request")
# Less than a cent either way is "all of it".
CENT = 0.005


class AnomalyRootCause(Frozen):
    """One root cause as Cost Anomaly Detection names it."""

    region: str | None = None
    account_id: str | None = None
    usage_type: str | None = None
    contribution_usd: float | None = None


class Elsewhere(Frozen):
    """A place the unexplained part of an anomaly may lie; ``amount_usd`` when AWS says."""

    place: str
    why: str
    amount_usd: float | None = None


class AnomalyExplanation(Frozen):
    impact_usd: float | None
    # The increase of every function whose compute and request cost grew.
    explained_usd: float
    # The part of it from the functions the card shows.
    shown_usd: float
    functions_compared: int
    elsewhere: tuple[Elsewhere, ...] = ()

    @property
    def unexplained_usd(self) -> float | None:
        if self.impact_usd is None:
            return None
        return max(0.0, self.impact_usd - self.explained_usd)

    @property
    def explained_share(self) -> float | None:
        """The share of the impact explained, capped at 1 (tunebot's baseline differs)."""
        if not self.impact_usd or self.impact_usd <= 0:
            return None
        return min(1.0, self.explained_usd / self.impact_usd)

    @property
    def fully_explained(self) -> bool:
        unexplained = self.unexplained_usd
        return unexplained is not None and unexplained < CENT


def is_attributed_usage(usage_type: str | None) -> bool:
    return usage_type is not None and any(m in usage_type for m in ATTRIBUTED_USAGE_MARKERS)


def explain_anomaly(
    impact_usd: float | None,
    explained_usd: float,
    shown_usd: float,
    *,
    functions_compared: int,
    region: str,
    account_id: str | None,
    root_causes: Sequence[AnomalyRootCause] = (),
) -> AnomalyExplanation:
    """How much of ``impact_usd`` the per-function increases explain, and where the rest may lie.

    ``explained_usd`` is the summed increase of every function whose cost grew, ``shown_usd``
    the part of it from the functions the card shows. ``region`` and ``account_id`` are where
    tunebot reads functions.
    Root causes AWS names outside them, or in usage types tunebot does not price, come first
    with their contributions; then the places no event names but where the rest can hide.
    """
    explained = max(0.0, explained_usd)
    elsewhere: list[Elsewhere] = []
    if impact_usd is None or impact_usd - explained >= CENT:
        named_region = named_account = named_usage = False
        for cause in root_causes:
            if cause.account_id and account_id and cause.account_id != account_id:
                named_account = True
                elsewhere.append(
                    Elsewhere(
                        place=f"account {cause.account_id}",
                        why=f"tunebot reads account {account_id} only",
                        amount_usd=cause.contribution_usd,
                    )
                )
            elif cause.region and cause.region != region:
                named_region = True
                elsewhere.append(
                    Elsewhere(
                        place=cause.region,
                        why=f"tunebot reads {region} only",
                        amount_usd=cause.contribution_usd,
                    )
                )
            elif cause.usage_type and not is_attributed_usage(cause.usage_type):
                named_usage = True
                elsewhere.append(
                    Elsewhere(
                        place=cause.usage_type,
                        why="a usage type tunebot does not attribute to functions",
                        amount_usd=cause.contribution_usd,
                    )
                )
        elsewhere.append(
            Elsewhere(
                place="Lambda functions tunebot cannot read",
                why=f"deleted since, or not listed in {region}"
                + (f" of account {account_id}" if account_id else ""),
            )
        )
        if not named_usage:
            elsewhere.append(
                Elsewhere(
                    place="other Lambda usage types",
                    why="provisioned concurrency, ephemeral storage, Lambda@Edge, data transfer",
                )
            )
        if not (named_region and named_account):
            elsewhere.append(
                Elsewhere(
                    place="other regions or accounts",
                    why="the monitor may cover more than tunebot reads",
                )
            )
        elsewhere.append(
            Elsewhere(
                place="a different baseline",
                why=(
                    "the impact is measured against expected spend, tunebot's figures against "
                    "the same span just before"
                ),
            )
        )
    return AnomalyExplanation(
        impact_usd=impact_usd,
        explained_usd=explained,
        shown_usd=max(0.0, min(shown_usd, explained)),
        functions_compared=functions_compared,
        elsewhere=tuple(elsewhere),
    )
