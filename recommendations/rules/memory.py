"""Memory size: too much, too little, and too little CPU for CPU-bound work."""

from __future__ import annotations

from recommendations.changes import MemoryChange
from recommendations.headroom import (
    COMFORTABLE_MARGIN,
    describe_margin,
    higher_risk,
    risk_for_size,
)
from recommendations.recommendation import Category, Confidence, Risk, Severity, TradeOff
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import (
    MIN_WORTHWHILE_SAVINGS_USD,
    VCPU_MB,
    build,
    cost,
    cpu_share,
    evidence,
    log_sample_too_small,
    looks_cpu_bound,
    percent,
    percentiles_source,
    report_lines_off,
    round_up_memory,
)
from recommendations.snapshot import MAX_MEMORY_MB, MIN_MEMORY_MB, FunctionSnapshot

# MEM-001: peak memory used at or below this share of the configured memory is over-provisioned.
OVERPROVISIONED_MAX_USED_RATIO = 0.5
# Memory kept above the observed peak when sizing down: the headroom policy's comfortable
# margin (recommendations/headroom.py), since the peak comes from a sample of REPORT lines.
SIZE_DOWN_HEADROOM = 1.0 + COMFORTABLE_MARGIN
# A saving above this is worth a MEDIUM severity.
NOTABLE_SAVINGS_USD = 10.0

# MEM-002: peak memory at or above this share of the limit is a near miss.
NEAR_LIMIT_USED_RATIO = 0.9
# How much to grow memory after out-of-memory kills (the peak is hidden by the kill).
OOM_GROWTH = 1.5
# Headroom above the observed peak when sizing up: the same comfortable margin.
SIZE_UP_HEADROOM = 1.0 + COMFORTABLE_MARGIN
_COMFORTABLE_PERCENT = round(COMFORTABLE_MARGIN * 100)


