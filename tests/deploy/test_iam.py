"""template.yaml grants every IAM action the code declares, to the function that runs that code,
and nothing broader: no unconditioned write on a wildcard, no grant the code does not use.

Declarations collected: module-level ``IAM_ACTIONS`` in every ``aws`` module, ``iam_actions``
of every ``Change`` type and of every rule. Where a module's code runs is ``REQUIRED_IN`` below.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import botocore.session
import pytest
from botocore import xform_name

import aws
from recommendations.changes import CHANGE_TYPES
from recommendations.rules import RULE_CLASSES
from tests.deploy.cfn import (
    REPO_ROOT,
    Statement,
    all_statements,
    function_statements,
    functions,
    load_template,
    sub_text,
)

TEMPLATE = load_template()
FUNCTIONS = functions(TEMPLATE)
GRANTS = function_statements(TEMPLATE)

ANALYSIS_FUNCTIONS = frozenset(
    {"SlackFunction", "AlarmFunction", "CostAnomalyFunction", "DigestFunction"}
)

# Where each area's code runs, by module prefix (the longest prefix wins). A module missing
# here must still be granted to at least one function.
REQUIRED_IN: dict[str, frozenset[str]] = {
    "aws.appliers": frozenset({"SlackFunction"}),
    "aws.change_adapters": frozenset({"SlackFunction"}),
    "aws.change_reader": frozenset({"SlackFunction"}),
    "aws.store": ANALYSIS_FUNCTIONS,
    "aws.session": ANALYSIS_FUNCTIONS,
    "aws.inventory": ANALYSIS_FUNCTIONS,
    "aws.metrics": ANALYSIS_FUNCTIONS,
    "aws.logs": ANALYSIS_FUNCTIONS,
    "aws.package_scan": ANALYSIS_FUNCTIONS,
    "aws.scan": ANALYSIS_FUNCTIONS,
    "aws.cost_attribution": frozenset({"CostAnomalyFunction"}),
    "aws.alarm_details": frozenset({"AlarmFunction"}),
    "aws.invokers": frozenset({"TuningInvokeBatchFunction"}),
}

# Declared by the code but deliberately not granted to any deployed function.
NOT_GRANTED = {
    "sts:GetCallerIdentity": "needs no permission: IAM cannot deny it",
}

# Granted by the template for code that declares no IAM_ACTIONS (handlers, Powertools).
TEMPLATE_ONLY = {
    "secretsmanager:GetSecretValue": "handlers read SLACK_SECRET_ARN",
    "kms:Decrypt": "tables, environment and topics are encrypted with the stack's key",
    "kms:Encrypt": "tables are encrypted with the stack's key",
    "kms:GenerateDataKey": "tables are encrypted with the stack's key",
    "kms:DescribeKey": "DynamoDB checks the table key",
    "dynamodb:DeleteItem": "Powertools idempotency deletes a record when the handler fails",
    "lambda:InvokeFunction": "Bolt lazy listeners re-invoke the Slack function",
    # The invoker copies VpcConfig; Lambda then checks that its *caller* may describe them.
    "ec2:DescribeSecurityGroups": "CreateFunction of a copy in the original's VPC",
    "ec2:DescribeSubnets": "CreateFunction of a copy in the original's VPC",
    "ec2:DescribeVpcs": "CreateFunction of a copy in the original's VPC",
}

# Not Get/List/Describe-like by name, yet they change no resource: they run or stop a read.
NON_MUTATING = {
    "logs:StartQuery": "starts a Logs Insights query (a read)",
    "logs:StopQuery": "stops tunebot's own Logs Insights query",
}

# Writes AWS offers no resource-level permission or condition key for; AWS documents "*".
NO_RESOURCE_SCOPE = {
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:PutResourcePolicy",
    "logs:ListLogDeliveries",
}

READ_VERBS = ("Get", "List", "Describe", "BatchGet", "Query", "Scan", "Filter", "Search")


def is_read_only(action: str) -> bool:
    name = action.split(":", 1)[1]
    return name.startswith(READ_VERBS) or action in NON_MUTATING


def _aws_modules() -> list[ModuleType]:
    names = [
        info.name for info in pkgutil.walk_packages(aws.__path__, prefix="aws.") if not info.ispkg
    ]
    return [importlib.import_module(name) for name in sorted(names)]


def declared_by_modules() -> dict[str, tuple[str, ...]]:
    return {
        module.__name__: tuple(module.IAM_ACTIONS)
        for module in _aws_modules()
        if hasattr(module, "IAM_ACTIONS")
    }


def declared_by_changes_and_rules() -> dict[str, tuple[str, ...]]:
    declared = {f"change {kind.__name__}": kind.iam_actions for kind in CHANGE_TYPES}
    declared |= {f"rule {rule.rule_id}": rule.iam_actions for rule in RULE_CLASSES}
    return declared


def required_in(source: str) -> frozenset[str] | None:
    if source.startswith(("change ", "rule ")):
        # A change or a rule's change is applied from a Slack click.
        return frozenset({"SlackFunction"})
    matches = [prefix for prefix in REQUIRED_IN if source == prefix or source.startswith(prefix)]
    return REQUIRED_IN[max(matches, key=len)] if matches else None


def granted_to(action: str) -> set[str]:
    return {
        function
        for function, statements in GRANTS.items()
        if any(statement.allows(action) for statement in statements)
    }


DECLARED = declared_by_modules() | declared_by_changes_and_rules()
DECLARED_PAIRS = sorted(
    (source, action) for source, actions in DECLARED.items() for action in actions
)
ALL_DECLARED_ACTIONS = {action for _, action in DECLARED_PAIRS}


def test_declarations_were_found() -> None:
    # Guards the collector itself: the appliers and the change types always declare actions.
    assert "lambda:UpdateFunctionConfiguration" in ALL_DECLARED_ACTIONS
    assert any(source.startswith("aws.") for source, _ in DECLARED_PAIRS)
    assert all(re.fullmatch(r"[a-z0-9-]+:[A-Z][A-Za-z0-9]+", a) for a in ALL_DECLARED_ACTIONS)


@pytest.mark.parametrize(("source", "action"), DECLARED_PAIRS)
def test_declared_action_is_granted_where_the_code_runs(source: str, action: str) -> None:
    if action in NOT_GRANTED:
        assert not granted_to(action), f"{action} is granted but {NOT_GRANTED[action]}"
        return
    holders = granted_to(action)
    needed = required_in(source)
    if needed is None:
        assert holders, f"{source} declares {action}; no function is granted it"
    else:
        missing = sorted(needed - holders)
        assert not missing, f"{source} declares {action}; not granted to {missing}"


def test_nothing_is_granted_that_the_code_does_not_use() -> None:
    granted = {
        action
        for statements in GRANTS.values()
        for statement in statements
        if statement.effect == "Allow"
        for action in statement.actions
    }
    unused = sorted(granted - ALL_DECLARED_ACTIONS - set(TEMPLATE_ONLY))
    assert not unused, f"granted but declared by no code: {unused}"
    assert all("*" not in action for action in granted), "no action wildcards"


def test_actions_declared_for_other_contexts_are_not_granted() -> None:
    """``<SOMETHING>_IAM_ACTIONS`` tuples name actions for an operator or an opt-in (table
    creation by ``tunebot store init``, IAM changes for a failure queue): the deployed
    functions must not hold them unless their own code declares them too."""
    others = {
        (module.__name__, name, action)
        for module in _aws_modules()
        for name, actions in vars(module).items()
        if name.endswith("_IAM_ACTIONS") and isinstance(actions, tuple)
        for action in actions
    }
    assert any(action == "iam:PutRolePolicy" for _, _, action in others)
    for module_name, name, action in sorted(others):
        if action not in ALL_DECLARED_ACTIONS:
            assert not granted_to(action), f"{module_name}.{name}: {action} must not be granted"


def test_no_iam_changes_are_granted() -> None:
    assert not any(
        action.startswith("iam:") and action != "iam:PassRole"
        for statement in all_statements(TEMPLATE)
        for action in statement.actions
    )


def _is_broad(resource: Any) -> bool:
    """True for "*" and for every resource of a type ("...:function:*", "...:role/*"), and for
    every version of every function ("...:function:*:*")."""
    text = sub_text(resource)
    if not text:  # !GetAtt / !Ref: one named resource
        return False
    if text == "*":
        return True
    if not text.startswith("arn:"):  # e.g. "${StateTable.Arn}/index/*": under one resource
        return False
    # ${AWS::Partition} and friends contain colons; stand them in before splitting the ARN.
    resolved = re.sub(r"\$\{[^}]*\}", "VAR", text)
    resource_part = ":".join(resolved.split(":")[5:])
    return re.fullmatch(r"([A-Za-z-]+[:/])?\*(:\*)?", resource_part) is not None


def _write_actions(statement: Statement) -> list[str]:
    return [action for action in statement.actions if not is_read_only(action)]


@pytest.mark.parametrize(
    "statement",
    [s for s in all_statements(TEMPLATE) if s.effect == "Allow" and _write_actions(s)],
    ids=lambda s: f"{s.source}.{s.sid}",
)
def test_write_actions_are_conditioned_or_narrow(statement: Statement) -> None:
    if statement.condition:
        return
    broad = [resource for resource in statement.resources if _is_broad(resource)]
    unscoped = sorted(set(_write_actions(statement)) - NO_RESOURCE_SCOPE)
    assert not (broad and unscoped), (
        f"{statement.source}.{statement.sid} grants {unscoped} on {broad} without a condition"
    )


def _managed_tag_key() -> str:
    variable = FUNCTIONS["SlackFunction"]["Environment"]["Variables"]["TUNEBOT_MANAGED_TAG"]
    key, _, value = sub_text(variable).partition("=")
    assert value == "${ManagedTagValue}"
    return key


def test_template_default_is_the_bots_default_managed_tag() -> None:
    from bot.settings import DEFAULT_MANAGED_TAG

    default_value = TEMPLATE["Parameters"]["ManagedTagValue"]["Default"]
    assert f"{_managed_tag_key()}={default_value}" == DEFAULT_MANAGED_TAG


def test_writes_on_all_functions_require_the_managed_tag() -> None:
    """Every write whose resource is any function or mapping is conditioned on the same tag the
    bot reads from TUNEBOT_MANAGED_TAG, with the value from the ManagedTagValue parameter."""
    tag_condition = {f"aws:ResourceTag/{_managed_tag_key()}": {"Ref": "ManagedTagValue"}}
    checked = 0
    for statement in all_statements(TEMPLATE):
        if statement.effect != "Allow" or not _write_actions(statement):
            continue
        if any(_is_broad(resource) for resource in statement.resources):
            if set(_write_actions(statement)) <= NO_RESOURCE_SCOPE:
                continue
            equals = (statement.condition or {}).get("StringEquals", {})
            assert tag_condition.items() <= equals.items(), statement
            checked += 1
    assert checked >= 3  # apply (functions), apply (mappings), in-place benchmarks, PassRole


def test_pure_tuning_steps_hold_no_aws_permissions() -> None:
    """plan and update only compute over the search state; they may decrypt their environment."""
    for name in ("TuningPlanFunction", "TuningUpdateFunction"):
        actions = {action for statement in GRANTS[name] for action in statement.actions}
        assert actions == {"kms:Decrypt"}, name


BENCHMARK_COPIES_ARN = (
    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${BenchmarkPrefix}*"
)


def _attached_to(policy_logical_id: str) -> set[str]:
    return {
        logical_id
        for logical_id, properties in FUNCTIONS.items()
        if {"Ref": policy_logical_id} in properties.get("Policies", [])
    }


def test_slack_function_may_invoke_only_itself_and_its_benchmark_copies() -> None:
    """Lazy listeners re-invoke the Slack function; "Benchmark first" invokes the temporary
    copies it creates, which only the name prefix admits. No other function is invocable."""
    own_arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + sub_text(
        FUNCTIONS["SlackFunction"]["FunctionName"]
    )
    invoke = [s for s in GRANTS["SlackFunction"] if s.allows("lambda:InvokeFunction")]
    assert {tuple(sub_text(r) for r in s.resources) for s in invoke} == {
        (own_arn,),
        (BENCHMARK_COPIES_ARN,),
    }
    assert all(s.condition is None for s in invoke)


def test_benchmark_copies_are_limited_by_name_prefix() -> None:
    create = [s for s in all_statements(TEMPLATE) if s.allows("lambda:CreateFunction")]
    assert create, "benchmarks create copies"
    for statement in create:
        assert statement.source == "BenchmarkCopiesPolicy"
        assert [sub_text(resource) for resource in statement.resources] == [BENCHMARK_COPIES_ARN]
    assert _attached_to("BenchmarkCopiesPolicy") == {"TuningInvokeBatchFunction", "SlackFunction"}
    env = FUNCTIONS["TuningInvokeBatchFunction"]["Environment"]["Variables"]
    assert env["TUNEBOT_BENCHMARK_PREFIX"] == {"Ref": "BenchmarkPrefix"}


FUNCTION_VERSIONS_ARN = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:*:*"


def test_delete_function_only_on_versions_and_benchmark_copies() -> None:
    """In-place benchmarks delete the versions they published, copy mode its own copies: no
    grant may delete a whole function other than a prefix-named copy (issue 14, item 8)."""
    tag_condition = {f"aws:ResourceTag/{_managed_tag_key()}": {"Ref": "ManagedTagValue"}}
    scopes = set()
    for statement in all_statements(TEMPLATE):
        if not statement.allows("lambda:DeleteFunction"):
            continue
        for resource in statement.resources:
            text = sub_text(resource)
            scopes.add(text)
            assert text in (BENCHMARK_COPIES_ARN, FUNCTION_VERSIONS_ARN), statement
            if text == FUNCTION_VERSIONS_ARN:
                equals = (statement.condition or {}).get("StringEquals", {})
                assert tag_condition.items() <= equals.items(), statement
    assert scopes == {BENCHMARK_COPIES_ARN, FUNCTION_VERSIONS_ARN}
    deleters = granted_to("lambda:DeleteFunction")
    versions = {
        name
        for name, statements in GRANTS.items()
        for statement in statements
        if statement.allows("lambda:DeleteFunction")
        and FUNCTION_VERSIONS_ARN in [sub_text(r) for r in statement.resources]
    }
    assert versions == {"TuningInvokeBatchFunction"}
    assert deleters == {"TuningInvokeBatchFunction", "SlackFunction"}


def test_function_versions_pattern_cannot_match_an_unqualified_function() -> None:
    """IAM's ``*`` matches any characters, colons too: ``function:*:*`` needs a qualifier."""
    import fnmatch

    pattern = FUNCTION_VERSIONS_ARN.replace("${AWS::Partition}", "aws").replace(
        "${AWS::Region}", "us-east-1"
    )
    pattern = pattern.replace("${AWS::AccountId}", "123456789012")
    arn = "arn:aws:lambda:us-east-1:123456789012:function:checkout"
    assert fnmatch.fnmatchcase(arn + ":7", pattern)
    assert not fnmatch.fnmatchcase(arn, pattern)


