"""Lambda functions as the service layer reads them (:class:`service.ports.FunctionSource`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from aws import inventory, log_groups
from aws.change_adapters import region_of
from aws.errors import FunctionNotFoundError
from aws.function_tags import read_function_tags
from aws.scan import ScanOptions, merge_snapshots, scan_all, scan_function, sessions_for
from aws.session import AwsSession, account_targets, translate_errors
from recommendations.snapshot import FleetSnapshot, FunctionSnapshot
from service.ports import FunctionRevision, revision_key

# Reading a function's revision, to decide whether its cached analysis still holds, and its
# configuration afresh over a cached analysis (inventory's and the log group's own calls).
IAM_ACTIONS: tuple[str, ...] = (
    "lambda:GetFunctionConfiguration",
    *inventory.IAM_ACTIONS,
    *log_groups.IAM_ACTIONS,
)


class AwsFunctionSource:
    """This account and region for one function; ``TUNEBOT_ACCOUNTS`` (default: this account
    and region) for the fleet."""

    def __init__(
        self, session: AwsSession, environ: Mapping[str, str], *, scan_packages: bool = True
    ) -> None:
        self.session = session
        self.environ = dict(environ)
        self.scan_packages = scan_packages

    def read_function(self, name: str, *, now: datetime) -> FunctionSnapshot | None:
        options = ScanOptions(now=now, scan_packages=self.scan_packages)
        try:
            return scan_function(name, self.session, options)
        except FunctionNotFoundError:
            return None

    def function_revision(self, name: str) -> FunctionRevision | None:
        # One GetFunctionConfiguration: what decides whether a cached analysis still holds.
        client = self.session.client("lambda")
        try:
            with translate_errors("read the function", function=name, region=self.session.region):
                config = client.get_function_configuration(FunctionName=name)
        except FunctionNotFoundError:
            return None
        return FunctionRevision(
            function_arn=inventory.unqualified_arn(str(config["FunctionArn"])),
            revision=revision_key(config.get("RevisionId"), config.get("CodeSha256")),
        )

    def read_configuration(self, name: str) -> FunctionSnapshot | None:
        # The configuration calls of a one-function read, without metrics, logs or package.
        try:
            snapshot, config = inventory.read_function(name, self.session)
        except FunctionNotFoundError:
            return None
        group = inventory.log_group_of(config)
        raw_group = log_groups.describe_log_groups(self.session, [group]).groups.get(group)
        if raw_group is None:
            return snapshot
        return snapshot.model_copy(update={"log_group_info": log_groups.log_group_info(raw_group)})

    def function_names(self) -> list[str]:
        return inventory.list_function_names(self.session)

    def _fleet_sessions(self) -> list[AwsSession]:
        return sessions_for(account_targets(self.environ), (), base=self.session)

    def read_fleet(self, *, now: datetime) -> FleetSnapshot:
        # Package downloads for a whole account are left to `tunebot scan`.
        options = ScanOptions(now=now, scan_packages=False)
        return merge_snapshots(scan_all(self._fleet_sessions(), options))

    def fleet_function_names(self) -> list[str]:
        return sorted(
            {name for s in self._fleet_sessions() for name in inventory.list_function_names(s)}
        )

    def function_tags(self, function_arn: str) -> dict[str, str]:
        region = region_of(function_arn)
        session = self.session.for_region(region) if region else self.session
        return read_function_tags(session.client("lambda"), function_arn)
