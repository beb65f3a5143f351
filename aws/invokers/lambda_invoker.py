"""Benchmark a real Lambda function, leaving nothing behind.

Default: the function itself is never touched. A temporary copy per architecture (same code,
role, environment, layers, VPC, EFS mounts and runtime version; no triggers, since event
sources attach to the original only) is created, its memory changed between probes, and
deleted at the end — on success, on failure, on Ctrl-C and on SIGTERM. Functions a copy cannot
reproduce (environment under a customer managed KMS key, signed or KMS-encrypted code,
SnapStart) are refused with the reason and a pointer to in-place mode.

``in_place``: like AWS Lambda Power Tuning, each memory size becomes a published version with
an alias, invoked through the alias; afterwards the aliases and the versions this run created
are deleted and ``$LATEST`` gets its memory back. ``PublishVersion`` answers with the existing
latest version when nothing changed since it was published (real AWS does, moto does not), so
the versions that existed before each publish are listed first and only new ones count as the
run's own. Only the current architecture can be benchmarked this way (changing it would
redeploy the live code).

Results come from the REPORT record in the invocation's log tail (``LogType=Tail``), parsed
by ``aws.logs.report_parser`` (text and JSON log formats). A function whose system log level
is WARN or above writes no REPORT lines, so it cannot be measured in place; copies are created
with the system log level INFO, which is why copy mode still measures it.

Lambda refuses calls while an update of the function is still being applied
(``ResourceConflictException``); those are retried with back-off, like throttling.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import signal
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from aws.errors import AwsCallError, AwsError
from aws.invokers.base import observation_from_report
from aws.invokers.payload import Payloads
from aws.logs.report_parser import parse_report_log
from aws.session import AwsSession, error_code, is_busy, is_throttling, translate_errors
from recommendations.snapshot import Architecture
from recommendations.tuning.observation import ErrorKind, Observation, Probe

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_lambda import LambdaClient

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = (
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:CreateFunction",
    "lambda:TagResource",
    "lambda:UpdateFunctionConfiguration",
    "lambda:InvokeFunction",
    "lambda:DeleteFunction",
    "lambda:PublishVersion",
    "lambda:CreateAlias",
    "lambda:DeleteAlias",
    "lambda:ListVersionsByFunction",
    # A copy of a function pinned to a runtime version is pinned to the same one.
    "lambda:PutRuntimeManagementConfig",
    "iam:PassRole",
    # CreateFunction with FileSystemConfigs checks that the caller may see the mount targets.
    "elasticfilesystem:DescribeMountTargets",
)

PREFIX_ENV = "TUNEBOT_BENCHMARK_PREFIX"
DEFAULT_PREFIX = "tunebot-bench-"
BENCHMARK_TAG = "tunebot:benchmark-of"
MAX_FUNCTION_NAME = 64
# CreateFunction takes at most 50 MB of zipped code inline.
MAX_INLINE_ZIP_BYTES = 50 * 1024 * 1024
# Throttles, and updates still in progress (``is_busy``), are retried this many times with
# exponential back-off from 0.5 s (capped at 30 s): about a minute in all.
MAX_THROTTLE_RETRIES = 6
# System log levels at which Lambda still writes the REPORT line (it is an INFO event).
REPORTING_SYSTEM_LOG_LEVELS = frozenset({"DEBUG", "INFO"})


class BenchmarkNotPossibleError(AwsError):
    """This function cannot be benchmarked in the mode asked for; the message says why and
    which mode can."""


class BenchmarkInterrupted(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) arrived; raised so clean-up runs like it does for Ctrl-C."""


@dataclass(frozen=True)
class BenchmarkedFunction:
    name: str
    arn: str
    account_id: str
    region: str
    memory_mb: int
    architecture: Architecture
    timeout_s: int = 3


