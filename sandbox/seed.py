"""Creates the demo fleet in the embedded AWS: functions, triggers, queues, layers, metrics, logs.

Only public AWS APIs through boto3, exactly as a real account would be set up, so the scan,
``/tune`` and the appliers read it through the same code paths they use in production.
"""

from __future__ import annotations

import io
import json
import logging
import random
import struct
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sandbox.fleet import FLEET, DemoFunction, DemoLayer
from sandbox.lambda_context import DEMO_ACCOUNT_ID, DEMO_REGION
from sandbox.traffic import BUCKET, Bucket, Invocation, generate

logger = logging.getLogger(__name__)

ROLE_NAME = "tunebot-demo-function-role"
# Where deployment artifacts too large for a request body go, as on AWS.
ARTIFACT_BUCKET = "tunebot-demo-artifacts"
NAMESPACE = "AWS/Lambda"
LOGS_NAMESPACE = "AWS/Logs"
# START, END and a REPORT line of one invocation in the Text format, roughly.
SYSTEM_LOG_BYTES = 330
METRICS_PER_CALL = 1000
LOG_EVENTS_PER_CALL = 5000
DAY_MS = 24 * 3600 * 1000

# ELF e_machine values of the architectures we ship native code for.
_ELF_MACHINES = {"x86_64": 0x3E, "aarch64": 0xB7}

_HANDLER_SOURCE = {
    "python": "def handler(event, context):\n    return {'ok': True}\n",
    "nodejs": "exports.handler = async () => ({ ok: true });\n",
    "java": "// compiled classes would live here\n",
}


def elf_header(machine: str) -> bytes:
    """The first 64 bytes of a 64-bit little-endian ELF shared object for ``machine``."""
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    return ident + struct.pack(
        "<HHIQQQIHHHHHH", 3, _ELF_MACHINES[machine], 1, 0, 64, 0, 0, 64, 56, 0, 64, 0, 0
    )


# Fixed member times: the same function always gets the same bytes (and CodeSha256), whichever
# second the sandbox starts in.
_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            member = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(member, data)
    return buffer.getvalue()


def function_package(function: DemoFunction) -> bytes:
    family = next(f for f in _HANDLER_SOURCE if function.runtime.startswith(f))
    entry = {"python": "app.py", "nodejs": "index.js", "java": "README.txt"}[family]
    files = {entry: _HANDLER_SOURCE[family].encode()}
    if function.native_machine:
        files["lib/libimage.so"] = elf_header(function.native_machine)
    return _zip(files)


def _handler_name(function: DemoFunction) -> str:
    if function.runtime.startswith("python"):
        return "app.handler"
    if function.runtime.startswith("java"):
        return "example.Handler::handleRequest"
    return "index.handler"


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{DEMO_REGION}:{DEMO_ACCOUNT_ID}:function:{name}"


