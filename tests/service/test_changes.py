"""Apply, undo and audit through the change service with the AWS adapters, against moto."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from aws.appliers.base import ApplyContext
from aws.change_adapters import change_service
from aws.store import AuditAction, AuditResult, ChangeStatus, StateStore
from recommendations.changes import (
    AsyncFailureDestinationChange,
    AsyncSettings,
    MemoryChange,
    ReservedConcurrencyChange,
    TimeoutChange,
)
from recommendations.recommendation import Recommendation
from recommendations.snapshot import FunctionSnapshot
from service.changes import ChangeService, ResultKind
from tests.aws.change_helpers import (
    REGION,
    Clock,
    create_function,
    moto_store,
    put_replaces_like_aws,
    recommendation,
    snapshot,
)


@pytest.fixture
def context() -> Iterator[ApplyContext]:
    """The clients the service's adapters use, for tests that watch or break their calls."""
    with mock_aws():
        create_function()
        lambda_client = boto3.client("lambda", region_name=REGION)
        put_replaces_like_aws(lambda_client)
        yield ApplyContext(lambda_client, boto3.client("sqs", region_name=REGION))


@pytest.fixture
def env(context: ApplyContext) -> Iterator[tuple[ChangeService, StateStore]]:
    with moto_store(Clock(tick=timedelta(seconds=1))) as store:
        yield change_service(store, context), store


def _memory() -> int:
    return int(
        boto3.client("lambda", region_name=REGION).get_function_configuration(
            FunctionName="checkout-api"
        )["MemorySize"]
    )


def test_apply_changes_the_function_records_and_audits(env) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec, snapshot())
    result = service.apply_recommendation(rec.id, "cli:alice", approvers=["U1", "U2"])
    assert result.kind is ResultKind.APPLIED and result.ok
    assert result.message == (
        f"Applied change {result.change_id}: Set memory of checkout-api from 1024 MB to 512 MB."
    )
    assert _memory() == 512
    record = store.get_change(result.change_id or "")
    assert record is not None
    assert (record.actor, record.approvers, record.status) == (
        "cli:alice",
        ("U1", "U2"),
        ChangeStatus.APPLIED,
    )
    assert len(record.request_ids) == 3
    [audit] = service.audit()
    assert (audit.action, audit.result, audit.before, audit.after) == (
        AuditAction.APPLY,
        AuditResult.APPLIED,
        1024,
        512,
    )
    assert audit.change_id == result.change_id
    assert audit.request_ids == record.request_ids


def test_second_apply_reports_the_first_and_changes_nothing(env) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec)
    first = service.apply_recommendation(rec.id, "slack:U1")
    second = service.apply_recommendation(rec.id, "slack:U2")
    assert second.kind is ResultKind.ALREADY_DONE
    assert second.change_id == first.change_id
    assert second.message == (
        f"Already done by slack:U1 as change {first.change_id}; nothing changed this time."
    )
    assert len(service.audit()) == 1


def _modified_at(moment: datetime) -> FunctionSnapshot:
    """The function as a scan read it, last modified at ``moment``."""
    return snapshot().model_copy(update={"last_modified": moment})


BEFORE_THE_TEST = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)  # the store's clock starts at 12:00


def test_a_newer_analysis_after_someone_reverted_the_change_can_apply_it_again(env) -> None:  # type: ignore[no-untyped-def]
    # The same function, rule and change give the same id: after a deployment puts the old
    # memory back, the next analysis proposes the very recommendation that was applied.
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec, _modified_at(BEFORE_THE_TEST))
    first = service.apply_recommendation(rec.id, "slack:U1")
    assert first.kind is ResultKind.APPLIED
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=1024
    )
    # A click on the old card, before anything was analysed again, is still "already done".
    assert service.apply_recommendation(rec.id, "slack:U2").kind is ResultKind.ALREADY_DONE
    store.put_recommendation(rec, _modified_at(store.now()))  # the revert, read by a scan
    again = service.apply_recommendation(rec.id, "slack:U2")
    assert again.kind is ResultKind.APPLIED, again.message
    assert again.change_id != first.change_id
    assert _memory() == 512
    # And that second application is itself applied once.
    assert service.apply_recommendation(rec.id, "slack:U3").kind is ResultKind.ALREADY_DONE


