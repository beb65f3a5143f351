"""The wired services apply each change in its function's region, not the container's."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from aws.session import AwsSession
from aws.store import create_tables
from handlers.compose import build_services
from recommendations.recommendation import Recommendation
from service.api import OutcomeKind
from tests.aws.change_helpers import (
    ACCOUNT,
    create_function,
    recommendation,
)

TABLE = "tunebot-wiring-regions"


def test_a_change_to_a_function_of_another_region_goes_to_that_region(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        create_tables(TABLE, "idem", client=boto3.client("dynamodb", region_name="us-east-1"))
        eu = boto3.client("lambda", region_name="eu-west-1")
        create_function(region="eu-west-1")
        create_function("checkout-api", memory=1024)  # a namesake in us-east-1
        services = build_services(
            {"TUNEBOT_TABLE": TABLE}, session=AwsSession(region="us-east-1"), invoker_factory=None
        )
        eu_arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:checkout-api"
        rec = Recommendation.model_validate(
            {**recommendation().model_dump(), "function_arn": eu_arn, "region": "eu-west-1"}
        )
        services.store.put_recommendation(rec)

        outcome = services.apply(rec.id, user_id="UALICE1", approvers=())

        assert outcome.kind is OutcomeKind.DONE, outcome.message
        assert eu.get_function_configuration(FunctionName="checkout-api")["MemorySize"] == 512
        home = boto3.client("lambda", region_name="us-east-1")
        assert home.get_function_configuration(FunctionName="checkout-api")["MemorySize"] == 1024
