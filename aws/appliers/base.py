"""What every applier shares: the clients it needs, the result it returns, one guarded call.

An applier re-reads the resource, compares it with the change's ``before`` (raising
:class:`StaleChangeError` and touching nothing when they differ), makes the one update call,
waits where AWS updates asynchronously, and reads the value back.
"""

from __future__ import annotations

import base64
import hashlib
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

import boto3
from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from aws.appliers.errors import (
    ChangeError,
    ChangeNotPossibleError,
    ResourceBusyError,
    translate_error,
)
from service.records import ApplyOutcome as ApplyOutcome  # the appliers' result, shared

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_sqs import SQSClient

# UpdateFunctionCode takes a zip of at most 50 MB inline; larger packages need S3 staging.
MAX_INLINE_PACKAGE_BYTES = 50 * 1024 * 1024
# Waits before each retry of a call Lambda refused because an update is still in progress
# (ResourceConflictException): about 30 s in all, well inside a Slack lazy listener's run, and
# longer than most configuration updates take.
BUSY_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 15.0)

T = TypeVar("T")
C = TypeVar("C")
C_contra = TypeVar("C_contra", contravariant=True)


def download_package(url: str, max_bytes: int = MAX_INLINE_PACKAGE_BYTES) -> bytes:
    """Fetch a function's package from the pre-signed ``Code.Location`` URL, with a size cap."""
    if not url.startswith(("https://", "http://")):
        raise ChangeNotPossibleError("The function's code location is not a download URL.")
    with urllib.request.urlopen(url, timeout=60) as response:
        data: bytes = response.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ChangeNotPossibleError(
            f"The package is larger than {max_bytes // (1024 * 1024)} MB, the most tunebot "
            "re-deploys inline; change the architecture in your deployment pipeline instead."
        )
    return data


def code_sha256(package: bytes) -> str:
    """The digest Lambda reports as ``CodeSha256`` (base64 of SHA-256)."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


class ApplyContext:
    """Clients and settings for appliers. Clients are created on first use when not given.

    Clients are typed with boto3-stubs' client classes, imported only for the type checker:
    the stubs are a dev dependency, not part of the Lambda package.
    """

    def __init__(
        self,
        lambda_client: LambdaClient | None = None,
        sqs_client: SQSClient | None = None,
        iam_client: IAMClient | None = None,
        logs_client: CloudWatchLogsClient | None = None,
        *,
        allow_iam_changes: bool = False,
        fetch_package: Callable[[str], bytes] = download_package,
        sleep: Callable[[float], None] = time.sleep,
        waiter_delay_s: int = 1,
        waiter_max_attempts: int = 120,
        busy_retry_delays_s: tuple[float, ...] = BUSY_RETRY_DELAYS_S,
    ) -> None:
        self._lambda = lambda_client
        self._sqs = sqs_client
        self._iam = iam_client
        self._logs = logs_client
        self.allow_iam_changes = allow_iam_changes
        self.fetch_package = fetch_package
        self.sleep = sleep
        self.waiter_delay_s = waiter_delay_s
        self.waiter_max_attempts = waiter_max_attempts
        self.busy_retry_delays_s = busy_retry_delays_s

    def when_idle(self, attempt: Callable[[], T]) -> T:
        """Run ``attempt``; while it raises :class:`ResourceBusyError` (an update of the
        resource is still being applied, so nothing was done), wait and run it again. After
        the last wait the busy error goes to the caller: one sentence asking to try later."""
        for delay in self.busy_retry_delays_s:
            try:
                return attempt()
            except ResourceBusyError:
                self.sleep(delay)
        return attempt()

    def call(self, operation: Callable[..., Any], doing: str, **kwargs: Any) -> dict[str, Any]:
        """:func:`call`, retried with back-off while Lambda answers that an update is in
        progress (``ResourceConflictException``); safe, because such a call changed nothing."""
        return self.when_idle(lambda: call(operation, doing, **kwargs))

    @property
    def lambda_client(self) -> LambdaClient:
        if self._lambda is None:
            self._lambda = boto3.client("lambda")
        return self._lambda

    @property
    def sqs_client(self) -> SQSClient:
        if self._sqs is None:
            self._sqs = boto3.client("sqs")
        return self._sqs

    @property
    def iam_client(self) -> IAMClient:
        if self._iam is None:
            self._iam = boto3.client("iam")
        return self._iam

    @property
    def logs_client(self) -> CloudWatchLogsClient:
        if self._logs is None:
            self._logs = boto3.client("logs")
        return self._logs

    def wait_until_updated(self, function_name: str) -> None:
        """Block until Lambda finished applying an update (``function_updated_v2``)."""
        waiter = self.lambda_client.get_waiter("function_updated_v2")
        try:
            waiter.wait(
                FunctionName=function_name,
                WaiterConfig={
                    "Delay": self.waiter_delay_s,
                    "MaxAttempts": self.waiter_max_attempts,
                },
            )
        except WaiterError as error:
            reason = ""
            last: Any = error.last_response or {}
            config: Any = last.get("Configuration", {}) if isinstance(last, dict) else {}
            if isinstance(config, dict) and config.get("LastUpdateStatusReason"):
                reason = f" ({config['LastUpdateStatusReason']})"
            raise ChangeError(
                f"The update of {function_name} did not finish successfully{reason}; "
                "check the function in the Lambda console."
            ) from error
        except (ClientError, BotoCoreError) as error:
            # The update call went through; only watching it failed (connection, throttling).
            raise translate_error(
                error, f"confirm that the update of {function_name} finished"
            ) from error


def call(operation: Callable[..., Any], doing: str, **kwargs: Any) -> dict[str, Any]:
    """Call one AWS operation, translating its errors into one sentence about ``doing``."""
    try:
        response: dict[str, Any] = operation(**kwargs)
    except (ClientError, BotoCoreError) as error:
        raise translate_error(error, doing) from error
    return response


def request_id(response: Mapping[str, Any]) -> str:
    return str(response.get("ResponseMetadata", {}).get("RequestId", ""))


def request_ids(*responses: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(rid for rid in (request_id(response) for response in responses) if rid)


class Applier(Protocol[C_contra]):
    """One signature for every applier: appliers of resources without a revision (mappings,
    invoke configs, concurrency, log groups) accept ``expected_revision_id`` and ignore it."""

    def __call__(
        self,
        change: C_contra,
        context: ApplyContext,
        *,
        expected_revision_id: str | None = None,
        function_id: str | None = None,
    ) -> ApplyOutcome: ...


@dataclass(frozen=True)
class ChangeKind(Generic[C]):
    """How aws/ applies one ``Change`` type, declared next to its applier: the registry
    dispatches on ``change_type`` and the deploy tests check ``iam_actions`` are granted."""

    change_type: type[C]
    apply: Applier[C]
    iam_actions: tuple[str, ...]


def iam_actions_of(kinds: tuple[ChangeKind[Any], ...]) -> tuple[str, ...]:
    """Every action the kinds need, once each, in declaration order (a module's IAM_ACTIONS)."""
    return tuple(dict.fromkeys(action for kind in kinds for action in kind.iam_actions))
