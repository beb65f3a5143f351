"""A bounded sample of REPORT records with ``FilterLogEvents``, when Insights is unavailable.

One log group at a time, so the caller picks which functions are worth it (the scan samples
the busiest ones) and each group costs at most ``max_pages`` calls.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from aws.logs.report_parser import count_error_types, parse_report_log
from aws.logs.stats import LogStats, stats_from_records
from aws.session import AwsSession, is_not_found
from recommendations.error_types import top_error_types

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_logs.type_defs import FilterLogEventsRequestTypeDef

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("logs:FilterLogEvents",)

# "?" terms are OR-ed: text REPORT lines, JSON platform.report records, old timeout lines,
# and the lines that name an error type (see report_parser.error_type_of_line).
FILTER_PATTERN = (
    '?"REPORT RequestId" ?"platform.report" ?"Task timed out" ?"[ERROR]" ?"errorType" '
    '?"An error occurred" ?"Too Many Requests" ?"429 Client Error" ?"status code 429" '
    '?"Rate exceeded"'
)
DEFAULT_EVENTS_PER_FUNCTION = 1000
DEFAULT_MAX_PAGES = 2
DEFAULT_SAMPLE_PERIOD = timedelta(days=1)


def sample_log_group(
    session: AwsSession,
    log_group: str,
    *,
    start: datetime,
    end: datetime,
    max_events: int = DEFAULT_EVENTS_PER_FUNCTION,
    max_pages: int = DEFAULT_MAX_PAGES,
    period: timedelta = DEFAULT_SAMPLE_PERIOD,
) -> LogStats | None:
    """Stats over the most recent ``period`` of the window; None when the group is missing.

    Raises botocore errors other than "not found" for the caller to record.
    """
    client = session.client("logs")
    sample_start = max(start, end - period)
    lines: list[str] = []
    token: str | None = None
    for _ in range(max_pages):
        arguments: FilterLogEventsRequestTypeDef = {
            "logGroupName": log_group,
            "startTime": int(sample_start.timestamp() * 1000),
            "endTime": int(end.timestamp() * 1000),
            "filterPattern": FILTER_PATTERN,
            "limit": max(1, max_events - len(lines)),
        }
        if token:
            arguments["nextToken"] = token
        try:
            response = client.filter_log_events(**arguments)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        lines.extend(str(event.get("message", "")) for event in response.get("events", []))
        token = response.get("nextToken")
        if not token or len(lines) >= max_events:
            break
    kept = lines[:max_events]
    stats = stats_from_records(parse_report_log("\n".join(kept)))
    return stats.model_copy(update={"top_error_types": top_error_types(count_error_types(kept))})
