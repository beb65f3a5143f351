"""The embedded AWS: the package scan reads the code moto holds behind a Code.Location, and
artifacts over 50 MiB go in through S3 as on AWS."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from aws.package_scan import PackageScanner, PackageTooLarge
from aws.session import AwsSession
from recommendations.snapshot import NativeBinary
from sandbox.embedded_aws import EmbeddedAws
from sandbox.fleet import by_name
from sandbox.seed import ARTIFACT_BUCKET, FleetSeeder, function_package

SERVICES = ("iam", "lambda", "sqs", "kinesis", "cloudwatch", "logs", "s3")


def test_fetch_code_reads_the_zip_create_function_received(monkeypatch: pytest.MonkeyPatch) -> None:
    thumbnail = by_name("thumbnail-native")
    embedded = EmbeddedAws()
    embedded.start()
    try:
        clients = {name: embedded.client(name) for name in SERVICES}
        FleetSeeder(clients, now=datetime.now(UTC)).seed([thumbnail])
        response: dict[str, Any] = clients["lambda"].get_function(FunctionName=thumbnail.name)
        location = str(response["Code"]["Location"])

        assert embedded.fetch_code(location, 10_000) == function_package(thumbnail)
        with pytest.raises(PackageTooLarge):
            embedded.fetch_code(location, 10)
        with pytest.raises(FileNotFoundError):
            embedded.fetch_code(location.rsplit("/", 1)[0] + "/thumbnail-native-gone", 10_000)
        with pytest.raises(FileNotFoundError):
            embedded.fetch_code("https://example.com/thumbnail-native.zip", 10_000)

        # The package scan through the session's fetcher reads the ELF header in that zip.
        for name, value in embedded.environment().items():
            monkeypatch.setenv(name, value)
        session = AwsSession(code_fetcher=embedded.fetch_code)
        found = PackageScanner().scan(session, response["Configuration"])
    finally:
        embedded.stop()
    assert found == (NativeBinary(path="lib/libimage.so", machine="x86_64", kind="shared_object"),)


def test_a_layer_over_50_mib_goes_through_s3_and_keeps_its_size() -> None:
    pdf_export = by_name("pdf-export")
    [layer] = pdf_export.layers
    embedded = EmbeddedAws()
    embedded.start()
    try:
        clients = {name: embedded.client(name) for name in SERVICES}
        FleetSeeder(clients, now=datetime.now(UTC)).seed([pdf_export])
        config = clients["lambda"].get_function_configuration(FunctionName="pdf-export")
        [arn] = [entry["Arn"] for entry in config["Layers"]]
        name, version = arn.rsplit(":", 2)[1:]
        published = clients["lambda"].get_layer_version(LayerName=name, VersionNumber=int(version))
        uploaded = clients["s3"].head_object(Bucket=ARTIFACT_BUCKET, Key=f"layers/{name}.zip")
    finally:
        embedded.stop()
    # Stored, not compressed: the zip is the binary plus a few hundred bytes of zip headers.
    size = published["Content"]["CodeSize"]
    assert layer.binary_bytes < size < layer.binary_bytes + 1024
    assert size > 50 * 1024 * 1024
    assert uploaded["ContentLength"] == size
