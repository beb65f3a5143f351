"""template.yaml's structure: handlers that exist, event sources, tables that match the store,
failure handling for every async path, alarms, parameters, and documented configuration."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from aws import store
from bot.settings import ApplyMode
from tests.deploy.cfn import REPO_ROOT, functions, load_template, resources, sub_text
from tests.deploy.lambda_runtime import allowed_top_level_modules

TEMPLATE = load_template()
FUNCTIONS = functions(TEMPLATE)
RESOURCES = TEMPLATE["Resources"]
PARAMETERS = TEMPLATE["Parameters"]
OPERATIONS_DOC = REPO_ROOT / "docs" / "operations.md"

# Fixed by the design (docs/architecture.md); the tuning step names are agreed with tuning.
EXPECTED_HANDLERS = {
    "SlackFunction": "handlers.slack.handler",
    "AlarmFunction": "handlers.alarm.handler",
    "CostAnomalyFunction": "handlers.cost_anomaly.handler",
    "DigestFunction": "handlers.digest.handler",
    "TuningPlanFunction": "handlers.tuning_steps.plan",
    "TuningInvokeBatchFunction": "handlers.tuning_steps.invoke_batch",
    "TuningUpdateFunction": "handlers.tuning_steps.update",
}
# Invoked asynchronously (SNS, EventBridge, schedules, lazy listeners): they need somewhere for
# events that fail after retries. The tuning steps are called synchronously by Step Functions.
ASYNC_FUNCTIONS = ("SlackFunction", "AlarmFunction", "CostAnomalyFunction", "DigestFunction")

# Example values for what CloudFormation would resolve, to import handlers as Lambda would.
EXAMPLE_ENVIRONMENT = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "SLACK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:tunebot-slack",
    "TUNEBOT_TABLE": "tunebot-StateTable",
    "TUNEBOT_IDEMPOTENCY_TABLE": "tunebot-IdempotencyTable",
    "TUNEBOT_DEFAULT_CHANNEL": "C0123ABCD",
    "TUNEBOT_POLICY": "",
    "TUNEBOT_APPLY_MODE": "approve",
    "TUNEBOT_MANAGED_TAG": "tunebot:managed=true",
    "TUNEBOT_BENCHMARK_PREFIX": "tunebot-bench-",
    "TUNEBOT_ACCOUNTS": "",
    "POWERTOOLS_SERVICE_NAME": "tunebot",
    "POWERTOOLS_METRICS_NAMESPACE": "Tunebot",
}


def test_every_function_has_its_design_entry_point() -> None:
    assert {name: fn["Handler"] for name, fn in FUNCTIONS.items()} == EXPECTED_HANDLERS


# Run in a fresh interpreter: refuse any import the deployed package could not satisfy, then
# import each handler. ModuleNotFoundError subclasses ImportError, so libraries that probe for
# optional extras degrade exactly as they would in Lambda.
_IMPORT_HANDLERS_AS_LAMBDA = """
import importlib, importlib.abc, json, sys
allowed = set(json.loads(sys.argv[1]))
class LambdaPackageOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        # sysconfig's generated, platform-named module is standard library too.
        if top not in allowed and not top.startswith("_sysconfigdata_"):
            raise ModuleNotFoundError(f"No module named {name!r} in the Lambda package", name=name)
        return None
sys.meta_path.insert(0, LambdaPackageOnly())
results = {}
for spec in sys.argv[2:]:
    module, _, attribute = spec.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module), attribute)
        results[spec] = "ok" if callable(handler) else "not callable"
    except Exception as error:
        results[spec] = f"{type(error).__name__}: {error}"
print(json.dumps(results))
"""


def _import_as_lambda(specs: list[str], allowed: frozenset[str]) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", ""), **EXAMPLE_ENVIRONMENT}
    completed = subprocess.run(
        [sys.executable, "-c", _IMPORT_HANDLERS_AS_LAMBDA, json.dumps(sorted(allowed)), *specs],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env=env,
        timeout=120,
        check=True,
    )
    results: dict[str, str] = json.loads(completed.stdout.strip().splitlines()[-1])
    return results


def test_every_handler_imports_with_only_the_packaged_dependencies() -> None:
    """The template's variables set, nothing importable that the package and runtime lack."""
    results = _import_as_lambda(
        sorted(set(EXPECTED_HANDLERS.values())), allowed_top_level_modules()
    )
    broken = {spec: outcome for spec, outcome in results.items() if outcome != "ok"}
    assert not broken


