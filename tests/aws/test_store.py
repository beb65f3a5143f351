"""The state and audit store against moto's DynamoDB."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import boto3
import pytest
from hypothesis import given
from hypothesis import strategies as st
from moto import mock_aws

from aws.store import (
    AuditAction,
    AuditResult,
    ChangeRecord,
    ChangeStatus,
    ClaimStatus,
    StateStore,
    StoreError,
    StoreNotConfiguredError,
    TableStatus,
    create_tables,
)
from aws.store_codec import deserialize_item, serialize_item
from recommendations.changes import (
    ArchitectureChange,
    AsyncFailureDestinationChange,
    AsyncSettings,
    EventSourceMappingChange,
    EventSourceMappingSettings,
    MemoryChange,
    ProvisionedConcurrencyChange,
    ReservedConcurrencyChange,
    TimeoutChange,
)
from recommendations.snapshot import Architecture
from tests.aws.change_helpers import REGION, Clock, moto_store, recommendation, snapshot


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock):  # type: ignore[no-untyped-def]
    with mock_aws(), moto_store(clock) as store:
        yield store


def test_codec_round_trips_floats_without_binary_noise() -> None:
    item = {"a": 0.1, "b": 3, "c": [1.5, {"d": None, "e": True}], "f": (2.25,)}
    low_level = serialize_item(item)
    assert low_level["a"] == {"N": "0.1"}
    assert deserialize_item(low_level) == {
        "a": 0.1,
        "b": 3,
        "c": [1.5, {"d": None, "e": True}],
        "f": [2.25],
    }
    assert deserialize_item({"x": {"N": "12"}}) == {"x": 12}
    assert isinstance(deserialize_item({"x": {"N": "12.5"}})["x"], float)
    assert serialize_item({"x": Decimal("1.25")}) == {"x": {"N": "1.25"}}


def test_codec_refuses_numbers_dynamodb_cannot_hold() -> None:
    with pytest.raises(ValueError, match="cannot store the number nan"):
        serialize_item({"x": float("nan")})


def test_create_tables_is_idempotent_and_enables_ttl() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        first = create_tables("t-main", "t-idem", client=client)
        second = create_tables("t-main", "t-idem", client=client)
        assert first == {"t-main": TableStatus.CREATED, "t-idem": TableStatus.CREATED}
        assert second == {"t-main": TableStatus.EXISTS, "t-idem": TableStatus.EXISTS}
        ttl = client.describe_time_to_live(TableName="t-main")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == "expires_at"
        idem = client.describe_table(TableName="t-idem")["Table"]
        assert idem["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
        idem_ttl = client.describe_time_to_live(TableName="t-idem")["TimeToLiveDescription"]
        assert idem_ttl["AttributeName"] == "expiration"
        indexes = client.describe_table(TableName="t-main")["Table"]["GlobalSecondaryIndexes"]
        assert sorted(index["IndexName"] for index in indexes) == ["GSI1", "GSI2"]


def test_missing_table_name_is_one_sentence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TUNEBOT_TABLE", raising=False)
    with pytest.raises(StoreNotConfiguredError, match="TUNEBOT_TABLE is not set"):
        StateStore.from_environment()


def test_missing_table_says_how_to_create_it() -> None:
    with mock_aws():
        store = StateStore("nope", boto3.client("dynamodb", region_name=REGION))
        with pytest.raises(StoreError, match=r"table nope does not exist.*tunebot store init"):
            store.get_recommendation("rec-1")


def test_missing_table_is_not_worth_retrying() -> None:
    with mock_aws():
        store = StateStore("nope", boto3.client("dynamodb", region_name=REGION))
        with pytest.raises(StoreError) as raised:
            store.get_recommendation("rec-1")
    assert not raised.value.retryable


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("ProvisionedThroughputExceededException", 400, True),
        ("ThrottlingException", 400, True),
        ("InternalServerError", 500, True),
        ("AccessDeniedException", 400, False),
        ("ValidationException", 400, False),
    ],
)
def test_store_errors_say_whether_they_are_worth_retrying(
    code: str, status: int, retryable: bool
) -> None:
    from botocore.stub import Stubber

    client = boto3.client(
        "dynamodb",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_item", service_error_code=code, service_message="no", http_status_code=status
        )
        with pytest.raises(StoreError) as raised:
            StateStore("tunebot", client).get_recommendation("rec-1")
    assert raised.value.retryable is retryable
    assert raised.value.code == code
    assert "tunebot table tunebot" in str(raised.value)


def test_recommendation_round_trip_with_function_config(store: StateStore, clock: Clock) -> None:
    rec = recommendation()
    store.put_recommendation(rec, snapshot(revision_id="rev-1"), requested_by="slack:U1")
    stored = store.get_recommendation(rec.id)
    assert stored is not None
    assert stored.recommendation == rec
    assert stored.function == snapshot(revision_id="rev-1")
    assert stored.requested_by == "slack:U1"
    assert stored.expires_at == clock.now + timedelta(days=14)
    store.set_recommendation_message(rec.id, "C123", "1700000000.000100")
    stored = store.get_recommendation(rec.id)
    assert stored is not None
    assert (stored.channel, stored.message_ts) == ("C123", "1700000000.000100")
    assert [s.recommendation.id for s in store.recommendations_for(rec.function_arn)] == [rec.id]
    assert store.recommendations_for("other-function") == []


def test_expired_recommendation_is_gone_even_before_ttl_deletion(
    store: StateStore, clock: Clock
) -> None:
    rec = recommendation()
    store.put_recommendation(rec)
    clock.now += timedelta(days=14, seconds=1)
    assert store.get_recommendation(rec.id) is None
    assert store.recommendations_for(rec.function) == []


def test_approvals_are_distinct_and_listed_as_pending(store: StateStore, clock: Clock) -> None:
    rec = recommendation()
    store.put_recommendation(rec)
    assert store.add_approval(rec.id, "U1") == (True, ("U1",))
    clock.now += timedelta(seconds=5)
    assert store.add_approval(rec.id, "U1") == (False, ("U1",))
    assert store.add_approval(rec.id, "U2") == (True, ("U1", "U2"))
    pending = store.pending_approvals()
    assert [(p.recommendation.id, p.approvers) for p in pending] == [(rec.id, ("U1", "U2"))]
    store.mark_recommendation_applied(rec.id, "chg-1")
    assert store.pending_approvals() == []


def test_approving_an_unknown_recommendation_fails(store: StateStore) -> None:
    with pytest.raises(StoreError, match="rec-missing is not stored"):
        store.add_approval("rec-missing", "U1")


def test_claim_is_exclusive_and_reports_the_holder(store: StateStore) -> None:
    first = store.claim("apply#rec-1", "slack:U1")
    second = store.claim("apply#rec-1", "slack:U2")
    assert first.acquired and not second.acquired
    assert second.claim.change_id == first.claim.change_id
    assert second.claim.status is ClaimStatus.IN_PROGRESS
    store.finish_claim("apply#rec-1", first.claim.change_id, ClaimStatus.APPLIED, "done")
    third = store.claim("apply#rec-1", "slack:U3")
    assert not third.acquired
    assert (third.claim.status, third.claim.message) == (ClaimStatus.APPLIED, "done")


def test_failed_or_released_claims_can_be_taken_again(store: StateStore) -> None:
    first = store.claim("k", "a")
    store.finish_claim("k", first.claim.change_id, ClaimStatus.FAILED, "throttled")
    second = store.claim("k", "b")
    assert second.acquired and second.claim.change_id != first.claim.change_id
    with pytest.raises(StoreError, match="no longer held"):
        store.finish_claim("k", first.claim.change_id, ClaimStatus.APPLIED)
    store.finish_claim("k", second.claim.change_id, ClaimStatus.APPLIED)
    store.release_claim("k")
    assert store.claim("k", "c").acquired


def test_a_dead_holders_claim_is_taken_over_after_its_lease(
    store: StateStore, clock: Clock
) -> None:
    assert store.claim("k", "a").acquired
    clock.now += timedelta(minutes=10)
    assert not store.claim("k", "b").acquired
    clock.now += timedelta(minutes=7)
    assert store.claim("k", "b").acquired


def test_concurrent_claims_have_exactly_one_winner(store: StateStore) -> None:
    results = []
    barrier = threading.Barrier(8)

    def contend(actor: str) -> None:
        barrier.wait()
        results.append(store.claim("apply#rec-race", actor))

    threads = [threading.Thread(target=contend, args=(f"u{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(result.acquired for result in results) == 1
    assert len({result.claim.change_id for result in results}) == 1


def _change_record(store: StateStore, change_id: str = "chg-1") -> ChangeRecord:
    change = MemoryChange(function_name="checkout-api", before=1024, after=512)
    return ChangeRecord(
        change_id=change_id,
        recommendation_id="rec-1",
        function_name="checkout-api",
        change=change,
        description=change.describe(),
        actor="cli:alice",
        approvers=("U1",),
        applied_at=store.now(),
        request_ids=("req-1",),
    )


def test_change_records_are_written_once_and_undone_once(store: StateStore) -> None:
    record = _change_record(store)
    store.put_change(record)
    with pytest.raises(StoreError, match="already recorded"):
        store.put_change(record)
    assert store.get_change("chg-1") == record
    assert store.mark_change_undone("chg-1", "chg-2", "cli:bob") is True
    assert store.mark_change_undone("chg-1", "chg-3", "cli:eve") is False
    undone = store.get_change("chg-1")
    assert undone is not None
    assert (undone.status, undone.undone_by, undone.undo_change_id) == (
        ChangeStatus.UNDONE,
        "cli:bob",
        "chg-2",
    )
    assert [c.change_id for c in store.changes_for_function("checkout-api")] == ["chg-1"]
    assert [c.change_id for c in store.recent_changes()] == ["chg-1"]
    assert store.get_change("chg-unknown") is None


def test_audit_is_append_only_and_listed_newest_first(store: StateStore, clock: Clock) -> None:
    first = store.new_audit_record(
        actor="cli:alice",
        action=AuditAction.APPLY,
        function_name="checkout-api",
        description="Set memory of checkout-api from 1024 MB to 512 MB",
        before=1024,
        after=512,
        result=AuditResult.APPLIED,
        request_ids=("req-1",),
    )
    store.append_audit(first)
    with pytest.raises(StoreError, match="already exists"):
        store.append_audit(first.model_copy(update={"result": AuditResult.FAILED}))
    clock.now += timedelta(days=40)  # the next record lands in another month's partition
    second = store.new_audit_record(
        actor="cli:bob",
        action=AuditAction.UNDO,
        function_name="orders-worker",
        description="x",
        result=AuditResult.STALE,
    )
    store.append_audit(second)
    assert store.recent_audit() == [second, first]
    assert store.recent_audit(limit=1) == [second]
    assert store.recent_audit(function="checkout-api") == [first]
    assert store.recent_audit(function="arn:aws:lambda:us-east-1:1:function:orders-worker") == [
        second
    ]


def test_dismissals_hold_until_their_time(store: StateStore, clock: Clock) -> None:
    store.dismiss("checkout-api", "MEM-001", until=clock.now + timedelta(days=7), actor="U1")
    assert store.is_dismissed("checkout-api", "MEM-001")
    assert not store.is_dismissed("checkout-api", "ARM-001")
    clock.now += timedelta(days=7, seconds=1)
    assert not store.is_dismissed("checkout-api", "MEM-001")


def test_alert_thread_is_created_once_then_updated(store: StateStore, clock: Clock) -> None:
    created = store.create_alert_thread("alarm:checkout-p99", "ALARM")
    again = store.create_alert_thread("alarm:checkout-p99", "ALARM", channel="C9", ts="9.9")
    assert created.created and not again.created
    assert again.thread == created.thread
    clock.now += timedelta(minutes=3)
    updated = store.update_alert_thread("alarm:checkout-p99", channel="C1", ts="1.1", state="OK")
    assert (updated.channel, updated.ts, updated.state) == ("C1", "1.1", "OK")
    assert updated.updated_at == clock.now
    assert store.get_alert_thread("alarm:checkout-p99") == updated
    clock.now += timedelta(days=31)
    assert store.get_alert_thread("alarm:checkout-p99") is None
    fresh = store.create_alert_thread("alarm:checkout-p99", "ALARM")
    assert fresh.created and fresh.thread.channel is None
    with pytest.raises(StoreError, match="no alert thread for other"):
        store.update_alert_thread("other", state="OK")


def test_refreshing_a_recommendation_keeps_approvals_and_card(
    store: StateStore, clock: Clock
) -> None:
    rec = recommendation()
    store.put_recommendation(rec, snapshot(), channel="C1", message_ts="1.0")
    store.add_approval(rec.id, "U1")
    clock.now += timedelta(hours=1)
    refreshed = store.put_recommendation(rec, requested_by="slack:U2")
    assert (refreshed.channel, refreshed.message_ts, refreshed.approvers) == ("C1", "1.0", ("U1",))
    assert refreshed.function == snapshot()
    assert refreshed.expires_at == clock.now + timedelta(days=14)
    assert [p.recommendation.id for p in store.pending_approvals()] == [rec.id]


def test_an_expired_recommendation_stored_again_starts_afresh(
    store: StateStore, clock: Clock
) -> None:
    rec = recommendation()
    store.put_recommendation(rec, channel="C1", message_ts="1.0")
    store.add_approval(rec.id, "U1")
    clock.now += timedelta(days=15)
    fresh = store.put_recommendation(rec)
    assert (fresh.channel, fresh.approvers) == (None, ())
    assert store.approvals(rec.id) == []
    assert store.add_approval(rec.id, "U1") == (True, ("U1",))


def test_an_existing_table_with_another_layout_is_refused() -> None:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(
            TableName="someone-elses",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        with pytest.raises(StoreError) as raised:
            create_tables("someone-elses", "idem", client=client)
        assert str(raised.value) == (
            "The DynamoDB table someone-elses already exists with a different layout; tunebot "
            "needs the keys PK (HASH), SK (RANGE) and the indexes GSI1, GSI2. Choose another "
            "table name."
        )


EVERY_CHANGE = [
    MemoryChange(function_name="checkout-api", before=1024, after=512),
    TimeoutChange(function_name="checkout-api", before=30, after=10),
    ArchitectureChange(
        function_name="checkout-api", before=Architecture.X86_64, after=Architecture.ARM64
    ),
    EventSourceMappingChange(
        function_name="checkout-api",
        mapping_uuid="6fcfbf8b-c17a-4c05-8e4d-d7e376d2a1f4",
        source_arn="arn:aws:sqs:us-east-1:123456789012:orders",
        before=EventSourceMappingSettings(batch_size=10),
        after=EventSourceMappingSettings(batch_size=100, maximum_batching_window_s=5),
    ),
    AsyncFailureDestinationChange(
        function_name="checkout-api",
        before=AsyncSettings(),
        after=AsyncSettings(on_failure_destination="arn:aws:sqs:us-east-1:123456789012:f"),
        create_queue_name="f",
    ),
    ReservedConcurrencyChange(function_name="checkout-api", before=None, after=5),
    ProvisionedConcurrencyChange(function_name="checkout-api", qualifier="live", before=0, after=3),
]


@pytest.mark.parametrize("change", EVERY_CHANGE, ids=lambda change: change.kind)
def test_every_change_type_round_trips(store: StateStore, change) -> None:  # type: ignore[no-untyped-def]
    record = _change_record(store).model_copy(
        update={"change": change, "description": change.describe(), "change_id": "chg-x"}
    )
    store.put_change(record)
    assert store.get_change("chg-x") == record
    rec = recommendation(change)
    store.put_recommendation(rec)
    stored = store.get_recommendation(rec.id)
    assert stored is not None and stored.recommendation == rec


def test_an_expired_claim_no_longer_blocks(store: StateStore, clock: Clock) -> None:
    first = store.claim("k", "a")
    store.finish_claim("k", first.claim.change_id, ClaimStatus.APPLIED)
    clock.now += timedelta(days=29)
    assert not store.claim("k", "b").acquired
    clock.now += timedelta(days=2)
    assert store.claim("k", "b").acquired


@given(
    st.recursive(
        st.none()
        | st.booleans()
        | st.integers(min_value=-(10**30), max_value=10**30)
        # Above 2**53 an integral float comes back as the int DynamoDB's text names, which
        # may differ from the float in the last digits (documented in aws/store_codec.py).
        | st.floats(allow_nan=False, allow_infinity=False).filter(
            lambda x: x == 0 or 1e-130 <= abs(x) < 2**53
        )
        | st.text(max_size=5),
        lambda children: (
            st.lists(children, max_size=3)
            | st.dictionaries(st.text(min_size=1, max_size=4), children, max_size=3)
        ),
        max_leaves=10,
    )
)
def test_codec_round_trips_any_storable_value(value: object) -> None:
    assert deserialize_item(serialize_item({"v": value})) == {"v": value}


def test_codec_refuses_numbers_outside_dynamodbs_range() -> None:
    with pytest.raises(ValueError, match="cannot store the number 1e-300"):
        serialize_item({"x": 1e-300})


def test_applying_or_undoing_starts_a_new_approval_round(store: StateStore) -> None:
    """Approvals belong to one application of a change: after it is applied (or undone) the
    same recommendation needs fresh approvals."""
    rec = recommendation()
    store.put_recommendation(rec, snapshot())
    store.add_approval(rec.id, "U1")
    assert store.add_approval(rec.id, "U2") == (True, ("U1", "U2"))
    store.mark_recommendation_applied(rec.id, "chg-1")
    # An approval given while applied approves nothing; the undo drops it too.
    assert store.add_approval(rec.id, "U3") == (True, ("U3",))
    assert store.pending_approvals() == []
    store.mark_recommendation_undone(rec.id)
    stored = store.get_recommendation(rec.id)
    assert stored is not None and (stored.approvers, stored.approval_round) == ((), 2)
    assert store.approvals(rec.id) == []
    assert store.add_approval(rec.id, "U1") == (True, ("U1",))
    # Storing the recommendation again (a new /tune) keeps the round.
    assert store.put_recommendation(rec, snapshot()).approval_round == 2
    assert [a.user for a in store.approvals(rec.id)] == ["U1"]


def test_an_intent_is_finished_once_and_listed_only_when_asked(store: StateStore) -> None:
    intent = _change_record(store).model_copy(update={"status": ChangeStatus.INTENDED})
    store.put_change(intent)
    store.put_change(intent, exist_ok=True)  # a retry whose first answer was lost
    assert store.changes_for_function("checkout-api") == []
    assert [r.change_id for r in store.changes_for_function("checkout-api", intended=True)] == [
        "chg-1"
    ]
    applied = intent.model_copy(update={"status": ChangeStatus.APPLIED})
    assert store.complete_change(applied) is True
    assert store.complete_change(applied.model_copy(update={"status": ChangeStatus.FAILED})) is (
        False
    )
    assert [r.status for r in store.recent_changes()] == [ChangeStatus.APPLIED]


def test_a_failed_attempt_is_kept_but_not_listed(store: StateStore) -> None:
    intent = _change_record(store).model_copy(update={"status": ChangeStatus.INTENDED})
    store.put_change(intent)
    store.complete_change(intent.model_copy(update={"status": ChangeStatus.FAILED}))
    found = store.get_change("chg-1")
    assert found is not None and found.status is ChangeStatus.FAILED
    assert store.recent_changes(intended=True) == []


def test_taking_over_a_claim_returns_the_one_it_replaced(store: StateStore) -> None:
    first = store.claim("apply#rec-1", "cli:alice")
    store.finish_claim("apply#rec-1", first.claim.change_id, ClaimStatus.FAILED, "throttled")
    second = store.claim("apply#rec-1", "cli:bob")
    assert second.acquired and second.previous is not None
    assert (second.previous.change_id, second.previous.status) == (
        first.claim.change_id,
        ClaimStatus.FAILED,
    )
    store.finish_claim(
        "apply#rec-1", second.claim.change_id, ClaimStatus.APPLIED, record_as=first.claim.change_id
    )
    holder = store.get_claim("apply#rec-1")
    assert holder is not None and holder.change_id == first.claim.change_id
