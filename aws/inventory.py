"""What a region's Lambda functions are: configuration, tags, triggers, layers, concurrency.

Account-wide calls, never one per function, wherever AWS allows it:

* ``ListFunctions`` (50 a page) for every configuration;
* ``tag:GetResources`` (100 a page) for every function's tags, which also tells CloudFormation
  management through the ``aws:cloudformation:stack-name`` tag;
* ``ListEventSourceMappings`` (100 a page) for every mapping, then ``GetQueueAttributes`` once
  per distinct SQS queue;
* ``GetLayerVersionByArn`` once per distinct layer version (``GetLayerVersion`` where the
  endpoint lacks it).

Per-function calls are kept for what has no bulk API and only where it matters: the event
invoke config for functions that receive async events, provisioned concurrency where the
metrics show it. :func:`read_function` is the fast single-function path (``/tune fn``, apply).
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from aws.session import (
    AwsSession,
    is_not_found,
    is_unsupported_operation,
    translate_error,
    translate_errors,
)
from recommendations.snapshot import (
    Architecture,
    AsyncInvokeConfig,
    EventSourceKind,
    EventSourceMapping,
    FunctionSnapshot,
    InvokeSource,
    Layer,
    LogFormat,
    LogLevel,
    PackageType,
    ProvisionedConcurrencyConfig,
    ProvisionedConcurrencyStatus,
    RedrivePolicy,
    TracingMode,
    VpcConfig,
)

if TYPE_CHECKING:
    # Dev-only stubs (boto3-stubs); the Lambda runtime has boto3 but not these.
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_lambda.type_defs import (
        EventSourceMappingConfigurationTypeDef,
        FunctionConfigurationTypeDef,
    )

logger = logging.getLogger(__name__)

IAM_ACTIONS: tuple[str, ...] = (
    "lambda:ListFunctions",
    "lambda:GetFunction",
    "lambda:GetPolicy",
    "lambda:ListEventSourceMappings",
    "lambda:GetFunctionEventInvokeConfig",
    "lambda:ListProvisionedConcurrencyConfigs",
    "lambda:GetLayerVersion",
    "tag:GetResources",
    "sqs:GetQueueAttributes",
)

CLOUDFORMATION_STACK_TAG = "aws:cloudformation:stack-name"
LIST_FUNCTIONS_PAGE = 50
TAGS_PAGE = 100
MAPPINGS_PAGE = 100

T = TypeVar("T")
NO_PROVISIONED: tuple[ProvisionedConcurrencyConfig, ...] = ()


def unqualified_arn(arn: str) -> str:
    """``arn:aws:lambda:r:a:function:name[:qualifier]`` without the qualifier."""
    return ":".join(arn.split(":")[:7])


def account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


@dataclass(frozen=True)
class QueueAttributes:
    visibility_timeout_s: int | None
    redrive_policy: RedrivePolicy | None
    is_fifo: bool


@dataclass
class Enrichment:
    """Per-function facts gathered in bulk, keyed by unqualified function ARN."""

    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    mappings: dict[str, list[EventSourceMapping]] = field(default_factory=dict)
    layers: dict[str, Layer] = field(default_factory=dict)
    async_configs: dict[str, AsyncInvokeConfig | None] = field(default_factory=dict)
    # Missing: not read (unknown); an empty tuple: none configured.
    provisioned: dict[str, tuple[ProvisionedConcurrencyConfig, ...]] = field(default_factory=dict)
    reserved: dict[str, int | None] = field(default_factory=dict)
    invoked_by: dict[str, tuple[InvokeSource, ...]] = field(default_factory=dict)
    # Bulk calls that failed (logged); the figures they would have given stay unknown.
    warnings: list[str] = field(default_factory=list)


def _best_effort(what: str, call: Callable[[], T], default: T, warnings: list[str]) -> T:
    """Enrichment that must not abort a scan: a failure leaves its figures unknown."""
    try:
        return call()
    except (ClientError, BotoCoreError) as error:
        sentence = str(translate_error(error, action=what))
        logger.warning("%s", sentence, exc_info=logger.isEnabledFor(logging.DEBUG))
        warnings.append(sentence)
        return default


# --- bulk reads -----------------------------------------------------------------------------


def list_function_configs(session: AwsSession) -> list[FunctionConfigurationTypeDef]:
    client = session.client("lambda")
    configs: list[FunctionConfigurationTypeDef] = []
    with translate_errors("list Lambda functions", region=session.region):
        paginator = client.get_paginator("list_functions")
        for page in paginator.paginate(PaginationConfig={"PageSize": LIST_FUNCTIONS_PAGE}):
            configs.extend(page.get("Functions", []))
    return configs


def list_function_names(session: AwsSession) -> list[str]:
    """Every function name in the region, for "did you mean" suggestions."""
    return sorted(str(config["FunctionName"]) for config in list_function_configs(session))


def fetch_tags(session: AwsSession) -> dict[str, dict[str, str]]:
    """Tags of every tagged function in the region, by unqualified ARN."""
    client = session.client("resourcegroupstaggingapi")
    tags: dict[str, dict[str, str]] = {}
    paginator = client.get_paginator("get_resources")
    pages = paginator.paginate(
        ResourceTypeFilters=["lambda:function"], PaginationConfig={"PageSize": TAGS_PAGE}
    )
    for page in pages:
        for resource in page.get("ResourceTagMappingList", []):
            arn = unqualified_arn(str(resource["ResourceARN"]))
            tags[arn] = {str(tag["Key"]): str(tag["Value"]) for tag in resource.get("Tags", [])}
    return tags


def _event_source_kind(source_arn: str) -> EventSourceKind:
    service = source_arn.split(":")[2] if source_arn.count(":") >= 2 else ""
    if service == "sqs":
        return EventSourceKind.SQS
    if service == "kinesis":
        return EventSourceKind.KINESIS
    if service == "dynamodb":
        return EventSourceKind.DYNAMODB
    if service == "kafka":
        return EventSourceKind.KAFKA
    if service == "mq":
        return EventSourceKind.MQ
    return EventSourceKind.OTHER


def _optional_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def mapping_from_api(raw: Mapping[str, Any], queue: QueueAttributes | None) -> EventSourceMapping:
    source_arn = str(raw.get("EventSourceArn") or "")
    kind = _event_source_kind(source_arn)
    destination = (raw.get("DestinationConfig") or {}).get("OnFailure") or {}
    scaling = raw.get("ScalingConfig") or {}
    return EventSourceMapping(
        uuid=str(raw["UUID"]),
        source_arn=source_arn,
        kind=kind,
        state=str(raw.get("State") or "Enabled"),
        batch_size=_optional_int(raw.get("BatchSize")),
        maximum_batching_window_s=_optional_int(raw.get("MaximumBatchingWindowInSeconds")),
        function_response_types=tuple(raw.get("FunctionResponseTypes") or ()),
        maximum_retry_attempts=_optional_int(raw.get("MaximumRetryAttempts")),
        bisect_batch_on_function_error=raw.get("BisectBatchOnFunctionError"),
        maximum_record_age_s=_optional_int(raw.get("MaximumRecordAgeInSeconds")),
        on_failure_destination=destination.get("Destination"),
        parallelization_factor=_optional_int(raw.get("ParallelizationFactor")),
        maximum_concurrency=_optional_int(scaling.get("MaximumConcurrency")),
        queue_visibility_timeout_s=queue.visibility_timeout_s if queue else None,
        queue_redrive_policy=queue.redrive_policy if queue else None,
        queue_is_fifo=queue.is_fifo if queue else (source_arn.endswith(".fifo") or None),
    )


def list_raw_mappings(
    session: AwsSession, function_name: str | None = None
) -> list[EventSourceMappingConfigurationTypeDef]:
    client = session.client("lambda")
    paginator = client.get_paginator("list_event_source_mappings")
    arguments: dict[str, Any] = {"PaginationConfig": {"PageSize": MAPPINGS_PAGE}}
    if function_name:
        arguments["FunctionName"] = function_name
    raw: list[EventSourceMappingConfigurationTypeDef] = []
    for page in paginator.paginate(**arguments):
        raw.extend(page.get("EventSourceMappings", []))
    return raw


def queue_url_from_arn(queue_arn: str) -> str:
    """The queue URL, built rather than looked up (saves a GetQueueUrl call per queue)."""
    _, partition, _, region, account, name = queue_arn.split(":", 5)
    domain = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return f"https://sqs.{region}.{domain}/{account}/{name}"


def parse_queue_attributes(attributes: Mapping[str, str], queue_arn: str) -> QueueAttributes:
    redrive: RedrivePolicy | None = None
    raw_redrive = attributes.get("RedrivePolicy")
    if raw_redrive:
        try:
            policy = json.loads(raw_redrive)
            redrive = RedrivePolicy(
                dead_letter_target_arn=str(policy["deadLetterTargetArn"]),
                max_receive_count=int(policy["maxReceiveCount"]),
            )
        except (ValueError, KeyError, TypeError):
            logger.warning("unreadable RedrivePolicy on %s: %r", queue_arn, raw_redrive)
    fifo = attributes.get("FifoQueue")
    return QueueAttributes(
        visibility_timeout_s=_optional_int(attributes.get("VisibilityTimeout")),
        redrive_policy=redrive,
        is_fifo=(fifo == "true") if fifo is not None else queue_arn.endswith(".fifo"),
    )


def fetch_queue_attributes(
    session: AwsSession, queue_arns: Iterable[str], warnings: list[str]
) -> dict[str, QueueAttributes]:
    """One GetQueueAttributes call per distinct queue."""
    client = session.client("sqs")
    found: dict[str, QueueAttributes] = {}
    for queue_arn in sorted(set(queue_arns)):

        def read(arn: str = queue_arn) -> dict[str, str]:
            response = client.get_queue_attributes(
                QueueUrl=queue_url_from_arn(arn),
                AttributeNames=["VisibilityTimeout", "RedrivePolicy", "FifoQueue"],
            )
            return {str(key): value for key, value in response.get("Attributes", {}).items()}

        attributes = _best_effort(f"read the SQS queue {queue_arn}", read, None, warnings)
        if attributes is not None:
            found[queue_arn] = parse_queue_attributes(attributes, queue_arn)
    return found


def group_mappings(
    raw_mappings: Iterable[Mapping[str, Any]], queues: Mapping[str, QueueAttributes]
) -> dict[str, list[EventSourceMapping]]:
    grouped: dict[str, list[EventSourceMapping]] = {}
    for raw in raw_mappings:
        function_arn = unqualified_arn(str(raw.get("FunctionArn") or ""))
        source = str(raw.get("EventSourceArn") or "")
        grouped.setdefault(function_arn, []).append(mapping_from_api(raw, queues.get(source)))
    return grouped


def fetch_mappings(session: AwsSession, warnings: list[str]) -> dict[str, list[EventSourceMapping]]:
    no_mappings: list[EventSourceMappingConfigurationTypeDef] = []
    raw = _best_effort(
        "list event source mappings", lambda: list_raw_mappings(session), no_mappings, warnings
    )
    return group_mappings(raw, fetch_queue_attributes(session, sqs_sources(raw), warnings))


def sqs_sources(raw_mappings: Iterable[Mapping[str, Any]]) -> list[str]:
    """ARNs of the SQS queues among the mappings' event sources."""
    return [
        str(raw["EventSourceArn"])
        for raw in raw_mappings
        if _event_source_kind(str(raw.get("EventSourceArn") or "")) is EventSourceKind.SQS
    ]