def test_the_import_guard_refuses_what_the_package_lacks() -> None:
    results = _import_as_lambda(
        ["handlers.slack.handler"], allowed_top_level_modules() - {"slack_bolt"}
    )
    assert results["handlers.slack.handler"].startswith(
        "ModuleNotFoundError: No module named 'slack_bolt"
    )


@pytest.mark.parametrize("name", sorted(EXPECTED_HANDLERS))
def test_function_runtime_architecture_tracing_and_logs(name: str) -> None:
    fn = FUNCTIONS[name]
    assert fn["Runtime"] in ("python3.12", "python3.13")
    assert fn["Architectures"] == ["arm64"]
    assert fn["Tracing"] == "Active"
    assert fn["CodeUri"] == "."
    assert RESOURCES[name]["Metadata"]["BuildMethod"] == "makefile"
    log_group = RESOURCES[fn["LoggingConfig"]["LogGroup"]["Ref"]]["Properties"]
    assert log_group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert sub_text(log_group["LogGroupName"]) == "/aws/lambda/" + sub_text(fn["FunctionName"])
    assert fn["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "tunebot"


@pytest.mark.parametrize("name", ASYNC_FUNCTIONS)
def test_async_functions_keep_failed_events(name: str) -> None:
    on_failure = FUNCTIONS[name]["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert on_failure == {
        "Type": "SQS",
        "Destination": {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]},
    }
    queue_arn = {"Fn::GetAtt": ["FailedEventsQueue", "Arn"]}
    for event in FUNCTIONS[name].get("Events", {}).values():
        # Delivery failures between EventBridge or SNS and Lambda land in the same queue.
        if event["Type"] in ("EventBridgeRule", "Schedule"):
            assert event["Properties"]["DeadLetterConfig"]["Arn"] == queue_arn
        elif event["Type"] == "SNS":
            assert event["Properties"]["RedrivePolicy"] == {"deadLetterTargetArn": queue_arn}
        else:
            raise AssertionError(f"{name}: no dead-letter check for {event['Type']} events")


def test_failed_events_queue_accepts_the_dead_letters_it_is_given() -> None:
    [policy] = [
        p["Properties"]["PolicyDocument"]
        for p in resources(TEMPLATE, "AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": "FailedEventsQueue"}]
    ]
    senders = {
        s["Principal"]["Service"]
        for s in policy["Statement"]
        if s["Effect"] == "Allow" and s["Action"] == "sqs:SendMessage"
    }
    assert senders == {"events.amazonaws.com", "sns.amazonaws.com"}
    key_users = {
        service
        for s in RESOURCES["TunebotKey"]["Properties"]["KeyPolicy"]["Statement"]
        for service in _as_list(s["Principal"].get("Service", []))
        if isinstance(service, str)  # the logs principal is a !Sub with the region
    }
    assert senders <= key_users  # the queue is encrypted with the stack's key


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _events(name: str) -> dict[str, dict[str, Any]]:
    return {event["Type"]: event["Properties"] for event in FUNCTIONS[name]["Events"].values()}


def _topic_publishers(topic: str) -> set[str]:
    [policy] = [
        p["Properties"]["PolicyDocument"]
        for p in resources(TEMPLATE, "AWS::SNS::TopicPolicy").values()
        if p["Properties"]["Topics"] == [{"Ref": topic}]
    ]
    return {s["Principal"]["Service"] for s in policy["Statement"] if s["Action"] == "sns:Publish"}


def test_alarm_function_gets_alarms_from_sns_and_eventbridge() -> None:
    events = _events("AlarmFunction")
    assert events["SNS"]["Topic"] == {"Ref": "AlarmTopic"}
    assert events["EventBridgeRule"]["Pattern"] == {
        "source": ["aws.cloudwatch"],
        "detail-type": ["CloudWatch Alarm State Change"],
        "detail": {"alarmName": [{"anything-but": {"prefix": {"Fn::Sub": "${AWS::StackName}-"}}}]},
    }
    # CloudFormation names the stack's own alarms "<stack>-<logical id>-<suffix>".
    own_alarms = resources(TEMPLATE, "AWS::CloudWatch::Alarm")
    assert own_alarms and all("AlarmName" not in a["Properties"] for a in own_alarms.values())
    assert _topic_publishers("AlarmTopic") == {"cloudwatch.amazonaws.com"}


def test_cost_anomaly_function_gets_anomalies_from_sns_and_eventbridge() -> None:
    events = _events("CostAnomalyFunction")
    assert events["SNS"]["Topic"] == {"Ref": "CostAnomalyTopic"}
    assert events["EventBridgeRule"]["Pattern"] == {
        "source": ["aws.ce"],
        "detail-type": ["Anomaly Detected"],
    }
    assert _topic_publishers("CostAnomalyTopic") == {"costalerts.amazonaws.com"}