def test_pass_role_only_to_lambda_and_only_managed_roles() -> None:
    for statement in all_statements(TEMPLATE):
        if statement.allows("iam:PassRole"):
            equals = (statement.condition or {}).get("StringEquals", {})
            assert equals.get("iam:PassedToService") == "lambda.amazonaws.com"
            assert f"aws:ResourceTag/{_managed_tag_key()}" in equals


def test_failure_queue_grant_matches_the_queue_names_rules_choose() -> None:
    from recommendations.rules.async_invoke import failure_queue_name

    [statement] = [s for s in GRANTS["SlackFunction"] if s.allows("sqs:CreateQueue")]
    [resource] = [sub_text(r) for r in statement.resources]
    name_pattern = resource.rsplit(":", 1)[1]
    assert re.fullmatch(name_pattern.replace("*", ".*"), failure_queue_name("checkout-api"))
    assert not re.fullmatch(name_pattern.replace("*", ".*"), "payments-dlq")
    # BAT-003 and BAT-005 create one per stream trigger.
    from recommendations.rules.batching import stream_failure_queue_name
    from recommendations.snapshot import EventSourceKind, EventSourceMapping

    stream = EventSourceMapping(
        uuid="u-1",
        source_arn="arn:aws:kinesis:us-east-1:123456789012:stream/clicks",
        kind=EventSourceKind.KINESIS,
    )
    assert re.fullmatch(
        name_pattern.replace("*", ".*"), stream_failure_queue_name("indexer", stream)
    )


