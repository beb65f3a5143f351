"""boto3 sessions and clients with adaptive retries, regions and assumed roles.

For other ``aws`` modules (and engineers)::

    session = AwsSession(region="eu-west-1")        # default credentials chain
    lambda_client = session.client("lambda")         # adaptive retries, cached per service
    session.account_id                               # one STS call, cached
    other = session.for_region("us-east-1")          # same credentials, another region
    prod = session.assume_role("arn:aws:iam::111122223333:role/tunebot")
    with translate_errors("read the function", function="checkout-api", region="eu-west-1"):
        lambda_client.get_function(FunctionName="checkout-api")

``translate_errors`` turns ``ClientError`` and botocore's credential errors into the
``aws.errors`` subclasses with one sentence a user can act on, classified by the one table in
``aws.error_codes`` (whose ``is_throttling`` and siblings this module re-exports).
``AWS_ENDPOINT_URL`` needs no code here: boto3 honours it for every client.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Literal, overload

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

# Re-exported: the modules of ``aws`` ask these of botocore's errors through the session.
from aws.error_codes import BUSY_CODES as BUSY_CODES
from aws.error_codes import error_code as error_code
from aws.error_codes import is_access_denied as is_access_denied
from aws.error_codes import is_busy as is_busy
from aws.error_codes import is_not_found as is_not_found
from aws.error_codes import is_throttling as is_throttling
from aws.error_codes import is_unsupported_operation as is_unsupported_operation
from aws.error_codes import translate
from aws.errors import AwsError, ConfigurationError

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs): the Lambda runtime has boto3 but not these.
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_iam import IAMClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sts import STSClient

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = ("sts:GetCallerIdentity", "sts:AssumeRole")

DEFAULT_REGION = "us-east-1"
# Adaptive mode rate-limits the client itself after a throttle, so a scan of a large account
# slows down instead of failing; enough attempts to ride out a burst.
DEFAULT_MAX_ATTEMPTS = 10
ACCOUNTS_ENV = "TUNEBOT_ACCOUNTS"

# Reads a function's package from ``GetFunction``'s ``Code.Location`` with a size cap:
# (location, max_bytes) -> the zip's bytes. AWS's locations are pre-signed S3 URLs anyone can
# GET; an emulator's may point at a host that does not exist, so its owner supplies one.
CodeFetcher = Callable[[str, int], bytes]


def _max_attempts_from_env(default: int) -> int:
    """botocore's own AWS_MAX_ATTEMPTS, when set, wins (tests lower it for fast failures)."""
    raw = os.environ.get("AWS_MAX_ATTEMPTS", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def retry_config(max_attempts: int = DEFAULT_MAX_ATTEMPTS) -> Config:
    return Config(retries={"mode": "adaptive", "total_max_attempts": max_attempts})


class AwsSession:
    """One set of credentials in one region; hands out cached clients with adaptive retries."""

    def __init__(
        self,
        boto_session: boto3.Session | None = None,
        *,
        region: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        account_id: str | None = None,
        code_fetcher: CodeFetcher | None = None,
    ) -> None:
        self._boto = boto_session or boto3.Session()
        # None: the package scan downloads ``Code.Location`` over HTTPS.
        self.code_fetcher = code_fetcher
        self.region: str = region or self._boto.region_name or DEFAULT_REGION
        self._config = retry_config(_max_attempts_from_env(max_attempts))
        self._max_attempts = max_attempts
        self._clients: dict[str, Any] = {}
        self._account_id = account_id

    @property
    def boto_session(self) -> boto3.Session:
        return self._boto

    @overload
    def client(self, service: Literal["cloudwatch"]) -> CloudWatchClient: ...
    @overload
    def client(self, service: Literal["dynamodb"]) -> DynamoDBClient: ...
    @overload
    def client(self, service: Literal["iam"]) -> IAMClient: ...
    @overload
    def client(self, service: Literal["lambda"]) -> LambdaClient: ...
    @overload
    def client(self, service: Literal["logs"]) -> CloudWatchLogsClient: ...
    @overload
    def client(
        self, service: Literal["resourcegroupstaggingapi"]
    ) -> ResourceGroupsTaggingAPIClient: ...
    @overload
    def client(self, service: Literal["secretsmanager"]) -> SecretsManagerClient: ...
    @overload
    def client(self, service: Literal["sqs"]) -> SQSClient: ...
    @overload
    def client(self, service: Literal["sts"]) -> STSClient: ...
    @overload
    def client(self, service: str) -> Any: ...

    def client(self, service: str) -> Any:
        """A client for ``service`` in this session's region, created once."""
        if service not in self._clients:
            # The service name is dynamic, which boto3's typed overloads cannot express.
            self._clients[service] = self._boto.client(  # type: ignore[call-overload]
                service, region_name=self.region, config=self._config
            )
        return self._clients[service]

    def for_region(self, region: str) -> AwsSession:
        if region == self.region:
            return self
        return AwsSession(
            self._boto,
            region=region,
            max_attempts=self._max_attempts,
            account_id=self._account_id,
            code_fetcher=self.code_fetcher,
        )

    @property
    def account_id(self) -> str:
        if self._account_id is None:
            with translate_errors("identify the AWS account (sts:GetCallerIdentity)"):
                identity = self.client("sts").get_caller_identity()
            self._account_id = str(identity["Account"])
        return self._account_id

    def assume_role(self, role_arn: str, session_name: str = "tunebot") -> AwsSession:
        """A session with the role's temporary credentials (valid for one hour)."""
        with translate_errors(f"assume the role {role_arn}"):
            response = self.client("sts").assume_role(
                RoleArn=role_arn, RoleSessionName=session_name
            )
        credentials = response["Credentials"]
        assumed = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
        )
        account = response.get("AssumedRoleUser", {}).get("Arn", "").split(":")
        account_id = account[4] if len(account) > 4 and account[4] else None
        # The other account lives behind the same endpoint: its packages are read the same way.
        return AwsSession(
            assumed,
            region=self.region,
            max_attempts=self._max_attempts,
            account_id=account_id,
            code_fetcher=self.code_fetcher,
        )