class FleetSeeder:
    """Seeds one region of the embedded AWS; ``clients`` maps service names to boto3 clients."""

    def __init__(self, clients: dict[str, Any], *, now: datetime, seed: int = 7) -> None:
        self._clients = clients
        self._now = now
        self._seed = seed
        self._layer_arns: dict[str, str] = {}
        self._bucket_created = False

    def client(self, service: str) -> Any:
        return self._clients[service]

    def seed(self, fleet: Sequence[DemoFunction] = FLEET) -> None:
        role_arn = self._create_role()
        for function in fleet:
            self._create_function(function, role_arn)
            self._seed_observations(function)
        logger.info("seeded %d demo functions", len(fleet))

    # -- configuration ------------------------------------------------------------------

    def _create_role(self) -> str:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = self.client("iam").create_role(
            RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(trust)
        )
        return str(role["Role"]["Arn"])

    def _layer_arn(self, layer: DemoLayer) -> str:
        if layer.name not in self._layer_arns:
            files = {"README.txt": f"{layer.name} layer\n".encode()}
            if layer.native_machine:
                files[f"lib/{layer.name}.so"] = elf_header(layer.native_machine)
            content: dict[str, Any] = {"ZipFile": _zip(files)}
            if layer.binary_bytes:
                content = self._upload_large_layer(layer, files)
            published = self.client("lambda").publish_layer_version(
                LayerName=layer.name,
                Content=content,
                CompatibleArchitectures=list(layer.compatible_architectures),
            )
            self._layer_arns[layer.name] = str(published["LayerVersionArn"])
        return self._layer_arns[layer.name]

    def _upload_large_layer(self, layer: DemoLayer, files: dict[str, bytes]) -> dict[str, Any]:
        """A layer over 50 MiB goes through S3, as AWS requires (and a third faster than
        base64 in a ``PublishLayerVersion`` body)."""
        # Random bytes do not compress, like a real browser binary; seeded, so the layer's
        # CodeSha256 is the same every time.
        binary = random.Random(f"{self._seed}:{layer.name}").randbytes(layer.binary_bytes)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
            archive.writestr(f"bin/{layer.name}", binary, compress_type=zipfile.ZIP_STORED)
        s3 = self.client("s3")
        if not self._bucket_created:
            s3.create_bucket(Bucket=ARTIFACT_BUCKET)
            self._bucket_created = True
        key = f"layers/{layer.name}.zip"
        s3.put_object(Bucket=ARTIFACT_BUCKET, Key=key, Body=buffer.getvalue())
        return {"S3Bucket": ARTIFACT_BUCKET, "S3Key": key}

    def _create_function(self, function: DemoFunction, role_arn: str) -> None:
        lam = self.client("lambda")
        tags = dict(function.tags)
        if function.cloudformation_stack:
            tags["aws:cloudformation:stack-name"] = function.cloudformation_stack
            tags["aws:cloudformation:logical-id"] = "Function"
        lam.create_function(
            FunctionName=function.name,
            Runtime=function.runtime,
            Role=role_arn,
            Handler=_handler_name(function),
            Code={"ZipFile": function_package(function)},
            Description=function.summary[:256],
            Timeout=function.timeout_s,
            MemorySize=function.memory_mb,
            Architectures=[function.architecture.value],
            Layers=[self._layer_arn(layer) for layer in function.layers],
            Tags=tags,
            EphemeralStorage={"Size": function.ephemeral_storage_mb},
            TracingConfig={"Mode": function.tracing},
        )
        self._add_trigger(function)
        if function.async_config is not None:
            retries, max_age, with_destination = function.async_config
            destination: dict[str, Any] = {}
            if with_destination:
                queue_arn = self._create_queue(f"{function.name}-failed-events")
                destination = {"OnFailure": {"Destination": queue_arn}}
            lam.put_function_event_invoke_config(
                FunctionName=function.name,
                MaximumRetryAttempts=retries,
                MaximumEventAgeInSeconds=max_age,
                DestinationConfig=destination,
            )
        if function.reserved_concurrency is not None:
            lam.put_function_concurrency(
                FunctionName=function.name,
                ReservedConcurrentExecutions=function.reserved_concurrency,
            )

    def _create_queue(
        self,
        name: str,
        *,
        visibility_timeout_s: int = 30,
        fifo: bool = False,
        dead_letter_arn: str | None = None,
    ) -> str:
        sqs = self.client("sqs")
        attributes = {"VisibilityTimeout": str(visibility_timeout_s)}
        if fifo:
            attributes["FifoQueue"] = "true"
        if dead_letter_arn:
            attributes["RedrivePolicy"] = json.dumps(
                {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": "5"}
            )
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(arn["Attributes"]["QueueArn"])

    def _add_trigger(self, function: DemoFunction) -> None:
        lam = self.client("lambda")
        principals = {
            "apigateway": "apigateway.amazonaws.com",
            "sns": "sns.amazonaws.com",
            "s3": "s3.amazonaws.com",
            "events": "events.amazonaws.com",
        }
        if function.invoked_by in principals:
            lam.add_permission(
                FunctionName=function.name,
                StatementId=f"{function.invoked_by}-invoke",
                Action="lambda:InvokeFunction",
                Principal=principals[function.invoked_by],
                SourceAccount=DEMO_ACCOUNT_ID,
            )
        elif function.invoked_by == "function_url":
            # A public webhook URL; AWS needs this statement for AuthType NONE to work.
            lam.create_function_url_config(FunctionName=function.name, AuthType="NONE")
            lam.add_permission(
                FunctionName=function.name,
                StatementId="FunctionURLAllowPublicAccess",
                Action="lambda:InvokeFunctionUrl",
                Principal="*",
                FunctionUrlAuthType="NONE",
            )
        if function.queue is not None:
            queue = function.queue
            dead_letter = None
            if queue.with_dead_letter_queue:
                suffix = ".fifo" if queue.fifo else ""
                base = queue.queue_name.removesuffix(".fifo")
                dead_letter = self._create_queue(f"{base}-dlq{suffix}", fifo=queue.fifo)
            queue_arn = self._create_queue(
                queue.queue_name,
                visibility_timeout_s=queue.visibility_timeout_s,
                fifo=queue.fifo,
                dead_letter_arn=dead_letter,
            )
            mapping: dict[str, Any] = {
                "EventSourceArn": queue_arn,
                "FunctionName": function.name,
                "BatchSize": queue.batch_size,
                "Enabled": True,
            }
            if queue.batching_window_s:
                mapping["MaximumBatchingWindowInSeconds"] = queue.batching_window_s
            if queue.report_batch_item_failures:
                mapping["FunctionResponseTypes"] = ["ReportBatchItemFailures"]
            lam.create_event_source_mapping(**mapping)
        if function.stream is not None:
            kinesis = self.client("kinesis")
            kinesis.create_stream(StreamName=function.stream.stream_name, ShardCount=1)
            summary = kinesis.describe_stream_summary(StreamName=function.stream.stream_name)
            lam.create_event_source_mapping(
                EventSourceArn=summary["StreamDescriptionSummary"]["StreamARN"],
                FunctionName=function.name,
                BatchSize=function.stream.batch_size,
                StartingPosition="LATEST",
                MaximumRetryAttempts=function.stream.maximum_retry_attempts,
                MaximumRecordAgeInSeconds=function.stream.maximum_record_age_s,
                BisectBatchOnFunctionError=False,
                FunctionResponseTypes=(
                    ["ReportBatchItemFailures"]
                    if function.stream.report_batch_item_failures
                    else []
                ),
            )

    # -- observations -------------------------------------------------------------------

    def _seed_observations(self, function: DemoFunction) -> None:
        buckets = generate(function, self._now, self._seed)
        self._put_metrics(function, buckets)
        self._put_logs(function, buckets)

    def _put_metrics(self, function: DemoFunction, buckets: Sequence[Bucket]) -> None:
        data = list(metric_data(function, buckets))
        cloudwatch = self.client("cloudwatch")
        for start in range(0, len(data), METRICS_PER_CALL):
            cloudwatch.put_metric_data(
                Namespace=NAMESPACE, MetricData=data[start : start + METRICS_PER_CALL]
            )
        ingestion = list(log_ingestion_data(function, buckets))
        for start in range(0, len(ingestion), METRICS_PER_CALL):
            cloudwatch.put_metric_data(
                Namespace=LOGS_NAMESPACE, MetricData=ingestion[start : start + METRICS_PER_CALL]
            )

    def _put_logs(self, function: DemoFunction, buckets: Sequence[Bucket]) -> None:
        logs = self.client("logs")
        group = f"/aws/lambda/{function.name}"
        logs.create_log_group(logGroupName=group)
        if function.log_retention_days is not None:
            logs.put_retention_policy(
                logGroupName=group, retentionInDays=function.log_retention_days
            )
        invocations = [sample for bucket in buckets for sample in bucket.samples]
        if not invocations:
            return
        # Lambda writes one stream per execution environment; one long-lived environment per
        # function keeps seeding to a couple of calls without changing what is read back.
        first_day = min(invocation.at for invocation in invocations).strftime("%Y/%m/%d")
        stream = f"{first_day}/[$LATEST]{function.name.replace('-', '')[:12]}0demo"
        logs.create_log_stream(logGroupName=group, logStreamName=stream)
        for batch in log_batches(log_events(invocations)):
            logs.put_log_events(logGroupName=group, logStreamName=stream, logEvents=batch)


def log_batches(events: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """PutLogEvents batches as AWS accepts them: time-ordered, spanning under 24 hours."""
    batch: list[dict[str, Any]] = []
    for event in events:
        too_long = batch and event["timestamp"] - batch[0]["timestamp"] >= DAY_MS
        if too_long or len(batch) == LOG_EVENTS_PER_CALL:
            yield batch
            batch = []
        batch.append(event)
    if batch:
        yield batch


def _millis(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def log_events(invocations: Iterable[Invocation]) -> list[dict[str, Any]]:
    """The REPORT lines (and timeout and error lines) Lambda writes, in time order.

    Lambda writes them when an invocation ends, so that is their timestamp. The START and END
    lines around them carry nothing tunebot reads, so the sandbox leaves them out: they would
    triple the events seeded for no difference in any figure.
    """
    events: list[dict[str, Any]] = []
    for invocation in invocations:
        end = _millis(invocation.at) + int(invocation.duration_ms)
        if invocation.status == "timeout":
            seconds = invocation.duration_ms / 1000
            message = f"{invocation.request_id} Task timed out after {seconds:.2f} seconds"
            events.append({"timestamp": end, "message": message})
        if invocation.error_line:
            events.append({"timestamp": end, "message": invocation.error_line})
        events.append({"timestamp": end, "message": invocation.report_line()})
    # A stable sort keeps each timeout line just before its REPORT line.
    return sorted(events, key=lambda event: event["timestamp"])


def _datum(
    function: DemoFunction, name: str, at: datetime, unit: str, **value: Any
) -> dict[str, Any]:
    return {
        "MetricName": name,
        "Dimensions": [{"Name": "FunctionName", "Value": function.name}],
        "Timestamp": at,
        "Unit": unit,
        **value,
    }


def log_ingestion_data(
    function: DemoFunction, buckets: Iterable[Bucket]
) -> Iterator[dict[str, Any]]:
    """The AWS/Logs IncomingBytes CloudWatch Logs would have emitted for the function's group:
    Lambda's START, END and REPORT lines of every invocation plus what the handler logs."""
    per_invocation = SYSTEM_LOG_BYTES + function.app_log_bytes_per_invocation
    for bucket in buckets:
        if bucket.invocations == 0:
            continue
        yield {
            "MetricName": "IncomingBytes",
            "Dimensions": [{"Name": "LogGroupName", "Value": f"/aws/lambda/{function.name}"}],
            "Timestamp": bucket.start,
            "Unit": "Bytes",
            "Value": bucket.invocations * per_invocation,
        }


def metric_data(function: DemoFunction, buckets: Iterable[Bucket]) -> Iterator[dict[str, Any]]:
    """The AWS/Lambda metrics Lambda would have emitted for these buckets."""
    seconds = BUCKET.total_seconds()
    for bucket in buckets:
        if bucket.invocations == 0 or not bucket.samples:
            continue
        at = bucket.start
        yield _datum(function, "Invocations", at, "Count", Value=bucket.invocations)
        yield _datum(function, "Errors", at, "Count", Value=bucket.errors)
        throttles = round(bucket.invocations * function.throttle_rate)
        yield _datum(function, "Throttles", at, "Count", Value=throttles)
        yield _datum(
            function,
            "Duration",
            at,
            "Milliseconds",
            StatisticValues={
                "SampleCount": bucket.invocations,
                "Sum": bucket.duration_sum_ms,
                "Minimum": bucket.duration_min_ms,
                "Maximum": bucket.duration_max_ms,
            },
        )
        # Little's law for the average, with the busiest minute about twice the average.
        concurrency = bucket.invocations / seconds * bucket.mean_duration_ms / 1000
        yield _datum(
            function, "ConcurrentExecutions", at, "Count", Value=max(1.0, round(concurrency * 2, 1))
        )
        if function.invoked_by in ("sns", "s3", "events"):
            dropped = round(bucket.invocations * function.async_drop_rate)
            yield _datum(function, "AsyncEventsReceived", at, "Count", Value=bucket.invocations)
            yield _datum(function, "AsyncEventsDropped", at, "Count", Value=dropped)
            yield _datum(
                function,
                "AsyncEventAge",
                at,
                "Milliseconds",
                StatisticValues={
                    "SampleCount": bucket.invocations,
                    "Sum": bucket.invocations * 40.0,
                    "Minimum": 5.0,
                    "Maximum": 60_000.0 if dropped else 900.0,
                },
            )
        if function.stream is not None:
            yield _datum(function, "IteratorAge", at, "Milliseconds", Value=1_500.0)
