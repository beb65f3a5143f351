"""Provisioned concurrency on two aliases, from the scan's read to the applier's stale check.

moto answers 404 to the provisioned-concurrency APIs, so the Lambda calls are botocore
Stubber responses shaped as AWS documents ListProvisionedConcurrencyConfigs and
GetProvisionedConcurrencyConfig.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.stub import Stubber

from aws.appliers.base import ApplyContext
from aws.appliers.registry import apply_change
from aws.inventory import Enrichment, fetch_provisioned, snapshot_from_config
from aws.session import AwsSession
from recommendations.changes import ProvisionedConcurrencyChange
from recommendations.rules.base import RuleContext
from recommendations.rules.cold_start import FrequentColdStarts
from recommendations.rules.concurrency import IdleProvisionedConcurrency
from recommendations.snapshot import FunctionStats, InvokeSource

ARN = "arn:aws:lambda:us-east-1:123456789012:function:checkout"
CONFIG: dict[str, Any] = {
    "FunctionName": "checkout",
    "FunctionArn": ARN,
    "Runtime": "python3.12",
    "MemorySize": 1024,
    "Timeout": 30,
    "Architectures": ["x86_64"],
    "PackageType": "Zip",
}


def _list_response(live_requested: int, live_allocated: int) -> dict[str, Any]:
    return {
        "ProvisionedConcurrencyConfigs": [
            {
                "FunctionArn": f"{ARN}:live",
                "RequestedProvisionedConcurrentExecutions": live_requested,
                "AvailableProvisionedConcurrentExecutions": live_allocated,
                "AllocatedProvisionedConcurrentExecutions": live_allocated,
                "Status": "READY" if live_allocated == live_requested else "IN_PROGRESS",
                "LastModified": "2026-11-20T10:00:00+0000",
            },
            {
                "FunctionArn": f"{ARN}:2",
                "RequestedProvisionedConcurrentExecutions": 10,
                "AvailableProvisionedConcurrentExecutions": 10,
                "AllocatedProvisionedConcurrentExecutions": 10,
                "Status": "READY",
                "LastModified": "2026-11-20T10:00:00+0000",
            },
        ]
    }


def _snapshot(live_requested: int, live_allocated: int) -> Any:
    session = AwsSession(region="us-east-1")
    with Stubber(session.client("lambda")) as stub:
        stub.add_response(
            "list_provisioned_concurrency_configs",
            _list_response(live_requested, live_allocated),
            {"FunctionName": "checkout"},
        )
        configs = fetch_provisioned(session, "checkout")
    fn = snapshot_from_config(
        CONFIG, region="us-east-1", enrichment=Enrichment(provisioned={ARN: configs})
    )
    return fn.model_copy(
        update={
            "stats": FunctionStats(
                window_days=14,
                invocations=100_000,
                billed_duration_avg_ms=80.0,
                provisioned_concurrency_utilization_avg=0.1,
                provisioned_concurrency_utilization_max=0.3,
            )
        }
    )


def test_two_qualifiers_are_kept_apart_and_summed_only_for_the_price() -> None:
    fn = _snapshot(20, 20)
    assert [
        (c.qualifier, c.requested, c.allocated) for c in fn.provisioned_concurrency_configs
    ] == [
        ("2", 10, 10),
        ("live", 20, 20),
    ]
    assert fn.provisioned_concurrency == 30
    assert fn.provisioned_config("live") is not None


def test_idle_across_two_qualifiers_is_advice_not_a_change_to_one() -> None:
    fn = _snapshot(20, 20)
    # Utilisation is the function's over both qualifiers: it cannot say which one is idle.
    result = IdleProvisionedConcurrency().evaluate(fn, RuleContext(now=datetime.now(UTC)))
    [advice] = result.recommendations
    assert advice.change is None


def test_a_change_to_one_alias_is_not_stale_while_another_holds_some_too() -> None:
    """Before: COLD-001's change started from 30 (both qualifiers) and the applier, reading
    "live" alone (20), refused it as stale every time."""
    fn = _snapshot(20, 20).model_copy(
        update={
            "runtime": "ruby3.3",
            "invoked_by": (InvokeSource.API_GATEWAY,),
            "provisioned_concurrency_qualifier": "live",
            "stats": FunctionStats(
                window_days=30,
                invocations=2_592_000,
                duration_avg_ms=500.0,
                log_sample_invocations=1000,
                cold_starts=50,
                init_duration_avg_ms=800.0,
            ),
        }
    )
    [rec] = FrequentColdStarts().evaluate(fn, RuleContext(now=datetime.now(UTC))).recommendations
    change = rec.change
    assert isinstance(change, ProvisionedConcurrencyChange)
    assert (change.qualifier, change.before, change.after) == ("live", 20, 21)
    client = boto3.client("lambda", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "get_provisioned_concurrency_config",
            {
                "RequestedProvisionedConcurrentExecutions": 20,
                "AvailableProvisionedConcurrentExecutions": 20,
                "AllocatedProvisionedConcurrentExecutions": 20,
                "Status": "READY",
            },
            {"FunctionName": "checkout", "Qualifier": "live"},
        )
        stub.add_response(
            "put_provisioned_concurrency_config",
            {"RequestedProvisionedConcurrentExecutions": 21, "Status": "IN_PROGRESS"},
            {
                "FunctionName": "checkout",
                "Qualifier": "live",
                "ProvisionedConcurrentExecutions": 21,
            },
        )
        stub.add_response(
            "get_provisioned_concurrency_config",
            {
                "RequestedProvisionedConcurrentExecutions": 21,
                "AllocatedProvisionedConcurrentExecutions": 20,
                "Status": "IN_PROGRESS",
            },
            {"FunctionName": "checkout", "Qualifier": "live"},
        )
        outcome = apply_change(change, ApplyContext(client))
        stub.assert_no_pending_responses()
    assert outcome.change == change


def test_one_alias_being_allocated_is_compared_by_what_it_requested() -> None:
    """Allocation in progress: 12 of 20 warm. The rule's change says 20 (requested), which is
    what GetProvisionedConcurrencyConfig's RequestedProvisionedConcurrentExecutions reads."""
    session = AwsSession(region="us-east-1")
    with Stubber(session.client("lambda")) as stub:
        response = _list_response(20, 12)
        response["ProvisionedConcurrencyConfigs"].pop()  # only live
        stub.add_response("list_provisioned_concurrency_configs", response)
        configs = fetch_provisioned(session, "checkout")
    fn = snapshot_from_config(
        CONFIG, region="us-east-1", enrichment=Enrichment(provisioned={ARN: configs})
    ).model_copy(
        update={
            "stats": FunctionStats(
                window_days=14,
                invocations=100_000,
                billed_duration_avg_ms=80.0,
                provisioned_concurrency_utilization_avg=0.1,
                provisioned_concurrency_utilization_max=0.3,
            )
        }
    )
    result = IdleProvisionedConcurrency().evaluate(fn, RuleContext(now=datetime.now(UTC)))
    [rec] = result.recommendations
    assert rec.change == ProvisionedConcurrencyChange(
        function_name="checkout", qualifier="live", before=20, after=4
    )
