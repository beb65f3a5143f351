"""TUNEBOT_POLICY parsing and decisions, and the settings read from the environment."""

from __future__ import annotations

import json

import pytest

from bot.errors import ConfigurationError
from bot.membership import GroupDirectory
from bot.policy import Policy, parse_policy
from bot.settings import ApplyMode, BotSettings

POLICY = {
    "admins": ["UADMIN1"],
    "appliers": ["UALICE1", "SPLATFORM"],
    "approvers": 1,
    "rules": [
        {"tag": "env=prod", "approvers": 2},
        {"tag": "team=payments", "approvers": 3, "appliers": ["SPAYMENTS"]},
    ],
}
PROD = {"env": "prod"}
PAYMENTS = {"env": "prod", "team": "payments"}


@pytest.fixture
def policy() -> Policy:
    return parse_policy(json.dumps(POLICY))


def test_empty_policy_lets_nobody_apply() -> None:
    for text in (None, "", "   "):
        policy = parse_policy(text)
        assert not policy.configured
        assert policy.refusal("UANYONE1", set(), {}) == (
            "Nobody may apply changes yet: an admin has to set TUNEBOT_POLICY first."
        )


def test_admins_may_apply_even_without_appliers() -> None:
    policy = parse_policy('{"admins": ["UADMIN1"]}')
    assert policy.refusal("UADMIN1", set(), PAYMENTS) is None
    assert policy.refusal("UOTHER1", set(), {}) is not None


def test_appliers_by_user_and_by_group(policy: Policy) -> None:
    assert policy.refusal("UALICE1", set(), {}) is None
    assert policy.refusal("UCAROL1", {"SPLATFORM"}, {}) is None
    assert policy.refusal("UCAROL1", set(), {}) == (
        "You are not allowed to apply changes (not listed in TUNEBOT_POLICY)."
    )


def test_tag_rules_restrict_appliers(policy: Policy) -> None:
    assert policy.refusal("UALICE1", set(), PAYMENTS) == (
        "Functions tagged team=payments may only be changed by their listed appliers."
    )
    assert policy.refusal("UALICE1", {"SPAYMENTS"}, PAYMENTS) is None
    assert policy.refusal("UADMIN1", set(), PAYMENTS) is None


def test_required_approvals_take_the_strictest_matching_rule(policy: Policy) -> None:
    assert policy.required_approvals({}) == 1
    assert policy.required_approvals(PROD) == 2
    assert policy.required_approvals(PAYMENTS) == 3
    assert policy.required_approvals({"env": "production"}) == 1
    assert policy.group_ids() == {"SPLATFORM", "SPAYMENTS"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "{not json",
            "TUNEBOT_POLICY is not valid JSON (Expecting property name enclosed in double quotes).",
        ),
        (
            '{"admins": ["bob"]}',
            "TUNEBOT_POLICY: admins: 'bob' is not a Slack user id (U…/W…) or user-group id (S…).",
        ),
        (
            '{"approvers": 0}',
            "TUNEBOT_POLICY: approvers: Input should be greater than or equal to 1.",
        ),
        (
            '{"rules": [{"tag": "prod"}]}',
            "TUNEBOT_POLICY: rules.0.tag: String should match pattern '^[^=]+=.*$'.",
        ),
        ('{"apliers": ["U1234"]}', "TUNEBOT_POLICY: apliers: Extra inputs are not permitted."),
        (
            "[]",
            "TUNEBOT_POLICY: the policy: Input should be a valid dictionary or instance of Policy.",
        ),
    ],
)
def test_malformed_policies_are_one_sentence(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        parse_policy(text)
    assert str(caught.value) == message


def test_settings_from_the_environment() -> None:
    settings = BotSettings.from_env(
        {
            "TUNEBOT_POLICY": json.dumps(POLICY),
            "TUNEBOT_APPLY_MODE": "Direct",
            "TUNEBOT_MANAGED_TAG": "owner=tunebot",
            "TUNEBOT_DEFAULT_CHANNEL": "C0ALERTS",
        }
    )
    assert settings.apply_mode is ApplyMode.DIRECT
    assert settings.is_managed({"owner": "tunebot"})
    assert not settings.is_managed({"tunebot:managed": "true"})
    assert settings.required_approvals(PAYMENTS) == 1  # direct ignores approver counts
    assert settings.default_channel == "C0ALERTS"


def test_settings_defaults() -> None:
    settings = BotSettings.from_env({})
    assert settings.apply_mode is ApplyMode.APPROVE
    assert settings.managed_tag == "tunebot:managed=true"
    assert not settings.policy.configured


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"TUNEBOT_APPLY_MODE": "yolo"},
            "TUNEBOT_APPLY_MODE must be one of recommend-only, approve, direct, not 'yolo'.",
        ),
        (
            {"TUNEBOT_MANAGED_TAG": "managed"},
            "TUNEBOT_MANAGED_TAG must look like key=value, not 'managed'.",
        ),
        (
            {"TUNEBOT_POLICY": "{"},
            "TUNEBOT_POLICY is not valid JSON (Expecting property name enclosed in double quotes).",
        ),
    ],
)
def test_bad_settings_fall_back_to_recommend_only(env: dict[str, str], message: str) -> None:
    with pytest.raises(
        ConfigurationError,
        match="^" + message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.") + "$",
    ):
        BotSettings.from_env(env)
    safe = BotSettings.from_env_or_safe({**env, "TUNEBOT_DEFAULT_CHANNEL": "C1"})
    assert safe.apply_mode is ApplyMode.RECOMMEND_ONLY
    assert safe.configuration_error == message
    assert safe.default_channel == "C1"


class _Client:
    def __init__(self, groups: dict[str, list[str]], fail: bool = False) -> None:
        self.groups = groups
        self.fail = fail
        self.calls: list[str] = []

    def usergroups_users_list(self, usergroup: str) -> dict[str, list[str]]:
        self.calls.append(usergroup)
        if self.fail:
            raise RuntimeError("slack is down")
        return {"users": self.groups.get(usergroup, [])}


def test_group_directory_caches_for_a_minute() -> None:
    now = [0.0]
    client = _Client({"SPLATFORM": ["UCAROL1"], "SOTHER": []})
    directory = GroupDirectory(client, ["SPLATFORM", "SOTHER"], clock=lambda: now[0])
    assert directory.groups_of("UCAROL1") == {"SPLATFORM"}
    assert directory.groups_of("UDAVE1") == set()
    assert client.calls == ["SOTHER", "SPLATFORM"]
    now[0] = 61.0
    directory.groups_of("UCAROL1")
    assert client.calls == ["SOTHER", "SPLATFORM", "SOTHER", "SPLATFORM"]


def test_group_lookup_failure_means_not_a_member() -> None:
    directory = GroupDirectory(_Client({}, fail=True), ["SPLATFORM"])
    assert directory.groups_of("UCAROL1") == set()
