"""The demo fleet lands in AWS (moto) the way tunebot's own inventory code reads it back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from moto import mock_aws

from aws.inventory import read_function
from aws.package_scan import scan_zip
from aws.session import AwsSession
from recommendations.snapshot import Architecture, EventSourceKind, InvokeSource
from sandbox.fleet import FLEET, by_name
from sandbox.seed import FleetSeeder, elf_header, function_package

SERVICES = ("iam", "lambda", "sqs", "kinesis", "cloudwatch", "logs")
SEEDED = (
    "orders-consumer",
    "image-resizer",
    "thumbnail-native",
    "search-indexer",
    "inventory-sync",
)


@pytest.fixture(scope="module")
def session() -> Iterator[AwsSession]:
    with mock_aws():
        clients = {name: boto3.client(name, region_name="us-east-1") for name in SERVICES}
        # moto refuses log events older than 14 days from *its* clock, so seed up to now.
        FleetSeeder(clients, now=datetime.now(UTC)).seed([by_name(n) for n in SEEDED])
        yield AwsSession(region="us-east-1")


def test_the_fleet_has_twenty_distinct_functions() -> None:
    names = [function.name for function in FLEET]
    assert len(names) == 20 == len(set(names))
    assert any(function.tags.get("env") == "prod" for function in FLEET)
    assert any("tunebot:managed" not in function.tags for function in FLEET)


def test_an_sqs_consumer_reads_back_with_its_mapping_and_queue(session: AwsSession) -> None:
    snapshot, _ = read_function("orders-consumer", session)
    assert (snapshot.memory_mb, snapshot.timeout_s) == (256, 60)
    assert snapshot.tags == {"tunebot:managed": "true", "env": "prod", "team": "orders"}
    (mapping,) = snapshot.event_source_mappings
    assert mapping.kind is EventSourceKind.SQS
    assert mapping.batch_size == 1
    assert mapping.queue_visibility_timeout_s == 30
    assert mapping.queue_redrive_policy is None
    assert not mapping.reports_batch_item_failures


def test_an_async_function_has_its_failure_destination(session: AwsSession) -> None:
    snapshot, _ = read_function("image-resizer", session)
    assert snapshot.async_config is not None
    assert snapshot.async_config.on_failure_destination == (
        "arn:aws:sqs:us-east-1:123456789012:image-resizer-failed-events"
    )
    assert snapshot.invoked_by == (InvokeSource.S3,)


def test_layers_streams_and_cloudformation_tags(session: AwsSession) -> None:
    # moto lacks GetLayerVersionByArn (which the inventory uses), so read the layer directly.
    lam = session.client("lambda")
    config = lam.get_function_configuration(FunctionName="thumbnail-native")
    (layer,) = config["Layers"]
    assert layer["Arn"] == "arn:aws:lambda:us-east-1:123456789012:layer:sharp-libvips:1"
    published = lam.get_layer_version(LayerName="sharp-libvips", VersionNumber=1)
    assert published["CompatibleArchitectures"] == ["x86_64"]
    assert config["Architectures"] == [Architecture.X86_64.value]

    indexer, _ = read_function("search-indexer", session)
    (stream,) = indexer.event_source_mappings
    assert stream.kind is EventSourceKind.KINESIS
    assert stream.bisect_batch_on_function_error is False

    managed, _ = read_function("inventory-sync", session)
    assert managed.cloudformation_stack == "inventory-service"


def test_native_code_in_the_package_is_a_real_elf_header() -> None:
    package = function_package(by_name("thumbnail-native"))
    (binary,) = scan_zip(package)
    assert (binary.path, binary.machine) == ("lib/libimage.so", "x86_64")
    assert elf_header("aarch64")[18:20] == (0xB7).to_bytes(2, "little")
    with zipfile.ZipFile(io.BytesIO(function_package(by_name("checkout-api")))) as archive:
        assert archive.namelist() == ["app.py"]


def test_logs_hold_report_lines_for_the_last_day(session: AwsSession) -> None:
    logs = session.client("logs")
    events = logs.filter_log_events(
        logGroupName="/aws/lambda/orders-consumer", filterPattern='"REPORT RequestId"'
    )["events"]
    assert events
    assert all("Memory Size: 256 MB\tMax Memory Used: 95 MB" in e["message"] for e in events)