class MemoryOverProvisioned(Rule):
    """Memory far above what the function ever uses.

    What it checks:
    The highest memory used in the sampled REPORT lines against the configured memory. At or
    below 50% (and no out-of-memory kills), it proposes the peak plus 30%, rounded up to 64 MB:
    the comfortable margin of tunebot's one memory-headroom policy (docs/tuning.md, "Memory
    headroom"), which a benchmark's winner is judged by too. The risk is the policy's label
    for that margin (low at 30% or more), raised to medium when less CPU may slow it.

    Why it matters:
    Lambda bills memory × duration. Memory nobody uses is paid for on every invocation. Below
    1,769 MB memory also sets the CPU share, so a CPU-bound function may run longer with less
    memory: the saving is a range, from nothing (fully CPU-bound) to the full price cut (the
    function mostly waits on I/O). Functions whose durations look CPU-bound are left to MEM-003.

    What to do:
    Benchmark the proposed size with `tunebot tune` when the range is wide, then apply the
    memory change. Undo restores the previous size.
    """

    rule_id = "MEM-001"
    name = "Memory over-provisioned"
    category = Category.MEMORY
    needs = (
        "memory_mb",
        "stats.max_memory_used_mb",
        "stats.log_sample_invocations",
        "stats.out_of_memory",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
        "stats.duration_p50_ms",
        "stats.duration_p90_ms",
    )
    proposes = MemoryChange
    iam_actions = MemoryChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None:
            return self.unknown("no statistics were collected")
        if stats.max_memory_used_mb is None:
            return self.unknown(
                report_lines_off(fn) or "memory used is unknown (no REPORT log lines)"
            )
        too_small = log_sample_too_small(stats)
        if too_small:
            return self.unknown(too_small)
        if stats.out_of_memory:
            return self.passed("the function runs out of memory (see MEM-002)")
        used = stats.max_memory_used_mb
        ratio = used / fn.memory_mb
        if fn.memory_mb <= MIN_MEMORY_MB or ratio > OVERPROVISIONED_MAX_USED_RATIO:
            return self.passed(f"uses up to {percent(ratio)}% of its memory")
        target = round_up_memory(used * SIZE_DOWN_HEADROOM)
        if target >= fn.memory_mb:
            return self.passed(f"no smaller size keeps {_COMFORTABLE_PERCENT}% headroom")
        if target < VCPU_MB and looks_cpu_bound(stats):
            return self.passed("durations look CPU-bound; less memory would slow it (see MEM-003)")
        before = cost(fn, context.now)
        if before is None:
            return self.unknown("traffic or duration is unknown, so the saving cannot be priced")
        same_duration = cost(fn, context.now, memory_mb=target)
        slower_by = cpu_share(fn.memory_mb) / cpu_share(target)
        cpu_bound = cost(
            fn,
            context.now,
            memory_mb=target,
            billed_duration_ms=before.billed_duration_ms * slower_by,
        )
        assert same_duration is not None and cpu_bound is not None  # traffic is known
        high = before.total_usd - same_duration.total_usd
        low = max(0.0, before.total_usd - cpu_bound.total_usd)
        if high < MIN_WORTHWHILE_SAVINGS_USD:
            return self.passed(f"a smaller size saves under ${MIN_WORTHWHILE_SAVINGS_USD:.2f}")
        certain = slower_by == 1.0
        expected = high if certain else (low + high) / 2
        rationale = (
            f"{fn.name} never used more than {used} MB of its {fn.memory_mb} MB "
            f"({percent(ratio)}%). {target} MB {describe_margin(target, used)}."
        )
        if not certain:
            rationale += (
                f" Below {VCPU_MB:,} MB, less memory also means less CPU: the saving is between "
                f"${low:,.2f} (if the handler is CPU-bound and slows down) and ${high:,.2f} a "
                "month (if it mostly waits on I/O). A benchmark tells which."
            )
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.MEDIUM if expected >= NOTABLE_SAVINGS_USD else Severity.LOW,
                title=f"Reduce memory from {fn.memory_mb} MB to {target} MB",
                rationale=rationale,
                confidence=Confidence.MEDIUM if certain else Confidence.LOW,
                evidence=(
                    evidence("Configured memory", fn.memory_mb, "MB", "configuration"),
                    evidence("Max memory used", used, "MB", "REPORT log lines"),
                    evidence("Memory used", percent(ratio), "%", "REPORT log lines"),
                    evidence(
                        "Log sample", stats.log_sample_invocations or 0, "invocations", "logs"
                    ),
                    evidence("Billed duration", round(before.billed_duration_ms, 1), "ms/inv."),
                    evidence(
                        "Invocations", round(before.invocations_per_month), "/month", "metrics"
                    ),
                ),
                change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=target),
                cost_before=before.total_usd,
                cost_after=before.total_usd - expected,
                savings=expected,
                savings_low=low,
                savings_high=high,
                # The headroom policy's risk for the margin, raised when less CPU may slow it.
                risk=higher_risk(risk_for_size(target, used), Risk.LOW if certain else Risk.MEDIUM),
                benchmark_first=not certain,
                notes=(
                    (
                        f"Above {VCPU_MB:,} MB, each extra {VCPU_MB:,} MB adds a vCPU: "
                        "multi-threaded code can slow down with fewer.",
                    )
                    if certain
                    else ()
                ),
            )
        )