def _architectures(values: Iterable[str] | None) -> tuple[Architecture, ...] | None:
    if values is None:
        return None
    known = {item.value for item in Architecture}
    return tuple(Architecture(value) for value in values if value in known)


def layer_name_and_version(layer_version_arn: str) -> tuple[str, int] | None:
    """``arn:…:layer:NAME:7`` as (``arn:…:layer:NAME``, 7); None for anything else."""
    layer_arn, _, version = layer_version_arn.rpartition(":")
    if ":layer:" not in layer_arn or not version.isdigit():
        return None
    return layer_arn, int(version)


class _LayerReader:
    """GetLayerVersionByArn, or GetLayerVersion(LayerName, VersionNumber) where the endpoint
    lacks the former (moto does; AWS has both, under the same IAM action). Once the first is
    known to be missing it is not tried again, so each layer still costs one call."""

    def __init__(self, client: LambdaClient) -> None:
        self._client = client
        self._by_arn_supported = True

    def read(self, arn: str) -> dict[str, Any] | None:
        """The layer version's description; None when ``arn`` cannot be read either way."""
        if self._by_arn_supported:
            try:
                return dict(self._client.get_layer_version_by_arn(Arn=arn))
            except (ClientError, NotImplementedError) as error:
                if not is_unsupported_operation(error):
                    raise
                logger.info("GetLayerVersionByArn is not available here: using GetLayerVersion")
                self._by_arn_supported = False
        parts = layer_name_and_version(arn)
        if parts is None:
            return None
        name, version = parts
        return dict(self._client.get_layer_version(LayerName=name, VersionNumber=version))


