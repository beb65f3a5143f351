"""tunebot's one memory-headroom policy: how far above the peak memory used a size must sit.

Every memory size tunebot proposes, from a static rule (MEM-001, MEM-002) or from a benchmark's
winner, is judged by the same two margins over the peak Max Memory Used that was observed:

* ``REQUIRED_MARGIN`` (10 %): no size below ``peak × 1.1`` is ever proposed or chosen. A
  benchmark treats such a configuration as infeasible, like one that ran out of memory.
* ``COMFORTABLE_MARGIN`` (30 %): the margin a static rule sizes to. Its peak comes from a
  sample of REPORT lines, so a rarer, bigger invocation may not be in it.

The risk of a memory size follows from its margin alone, with the same thresholds everywhere
(:func:`risk_for_margin`): at least 30 % is low risk, from 10 % up to 30 % is medium, less is
high. A benchmark may still choose a size between the two margins when it is cheapest; its
card then says "risk medium" and how much headroom the size keeps, as a static card would.
"""

from __future__ import annotations

from recommendations.recommendation import Risk

# No proposed or chosen size keeps less than this share above the peak memory used.
REQUIRED_MARGIN = 0.10
# Static rules size to this margin; a size with at least this margin is low risk.
COMFORTABLE_MARGIN = 0.30

# Tolerance for sizes computed as ``ceil(peak × factor)`` and then compared back.
_EPSILON = 1e-9


def margin_over_peak(memory_mb: float, peak_used_mb: float) -> float:
    """The share of the peak memory used that ``memory_mb`` keeps above it (0.3 = 30 %)."""
    if peak_used_mb <= 0:
        raise ValueError("the peak memory used must be positive")
    return memory_mb / peak_used_mb - 1.0


def keeps_required_margin(memory_mb: float, peak_used_mb: int | None) -> bool:
    """Whether ``memory_mb`` may be proposed at all; an unknown peak imposes nothing."""
    if not peak_used_mb:
        return True
    return memory_mb >= (1.0 + REQUIRED_MARGIN) * peak_used_mb - _EPSILON


def smallest_with_margin(peak_used_mb: float, margin: float) -> float:
    """The memory (MB, not rounded) that keeps exactly ``margin`` above the peak."""
    return (1.0 + margin) * peak_used_mb


def risk_for_margin(margin: float | None) -> Risk:
    """The risk of a memory size by its margin over the peak; unknown peak: medium."""
    if margin is None:
        return Risk.MEDIUM
    if margin >= COMFORTABLE_MARGIN - _EPSILON:
        return Risk.LOW
    if margin >= REQUIRED_MARGIN - _EPSILON:
        return Risk.MEDIUM
    return Risk.HIGH


def risk_for_size(memory_mb: float, peak_used_mb: int | None) -> Risk:
    """:func:`risk_for_margin` for ``memory_mb`` over ``peak_used_mb`` (None/0: unknown)."""
    if not peak_used_mb:
        return risk_for_margin(None)
    return risk_for_margin(margin_over_peak(memory_mb, peak_used_mb))


def describe_margin(memory_mb: float, peak_used_mb: int) -> str:
    """ "keeps 30% headroom over the 197 MB peak" for a card's rationale."""
    if peak_used_mb <= 0:
        # REPORT lines can read 0 MB for a handler that returns at once: no share to state.
        return f"is above the {peak_used_mb} MB peak"
    margin = margin_over_peak(memory_mb, peak_used_mb)
    return f"keeps {round(margin * 100)}% headroom over the {peak_used_mb} MB peak"


def higher_risk(*risks: Risk) -> Risk:
    """The highest of ``risks`` (low < medium < high)."""
    return max(risks, key=lambda risk: risk.rank)