def test_digest_runs_on_a_schedule() -> None:
    assert _events("DigestFunction")["Schedule"]["Schedule"] == {"Ref": "DigestSchedule"}
    assert re.fullmatch(PARAMETERS["DigestSchedule"]["AllowedPattern"], "cron(0 9 ? * MON *)")


def test_slack_function_url_is_public_and_is_the_output() -> None:
    assert FUNCTIONS["SlackFunction"]["FunctionUrlConfig"]["AuthType"] == "NONE"
    skips = {s["id"] for s in RESOURCES["SlackFunction"]["Metadata"]["checkov"]["skip"]}
    assert "CKV_AWS_258" in skips  # the justification sits next to the choice
    assert TEMPLATE["Outputs"]["SlackRequestUrl"]["Value"] == {
        "Fn::GetAtt": ["SlackFunctionUrl", "FunctionUrl"]
    }


class _RecordingDynamoDB:
    """Just enough of a DynamoDB client to capture what ``create_tables`` asks for."""

    def __init__(self) -> None:
        self.tables: dict[str, dict[str, Any]] = {}
        self.ttl: dict[str, str] = {}

    def create_table(self, **kwargs: Any) -> dict[str, Any]:
        self.tables[kwargs["TableName"]] = kwargs
        return {}

    def get_waiter(self, name: str) -> Any:
        class _Waiter:
            def wait(self, **kwargs: Any) -> None:
                return None

        return _Waiter()

    def update_time_to_live(self, **kwargs: Any) -> dict[str, Any]:
        self.ttl[kwargs["TableName"]] = kwargs["TimeToLiveSpecification"]["AttributeName"]
        return {}


def _sorted_by_name(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: item[key])


@pytest.mark.parametrize(
    ("logical_id", "store_name"), [("StateTable", "state"), ("IdempotencyTable", "idempotency")]
)
def test_tables_match_what_tunebot_store_init_creates(logical_id: str, store_name: str) -> None:
    client = _RecordingDynamoDB()
    store.create_tables("state", "idempotency", client=client)
    expected = client.tables[store_name]
    table = RESOURCES[logical_id]["Properties"]
    assert table["BillingMode"] == expected["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == expected["KeySchema"]
    assert _sorted_by_name(table["AttributeDefinitions"], "AttributeName") == _sorted_by_name(
        expected["AttributeDefinitions"], "AttributeName"
    )
    assert _sorted_by_name(table.get("GlobalSecondaryIndexes", []), "IndexName") == (
        _sorted_by_name(expected.get("GlobalSecondaryIndexes", []), "IndexName")
    )
    assert table["TimeToLiveSpecification"] == {
        "AttributeName": client.ttl[store_name],
        "Enabled": True,
    }
    assert table["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table["SSESpecification"]["SSEEnabled"] is True


def test_tuning_state_machine_loops_plan_invoke_update_until_done() -> None:
    machine = RESOURCES["TuningStateMachine"]["Properties"]
    states = machine["Definition"]["States"]
    substitutions = machine["DefinitionSubstitutions"]
    step_function = {
        state: substitutions[states[state]["Parameters"]["FunctionName"].strip("${}")]
        for state in ("Plan", "InvokeBatch", "Update")
    }
    assert step_function == {
        "Plan": {"Fn::GetAtt": ["TuningPlanFunction", "Arn"]},
        "InvokeBatch": {"Fn::GetAtt": ["TuningInvokeBatchFunction", "Arn"]},
        "Update": {"Fn::GetAtt": ["TuningUpdateFunction", "Arn"]},
    }
    assert machine["Definition"]["StartAt"] == "Plan"
    assert [states[s]["Next"] for s in ("Plan", "InvokeBatch", "Update")] == [
        "InvokeBatch",
        "Update",
        "Done",
    ]
    assert states["Done"]["Choices"] == [
        {"Variable": "$.done", "BooleanEquals": True, "Next": "Finished"}
    ]
    assert states["Done"]["Default"] == "Plan"
    assert machine["Logging"]["Level"] in ("ERROR", "ALL")
    assert machine["Tracing"] == {"Enabled": True}


def test_tunebot_alarms_on_its_own_errors() -> None:
    alarms = resources(TEMPLATE, "AWS::CloudWatch::Alarm").values()
    watched = {
        a["Properties"]["Dimensions"][0]["Value"]["Ref"]
        for a in alarms
        if a["Properties"]["MetricName"] == "Errors"
    }
    assert watched == set(ASYNC_FUNCTIONS)
    metrics = {a["Properties"]["MetricName"] for a in alarms}
    assert {"ExecutionsFailed", "ApproximateNumberOfMessagesVisible"} <= metrics
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "OperatorTopic"}] for a in alarms)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_parameters_are_described_and_constrained(name: str) -> None:
    parameter = PARAMETERS[name]
    assert len(parameter["Description"]) > 20
    assert "AllowedPattern" in parameter or "AllowedValues" in parameter