class MemoryUnderProvisioned(Rule):
    """Out-of-memory kills, or peak memory close to the limit.

    What it checks:
    Out-of-memory kills in the sampled REPORT lines, and the highest memory used against the
    configured memory (90% or more is a near miss). It proposes 50% more memory after kills,
    otherwise the peak plus 30% (the headroom policy's comfortable margin, docs/tuning.md),
    rounded up to 64 MB.

    Why it matters:
    An invocation that runs out of memory fails and is still billed; the caller sees an error
    and retries pile up. Near the limit, garbage collection and paging slow the function down
    before it fails.

    What to do:
    Apply the memory increase. The cost shown is the worst case at today's duration; more
    memory also brings more CPU, which often shortens the duration and pays part of it back.
    """

    rule_id = "MEM-002"
    name = "Memory under-provisioned"
    category = Category.MEMORY
    needs = (
        "memory_mb",
        "stats.out_of_memory",
        "stats.max_memory_used_mb",
        "stats.log_sample_invocations",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
    )
    proposes = MemoryChange
    iam_actions = MemoryChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None:
            return self.unknown("no statistics were collected")
        kills, used = stats.out_of_memory, stats.max_memory_used_mb
        if kills is None and used is None:
            return self.unknown(
                report_lines_off(fn) or "neither out-of-memory kills nor memory used are known"
            )
        near_limit = used is not None and used >= NEAR_LIMIT_USED_RATIO * fn.memory_mb
        if not kills and not near_limit:
            peak = f"peak {used} MB of {fn.memory_mb} MB" if used is not None else "no kills"
            return self.passed(f"no out-of-memory kills and {peak}")
        if kills:
            wanted = max(fn.memory_mb * OOM_GROWTH, (used or 0) * SIZE_UP_HEADROOM)
        else:
            wanted = max((used or 0) * SIZE_UP_HEADROOM, fn.memory_mb + 1)
        target = round_up_memory(wanted)
        facts = [evidence("Configured memory", fn.memory_mb, "MB", "configuration")]
        if used is not None:
            facts.append(evidence("Max memory used", used, "MB", "REPORT log lines"))
        if kills:
            facts.append(evidence("Out-of-memory kills", kills, "invocations", "REPORT log lines"))
            rate = stats.out_of_memory_rate
            if rate is not None:
                facts.append(evidence("Out-of-memory rate", percent(rate), "%", "REPORT log lines"))
        problem = (
            f"{kills} sampled invocations of {fn.name} ran out of memory"
            if kills
            else f"{fn.name} used up to {used} MB of its {fn.memory_mb} MB"
        )
        if target <= fn.memory_mb:
            return self.recommend(
                build(
                    self,
                    fn,
                    severity=Severity.HIGH if kills else Severity.MEDIUM,
                    title=f"Memory is exhausted at the {MAX_MEMORY_MB} MB maximum",
                    rationale=problem + ". Lambda offers no more memory: reduce what the "
                    "handler holds at once (stream large objects, process in chunks).",
                    confidence=Confidence.HIGH,
                    evidence=facts,
                    risk=Risk.LOW,
                )
            )
        before = cost(fn, context.now)
        same_duration = cost(fn, context.now, memory_mb=target)
        low = high = None
        if before is not None and same_duration is not None:
            low = before.total_usd - same_duration.total_usd
            faster = cost(
                fn,
                context.now,
                memory_mb=target,
                billed_duration_ms=before.billed_duration_ms
                * cpu_share(fn.memory_mb)
                / cpu_share(target),
            )
            high = before.total_usd - faster.total_usd if faster is not None else low
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.HIGH if kills else Severity.MEDIUM,
                title=f"Increase memory from {fn.memory_mb} MB to {target} MB",
                rationale=problem + f". {target} MB gives the function room to finish; "
                "the extra cost shown assumes the duration stays the same (the worst case).",
                confidence=Confidence.HIGH if kills else Confidence.MEDIUM,
                evidence=facts,
                change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=target),
                cost_before=before.total_usd if before else None,
                cost_after=same_duration.total_usd if same_duration else None,
                savings=low,
                savings_low=low,
                savings_high=max(low, high) if low is not None and high is not None else None,
                trade_off=TradeOff.SAFETY,
                risk=Risk.LOW,
            )
        )