def test_re_storing_the_analysis_the_change_came_from_does_not_reopen_it(env) -> None:  # type: ignore[no-untyped-def]
    # A cached analysis from before the change, stored again, describes the function the
    # change started from, not one that moved back: the change stays done.
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec, _modified_at(BEFORE_THE_TEST))
    assert service.apply_recommendation(rec.id, "slack:U1").kind is ResultKind.APPLIED
    store.put_recommendation(rec, _modified_at(BEFORE_THE_TEST))
    assert service.apply_recommendation(rec.id, "slack:U2").kind is ResultKind.ALREADY_DONE
    store.put_recommendation(rec)  # no snapshot: nothing tells that the function moved
    assert service.apply_recommendation(rec.id, "slack:U2").kind is ResultKind.ALREADY_DONE
    assert len(service.audit()) == 1


def test_concurrent_double_click_changes_the_function_once(env, context) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec)
    updates: list[str] = []
    lambda_client = context.lambda_client
    lambda_client.meta.events.register(
        "before-call.lambda.UpdateFunctionConfiguration",
        lambda **kwargs: updates.append("update"),
    )
    barrier = threading.Barrier(6)
    results = []

    def click(user: str) -> None:
        barrier.wait()
        results.append(service.apply_recommendation(rec.id, f"slack:{user}"))

    threads = [threading.Thread(target=click, args=(f"U{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kinds = sorted(result.kind.value for result in results)
    assert kinds.count("applied") == 1
    assert set(kinds) <= {"applied", "already_done", "in_progress"}
    assert updates == ["update"]
    assert len({result.change_id for result in results}) == 1
    assert _memory() == 512


def test_stale_recommendation_changes_nothing_and_is_audited(env) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=2048
    )
    rec = recommendation()
    store.put_recommendation(rec)
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert result.kind is ResultKind.STALE and not result.ok
    assert result.message == (
        "The memory of checkout-api is 2048 MB now, not the 1024 MB the recommendation was "
        "computed from; nothing was changed. Run the analysis again."
    )
    assert _memory() == 2048
    [audit] = service.audit(function="checkout-api")
    assert (audit.result, audit.message) == (AuditResult.STALE, result.message)
    # The write-ahead intent stays, as an attempt that changed nothing, and is not listed.
    record = store.get_change(result.change_id or "")
    assert record is not None and record.status is ChangeStatus.FAILED
    assert store.changes_for_function("checkout-api") == []


def test_moved_revision_makes_the_recommendation_stale(env, context) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    lambda_client = context.lambda_client

    def with_revision(parsed, **kwargs):  # type: ignore[no-untyped-def]
        parsed["RevisionId"] = "rev-now"

    lambda_client.meta.events.register("after-call.lambda.GetFunctionConfiguration", with_revision)
    rec = recommendation()
    store.put_recommendation(rec, snapshot(revision_id="rev-then"))
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert result.kind is ResultKind.STALE
    assert "its revision moved" in result.message
    assert _memory() == 1024


def test_undo_restores_and_allows_applying_again(env) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec)
    applied = service.apply_recommendation(rec.id, "cli:alice")
    undone = service.undo_change(applied.change_id or "", "cli:bob")
    assert undone.kind is ResultKind.UNDONE
    assert undone.message == (
        f"Undid change {applied.change_id}: Set memory of checkout-api from 512 MB to 1024 MB."
    )
    assert _memory() == 1024
    original = store.get_change(applied.change_id or "")
    assert original is not None and original.status is ChangeStatus.UNDONE
    assert original.undo_change_id == undone.change_id
    again = service.undo_change(applied.change_id or "", "cli:bob")
    assert again.kind is ResultKind.ALREADY_DONE
    undo_of_undo = service.undo_change(undone.change_id or "", "cli:bob")
    assert undo_of_undo.kind is ResultKind.NOT_APPLICABLE
    reapplied = service.apply_recommendation(rec.id, "cli:carol")
    assert reapplied.kind is ResultKind.APPLIED
    assert _memory() == 512
    actions = [(a.action, a.result, a.actor) for a in service.audit()]
    assert actions == [
        (AuditAction.APPLY, AuditResult.APPLIED, "cli:carol"),
        (AuditAction.UNDO, AuditResult.APPLIED, "cli:bob"),
        (AuditAction.APPLY, AuditResult.APPLIED, "cli:alice"),
    ]


def test_undo_refuses_when_the_function_moved_on(env) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec)
    applied = service.apply_recommendation(rec.id, "cli:alice")
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=768
    )
    undone = service.undo_change(applied.change_id or "", "cli:bob")
    assert undone.kind is ResultKind.STALE
    assert _memory() == 768
    record = store.get_change(applied.change_id or "")
    assert record is not None and record.status is ChangeStatus.APPLIED