# botocore service name -> IAM prefix, for the services tunebot talks to.
IAM_PREFIX = {
    "lambda": "lambda",
    "cloudwatch": "cloudwatch",
    "logs": "logs",
    "sqs": "sqs",
    "dynamodb": "dynamodb",
    "resourcegroupstaggingapi": "tag",
    "sts": "sts",
    "iam": "iam",
    "secretsmanager": "secretsmanager",
    "ce": "ce",
    "stepfunctions": "states",
    "ec2": "ec2",
}
# API operations whose IAM action has another name.
IAM_ACTION_FOR = {
    "lambda:GetLayerVersionByArn": "lambda:GetLayerVersion",
    "lambda:Invoke": "lambda:InvokeFunction",
}


@cache
def _operations() -> dict[str, frozenset[str]]:
    """boto3 method name -> the IAM actions it may need (one per service that has it)."""
    session = botocore.session.get_session()
    found: dict[str, set[str]] = {}
    for service, prefix in IAM_PREFIX.items():
        for operation in session.get_service_model(service).operation_names:
            action = f"{prefix}:{operation}"
            found.setdefault(xform_name(operation), set()).add(IAM_ACTION_FOR.get(action, action))
    return {name: frozenset(actions) for name, actions in found.items()}


def aws_calls(path: Path) -> dict[str, frozenset[str]]:
    """API methods a module's code refers to (calls, method references, paginator names)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute):
            names.add(node.attr)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("get_paginator", "can_paginate")
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            names.add(str(node.args[0].value))
    operations = _operations()
    # One-word names (``scan``, ``query``, ``invoke``) are too often our own functions.
    return {name: operations[name] for name in names if name in operations and "_" in name}


def _module_declarations(module: ModuleType) -> set[str]:
    return {
        action
        for name, actions in vars(module).items()
        if name.endswith("IAM_ACTIONS") and isinstance(actions, tuple)
        for action in actions
    }


@pytest.mark.parametrize("module", _aws_modules(), ids=lambda module: module.__name__)
def test_every_aws_call_in_a_module_is_in_its_declarations(module: ModuleType) -> None:
    """The declarations are what the IAM checks trust, so check them against the code."""
    assert module.__file__
    calls = aws_calls(Path(module.__file__))
    declared = _module_declarations(module)
    undeclared = sorted(name for name, actions in calls.items() if not actions & declared)
    assert not undeclared, f"{module.__name__} calls {undeclared} without declaring them"


def test_aws_calls_in_lambda_handlers_are_granted() -> None:
    """Handlers (not the CLI) run in Lambda; what they call directly must be granted."""
    ungranted = set()
    for path in sorted((REPO_ROOT / "handlers").glob("*.py")):
        if path.name.startswith("cli"):
            continue
        for name, actions in aws_calls(path).items():
            if not any(granted_to(action) for action in actions):
                ungranted.add(f"{path.name}: {name}")
    assert not sorted(ungranted)


def test_call_scanner_finds_calls_and_ignores_docstrings(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        '"""Example: ``client.get_function(FunctionName="x")``."""\n'
        "def run(client, sqs):\n"
        "    client.update_function_configuration(MemorySize=256)\n"
        "    pages = client.get_paginator('list_functions')\n"
        "    return call(sqs.create_queue, QueueName='q'), client.get_layer_version_by_arn\n"
    )
    calls = aws_calls(source)
    assert set(calls) == {
        "update_function_configuration",
        "list_functions",
        "create_queue",
        "get_layer_version_by_arn",
    }
    assert calls["get_layer_version_by_arn"] == {"lambda:GetLayerVersion"}
    assert calls["create_queue"] == {"sqs:CreateQueue"}


@pytest.mark.parametrize(
    ("resource", "broad"),
    [
        ("*", True),
        ({"Fn::Sub": "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*"}, True),
        ({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/*"}, True),
        ({"Fn::Sub": "arn:${AWS::Partition}:lambda:r:${AWS::AccountId}:function:*:*"}, True),
        ({"Fn::Sub": "arn:${AWS::Partition}:sqs:*:${AWS::AccountId}:*"}, True),
        ({"Fn::Sub": "arn:aws:lambda:r:1:function:${BenchmarkPrefix}*"}, False),
        ({"Fn::Sub": "arn:aws:sqs:*:1:tunebot-*-failures"}, False),
        ({"Fn::Sub": "${StateTable.Arn}/index/*"}, False),
        ({"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}, False),
        ({"Ref": "SlackSecretArn"}, False),
    ],
)
def test_broad_resource_detection(resource: Any, broad: bool) -> None:
    assert _is_broad(resource) is broad


def test_unconditioned_wildcard_write_is_caught() -> None:
    bad = Statement("X", "Bad", "Allow", ("lambda:UpdateFunctionConfiguration",), ("*",), None)
    with pytest.raises(AssertionError, match="without a condition"):
        test_write_actions_are_conditioned_or_narrow(bad)
    conditioned = Statement(
        "X", "Ok", "Allow", ("lambda:UpdateFunctionConfiguration",), ("*",), {"StringEquals": {}}
    )
    test_write_actions_are_conditioned_or_narrow(conditioned)