class CpuBoundNeedsMoreMemory(Rule):
    """A slow, steady function below one vCPU that may finish much sooner with more memory.

    What it checks:
    Functions under 1,769 MB (one full vCPU) whose median duration is at least 1 s and whose
    p90 is within 1.5× the median: slow and steady, the profile of CPU-bound work. It proposes
    1,769 MB.

    Why it matters:
    Below 1,769 MB Lambda gives a function a share of one vCPU in proportion to its memory. If
    the handler is CPU-bound, more memory shortens the duration in the same proportion, so the
    bill stays about the same while responses get much faster. If it is not, the bill grows.
    Passive metrics cannot tell these apart: only a benchmark measures how duration responds
    to memory, so this rule gives a cost range and asks for one first.

    What to do:
    Run `tunebot tune` on the function (it measures several sizes), then apply the size it
    finds. Do not apply this blind.
    """

    rule_id = "MEM-003"
    name = "CPU-bound below one vCPU"
    category = Category.MEMORY
    needs = (
        "memory_mb",
        "stats.duration_p50_ms",
        "stats.duration_p90_ms",
        "stats.invocations",
        "stats.billed_duration_avg_ms",
    )
    proposes = MemoryChange
    iam_actions = MemoryChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        if fn.memory_mb >= VCPU_MB:
            return self.not_applicable(f"already has a full vCPU ({fn.memory_mb} MB)")
        stats = fn.stats
        if stats is None or stats.duration_p50_ms is None or stats.duration_p90_ms is None:
            off = report_lines_off(fn)
            return self.unknown("median and p90 duration are unknown" + (f"; {off}" if off else ""))
        if not looks_cpu_bound(stats):
            return self.passed("durations do not look CPU-bound (short or widely spread)")
        before = cost(fn, context.now)
        if before is None:
            return self.unknown("traffic is unknown, so the cost cannot be priced")
        target = VCPU_MB
        speed_up = cpu_share(target) / cpu_share(fn.memory_mb)
        io_bound = cost(fn, context.now, memory_mb=target)
        cpu_bound = cost(
            fn,
            context.now,
            memory_mb=target,
            billed_duration_ms=before.billed_duration_ms / speed_up,
        )
        assert io_bound is not None and cpu_bound is not None  # traffic is known
        low = before.total_usd - io_bound.total_usd
        high = before.total_usd - cpu_bound.total_usd
        p50 = stats.duration_p50_ms
        fastest_p50 = p50 / speed_up
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.LOW,
                title=(
                    f"Benchmark {target} MB: may cut duration by up to {percent(1 - 1 / speed_up)}%"
                ),
                rationale=(
                    f"{fn.name} runs {p50:,.0f} ms at the median with little spread, at "
                    f"{fn.memory_mb} MB ({percent(cpu_share(fn.memory_mb))}% of a vCPU). If it "
                    f"is CPU-bound, {target} MB (a full vCPU) brings the median down to about "
                    f"{fastest_p50:,.0f} ms at roughly the same cost; if it is not, the cost "
                    f"rises by up to ${-low:,.2f} a month with no speed-up. Metrics cannot "
                    "tell which: benchmark first."
                ),
                confidence=Confidence.LOW,
                evidence=(
                    evidence("Configured memory", fn.memory_mb, "MB", "configuration"),
                    evidence("Duration p50", round(p50, 1), "ms", percentiles_source(stats)),
                    evidence(
                        "Duration p90",
                        round(stats.duration_p90_ms, 1),
                        "ms",
                        percentiles_source(stats),
                    ),
                    evidence("vCPU share", percent(cpu_share(fn.memory_mb)), "%", "derived"),
                    evidence(
                        "Invocations", round(before.invocations_per_month), "/month", "metrics"
                    ),
                ),
                change=MemoryChange(function_name=fn.name, before=fn.memory_mb, after=target),
                cost_before=before.total_usd,
                cost_after=io_bound.total_usd,
                savings=None,
                savings_low=low,
                savings_high=max(low, high),
                trade_off=TradeOff.SPEED,
                risk=Risk.LOW,
                benchmark_first=True,
                notes=("The saving range runs from 'not CPU-bound' to 'fully CPU-bound'.",),
            )
        )
