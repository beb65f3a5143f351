"""How much of a cost anomaly the per-function attribution explains, and where the rest is."""

from __future__ import annotations

import pytest

from recommendations.cost_explanation import (
    AnomalyRootCause,
    explain_anomaly,
    is_attributed_usage,
)

HERE = {"region": "us-east-1", "account_id": "111111111111", "functions_compared": 12}


def test_the_demo_anomaly_says_how_little_the_functions_explain() -> None:
    # Issue 12: "$141 above expected" over a breakdown explaining $5.38, no word on the rest.
    cause = AnomalyRootCause(
        region="us-east-1",
        account_id="111111111111",
        usage_type="USE1-Lambda-GB-Second",
        contribution_usd=118.0,
    )
    explanation = explain_anomaly(141.0, 5.38, 5.10, root_causes=[cause], **HERE)
    assert explanation.explained_usd == 5.38
    assert explanation.unexplained_usd == pytest.approx(135.62)
    assert explanation.explained_share == pytest.approx(5.38 / 141.0)
    assert not explanation.fully_explained
    places = [item.place for item in explanation.elsewhere]
    assert places == [
        "Lambda functions tunebot cannot read",
        "other Lambda usage types",
        "other regions or accounts",
        "a different baseline",
    ]
    assert "not listed in us-east-1 of account 111111111111" in explanation.elsewhere[0].why


def test_root_causes_outside_what_tunebot_reads_come_first_with_their_amounts() -> None:
    causes = [
        AnomalyRootCause(
            region="eu-west-1", usage_type="EUW1-Lambda-GB-Second", contribution_usd=60
        ),
        AnomalyRootCause(account_id="222222222222", region="us-east-1", contribution_usd=30),
        AnomalyRootCause(
            region="us-east-1",
            usage_type="USE1-Lambda-Provisioned-Concurrency",
            contribution_usd=40,
        ),
    ]
    explanation = explain_anomaly(141.0, 5.0, 5.0, root_causes=causes, **HERE)
    named = [(item.place, item.amount_usd) for item in explanation.elsewhere[:3]]
    assert named == [
        ("eu-west-1", 60),
        ("account 222222222222", 30),
        ("USE1-Lambda-Provisioned-Concurrency", 40),
    ]
    assert explanation.elsewhere[0].why == "tunebot reads us-east-1 only"
    # A usage type already named is not repeated as a generic place.
    assert "other Lambda usage types" not in [item.place for item in explanation.elsewhere]


def test_an_anomaly_fully_explained_names_nowhere_else() -> None:
    explanation = explain_anomaly(24.0, 24.001, 20.0, **HERE)
    assert explanation.fully_explained and explanation.elsewhere == ()
    assert explanation.unexplained_usd == 0.0
    # More than the impact (tunebot's baseline is the span before): capped at all of it.
    over = explain_anomaly(24.0, 30.0, 30.0, **HERE)
    assert over.explained_share == 1.0 and over.fully_explained


def test_unknown_impact_and_nothing_grown() -> None:
    unknown = explain_anomaly(None, 3.0, 3.0, **HERE)
    assert unknown.unexplained_usd is None and unknown.explained_share is None
    assert unknown.elsewhere  # the rest can still lie elsewhere
    nothing = explain_anomaly(50.0, 0.0, 0.0, **HERE)
    assert nothing.explained_share == 0.0 and nothing.unexplained_usd == 50.0
    # The part shown never exceeds the part explained.
    assert explain_anomaly(50.0, 2.0, 9.0, **HERE).shown_usd == 2.0


@pytest.mark.parametrize(
    ("usage_type", "attributed"),
    [
        ("USE1-Lambda-GB-Second", True),
        ("Lambda-GB-Second-ARM", True),
        ("USE1-Request", True),
        ("USE1-Lambda-Provisioned-Concurrency", False),
        ("USE1-Lambda-Edge-GB-Second", False),  # Lambda@Edge is priced apart
        (None, False),
    ],
)
def test_attributed_usage_types(usage_type: str | None, attributed: bool) -> None:
    assert is_attributed_usage(usage_type) is attributed