def fetch_layers(
    session: AwsSession, layer_arns: Iterable[str], warnings: list[str]
) -> dict[str, Layer]:
    """One read per distinct layer version (see ``_LayerReader``)."""
    reader = _LayerReader(session.client("lambda"))
    layers: dict[str, Layer] = {}
    for arn in sorted(set(layer_arns)):
        response = _best_effort(
            f"read the layer {arn}", functools.partial(reader.read, arn), None, warnings
        )
        if response is None:
            continue
        runtimes = response.get("CompatibleRuntimes")
        layers[arn] = Layer(
            arn=arn,
            code_size_bytes=_optional_int((response.get("Content") or {}).get("CodeSize")),
            compatible_architectures=_architectures(response.get("CompatibleArchitectures", [])),
            compatible_runtimes=tuple(runtimes) if runtimes is not None else None,
        )
    return layers


def async_config_from_api(response: Mapping[str, Any]) -> AsyncInvokeConfig:
    destinations = response.get("DestinationConfig") or {}
    defaults = AsyncInvokeConfig()
    retries = _optional_int(response.get("MaximumRetryAttempts"))
    age = _optional_int(response.get("MaximumEventAgeInSeconds"))
    return AsyncInvokeConfig(
        maximum_retry_attempts=defaults.maximum_retry_attempts if retries is None else retries,
        maximum_event_age_s=defaults.maximum_event_age_s if age is None else age,
        on_success_destination=(destinations.get("OnSuccess") or {}).get("Destination"),
        on_failure_destination=(destinations.get("OnFailure") or {}).get("Destination"),
    )


