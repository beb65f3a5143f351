"""CONC-001 (throttling) and CONC-002 (idle provisioned concurrency)."""

from __future__ import annotations

from recommendations.changes import ProvisionedConcurrencyChange, ReservedConcurrencyChange
from recommendations.pricing import SECONDS_PER_MONTH
from recommendations.recommendation import Severity
from recommendations.rules.base import Outcome
from recommendations.rules.concurrency import IdleProvisionedConcurrency, Throttling
from recommendations.snapshot import ProvisionedConcurrencyConfig, ProvisionedConcurrencyStatus
from tests.recommendations.builders import function, run, single, stats

PC_GB_S = 0.0000041667
PC_DURATION_GB_S = 0.0000097222


class TestThrottling:
    rule = Throttling()

    def test_raises_a_reserved_limit_by_half(self) -> None:
        fn = function(reserved_concurrency=10, stats_=stats(invocations=9900, throttles=100))
        rec = single(run(self.rule, fn))
        assert rec.change == ReservedConcurrencyChange(function_name="orders", before=10, after=15)
        assert rec.severity is Severity.MEDIUM  # 1% throttled

    def test_account_limit_gives_advice(self) -> None:
        rec = single(run(self.rule, function(stats_=stats(invocations=900, throttles=100))))
        assert rec.change is None
        assert rec.severity is Severity.HIGH  # 10% throttled
        assert rec.title == "10.0% of requests throttled by the account limit"

    def test_passes_with_rare_throttles(self) -> None:
        fn = function(stats_=stats(invocations=10_000, throttles=1))
        assert run(self.rule, fn).reason == "0.0% of requests were throttled"

    def test_unknown_and_not_applicable(self) -> None:
        assert run(self.rule, function(stats_=stats(invocations=10))).outcome is Outcome.UNKNOWN
        fn = function(reserved_concurrency=0, stats_=stats(invocations=0, throttles=50))
        assert run(self.rule, fn).outcome is Outcome.NOT_APPLICABLE


class TestIdleProvisionedConcurrency:
    rule = IdleProvisionedConcurrency()

    def provisioned(self, average: float | None, peak: float | None, **fields: object) -> object:
        base: dict[str, object] = {
            "provisioned_concurrency": 40,
            "provisioned_concurrency_qualifier": "live",
        }
        base.update(fields)
        return function(
            stats_=stats(
                invocations=1_000_000,
                billed_duration_avg_ms=100.0,
                provisioned_concurrency_utilization_avg=average,
                provisioned_concurrency_utilization_max=peak,
            ),
            **base,
        )

    def test_shrinks_to_cover_the_peak_at_90_percent(self) -> None:
        rec = single(run(self.rule, self.provisioned(0.12, 0.45)))
        assert rec.change == ProvisionedConcurrencyChange(
            function_name="orders", qualifier="live", before=40, after=20
        )

        def monthly(environments: int) -> float:
            standing = environments * 1.0 * SECONDS_PER_MONTH * PC_GB_S
            # Neither level ever fills up (peaks 45% and 90%): every invocation runs on a
            # provisioned environment at the lower duration price, before and after.
            compute = 1_000_000 * 0.1 * PC_DURATION_GB_S
            return standing + compute + 0.2

        # Half the environments, the same invocations at the same price.
        assert rec.monthly_savings_usd == round(monthly(40) - monthly(20), 2)
        assert rec.monthly_savings_usd == 219.0
        assert rec.monthly_cost_before_usd == round(monthly(40), 2)

    def test_removes_it_when_never_used(self) -> None:
        rec = single(run(self.rule, self.provisioned(0.0, 0.0)))
        assert rec.title == "Remove idle provisioned concurrency (40)"
        assert isinstance(rec.change, ProvisionedConcurrencyChange)
        assert rec.change.after == 0

    def test_advises_scheduled_scaling_when_peaks_use_it_all(self) -> None:
        rec = single(run(self.rule, self.provisioned(0.3, 0.95)))
        assert (rec.title, rec.change) == ("Scale provisioned concurrency on a schedule", None)

    def test_passes_when_well_used(self) -> None:
        assert run(self.rule, self.provisioned(0.7, 1.0)).outcome is Outcome.PASS

    def test_unknown_and_not_applicable(self) -> None:
        assert run(self.rule, self.provisioned(None, None)).outcome is Outcome.UNKNOWN
        no_alias = self.provisioned(0.1, 0.2, provisioned_concurrency_qualifier=None)
        assert run(self.rule, no_alias).outcome is Outcome.UNKNOWN
        none = self.provisioned(0.1, 0.2, provisioned_concurrency=None)
        assert run(self.rule, none).outcome is Outcome.NOT_APPLICABLE

    def test_compares_the_requested_value_of_its_own_alias(self) -> None:
        """Two aliases: before, the change's "before" was the sum of both (and allocated, not
        requested), so the applier, which reads one alias, always found it stale."""
        one_alias = (
            ProvisionedConcurrencyConfig(
                qualifier="live",
                requested=40,
                allocated=30,
                status=ProvisionedConcurrencyStatus.IN_PROGRESS,
            ),
        )
        fn = self.provisioned(
            0.12, 0.45, provisioned_concurrency=None, provisioned_concurrency_configs=one_alias
        )
        rec = single(run(self.rule, fn))
        # The peak used 45% of the 30 allocated: 14 at 90%; compared with the 40 requested.
        assert rec.change == ProvisionedConcurrencyChange(
            function_name="orders", qualifier="live", before=40, after=15
        )
        assert rec.title == "Reduce provisioned concurrency from 40 to 15"

    def test_several_aliases_get_advice_not_a_change_to_the_wrong_one(self) -> None:
        configs = (
            ProvisionedConcurrencyConfig(qualifier="canary", requested=10, allocated=10),
            ProvisionedConcurrencyConfig(qualifier="live", requested=30, allocated=30),
        )
        fn = self.provisioned(
            0.12, 0.45, provisioned_concurrency=None, provisioned_concurrency_configs=configs
        )
        assert fn.provisioned_concurrency == 40
        rec = single(run(self.rule, fn))
        assert rec.change is None
        assert rec.title == "Provisioned concurrency on 2 aliases is mostly idle"
        assert "canary (10), live (30)" in rec.rationale
        assert rec.monthly_savings_usd is None

    def test_an_old_snapshot_reads_as_its_one_qualifier(self) -> None:
        fn = self.provisioned(0.12, 0.45)
        assert fn.provisioned_concurrency_configs == (
            ProvisionedConcurrencyConfig(qualifier="live", requested=40, allocated=40),
        )
        assert single(run(self.rule, fn)).change == ProvisionedConcurrencyChange(
            function_name="orders", qualifier="live", before=40, after=20
        )
