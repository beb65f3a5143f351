"""Read template.yaml in tests: CloudFormation short-form tags, functions and their IAM grants.

The tests need no AWS and no SAM tooling (that runs in ``make iac-check``): the template is
parsed with a YAML loader that turns ``!Ref X`` into ``{"Ref": "X"}`` and so on, and IAM is
read from the inline ``Policies`` statements and the ``AWS::IAM::ManagedPolicy`` resources the
functions reference. Conditions are kept as written so the tests can require them.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# Short-form tag -> the long form CloudFormation uses.
_INTRINSICS = {
    "Ref": "Ref",
    "Sub": "Fn::Sub",
    "GetAtt": "Fn::GetAtt",
    "Join": "Fn::Join",
    "Split": "Fn::Split",
    "If": "Fn::If",
    "Not": "Fn::Not",
    "Equals": "Fn::Equals",
    "And": "Fn::And",
    "Or": "Fn::Or",
    "Select": "Fn::Select",
    "FindInMap": "Fn::FindInMap",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Base64": "Fn::Base64",
    "Condition": "Condition",
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form intrinsic functions."""


def _construct_intrinsic(loader: _CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    key = _INTRINSICS.get(tag_suffix)
    if key is None:
        raise yaml.constructor.ConstructorError(None, None, f"unknown tag !{tag_suffix}")
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if key == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _construct_intrinsic)


@cache
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.load(handle, Loader=_CfnLoader)
    assert isinstance(loaded, dict)
    return loaded


def resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {
        logical_id: resource
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == resource_type
    }


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every SAM function with Globals merged under its own properties (as SAM does)."""
    globals_ = template.get("Globals", {}).get("Function", {})
    merged: dict[str, dict[str, Any]] = {}
    for logical_id, resource in resources(template, "AWS::Serverless::Function").items():
        properties = {**globals_, **resource.get("Properties", {})}
        environment = {
            **globals_.get("Environment", {}).get("Variables", {}),
            **resource.get("Properties", {}).get("Environment", {}).get("Variables", {}),
        }
        properties["Environment"] = {"Variables": environment}
        merged[logical_id] = properties
    return merged


@dataclass(frozen=True)
class Statement:
    """One IAM statement as written, with where it came from."""

    source: str  # logical ID of the function, state machine or managed policy
    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[Any, ...]
    condition: dict[str, Any] | None

    def allows(self, action: str) -> bool:
        return self.effect == "Allow" and any(
            fnmatch.fnmatchcase(action.lower(), pattern.lower()) for pattern in self.actions
        )


def _as_tuple(value: Any) -> tuple[Any, ...]:
    return tuple(value) if isinstance(value, list) else (value,)


def _statements(source: str, document: dict[str, Any]) -> list[Statement]:
    return [
        Statement(
            source=source,
            sid=raw.get("Sid", ""),
            effect=raw["Effect"],
            actions=_as_tuple(raw["Action"]),
            resources=_as_tuple(raw["Resource"]),
            condition=raw.get("Condition"),
        )
        for raw in document["Statement"]
    ]


def managed_policy_statements(template: dict[str, Any]) -> dict[str, list[Statement]]:
    return {
        logical_id: _statements(logical_id, resource["Properties"]["PolicyDocument"])
        for logical_id, resource in resources(template, "AWS::IAM::ManagedPolicy").items()
    }


def _policies_statements(
    source: str, policies: list[Any], managed: dict[str, list[Statement]]
) -> list[Statement]:
    collected: list[Statement] = []
    for policy in policies:
        if isinstance(policy, dict) and "Statement" in policy:
            collected.extend(_statements(source, policy))
        elif isinstance(policy, dict) and set(policy) == {"Ref"}:
            collected.extend(managed[policy["Ref"]])
        else:
            raise AssertionError(
                f"{source}: only inline statements and !Ref to a managed policy in this "
                f"template are allowed in Policies (SAM policy templates and AWS managed "
                f"policies would hide what is granted): {policy!r}"
            )
    return collected


def function_statements(template: dict[str, Any]) -> dict[str, list[Statement]]:
    """What each function's execution role is granted by the template's own policies."""
    managed = managed_policy_statements(template)
    return {
        logical_id: _policies_statements(logical_id, properties.get("Policies", []), managed)
        for logical_id, properties in functions(template).items()
    }


def all_statements(template: dict[str, Any]) -> list[Statement]:
    """Every IAM statement the template grants to anything (functions, state machines)."""
    managed = managed_policy_statements(template)
    collected = [statement for group in managed.values() for statement in group]
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine"):
            for policy in resource.get("Properties", {}).get("Policies", []):
                if isinstance(policy, dict) and "Statement" in policy:
                    collected.extend(_statements(logical_id, policy))
        if resource["Type"] == "AWS::IAM::Role":
            for policy in resource["Properties"].get("Policies", []):
                collected.extend(_statements(logical_id, policy["PolicyDocument"]))
    return collected


def sub_text(value: Any) -> str:
    """The text of a literal or ``!Sub`` string (``${...}`` left in place), else ``""``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else str(sub[0])
    return ""