def fetch_async_config(session: AwsSession, function_name: str) -> AsyncInvokeConfig | None:
    """The function's event invoke config; None when it has none (AWS defaults apply)."""
    try:
        response = session.client("lambda").get_function_event_invoke_config(
            FunctionName=function_name
        )
    except ClientError as error:
        if is_not_found(error):
            return None
        raise
    return async_config_from_api(response)


def provisioned_config_from_api(config: Mapping[str, Any]) -> ProvisionedConcurrencyConfig | None:
    """One ``ListProvisionedConcurrencyConfigs`` entry; None without a qualified ARN."""
    qualifier = str(config.get("FunctionArn", "")).split(":")[7:8]
    requested = _optional_int(config.get("RequestedProvisionedConcurrentExecutions"))
    if not qualifier or not qualifier[0] or requested is None:
        return None
    status = config.get("Status")
    return ProvisionedConcurrencyConfig(
        qualifier=qualifier[0],
        requested=requested,
        allocated=_optional_int(config.get("AllocatedProvisionedConcurrentExecutions")),
        status=ProvisionedConcurrencyStatus(status)
        if isinstance(status, str) and status in ProvisionedConcurrencyStatus.__members__
        else None,
    )


def fetch_provisioned(
    session: AwsSession, function_name: str
) -> tuple[ProvisionedConcurrencyConfig, ...]:
    """Provisioned concurrency per alias or version, as configured (requested) and allocated."""
    client = session.client("lambda")
    paginator = client.get_paginator("list_provisioned_concurrency_configs")
    configs: list[ProvisionedConcurrencyConfig] = []
    for page in paginator.paginate(FunctionName=function_name):
        for raw in page.get("ProvisionedConcurrencyConfigs", []):
            config = provisioned_config_from_api(raw)
            if config is not None:
                configs.append(config)
    return tuple(sorted(configs, key=lambda config: config.qualifier))