def _copy_logging(original: dict[str, Any]) -> dict[str, Any]:
    """The copy's LoggingConfig: the original's format and application level, and a system
    level that still writes REPORT lines (the benchmark's only measurement). Log levels exist
    only with the JSON format; the copy logs to its own default group."""
    log_format = original.get("LogFormat")
    if log_format != "JSON":
        return {"LogFormat": log_format} if log_format else {}
    copied: dict[str, Any] = {"LogFormat": "JSON"}
    if original.get("ApplicationLogLevel"):
        copied["ApplicationLogLevel"] = original["ApplicationLogLevel"]
    system = original.get("SystemLogLevel")
    copied["SystemLogLevel"] = system if system in REPORTING_SYSTEM_LOG_LEVELS else "INFO"
    return copied


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=120) as response:  # a presigned S3 URL
        data: bytes = response.read()
    return data


@contextmanager
def interrupts_raise() -> Iterator[None]:
    """Turn SIGTERM/SIGHUP into an exception for the block, so ``finally`` clauses run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _raise(signum: int, frame: FrameType | None) -> None:
        raise BenchmarkInterrupted(f"signal {signum}")

    previous = {}
    for name in ("SIGTERM", "SIGHUP"):
        number = getattr(signal, name, None)
        if number is not None:
            previous[number] = signal.signal(number, _raise)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _error_type(response: dict[str, Any], function_error: str | None) -> str | None:
    """The ``errorType`` of a failed invocation's response payload (for --allowed-errors)."""
    if function_error is None or response.get("Payload") is None:
        return None
    try:
        document = json.loads(response["Payload"].read())
    except (ValueError, AttributeError, OSError):
        return None
    value = document.get("errorType") if isinstance(document, dict) else None
    return value if isinstance(value, str) else None


def _refused(probe: Probe) -> Observation:
    """A configuration Lambda would not even create: failed, nothing billed."""
    return Observation(
        memory_mb=probe.memory_mb,
        architecture=probe.architecture,
        duration_ms=0.0,
        billed_duration_ms=0,
        error=ErrorKind.ERROR,
    )