class AccountTarget(BaseModel):
    """One entry of ``TUNEBOT_ACCOUNTS``: a role to assume (None: own credentials) and regions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role_arn: str | None = Field(default=None, pattern=r"^arn:aws[a-zA-Z-]*:iam::\d{12}:role/.+")
    regions: tuple[str, ...] = ()


def account_targets(env: Mapping[str, str]) -> list[AccountTarget]:
    """The accounts to scan: ``TUNEBOT_ACCOUNTS`` when set, else the caller's own account."""
    raw = env.get(ACCOUNTS_ENV, "").strip()
    if not raw:
        return [AccountTarget()]
    try:
        entries = json.loads(raw)
    except ValueError as error:
        raise ConfigurationError(f"{ACCOUNTS_ENV} is not valid JSON: {error}.") from error
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(
            f'{ACCOUNTS_ENV} must be a non-empty JSON list like [{{"role_arn": "...", '
            '"regions": ["eu-west-1"]}].'
        )
    try:
        return [AccountTarget.model_validate(entry) for entry in entries]
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(
            f"{ACCOUNTS_ENV} has a bad entry ({where}: {first['msg']})."
        ) from error


def translate_error(
    error: BaseException,
    *,
    action: str,
    function: str | None = None,
    region: str | None = None,
) -> AwsError:
    """One sentence for the user; the caller chains ``error`` so logs keep the detail."""
    return translate(error, action, function=function, region=region)


@contextmanager
def translate_errors(
    action: str, *, function: str | None = None, region: str | None = None
) -> Iterator[None]:
    """Re-raise botocore errors inside the block as ``aws.errors`` subclasses."""
    try:
        yield
    except (ClientError, BotoCoreError) as error:
        logger.debug("AWS call failed while trying to %s", action, exc_info=True)
        raise translate_error(error, action=action, function=function, region=region) from error