_PRINCIPAL_SOURCES: dict[str, InvokeSource] = {
    "apigateway.amazonaws.com": InvokeSource.API_GATEWAY,
    "elasticloadbalancing.amazonaws.com": InvokeSource.ALB,
    "sns.amazonaws.com": InvokeSource.SNS,
    "s3.amazonaws.com": InvokeSource.S3,
    "events.amazonaws.com": InvokeSource.EVENTBRIDGE,
    "scheduler.amazonaws.com": InvokeSource.SCHEDULE,
}


def invoke_sources_from_policy(policy_document: str) -> tuple[InvokeSource, ...]:
    """Who the resource policy lets invoke the function (service principals, function URLs)."""
    try:
        policy = json.loads(policy_document)
    except ValueError:
        return ()
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    sources: list[InvokeSource] = []
    for statement in statements:
        if not isinstance(statement, dict) or statement.get("Effect", "Allow") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else list(actions)
        if "lambda:InvokeFunctionUrl" in actions:
            sources.append(InvokeSource.FUNCTION_URL)
            continue
        principal = statement.get("Principal", {})
        service = principal.get("Service") if isinstance(principal, dict) else None
        services = [service] if isinstance(service, str) else list(service or [])
        for name in services:
            source = _PRINCIPAL_SOURCES.get(str(name))
            if source is not None:
                sources.append(source)
            elif name:
                sources.append(InvokeSource.OTHER_ASYNC)
        if not services and principal:
            sources.append(InvokeSource.DIRECT)
    return tuple(dict.fromkeys(sources))


# --- building snapshots ---------------------------------------------------------------------


def _parse_time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        # Lambda writes "2024-05-01T10:00:00.000+0000"; fromisoformat needs "+00:00".
        text = value.replace("Z", "+00:00")
        if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":
            text = f"{text[:-2]}:{text[-2:]}"
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def snapshot_from_config(
    config: Mapping[str, Any], *, region: str, enrichment: Enrichment | None = None
) -> FunctionSnapshot:
    """A FunctionSnapshot from a ListFunctions/GetFunction configuration plus bulk facts."""
    extra = enrichment or Enrichment()
    arn = unqualified_arn(str(config["FunctionArn"]))
    architectures = config.get("Architectures") or ["x86_64"]
    logging_config = config.get("LoggingConfig") or {}
    vpc_raw = config.get("VpcConfig") or {}
    vpc = None
    if vpc_raw.get("SubnetIds"):
        vpc = VpcConfig(
            subnet_ids=tuple(vpc_raw.get("SubnetIds", ())),
            security_group_ids=tuple(vpc_raw.get("SecurityGroupIds", ())),
        )
    tags = extra.tags.get(arn, {})
    # Layers read in bulk when available; otherwise what the listing itself says (the size).
    listed_sizes = {
        str(layer["Arn"]): _optional_int(layer.get("CodeSize"))
        for layer in config.get("Layers") or []
    }
    layers = tuple(
        extra.layers.get(layer_arn) or Layer(arn=layer_arn, code_size_bytes=size)
        for layer_arn, size in listed_sizes.items()
    )
    provisioned = extra.provisioned.get(arn)
    snap_start = (config.get("SnapStart") or {}).get("ApplyOn") == "PublishedVersions"
    mappings = tuple(extra.mappings.get(arn, ()))
    invoked_by = extra.invoked_by.get(arn)
    if invoked_by is not None and mappings and InvokeSource.EVENT_SOURCE_MAPPING not in invoked_by:
        invoked_by = (*invoked_by, InvokeSource.EVENT_SOURCE_MAPPING)
    log_format = LogFormat.JSON if logging_config.get("LogFormat") == "JSON" else LogFormat.TEXT
    tracing = (config.get("TracingConfig") or {}).get("Mode")
    return FunctionSnapshot(
        name=str(config["FunctionName"]),
        arn=arn,
        account_id=account_of(arn),
        region=region,
        runtime=config.get("Runtime"),
        architecture=Architecture(architectures[0]),
        memory_mb=int(config.get("MemorySize") or 128),
        timeout_s=int(config.get("Timeout") or 3),
        ephemeral_storage_mb=int((config.get("EphemeralStorage") or {}).get("Size") or 512),
        package_type=PackageType(config.get("PackageType") or "Zip"),
        code_size_bytes=_optional_int(config.get("CodeSize")),
        code_sha256=config.get("CodeSha256"),
        handler=config.get("Handler"),
        last_modified=_parse_time(config.get("LastModified")),
        revision_id=config.get("RevisionId"),
        layers=layers,
        tags=tags,
        reserved_concurrency=extra.reserved.get(arn),
        provisioned_concurrency_configs=provisioned,
        event_source_mappings=mappings,
        async_config=extra.async_configs.get(arn),
        dead_letter_target_arn=(config.get("DeadLetterConfig") or {}).get("TargetArn"),
        invoked_by=invoked_by,
        vpc=vpc,
        log_format=log_format,
        application_log_level=_log_level(logging_config.get("ApplicationLogLevel")),
        system_log_level=_log_level(logging_config.get("SystemLogLevel")),
        log_group=logging_config.get("LogGroup") or None,
        tracing_mode=TracingMode(tracing) if tracing in ("Active", "PassThrough") else None,
        snap_start=snap_start,
        cloudformation_stack=tags.get(CLOUDFORMATION_STACK_TAG),
    )