def test_unknown_ids_and_advice_are_explained(env) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    missing = service.apply_recommendation("rec-0000", "cli:alice")
    assert missing.kind is ResultKind.NOT_FOUND
    assert missing.message == (
        "Recommendation rec-0000 was not found or has expired (recommendations are kept 14 "
        "days); run the analysis again."
    )
    advice = recommendation().model_copy(update={"change": None})
    store.put_recommendation(advice)
    assert service.apply_recommendation(advice.id, "cli:a").kind is ResultKind.NOT_APPLICABLE
    assert service.undo_change("chg-nope", "cli:a").message == (
        "There is no change chg-nope; `tunebot audit` lists the changes."
    )


def test_failure_is_audited_and_can_be_retried(env, context) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation(TimeoutChange(function_name="checkout-api", before=30, after=10))
    store.put_recommendation(rec)
    lambda_client = context.lambda_client
    from botocore.exceptions import ClientError

    def throttle(**kwargs):  # type: ignore[no-untyped-def]
        raise ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}},
            "UpdateFunctionConfiguration",
        )

    lambda_client.meta.events.register("before-call.lambda.UpdateFunctionConfiguration", throttle)
    failed = service.apply_recommendation(rec.id, "cli:alice")
    assert failed.kind is ResultKind.FAILED and failed.retryable
    assert failed.message == (
        "Could not update the timeout of checkout-api: AWS is throttling requests; "
        "try again shortly."
    )
    lambda_client.meta.events.unregister("before-call.lambda.UpdateFunctionConfiguration", throttle)
    retried = service.apply_recommendation(rec.id, "cli:alice")
    assert retried.kind is ResultKind.APPLIED
    assert [a.result for a in service.audit()] == [AuditResult.APPLIED, AuditResult.FAILED]


def test_memory_change_helper_matches_recommendation() -> None:
    assert recommendation().change == MemoryChange(
        function_name="checkout-api", before=1024, after=512
    )


def _in_region(region: str) -> Recommendation:
    arn = f"arn:aws:lambda:{region}:123456789012:function:checkout-api"
    return Recommendation.model_validate(
        {**recommendation().model_dump(), "function_arn": arn, "region": region}
    )


def test_each_change_runs_in_its_functions_region() -> None:
    with mock_aws(), moto_store(Clock(tick=timedelta(seconds=1))) as store:
        eu = boto3.client("lambda", region_name="eu-west-1")
        create_function(region="eu-west-1")
        create_function()  # a namesake in us-east-1 that must stay untouched
        regions: list[str] = []

        def context_for_region(region: str) -> ApplyContext:
            regions.append(region)
            return ApplyContext(boto3.client("lambda", region_name=region))

        service = change_service(store, context_for_region=context_for_region)
        rec = _in_region("eu-west-1")
        store.put_recommendation(rec)
        assert service.apply_recommendation(rec.id, "cli:alice").kind is ResultKind.APPLIED
        assert regions == ["eu-west-1"]
        assert eu.get_function_configuration(FunctionName="checkout-api")["MemorySize"] == 512
        assert _memory() == 1024


