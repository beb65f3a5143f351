"""What an alarm event leaves out: a composite alarm's child metrics and an alarm's tags.

Both are best-effort look-ups for a card (the alarm may have been deleted since it fired); a
throttled call still raises, so the event is retried rather than posted half-known.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.errors import AwsError, ThrottledError
from aws.events.alarm import MetricQuery, child_alarm_names, metric_from_query
from aws.session import AwsSession, translate_error

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource")

# Composite alarms may nest; two levels cover what people build without looping forever.
MAX_DEPTH = 2
MAX_NAMES_PER_CALL = 100


def _metrics_of_metric_alarm(alarm: Mapping[str, Any]) -> list[MetricQuery]:
    if alarm.get("MetricName"):
        return [
            metric_from_query(
                {
                    "Id": alarm.get("AlarmName", "m1"),
                    "MetricStat": {
                        "Metric": {
                            "Namespace": alarm.get("Namespace"),
                            "MetricName": alarm.get("MetricName"),
                            "Dimensions": alarm.get("Dimensions") or [],
                        },
                        "Period": alarm.get("Period"),
                        "Stat": alarm.get("ExtendedStatistic") or alarm.get("Statistic"),
                    },
                }
            )
        ]
    return [metric_from_query(raw) for raw in alarm.get("Metrics") or [] if isinstance(raw, dict)]


def _best_effort(action: str, error: Exception) -> None:
    translated = translate_error(error, action=action)
    if isinstance(translated, ThrottledError):
        raise translated from error
    logger.warning("could not %s: %s", action, translated)


def child_metrics(session: AwsSession, names: Sequence[str]) -> tuple[MetricQuery, ...]:
    """The metrics behind a composite alarm's children (recursing into nested composites)."""
    client = session.client("cloudwatch")
    found: list[MetricQuery] = []
    pending = list(dict.fromkeys(names))
    seen: set[str] = set()
    for _ in range(MAX_DEPTH):
        batch = [name for name in pending if name not in seen][:MAX_NAMES_PER_CALL]
        if not batch:
            break
        seen.update(batch)
        try:
            response = client.describe_alarms(
                AlarmNames=batch, AlarmTypes=["MetricAlarm", "CompositeAlarm"]
            )
        except (ClientError, BotoCoreError) as error:
            _best_effort("read the composite alarm's children (cloudwatch:DescribeAlarms)", error)
            break
        for alarm in response.get("MetricAlarms", []):
            found.extend(_metrics_of_metric_alarm(alarm))
        pending = [
            child
            for composite in response.get("CompositeAlarms", [])
            for child in child_alarm_names(composite.get("AlarmRule"), None)
        ]
    return tuple(found)


def alarm_tags(session: AwsSession, alarm_arn: str | None) -> dict[str, str]:
    """The alarm's tags, or {} when it has none or they cannot be read."""
    if not alarm_arn:
        return {}
    try:
        response = session.client("cloudwatch").list_tags_for_resource(ResourceARN=alarm_arn)
    except (ClientError, BotoCoreError) as error:
        _best_effort(f"read the tags of {alarm_arn}", error)
        return {}
    except AwsError:
        return {}
    return {str(tag["Key"]): str(tag["Value"]) for tag in response.get("Tags", [])}
