"""Find every AWS call the ``aws`` package makes, with the parameters it passes, by reading the
code (``ast``), so the contract tests can hold each one against botocore's service model.

Recognised forms:

- ``client.update_function_configuration(FunctionName=..., MemorySize=...)``;
- a bound method handed to a wrapper that passes the keywords on:
  ``context.call(client.update_function_configuration, "doing", FunctionName=...)``,
  ``self._call("action", name, self.client.invoke, **params)``;
- the store's ``self._call("put_item", Item=...)`` (the operation named by a string);
- ``client.get_paginator("list_functions")`` and ``client.get_waiter("table_exists")``.

A call with ``**kwargs`` is "open": its named keywords are still checked, its required
parameters cannot be.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import botocore.session
from botocore import xform_name

REPO_ROOT = Path(__file__).resolve().parents[2]
AWS_PACKAGE = REPO_ROOT / "aws"

# The services the aws package talks to (botocore names).
SERVICES = (
    "lambda",
    "cloudwatch",
    "logs",
    "sqs",
    "dynamodb",
    "resourcegroupstaggingapi",
    "sts",
    "iam",
    "ce",
)
# Method names several of those services have: the service each module means.
SERVICE_BY_MODULE = {
    ("aws/inventory.py", "get_policy"): "lambda",
    ("aws/alarm_details.py", "list_tags_for_resource"): "cloudwatch",
    ("aws/metrics.py", "get_metric_data"): "cloudwatch",
    ("aws/cost_attribution.py", "get_metric_data"): "cloudwatch",
    ("aws/metrics.py", "list_metrics"): "cloudwatch",
}
# One-word operation names are also common words (``invoke``, ``query``, ``scan``): counted only
# when called on something named like a client, or named by the store's ``_call``.
CLIENT_NAMES = ("client", "lambda_client", "sqs_client", "iam_client", "sqs", "logs", "sts")
# Waiters the code uses -> the operation they poll.
WAITERS = {
    ("lambda", "function_updated_v2"): "GetFunction",
    ("dynamodb", "table_exists"): "DescribeTable",
}


@dataclass(frozen=True)
class AwsCall:
    """One call site: where, which method, the keyword names passed, whether ``**`` is used."""

    path: str
    line: int
    method: str
    keywords: frozenset[str]
    open: bool
    kind: str = "call"  # call | paginator | waiter


@cache
def operations() -> dict[str, tuple[tuple[str, str], ...]]:
    """boto3 method name -> the (service, Operation) pairs that have it."""
    session = botocore.session.get_session()
    found: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            found.setdefault(xform_name(operation), []).append((service, operation))
    return {name: tuple(pairs) for name, pairs in found.items()}


@cache
def service_model(service: str) -> botocore.model.ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def _receiver_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _is_operation_reference(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Attribute):
        return None
    name = node.attr
    if name not in operations():
        return None
    if "_" not in name and _receiver_name(node.value) not in CLIENT_NAMES:
        return None
    return name


def _keywords(call: ast.Call) -> tuple[frozenset[str], bool]:
    named = frozenset(k.arg for k in call.keywords if k.arg is not None)
    return named, any(k.arg is None for k in call.keywords)


# Wrappers that take keywords of their own besides the ones they pass on to the operation.
WRAPPER_OWN_KEYWORDS: dict[str, frozenset[str]] = {
    "call_with_permission_retry": frozenset({"destination", "retry"}),
}


def calls_in(path: Path, root: Path = REPO_ROOT) -> list[AwsCall]:
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    found: list[AwsCall] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        named, is_open = _keywords(node)
        direct = _is_operation_reference(node.func)
        # boto3's client methods take keywords only: with positional arguments it is one of
        # tunebot's own methods of the same name (``AwsSession.assume_role``).
        if direct and not node.args:
            found.append(AwsCall(relative, node.lineno, direct, named, is_open))
            continue
        func = _receiver_name(node.func)
        if func in ("get_paginator", "get_waiter") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                kind = "paginator" if func == "get_paginator" else "waiter"
                found.append(
                    AwsCall(relative, node.lineno, first.value, frozenset(), True, kind=kind)
                )
            continue
        if func == "_call" and node.args:
            first = node.args[0]
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value in operations()
            ):
                found.append(AwsCall(relative, node.lineno, first.value, named, is_open))
                continue
        own = WRAPPER_OWN_KEYWORDS.get(func or "", frozenset())
        for argument in node.args:
            referenced = _is_operation_reference(argument)
            if referenced:
                found.append(AwsCall(relative, node.lineno, referenced, named - own, is_open))
                break
    return found


def all_calls() -> list[AwsCall]:
    return [call for path in sorted(AWS_PACKAGE.rglob("*.py")) for call in calls_in(path)]


def operation_of(call: AwsCall) -> tuple[str, str]:
    """The (service, Operation) a call site addresses."""
    if call.kind == "waiter":
        for (service, waiter), operation in WAITERS.items():
            if waiter == call.method:
                return service, operation
        raise KeyError(f"{call.path}:{call.line}: unknown waiter {call.method}")
    candidates = operations()[call.method]
    if len(candidates) == 1:
        return candidates[0]
    service = SERVICE_BY_MODULE.get((call.path, call.method))
    if service is None:
        raise KeyError(
            f"{call.path}:{call.line}: {call.method} exists in {sorted(candidates)}; say which "
            "service the module means in SERVICE_BY_MODULE"
        )
    return next(pair for pair in candidates if pair[0] == service)
