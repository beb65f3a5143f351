"""A contract per AWS call: what tunebot sends fits botocore's service model, and what it is fed
in tests is what real AWS returns.

- Every call site in ``aws/`` (found by reading the code, ``tests/contracts/calls.py``) passes
  only parameters the operation's input shape has, and all its required ones.
- Every operation called has a recorded contract in ``tests/fixtures/aws/<service>/<Op>.json``
  whose request and response variants validate against the model (botocore's
  ``ParamValidator``, the check botocore itself runs on requests and Stubber on responses), and
  whose error codes are ones the operation documents. A new call without a contract, or a
  contract no code uses, fails here.
- ``test_contract_replays.py`` feeds these responses, including the behaviours moto hides, to
  the code that reads them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.validate import ParamValidator

from tests.contracts.calls import AwsCall, all_calls, calls_in, operation_of, service_model
from tests.contracts.fixtures import all_contracts, contract, fixture_path

CALLS = all_calls()
CONTRACTS = all_contracts()
# Errors every AWS service may answer (the "Common Errors" page of each API reference), which
# the service models do not list per operation.
COMMON_ERRORS = frozenset(
    {"AccessDenied", "AccessDeniedException", "ThrottlingException", "ThrottledException"}
)


def _id(call: AwsCall) -> str:
    return f"{call.path}:{call.line}:{call.method}"


def test_the_collector_finds_the_calls_it_must() -> None:
    """Guards the collector: direct calls, wrapped ones, the store's named ones, paginators."""
    found = {(operation_of(call), call.kind) for call in CALLS}
    assert (("lambda", "UpdateFunctionConfiguration"), "call") in found  # context.call(...)
    assert (("lambda", "Invoke"), "call") in found  # self._call(..., self.client.invoke)
    assert (("dynamodb", "PutItem"), "call") in found  # self._call("put_item", ...)
    assert (("lambda", "ListFunctions"), "paginator") in found
    assert (("lambda", "GetFunction"), "waiter") in found  # function_updated_v2
    assert not any(
        operation_of(call) == ("sts", "AssumeRole") and not call.keywords for call in CALLS
    )


def test_every_aws_call_has_a_recorded_contract() -> None:
    missing = sorted(
        {
            f"{service}/{operation} (called at {call.path}:{call.line})"
            for call in CALLS
            for service, operation in [operation_of(call)]
            if not fixture_path(service, operation).is_file()
        }
    )
    assert not missing, (
        "AWS calls without a contract; add tests/fixtures/aws/<service>/<Operation>.json from "
        f"the API reference: {missing}"
    )


def test_every_contract_belongs_to_a_call() -> None:
    called = {operation_of(call) for call in CALLS}
    unused = sorted(
        f"{service}/{operation}"
        for service, operation in CONTRACTS
        if (service, operation) not in called
    )
    assert not unused, f"contracts no code uses (remove them or the call went missing): {unused}"


def test_a_new_call_without_a_contract_is_caught(tmp_path: Path) -> None:
    source = tmp_path / "new_feature.py"
    source.write_text(
        "def tag(client, arn):\n"
        "    client.put_function_recursion_config(FunctionName=arn, RecursiveLoop='Allow')\n"
        "    client.get_function(FunctionName='x')\n"
    )
    calls = calls_in(source, root=tmp_path)
    operations = {operation_of(call) for call in calls}
    assert operations == {("lambda", "PutFunctionRecursionConfig"), ("lambda", "GetFunction")}
    missing = {pair for pair in operations if not fixture_path(*pair).is_file()}
    assert missing == {("lambda", "PutFunctionRecursionConfig")}


@pytest.mark.parametrize("call", [c for c in CALLS if c.kind == "call"], ids=_id)
def test_call_site_parameters_fit_the_model(call: AwsCall) -> None:
    service, operation = operation_of(call)
    shape = service_model(service).operation_model(operation).input_shape
    members = set(shape.members) if shape is not None else set()
    unknown = sorted(call.keywords - members)
    assert not unknown, f"{_id(call)} passes {unknown}, which {service}:{operation} does not take"
    if not call.open and shape is not None:
        missing = sorted(set(shape.required_members) - call.keywords)
        # The store's _call adds TableName itself.
        if call.path == "aws/store.py":
            missing = [name for name in missing if name != "TableName"]
        assert not missing, f"{_id(call)} leaves out required {missing}"


def _validate(value: object, shape: object, what: str) -> None:
    report = ParamValidator().validate(value, shape)
    assert not report.has_errors(), f"{what}:\n{report.generate_report()}"


@pytest.mark.parametrize(("service", "operation"), CONTRACTS, ids=lambda v: str(v))
def test_contract_fits_the_service_model(service: str, operation: str) -> None:
    recorded = contract(service, operation)
    assert recorded["source"], "say where the shapes come from"
    model = service_model(service).operation_model(operation)
    _validate(recorded["request"], model.input_shape, f"{service}:{operation} request")
    assert recorded["responses"], "at least one response"
    for name, body in recorded["responses"].items():
        if model.output_shape is None:
            assert body == {}
            continue
        _validate(body, model.output_shape, f"{service}:{operation} response {name!r}")
    documented = {shape.name for shape in model.error_shapes} | {
        shape.metadata.get("error", {}).get("code", shape.name) for shape in model.error_shapes
    }
    for error in recorded["errors"]:
        assert error["code"] in documented | COMMON_ERRORS, (
            f"{service}:{operation} does not document {error['code']}"
        )
        assert 400 <= int(error["status"]) < 600 and error["message"]


def test_a_parameter_the_model_lacks_is_caught(tmp_path: Path) -> None:
    source = tmp_path / "typo.py"
    source.write_text("def grow(client):\n    client.update_function_configuration(Memory=512)\n")
    (call,) = calls_in(source, root=tmp_path)
    with pytest.raises(AssertionError, match=r"passes \['Memory'\]"):
        test_call_site_parameters_fit_the_model(call)
    source.write_text("def grow(client):\n    client.update_function_configuration(MemorySize=1)\n")
    (call,) = calls_in(source, root=tmp_path)
    with pytest.raises(AssertionError, match=r"leaves out required \['FunctionName'\]"):
        test_call_site_parameters_fit_the_model(call)
