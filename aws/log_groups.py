"""The log groups functions write to: retention, class and stored bytes, in few calls.

``DescribeLogGroups`` lists by name prefix, 50 groups a page. A fleet's default groups are
read with one listing of ``/aws/lambda/``; a few of them (``/tune fn``) and every custom group
(``LoggingConfig.LogGroup``) are read by their own name as prefix. A failed listing leaves its
groups unknown, never the scan.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from aws.session import AwsSession, translate_error
from recommendations.snapshot import LogGroupClass, LogGroupInfo

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("logs:DescribeLogGroups",)

DEFAULT_PREFIX = "/aws/lambda/"
PAGE_SIZE = 50
# Up to this many default groups are read by name; more, and one listing of the prefix is
# fewer calls (a page holds 50).
NAMED_READ_LIMIT = 5


@dataclass
class LogGroupsResult:
    """Groups found, by name; a wanted group missing here does not exist or was not read."""

    groups: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    # Prefixes whose listing failed: their groups are unknown, not missing.
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def was_read(self, group: str) -> bool:
        return not any(group.startswith(prefix) for prefix in self.failed)


def prefixes_for(groups: Iterable[str]) -> list[str]:
    """The fewest prefixes that cover ``groups`` under the rules above, each listed once."""
    distinct = sorted(set(groups))
    default = [group for group in distinct if group.startswith(DEFAULT_PREFIX)]
    custom = [group for group in distinct if not group.startswith(DEFAULT_PREFIX)]
    candidates = sorted(([DEFAULT_PREFIX] if len(default) > NAMED_READ_LIMIT else default) + custom)
    prefixes: list[str] = []
    for prefix in candidates:  # sorted: a prefix comes before the names it covers
        if not prefixes or not prefix.startswith(prefixes[-1]):
            prefixes.append(prefix)
    return prefixes


def describe_log_groups(session: AwsSession, groups: Iterable[str]) -> LogGroupsResult:
    wanted = set(groups)
    result = LogGroupsResult()
    if not wanted:
        return result
    client = session.client("logs")
    for prefix in prefixes_for(wanted):
        try:
            paginator = client.get_paginator("describe_log_groups")
            for page in paginator.paginate(
                logGroupNamePrefix=prefix, PaginationConfig={"PageSize": PAGE_SIZE}
            ):
                for group in page.get("logGroups", []):
                    name = str(group.get("logGroupName", ""))
                    if name in wanted:
                        result.groups[name] = group
        except (ClientError, BotoCoreError) as error:
            sentence = str(translate_error(error, action=f"read the log groups {prefix}*"))
            logger.warning("%s", sentence)
            result.warnings.append(sentence)
            result.failed.append(prefix)
    return result


def log_group_info(raw: Mapping[str, Any], shared_with: Iterable[str] = ()) -> LogGroupInfo:
    """A DescribeLogGroups entry as the snapshot keeps it."""
    retention = raw.get("retentionInDays")
    log_class = raw.get("logGroupClass")
    stored = raw.get("storedBytes")
    return LogGroupInfo(
        name=str(raw["logGroupName"]),
        retention_days=int(retention) if retention else None,
        log_class=LogGroupClass(log_class)
        if isinstance(log_class, str) and log_class in LogGroupClass.__members__
        else None,
        stored_bytes=int(stored) if stored is not None else None,
        shared_with=tuple(sorted(set(shared_with))),
    )