def test_calls_address_the_function_by_its_arn(env, context) -> None:  # type: ignore[no-untyped-def]
    # With the full ARN, a client for the wrong region or account gets "not found" from AWS
    # instead of changing a function that merely has the same name. (moto resolves ARNs by
    # name only, so this checks what is sent.)
    service, store = env
    addressed: list[str] = []

    def record(params: dict, **kwargs: object) -> None:  # type: ignore[type-arg]
        addressed.append(params["FunctionName"])

    for operation in ("GetFunctionConfiguration", "UpdateFunctionConfiguration", "GetFunction"):
        context.lambda_client.meta.events.register(
            f"provide-client-params.lambda.{operation}", record
        )
    rec = recommendation()
    store.put_recommendation(rec)
    assert service.apply_recommendation(rec.id, "cli:alice").kind is ResultKind.APPLIED
    assert len(addressed) >= 3
    assert set(addressed) == {rec.function_arn}


def test_undo_of_a_created_queue_destination_uses_the_real_queue_arn(env, context) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    lambda_client = context.lambda_client
    change = AsyncFailureDestinationChange(
        function_name="checkout-api",
        before=AsyncSettings(),
        # The rule's guess at the ARN; the applier records the queue's real one.
        after=AsyncSettings(on_failure_destination="arn:aws:sqs:us-east-1:123456789012:guess"),
        create_queue_name="tunebot-checkout-api-failures",
    )
    rec = recommendation(change)
    store.put_recommendation(rec)
    applied = service.apply_recommendation(rec.id, "cli:alice")
    assert applied.kind is ResultKind.APPLIED
    real = "arn:aws:sqs:us-east-1:123456789012:tunebot-checkout-api-failures"
    assert applied.record is not None
    assert applied.record.change.after.on_failure_destination == real  # type: ignore[union-attr]
    config = lambda_client.get_function_event_invoke_config(FunctionName="checkout-api")
    assert config["DestinationConfig"]["OnFailure"]["Destination"] == real
    [audit] = service.audit()
    assert audit.after == {
        "on_failure_destination": real,
        "maximum_retry_attempts": 2,
        "maximum_event_age_s": 21600,
    }
    undone = service.undo_change(applied.change_id or "", "cli:bob")
    assert undone.kind is ResultKind.UNDONE
    config = lambda_client.get_function_event_invoke_config(FunctionName="checkout-api")
    assert config["DestinationConfig"] == {"OnFailure": {}}
    queue = boto3.client("sqs", region_name=REGION).get_queue_url(
        QueueName="tunebot-checkout-api-failures"
    )
    assert queue["QueueUrl"].endswith("/tunebot-checkout-api-failures")  # kept


def _simulate_revisions(lambda_client: object) -> dict[str, int]:
    """moto returns no RevisionId; give its responses one that moves with every update, as
    AWS's does. Returns the counter so a test can move it (an outside deployment)."""
    revision = {"n": 1}

    def on_read(parsed: dict, **kwargs: object) -> None:  # type: ignore[type-arg]
        parsed["RevisionId"] = f"rev-{revision['n']}"

    def on_update(parsed: dict, **kwargs: object) -> None:  # type: ignore[type-arg]
        revision["n"] += 1
        parsed["RevisionId"] = f"rev-{revision['n']}"

    events = lambda_client.meta.events  # type: ignore[attr-defined]
    events.register("after-call.lambda.GetFunctionConfiguration", on_read)
    events.register("after-call.lambda.GetFunction", on_read)
    events.register("after-call.lambda.UpdateFunctionConfiguration", on_update)
    return revision


