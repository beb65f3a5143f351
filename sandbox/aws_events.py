"""The AWS events the page can fire: a CloudWatch alarm via SNS, a Cost Anomaly via EventBridge.

Shapes as AWS delivers them (see ``tests/fixtures/aws`` and its README), filled in for a
function of the demo fleet, with the figures the alarm quotes read from the seeded metrics'
profile so the card and the scan agree.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

from recommendations.tuning.physics import expected_duration_ms
from sandbox.fleet import DemoFunction
from sandbox.lambda_context import DEMO_ACCOUNT_ID, DEMO_REGION
from sandbox.workspace import JsonDict

REGION_NAME = "US East (N. Virginia)"
ALARM_TOPIC = f"arn:aws:sns:{DEMO_REGION}:{DEMO_ACCOUNT_ID}:tunebot-alarms"


def _cloudwatch_time(moment: datetime) -> str:
    # CloudWatch's own format in alarm messages: milliseconds and a +0000 offset.
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def duration_alarm_event(function: DemoFunction, now: datetime) -> JsonDict:
    """An SNS record carrying "p99 Duration above threshold" for ``function``."""
    typical = expected_duration_ms(function.profile, function.memory_mb, function.architecture)
    threshold = round(typical * 2, -1) or 10.0
    observed = round(threshold * 1.8, 1)
    alarm_name = f"{function.name}-p99-duration"
    changed = now - timedelta(seconds=5)
    message = {
        "AlarmName": alarm_name,
        "AlarmDescription": f"p99 duration of {function.name} is above {threshold:g} ms",
        "AWSAccountId": DEMO_ACCOUNT_ID,
        "AlarmConfigurationUpdatedTimestamp": _cloudwatch_time(now - timedelta(days=30)),
        "NewStateValue": "ALARM",
        "NewStateReason": (
            f"Threshold Crossed: 1 out of the last 1 datapoints [{observed} "
            f"({(now - timedelta(minutes=5)).strftime('%d/%m/%y %H:%M:%S')})] was greater than "
            f"the threshold ({threshold}) (minimum 1 datapoint for OK -> ALARM transition)."
        ),
        "StateChangeTime": _cloudwatch_time(changed),
        "Region": REGION_NAME,
        "AlarmArn": f"arn:aws:cloudwatch:{DEMO_REGION}:{DEMO_ACCOUNT_ID}:alarm:{alarm_name}",
        "OldStateValue": "OK",
        "OKActions": [ALARM_TOPIC],
        "AlarmActions": [ALARM_TOPIC],
        "InsufficientDataActions": [],
        "Trigger": {
            "MetricName": "Duration",
            "Namespace": "AWS/Lambda",
            "StatisticType": "ExtendedStatistic",
            "ExtendedStatistic": "p99",
            "Unit": None,
            "Dimensions": [{"value": function.name, "name": "FunctionName"}],
            "Period": 300,
            "EvaluationPeriods": 1,
            "DatapointsToAlarm": 1,
            "ComparisonOperator": "GreaterThanThreshold",
            "Threshold": threshold,
            "TreatMissingData": "missing",
            "EvaluateLowSampleCountPercentile": "",
        },
    }
    subscription = f"{ALARM_TOPIC}:{uuid.uuid4()}"
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": subscription,
                "Sns": {
                    "Type": "Notification",
                    "MessageId": str(uuid.uuid4()),
                    "TopicArn": ALARM_TOPIC,
                    "Subject": f'ALARM: "{alarm_name}" in {REGION_NAME}',
                    "Message": json.dumps(message),
                    "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.")
                    + f"{now.microsecond // 1000:03d}Z",
                    "SignatureVersion": "1",
                    "Signature": "c2FuZGJveA==",
                    "SigningCertUrl": f"https://sns.{DEMO_REGION}.amazonaws.com/SimpleNotificationService-sandbox.pem",
                    "UnsubscribeUrl": f"https://sns.{DEMO_REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn={subscription}",
                    "MessageAttributes": {},
                },
            }
        ]
    }


def lambda_cost_anomaly_event(now: datetime) -> JsonDict:
    """An EventBridge "Anomaly Detected" from ``aws.ce`` with AWS Lambda as the root cause.

    Cost Anomaly Detection names a service and usage type, never a function: finding the
    functions behind it is the cost-anomaly handler's job.
    """
    monitor = "abcdef12-1234-4ea0-84cc-918a97d736ef"
    anomaly_id = str(uuid.uuid4())
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "source": "aws.ce",
        "detail-type": "Anomaly Detected",
        "account": DEMO_ACCOUNT_ID,
        "region": DEMO_REGION,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "resources": [f"arn:aws:ce::{DEMO_ACCOUNT_ID}:anomalymonitor/{monitor}"],
        "detail": {
            "accountName": "sandbox",
            "anomalyStartDate": (day - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "anomalyEndDate": day.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "anomalyId": anomaly_id,
            "anomalyScore": {"currentScore": 0.82, "maxScore": 0.82},
            "dimensionValue": "AWS Lambda",
            "feedback": "",
            "impact": {
                "maxImpact": 96.0,
                "totalActualSpend": 212.0,
                "totalExpectedSpend": 71.0,
                "totalImpact": 141.0,
                "totalImpactPercentage": 198.59,
            },
            "rootCauses": [
                {
                    "linkedAccount": DEMO_ACCOUNT_ID,
                    "linkedAccountName": "sandbox",
                    "region": DEMO_REGION,
                    "service": "AWS Lambda",
                    "usageType": "USE1-Lambda-GB-Second",
                    "impact": {"contribution": 118.0},
                }
            ],
            "accountId": DEMO_ACCOUNT_ID,
            "monitorArn": f"arn:aws:ce::{DEMO_ACCOUNT_ID}:anomalymonitor/{monitor}",
            "monitorName": "lambda-spend",
            "anomalyDetailsLink": (
                "https://console.aws.amazon.com/cost-management/home#/anomaly-detection/"
                f"monitors/{monitor}/anomalies/{anomaly_id}"
            ),
        },
    }