class LambdaBenchmark:
    """An :class:`~aws.invokers.base.Invoker` for a real function; use it as a context manager."""

    def __init__(
        self,
        function_name: str,
        *,
        region: str | None = None,
        in_place: bool = False,
        payloads: Payloads | None = None,
        client: LambdaClient | None = None,
        prefix: str | None = None,
        code_fetcher: Callable[[str], bytes] = _download,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        min_interval_s: float = 0.1,
        wait_timeout_s: float = 300.0,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self.function_name = function_name
        self.in_place = in_place
        self.payloads = payloads or Payloads.single()
        self.prefix = prefix if prefix is not None else os.environ.get(PREFIX_ENV, DEFAULT_PREFIX)
        self._session = AwsSession(region=region) if client is None else None
        self._client = client
        self._region = region
        self._fetch = code_fetcher
        self._sleep = sleep
        self._clock = clock
        self._min_interval = min_interval_s
        self._wait_timeout = wait_timeout_s
        self._last_invoke: float | None = None
        # Checked before every invocation: a Lambda step stops early to return in time.
        self._should_stop = should_stop
        self._configuration: dict[str, Any] = {}
        self._code: dict[str, Any] = {}
        self._function: BenchmarkedFunction | None = None
        # Copy mode: architecture -> copy name, and the memory each copy is set to.
        self._copies: dict[Architecture, str] = {}
        self._copy_memory: dict[str, int] = {}
        # In-place mode.
        self._aliases: dict[int, str] = {}
        self._created_versions: list[str] = []
        self._latest_memory: int | None = None
        self._signals: Any = None

    # ----------------------------------------------------------------- lifecycle

    @property
    def client(self) -> LambdaClient:
        if self._client is None:
            assert self._session is not None
            self._client = self._session.client("lambda")
        return self._client

    @property
    def function(self) -> BenchmarkedFunction:
        if self._function is None:
            self._function = self._read_function()
        return self._function

    def __enter__(self) -> LambdaBenchmark:
        self._signals = interrupts_raise()
        self._signals.__enter__()
        try:
            _ = self.function
        except BaseException:
            self._signals.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self.cleanup(raise_errors=error is None)
        finally:
            if self._signals is not None:
                self._signals.__exit__(None, None, None)
                self._signals = None

    def _retrying(self, operation: Callable[..., Any], **params: Any) -> Any:
        """One AWS call, retried with back-off while AWS throttles it or an update of the
        function is still being applied (the refused call changed nothing)."""
        for attempt in range(MAX_THROTTLE_RETRIES):
            try:
                return operation(**params)
            except ClientError as error:
                if not (is_throttling(error) or is_busy(error)):
                    raise
                self._sleep(min(30.0, 0.5 * 2**attempt))
        return operation(**params)

    def _call(self, action: str, name: str, operation: Callable[..., Any], **params: Any) -> Any:
        with translate_errors(action, function=name, region=self._region):
            return self._retrying(operation, **params)

    def _read_function(self) -> BenchmarkedFunction:
        response = self._call(
            "read the function",
            self.function_name,
            self.client.get_function,
            FunctionName=self.function_name,
        )
        configuration = response["Configuration"]
        self._configuration = configuration
        self._code = response.get("Code", {})
        refusal = self._in_place_refusal() if self.in_place else self._copy_refusal()
        if refusal:
            raise BenchmarkNotPossibleError(refusal)
        arn = configuration["FunctionArn"]
        parts = arn.split(":")
        architectures = configuration.get("Architectures") or ["x86_64"]
        return BenchmarkedFunction(
            name=configuration["FunctionName"],
            arn=arn,
            account_id=parts[4] if len(parts) > 4 else "",
            region=parts[3] if len(parts) > 3 else (self._region or ""),
            memory_mb=int(configuration["MemorySize"]),
            architecture=Architecture(architectures[0]),
            timeout_s=int(configuration.get("Timeout", 3)),
        )

    def _in_place_refusal(self) -> str | None:
        """Why the function itself cannot be measured, before anything about it is changed."""
        name = self._configuration.get("FunctionName", self.function_name)
        level = (self._configuration.get("LoggingConfig") or {}).get("SystemLogLevel")
        if level and level not in REPORTING_SYSTEM_LOG_LEVELS:
            return (
                f"{name} logs at system log level {level}, so Lambda writes no REPORT lines "
                "and an in-place benchmark could not measure it; benchmark it on copies (the "
                "default), which log at INFO."
            )
        return None

    def _copy_refusal(self) -> str | None:
        """Why a copy would not be the same function (so measuring it would mislead)."""
        configuration = self._configuration
        name = configuration.get("FunctionName", self.function_name)
        instead = "benchmark the function in place instead (tunebot tune --in-place)"
        if configuration.get("KMSKeyArn") and configuration.get("Environment"):
            # Without kms:Decrypt on the key GetFunction returns Environment.Error instead of
            # the variables, and a copy cannot be encrypted with that key either.
            return (
                f"The environment variables of {name} are encrypted with a customer managed "
                f"KMS key, which a benchmark copy can neither read nor use; {instead}."
            )
        if configuration.get("SigningProfileVersionArn") or configuration.get("SigningJobArn"):
            return (
                f"The code of {name} is signed, and a copy would run it outside its code "
                f"signing configuration; {instead}."
            )
        if self._code.get("SourceKMSKeyArn"):
            return (
                f"The code of {name} is encrypted with a customer managed KMS key "
                f"(SourceKMSKeyArn), so a copy cannot be made from it; {instead}."
            )
        if (configuration.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions":
            return (
                f"{name} uses SnapStart, which only its published versions get, so a copy "
                f"would measure the cold starts SnapStart avoids; {instead}."
            )
        return None

    def cleanup(self, raise_errors: bool = True) -> None:
        """Delete every copy, alias and version this run made; restore in-place memory."""
        leftovers: list[str] = []
        for architecture, name in list(self._copies.items()):
            try:
                self._retrying(self.client.delete_function, FunctionName=name)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    leftovers.append(f"function {name}")
                    logger.error("could not delete benchmark copy %s: %s", name, error)
                    continue
            del self._copies[architecture]
        for memory, alias in list(self._aliases.items()):
            try:
                self._retrying(
                    self.client.delete_alias, FunctionName=self.function.name, Name=alias
                )
                del self._aliases[memory]
            except ClientError as error:
                leftovers.append(f"alias {alias}")
                logger.error("could not delete alias %s: %s", alias, error)
        for version in list(self._created_versions):
            try:
                self._retrying(
                    self.client.delete_function,
                    FunctionName=self.function.name,
                    Qualifier=version,
                )
                self._created_versions.remove(version)
            except ClientError as error:
                leftovers.append(f"version {version}")
                logger.error("could not delete version %s: %s", version, error)
        if self._latest_memory is not None and self._latest_memory != self.function.memory_mb:
            try:
                self._retrying(
                    self.client.update_function_configuration,
                    FunctionName=self.function.name,
                    MemorySize=self.function.memory_mb,
                )
                self._latest_memory = self.function.memory_mb
            except ClientError as error:
                leftovers.append(
                    f"memory of {self.function.name} (set it back to {self.function.memory_mb} MB)"
                )
                logger.error("could not restore memory: %s", error)
        if leftovers:
            message = "Benchmark clean-up failed; remove by hand: " + ", ".join(leftovers) + "."
            if raise_errors:
                raise AwsCallError(message)
            logger.error(message)

    # ----------------------------------------------------------------- invoking

    def invoke(self, probes: Sequence[Probe]) -> list[Observation]:
        observations: list[Observation] = []
        for probe in probes:
            try:
                target, qualifier = self.prepare(probe.memory_mb, probe.architecture)
            except AwsCallError as error:
                if self.in_place or probe.architecture is self.function.architecture:
                    raise
                # Lambda refused a copy on the other architecture (a layer built for one
                # architecture only, say): that architecture cannot run the function.
                logger.warning("no %s copy: %s", probe.architecture.value, error)
                observations.append(_refused(probe))
                continue
            for _ in range(probe.count):
                if self._should_stop is not None and self._should_stop():
                    return observations
                observation = self._invoke_once(target, qualifier, probe.architecture)
                observations.append(observation)
                if observation.error is not None:
                    break
        return observations

    def prepare(self, memory_mb: int, architecture: Architecture) -> tuple[str, str | None]:
        """Make the configuration ready to invoke: the function (or alias) name and qualifier."""
        if self.in_place:
            if architecture is not self.function.architecture:
                raise AwsError(
                    "An in-place benchmark can only use the function's current architecture "
                    f"({self.function.architecture.value})."
                )
            return self.function.name, self._alias_for(memory_mb)
        name = self._copy_for(architecture, memory_mb)
        if self._copy_memory.get(name) != memory_mb:
            self._call(
                "change the benchmark copy's memory",
                name,
                self.client.update_function_configuration,
                FunctionName=name,
                MemorySize=memory_mb,
            )
            self._copy_memory[name] = memory_mb
            self._wait_until_ready(name)
        return name, None

    def _copy_name(self, architecture: Architecture) -> str:
        suffix = f"-{'arm' if architecture is Architecture.ARM64 else 'x86'}-{secrets.token_hex(3)}"
        room = MAX_FUNCTION_NAME - len(self.prefix) - len(suffix)
        return f"{self.prefix}{self.function.name[:room]}{suffix}"

    def _copy_for(self, architecture: Architecture, memory_mb: int) -> str:
        if architecture in self._copies:
            return self._copies[architecture]
        configuration = self._configuration
        name = self._copy_name(architecture)
        params: dict[str, Any] = {
            "FunctionName": name,
            "Role": configuration["Role"],
            "Timeout": configuration.get("Timeout", 3),
            "MemorySize": memory_mb,
            "Architectures": [architecture.value],
            "Publish": False,
            "Description": f"tunebot benchmark copy of {self.function.name}; deleted after the run",
            "Tags": {BENCHMARK_TAG: self.function.name},
        }
        if configuration.get("PackageType") == "Image":
            params["PackageType"] = "Image"
            # The digest, not the tag: the copy must run exactly the image the function runs.
            image = self._code.get("ResolvedImageUri") or self._code.get("ImageUri")
            params["Code"] = {"ImageUri": image}
            image_config = configuration.get("ImageConfigResponse", {}).get("ImageConfig")
            if image_config:
                params["ImageConfig"] = image_config
        else:
            params["Runtime"] = configuration["Runtime"]
            params["Handler"] = configuration["Handler"]
            params["Code"] = {"ZipFile": self._package()}
        variables = configuration.get("Environment", {}).get("Variables")
        if variables:
            params["Environment"] = {"Variables": variables}
        layers = [layer["Arn"] for layer in configuration.get("Layers", [])]
        if layers:
            params["Layers"] = layers
        vpc = configuration.get("VpcConfig") or {}
        if vpc.get("SubnetIds"):
            params["VpcConfig"] = {
                "SubnetIds": vpc["SubnetIds"],
                "SecurityGroupIds": vpc.get("SecurityGroupIds", []),
            }
        if configuration.get("EphemeralStorage"):
            params["EphemeralStorage"] = configuration["EphemeralStorage"]
        mounts = [
            {"Arn": mount["Arn"], "LocalMountPath": mount["LocalMountPath"]}
            for mount in configuration.get("FileSystemConfigs") or []
        ]
        if mounts:
            # Same file system, same path: the code finds what it expects (and writes there).
            params["FileSystemConfigs"] = mounts
        logging_config = _copy_logging(configuration.get("LoggingConfig") or {})
        if logging_config:
            params["LoggingConfig"] = logging_config
        try:
            self._retrying(self.client.create_function, **params)
        except ClientError as error:
            message = str(error.response.get("Error", {}).get("Message", ""))
            if error_code(error) == "InvalidParameterValueException" and (
                "no longer supported" in message
            ):
                raise BenchmarkNotPossibleError(
                    f"Lambda no longer creates functions on {configuration.get('Runtime')}, so "
                    "no benchmark copy can be made; benchmark the function in place instead "
                    "(tunebot tune --in-place)."
                ) from error
            with translate_errors("create the benchmark copy", function=name):
                raise
        # Recorded before waiting: from here on, clean-up must delete it.
        self._copies[architecture] = name
        self._copy_memory[name] = memory_mb
        ready = self._wait_until_ready(name)
        self._pin_runtime_version(name, ready)
        return name

    def _pin_runtime_version(self, name: str, copy_configuration: dict[str, Any]) -> None:
        """A new function gets the runtime's newest version; the original may run an older
        one (pinned, or not yet updated). The copy is pinned to the original's version."""
        wanted = (self._configuration.get("RuntimeVersionConfig") or {}).get("RuntimeVersionArn")
        got = (copy_configuration.get("RuntimeVersionConfig") or {}).get("RuntimeVersionArn")
        if not wanted or wanted == got or self._configuration.get("PackageType") == "Image":
            return
        self._call(
            "pin the benchmark copy to the original's runtime version",
            name,
            self.client.put_runtime_management_config,
            FunctionName=name,
            UpdateRuntimeOn="Manual",
            RuntimeVersionArn=wanted,
        )
        self._wait_until_ready(name)

    def _package(self) -> bytes:
        location = self._code.get("Location")
        if not location:
            raise AwsCallError(f"Lambda did not return a code location for {self.function.name}.")
        try:
            data = self._fetch(location)
        except OSError as error:
            raise AwsCallError(
                f"Could not download the code of {self.function.name}: {error}."
            ) from error
        if len(data) > MAX_INLINE_ZIP_BYTES:
            raise AwsCallError(
                f"The code of {self.function.name} is over 50 MB zipped, too large to copy "
                "inline; benchmark it with --in-place."
            )
        return data

    def _alias_for(self, memory_mb: int) -> str:
        if memory_mb in self._aliases:
            return self._aliases[memory_mb]
        name = self.function.name
        if self._latest_memory != memory_mb:
            self._call(
                "change the function's memory",
                name,
                self.client.update_function_configuration,
                FunctionName=name,
                MemorySize=memory_mb,
            )
            self._latest_memory = memory_mb
            self._wait_until_ready(name)
        # PublishVersion returns the latest existing version when $LATEST has not changed since
        # it was published, so only a version that was not there before is this run's to delete.
        existing = self._versions(name)
        version = self._call(
            "publish a benchmark version",
            name,
            self.client.publish_version,
            FunctionName=name,
            Description=f"tunebot benchmark {memory_mb} MB",
        )["Version"]
        if version not in existing:
            self._created_versions.append(version)
        else:
            logger.info("PublishVersion returned the existing version %s of %s", version, name)
        published = self._call(
            "read the benchmark version",
            name,
            self.client.get_function_configuration,
            FunctionName=name,
            Qualifier=version,
        )
        if int(published["MemorySize"]) != memory_mb:
            raise AwsCallError(f"Version {version} of {name} does not have {memory_mb} MB.")
        alias = f"{self.prefix}{memory_mb}mb".replace("_", "-")[:128]
        self._call(
            "create a benchmark alias",
            name,
            self.client.create_alias,
            FunctionName=name,
            Name=alias,
            FunctionVersion=version,
        )
        self._aliases[memory_mb] = alias
        return alias

    def _versions(self, name: str) -> set[str]:
        """Every published version of the function (``ListVersionsByFunction``, all pages)."""
        versions: set[str] = set()
        params: dict[str, Any] = {"FunctionName": name}
        while True:
            page = self._call(
                "list the function's versions",
                name,
                self.client.list_versions_by_function,
                **params,
            )
            versions.update(str(item["Version"]) for item in page.get("Versions", []))
            marker = page.get("NextMarker")
            if not marker:
                return versions
            params["Marker"] = marker

    def _wait_until_ready(self, name: str) -> dict[str, Any]:
        """Wait until the function is active and its last update is done; its configuration."""
        deadline = self._clock() + self._wait_timeout
        while True:
            configuration: dict[str, Any] = self._call(
                "check the function's state",
                name,
                self.client.get_function_configuration,
                FunctionName=name,
            )
            state = configuration.get("State", "Active")
            update = configuration.get("LastUpdateStatus", "Successful")
            if state == "Failed" or update == "Failed":
                reason = configuration.get("StateReason") or configuration.get(
                    "LastUpdateStatusReason", "no reason given"
                )
                raise AwsCallError(f"{name} could not be prepared: {reason}")
            if state == "Active" and update in ("Successful", None):
                return configuration
            if self._clock() >= deadline:
                raise AwsCallError(f"{name} was still not ready after {self._wait_timeout:.0f} s.")
            self._sleep(1.0)

    def _pace(self) -> None:
        now = self._clock()
        if self._last_invoke is not None:
            wait = self._min_interval - (now - self._last_invoke)
            if wait > 0:
                self._sleep(wait)
        self._last_invoke = self._clock()

    def _invoke_once(
        self, name: str, qualifier: str | None, architecture: Architecture
    ) -> Observation:
        params: dict[str, Any] = {
            "FunctionName": name,
            "Payload": self.payloads.next(),
            "LogType": "Tail",
        }
        if qualifier is not None:
            params["Qualifier"] = qualifier
        self._pace()
        response = self._call("invoke the function", name, self.client.invoke, **params)
        tail = base64.b64decode(response.get("LogResult") or b"").decode("utf-8", "replace")
        records = parse_report_log(tail)
        if not records:
            raise AwsCallError(
                f"Invoking {name} returned no REPORT line in its log tail, so its duration "
                "is unknown."
            )
        function_error = response.get("FunctionError")
        return observation_from_report(
            records[-1], architecture, function_error, _error_type(response, function_error)
        )