def test_tunebots_own_change_does_not_make_the_next_card_item_stale(env, context) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    revision = _simulate_revisions(context.lambda_client)
    computed_from = snapshot(revision_id="rev-1")
    memory = recommendation()
    timeout = recommendation(TimeoutChange(function_name="checkout-api", before=30, after=10))
    for rec in (memory, timeout):
        store.put_recommendation(rec, computed_from)
    first = service.apply_recommendation(memory.id, "slack:U1")
    assert first.kind is ResultKind.APPLIED
    assert first.record is not None
    assert (first.record.revision_before, first.record.revision_after) == ("rev-1", "rev-2")
    second = service.apply_recommendation(timeout.id, "slack:U1")
    assert second.kind is ResultKind.APPLIED, second.message
    # Someone deploys: a third recommendation computed from rev-1 is now stale.
    revision["n"] += 1
    reserved_memory = recommendation(
        MemoryChange(function_name="checkout-api", before=512, after=256)
    )
    store.put_recommendation(reserved_memory, computed_from)
    third = service.apply_recommendation(reserved_memory.id, "slack:U1")
    assert third.kind is ResultKind.STALE
    assert "its revision moved" in third.message


def test_unreserving_concurrency_round_trips_through_the_store(env, context) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    lambda_client = context.lambda_client
    change = ReservedConcurrencyChange(function_name="checkout-api", before=None, after=50)
    rec = recommendation(change)
    store.put_recommendation(rec)
    applied = service.apply_recommendation(rec.id, "cli:alice")
    assert applied.kind is ResultKind.APPLIED
    record = store.get_change(applied.change_id or "")
    assert record is not None and record.change == change
    [audit] = service.audit()
    assert (audit.before, audit.after) == (None, 50)
    undone = service.undo_change(applied.change_id or "", "cli:bob")
    assert undone.kind is ResultKind.UNDONE
    concurrency = lambda_client.get_function_concurrency(FunctionName="checkout-api")
    assert "ReservedConcurrentExecutions" not in concurrency


def test_an_unexpected_error_frees_the_claim_audits_and_propagates(env, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    service, store = env
    rec = recommendation()
    store.put_recommendation(rec)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("applier bug")

    monkeypatch.setattr("aws.change_adapters.apply_change", broken)
    with pytest.raises(RuntimeError, match="applier bug"):
        service.apply_recommendation(rec.id, "cli:alice")
    [audit] = service.audit()
    assert (audit.result, audit.message) == (AuditResult.FAILED, "RuntimeError('applier bug')")
    monkeypatch.undo()
    assert service.apply_recommendation(rec.id, "cli:alice").kind is ResultKind.APPLIED


# ---------------------------------------------------------------- state-table failures


def _fail_dynamodb_puts(store: StateStore, matches: Callable[[dict[str, Any]], bool]) -> list[int]:
    """Every PutItem whose item ``matches`` fails as a throttled request that outlived the
    client's retries; returns a one-item list counting the failures (set [0] = -1 to stop)."""
    failures = [0]

    def fail(params: dict[str, Any], **kwargs: Any) -> None:
        if failures[0] >= 0 and matches(params.get("Item", {})):
            failures[0] += 1
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "PutItem"
            )

    store.client.meta.events.register_first("before-parameter-build.dynamodb.PutItem", fail)
    return failures


def _is_finished_change(item: dict[str, Any]) -> bool:
    return item.get("kind", {}).get("S") == "change" and item["status"]["S"] != "intended"


def _is_audit(item: dict[str, Any]) -> bool:
    return item.get("kind", {}).get("S") == "audit"


def _quiet_service(store: StateStore) -> ChangeService:
    context = ApplyContext(
        boto3.client("lambda", region_name=REGION), boto3.client("sqs", region_name=REGION)
    )
    return change_service(store, context, sleep=lambda seconds: None)


