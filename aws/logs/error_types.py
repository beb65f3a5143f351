"""Error types in many functions' logs at once, with one CloudWatch Logs Insights query.

The query finds the lines that name an error (Python ``[ERROR] Name:``, a JSON or Node.js
``errorType``, an AWS SDK error code, HTTP 429, ``Rate exceeded``, ``Task timed out``),
captures the name the way :func:`aws.logs.report_parser.error_type_of_line` does, and counts
lines by log group and name. It runs through :class:`aws.logs.insights.InsightsRunner`, so it
is batched, bounded and polled like the REPORT statistics.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws.logs.insights import InsightsRunner, log_group_from_field
from aws.logs.report_parser import normalise_error_type
from aws.session import AwsSession

# Lambda's own platform.* JSON records are left out: they repeat the function's error.
ERROR_TYPES_QUERY = r"""
filter @message like /\[ERROR\]|errorType|Task timed out after|An error occurred \(/
    or @message like /Too Many Requests|429 Client Error|tatus ?[Cc]ode\W{0,3}429|Rate exceeded/
| filter @message not like /"type"\s*:\s*"platform\./
| parse @message /An error occurred \((?<awsCode>[A-Za-z0-9_.]+)\)/
| parse @message /(?<http429>429 Client Error|Too Many Requests|[Ss]tatus ?[Cc]ode\W{0,3}429)/
| parse @message /"errorType"\s*:\s*"(?<jsonType>[^"]+)"/
| parse @message /\[ERROR\]\s+(?<pyType>[A-Za-z_][\w.]*):/
| parse @message /(?<rateExceeded>Rate exceeded)/
| parse @message /(?<timedOut>Task timed out) after/
| fields coalesce(awsCode, http429, jsonType, pyType, rateExceeded, timedOut) as errorType
| filter ispresent(errorType)
| stats count(*) as errorLines by @log, errorType
| sort errorLines desc
| limit 10000
""".strip()


def parse_error_type_rows(
    rows: Sequence[Sequence[Mapping[str, object]]],
) -> dict[str, dict[str, int]] | None:
    """Rows of GetQueryResults as line counts by log group and error type; None when the
    rows are not this query's (an emulator that ignores ``stats``)."""
    parsed: dict[str, dict[str, int]] = {}
    for raw_row in rows:
        row = {str(cell.get("field")): str(cell.get("value", "")) for cell in raw_row}
        if "errorLines" not in row or "@log" not in row:
            return None
        name = normalise_error_type(row.get("errorType", ""))
        try:
            count = round(float(row["errorLines"]))
        except ValueError:
            continue
        if not name or count <= 0:
            continue
        counts = parsed.setdefault(log_group_from_field(row["@log"]), {})
        counts[name] = counts.get(name, 0) + count
    return parsed


def error_types_runner(session: AwsSession, **options: Any) -> InsightsRunner:
    """An Insights runner for this query (``options`` as :class:`InsightsRunner` takes)."""
    return InsightsRunner(session, query=ERROR_TYPES_QUERY, parse=parse_error_type_rows, **options)