def test_apply_mode_values_are_the_bots() -> None:
    assert PARAMETERS["ApplyMode"]["AllowedValues"] == [mode.value for mode in ApplyMode]


def _admins_policy(admins: str) -> str:
    """TUNEBOT_POLICY as CloudFormation builds it from the Admins parameter."""
    policy = FUNCTIONS["SlackFunction"]["Environment"]["Variables"]["TUNEBOT_POLICY"]["Fn::If"]
    assert policy[0] == "HasPolicyJson"
    from_admins = policy[2]["Fn::If"][1]["Fn::Sub"]
    text, variables = from_admins[0], from_admins[1]
    delimiter, (separator, _) = (
        variables["Ids"]["Fn::Join"][0],
        variables["Ids"]["Fn::Join"][1]["Fn::Split"],
    )
    return text.replace("${Ids}", delimiter.join(admins.split(separator)))


def test_admins_parameter_becomes_a_policy_the_bot_accepts() -> None:
    from bot.policy import parse_policy

    admins = "U0123ABCD,S0456EFGH"
    assert re.fullmatch(PARAMETERS["Admins"]["AllowedPattern"], admins)
    assert not re.fullmatch(PARAMETERS["Admins"]["AllowedPattern"], "U0123ABCD, alice")
    policy = parse_policy(_admins_policy(admins))
    assert policy.admins == ("U0123ABCD", "S0456EFGH")


def _documented_variables() -> set[str]:
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", OPERATIONS_DOC.read_text(encoding="utf-8")))


def _variables_read_by_code() -> set[str]:
    names: set[str] = set()
    for package in ("service", "aws", "bot", "handlers"):
        for path in (REPO_ROOT / package).rglob("*.py"):
            names |= set(
                re.findall(r"[\"']((?:TUNEBOT|SLACK)_[A-Z0-9_]+)[\"']", path.read_text("utf-8"))
            )
    return names


def test_every_environment_variable_is_documented() -> None:
    set_by_template = {name for fn in FUNCTIONS.values() for name in fn["Environment"]["Variables"]}
    contract = {
        "SLACK_BOT_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_SECRET_ARN",
        "SLACK_API_URL",
        "AWS_ENDPOINT_URL",
        "TUNEBOT_TABLE",
        "TUNEBOT_IDEMPOTENCY_TABLE",
        "TUNEBOT_DEFAULT_CHANNEL",
        "TUNEBOT_POLICY",
        "TUNEBOT_APPLY_MODE",
        "TUNEBOT_MANAGED_TAG",
        "TUNEBOT_BENCHMARK_PREFIX",
        "TUNEBOT_ACCOUNTS",
    }
    missing = sorted(
        (set_by_template | contract | _variables_read_by_code()) - _documented_variables()
    )
    assert not missing, f"not documented in {OPERATIONS_DOC.relative_to(REPO_ROOT)}: {missing}"


def test_template_sets_only_variables_someone_reads() -> None:
    read = _variables_read_by_code() | {"SLACK_SECRET_ARN"}
    tunebot_variables = {
        name
        for fn in FUNCTIONS.values()
        for name in fn["Environment"]["Variables"]
        if name.startswith(("TUNEBOT_", "SLACK_"))
    }
    contract_only = {"TUNEBOT_IDEMPOTENCY_TABLE", "TUNEBOT_BENCHMARK_PREFIX", "TUNEBOT_ACCOUNTS"}
    assert not sorted(tunebot_variables - read - contract_only)


def test_docs_mention_every_output_and_parameter() -> None:
    deploy_doc = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in [*PARAMETERS, *TEMPLATE["Outputs"]]:
        assert name in deploy_doc, f"docs/deploy.md does not mention {name}"


@pytest.mark.parametrize("doc", ["deploy.md", "architecture.md", "security.md", "operations.md"])
def test_links_between_docs_resolve(doc: str) -> None:
    text = (REPO_ROOT / "docs" / doc).read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+\.md)(?:#[^)]*)?\)", text)
    assert targets
    missing = sorted({t for t in targets if not (REPO_ROOT / "docs" / t).is_file()})
    assert not missing, f"docs/{doc} links to missing pages: {missing}"