def test_a_failing_change_record_write_after_aws_applied_is_repaired_not_lost(env) -> None:  # type: ignore[no-untyped-def]
    """The change record cannot be finished after AWS accepted the update: the user is told,
    the audit has it, and the next click completes the record instead of "nothing changed"."""
    _, store = env
    service = _quiet_service(store)
    rec = recommendation()
    store.put_recommendation(rec, snapshot())
    failures = _fail_dynamodb_puts(store, _is_finished_change)
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert failures[0] == 3  # tried three times
    assert _memory() == 512
    assert result.kind is ResultKind.APPLIED
    assert "AWS made the change, but tunebot could not finish recording it" in result.message
    record = store.get_change(result.change_id or "")
    assert record is not None and record.status is ChangeStatus.INTENDED
    [audit] = service.audit()
    assert (audit.result, audit.change_id) == (AuditResult.APPLIED, result.change_id)

    failures[0] = -1  # the table recovers
    again = service.apply_recommendation(rec.id, "cli:bob")
    assert again.kind is ResultKind.ALREADY_DONE and again.change_id == result.change_id
    record = store.get_change(result.change_id or "")
    assert record is not None and record.status is ChangeStatus.APPLIED
    assert len(service.audit()) == 1
    undone = service.undo_change(result.change_id or "", "cli:bob")
    assert undone.kind is ResultKind.UNDONE and _memory() == 1024


def test_a_failing_audit_write_still_reaches_the_audit_log(env) -> None:  # type: ignore[no-untyped-def]
    _, store = env
    service = _quiet_service(store)
    rec = recommendation()
    store.put_recommendation(rec, snapshot())
    failures = _fail_dynamodb_puts(store, _is_audit)
    result = service.apply_recommendation(rec.id, "cli:alice")
    assert result.kind is ResultKind.APPLIED and _memory() == 512
    assert service.audit() == []
    failures[0] = -1
    # Undo first settles the unfinished record (from the intent), then undoes.
    undone = service.undo_change(result.change_id or "", "cli:bob")
    assert undone.kind is ResultKind.UNDONE and _memory() == 1024
    assert [(a.action, a.result, a.change_id) for a in reversed(service.audit())] == [
        (AuditAction.APPLY, AuditResult.APPLIED, result.change_id),
        (AuditAction.UNDO, AuditResult.APPLIED, undone.change_id),
    ]


def test_an_attempt_that_died_after_the_aws_call_is_reconciled_from_its_intent() -> None:
    """Every state write after the update call fails (as if the Lambda run died there): the
    claim stays in progress. Once its lease is over, the next Apply reads the function, finds
    the intent in effect and records it, instead of reporting "stale" and forgetting it."""
    clock = Clock(tick=timedelta(seconds=1))
    with mock_aws(), moto_store(clock) as store:
        create_function()
        service = _quiet_service(store)
        rec = recommendation()
        store.put_recommendation(rec, snapshot())
        writes = [0]

        def die(params: dict[str, Any], **kwargs: Any) -> None:
            if writes[0] >= 0 and _memory_now() == 512:
                writes[0] += 1
                raise ClientError({"Error": {"Code": "InternalServerError"}}, "Write")

        for operation in ("PutItem", "UpdateItem"):
            store.client.meta.events.register_first(
                f"before-parameter-build.dynamodb.{operation}", die
            )
        first = service.apply_recommendation(rec.id, "cli:alice")
        assert first.kind is ResultKind.APPLIED and "could not finish recording" in first.message
        writes[0] = -1
        assert service.apply_recommendation(rec.id, "cli:bob").kind is ResultKind.IN_PROGRESS
        clock.now += timedelta(minutes=17)
        again = service.apply_recommendation(rec.id, "cli:bob")
        assert again.kind is ResultKind.ALREADY_DONE and again.change_id == first.change_id
        assert _memory() == 512
        record = store.get_change(first.change_id or "")
        assert record is not None and record.status is ChangeStatus.APPLIED
        assert [(a.result, a.change_id) for a in service.audit()] == [
            (AuditResult.APPLIED, first.change_id)
        ]
        assert service.apply_recommendation(rec.id, "cli:carol").kind is ResultKind.ALREADY_DONE


def _memory_now() -> int:
    return _memory()
