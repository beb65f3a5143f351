"""Ephemeral storage (STO-001's change) with botocore's Stubber: moto ignores
``EphemeralStorage`` in ``UpdateFunctionConfiguration``, so responses are shaped as AWS
documents them (``EphemeralStorage: {"Size": MB}``, always present in real responses)."""

from __future__ import annotations

import pytest

from aws.appliers.errors import ChangeVerificationError, StaleChangeError
from aws.appliers.registry import apply_change
from recommendations.changes import EphemeralStorageChange
from tests.aws.test_appliers_stubbed import (
    NAME,
    _configuration,
    _get_function,
    _meta,
    stubbed,  # noqa: F401  (the fixture)
)

REVISION = "8f1e2b6c-0000-4000-8000-000000000001"
CHANGE = EphemeralStorageChange(function_name=NAME, before=10240, after=512)


def test_storage_update_carries_the_revision_and_reads_back(stubbed) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context, stubber = stubbed
    stubber.add_response(
        "get_function_configuration",
        _configuration(EphemeralStorage={"Size": 10240}),
        {"FunctionName": NAME},
    )
    stubber.add_response(
        "update_function_configuration",
        _configuration(EphemeralStorage={"Size": 512}, LastUpdateStatus="InProgress"),
        {"FunctionName": NAME, "EphemeralStorage": {"Size": 512}, "RevisionId": REVISION},
    )
    stubber.add_response(
        "get_function", _get_function(EphemeralStorage={"Size": 512}), {"FunctionName": NAME}
    )
    stubber.add_response(
        "get_function_configuration",
        _configuration(
            EphemeralStorage={"Size": 512}, RevisionId="rev-2", ResponseMetadata=_meta("req-after")
        ),
        {"FunctionName": NAME},
    )
    outcome = apply_change(CHANGE, context, expected_revision_id=REVISION)
    assert outcome.change == CHANGE
    assert outcome.revision_before == REVISION
    assert outcome.revision_id == "rev-2"
    assert outcome.request_ids == ("req-config", "req-config", "req-after")


def test_storage_changed_since_is_stale(stubbed) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context, stubber = stubbed
    stubber.add_response(
        "get_function_configuration",
        _configuration(EphemeralStorage={"Size": 2048}),
        {"FunctionName": NAME},
    )
    with pytest.raises(StaleChangeError) as raised:
        apply_change(CHANGE, context)
    assert str(raised.value) == (
        "The ephemeral storage of checkout-api is 2048 MB now, not the 10240 MB the "
        "recommendation was computed from; nothing was changed. Run the analysis again."
    )


def test_read_back_that_disagrees_is_reported(stubbed) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    context, stubber = stubbed
    stubber.add_response(
        "get_function_configuration",
        _configuration(EphemeralStorage={"Size": 10240}),
        {"FunctionName": NAME},
    )
    stubber.add_response(
        "update_function_configuration",
        _configuration(EphemeralStorage={"Size": 512}),
        {"FunctionName": NAME, "EphemeralStorage": {"Size": 512}, "RevisionId": REVISION},
    )
    stubber.add_response("get_function", _get_function(), {"FunctionName": NAME})
    # A response without the field means the default 512 MB; 10240 means it did not stick.
    stubber.add_response(
        "get_function_configuration",
        _configuration(EphemeralStorage={"Size": 10240}),
        {"FunctionName": NAME},
    )
    with pytest.raises(ChangeVerificationError, match="reads 10240 MB instead of 512 MB"):
        apply_change(CHANGE, context)


def test_inverse_and_description() -> None:
    assert CHANGE.inverse() == EphemeralStorageChange(function_name=NAME, before=512, after=10240)
    assert CHANGE.describe() == (
        "Set ephemeral storage (/tmp) of checkout-api from 10240 MB to 512 MB"
    )
    assert CHANGE.setting == "ephemeral_storage"
