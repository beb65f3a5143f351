"""The scan may read REPORT lines where functions log: /aws/lambda/ and the LogGroupPrefixes
the operator names, never every log group of the account."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy.cfn import load_template, managed_policy_statements

TEMPLATE = load_template()
ARN = "arn:${AWS::Partition}:logs:*:${AWS::AccountId}:log-group:"


def _log_read_resources() -> tuple[Any, ...]:
    statements = managed_policy_statements(TEMPLATE)["ReadOnlyAnalysisPolicy"]
    [statement] = [s for s in statements if s.sid == "ReadFunctionLogs"]
    assert set(statement.actions) == {"logs:StartQuery", "logs:FilterLogEvents"}
    return statement.resources


def test_logs_are_readable_under_the_default_prefix_and_each_named_one() -> None:
    default, *slots = _log_read_resources()
    assert default == {"Fn::Sub": f"{ARN}/aws/lambda/*"}
    assert len(slots) == 3
    for index, slot in enumerate(slots):
        condition, granted, otherwise = slot["Fn::If"]
        assert condition == f"HasLogGroupPrefix{index + 1}"
        assert otherwise == {"Ref": "AWS::NoValue"}
        template, variables = granted["Fn::Sub"]
        assert template == f"{ARN}${{Prefix}}*"
        assert variables["Prefix"]["Fn::Select"][0] == index
        assert condition in TEMPLATE["Conditions"]


@pytest.mark.parametrize(
    ("value", "allowed"),
    [
        ("", True),
        ("/shop/lambda/", True),
        ("/shop/lambda/,/platform/,team-logs", True),
        ("/", False),
        ("*", False),
        ("/shop/*", False),
        ("/shop/, /platform/", False),
        ("/a/,/b/,/c/,/d/", False),
        ("/a/,/", False),
    ],
)
def test_prefixes_never_widen_to_every_log_group(value: str, allowed: bool) -> None:
    pattern = TEMPLATE["Parameters"]["LogGroupPrefixes"]["AllowedPattern"]
    assert (re.fullmatch(pattern, value) is not None) is allowed