def _log_level(value: Any) -> LogLevel | None:
    return LogLevel(value) if value in LogLevel.__members__ else None


def log_group_of(config: Mapping[str, Any]) -> str:
    logging_config = config.get("LoggingConfig") or {}
    return str(logging_config.get("LogGroup") or f"/aws/lambda/{config['FunctionName']}")


# --- the single-function path ---------------------------------------------------------------


def read_function(name: str, session: AwsSession) -> tuple[FunctionSnapshot, dict[str, Any]]:
    """Everything about one function, with the calls that only make sense for one.

    Returns the snapshot (without stats) and the raw configuration (for its log group).
    Raises FunctionNotFoundError, AccessDeniedError or CredentialsError with one sentence.
    """
    client = session.client("lambda")
    with translate_errors("read the function", function=name, region=session.region):
        response = client.get_function(FunctionName=name)
    config: dict[str, Any] = dict(response["Configuration"])
    arn = unqualified_arn(str(config["FunctionArn"]))
    warnings: list[str] = []
    extra = Enrichment(tags={arn: dict(response.get("Tags") or {})})
    extra.reserved[arn] = _optional_int(
        (response.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
    )
    no_mappings: list[EventSourceMappingConfigurationTypeDef] = []
    raw = _best_effort(
        f"list event source mappings of {name}",
        lambda: list_raw_mappings(session, name),
        no_mappings,
        warnings,
    )
    extra.mappings = group_mappings(
        raw, fetch_queue_attributes(session, sqs_sources(raw), warnings)
    )
    extra.async_configs[arn] = _best_effort(
        f"read the async invoke config of {name}",
        lambda: fetch_async_config(session, name),
        None,
        warnings,
    )
    provisioned = _best_effort(
        f"read provisioned concurrency of {name}",
        lambda: fetch_provisioned(session, name),
        None,
        warnings,
    )
    if provisioned is not None:  # a failed read leaves it unknown, never "none"
        extra.provisioned[arn] = provisioned
    extra.layers = fetch_layers(
        session, [str(layer["Arn"]) for layer in config.get("Layers") or []], warnings
    )
    extra.invoked_by[arn] = _read_invoke_sources(session, name, warnings)
    return snapshot_from_config(config, region=session.region, enrichment=extra), config


def _read_invoke_sources(
    session: AwsSession, name: str, warnings: list[str]
) -> tuple[InvokeSource, ...]:
    def read() -> tuple[InvokeSource, ...]:
        try:
            policy = session.client("lambda").get_policy(FunctionName=name)
        except ClientError as error:
            if is_not_found(error):  # no resource policy: nothing but direct callers
                return ()
            raise
        return invoke_sources_from_policy(str(policy.get("Policy", "")))

    return _best_effort(f"read the resource policy of {name}", read, (), warnings)
