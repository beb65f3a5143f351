"""``tunebot scan`` in a subprocess against ThreadedMotoServer through AWS_ENDPOINT_URL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from aws.store import StateStore, create_tables
from fakes.scan_seed import (
    create_function,
    create_role,
    put_lambda_metric,
    python_zip,
    report_line,
    write_log_lines,
)
from handlers.cli_scan import package_cache_dir

TUNEBOT = str(Path(sys.executable).with_name("tunebot"))
TABLE = "tunebot-scan-e2e"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    clients: dict[str, Any] = {}

    def client(service: str) -> Any:
        if service not in clients:
            clients[service] = boto3.client(
                service,
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
            )
        return clients[service]

    role = create_role(client("iam"))
    create_function(client("lambda"), "checkout", role=role, code=python_zip("c"), memory=3008)
    create_function(client("lambda"), "nightly", role=role, code=python_zip("n"))
    when = datetime.now(UTC) - timedelta(hours=1)
    put_lambda_metric(client("cloudwatch"), "checkout", "Invocations", [100000, 50000], when)
    put_lambda_metric(client("cloudwatch"), "checkout", "Duration", [120, 80], when)
    write_log_lines(
        client("logs"),
        "checkout",
        [report_line("r1", 121, 200, 3008, init=300.0), report_line("r2", 80, 210, 3008)],
        when,
    )
    create_tables(TABLE, "tunebot-idempotency-e2e", client=client("dynamodb"))
    yield url
    server.stop()


def run_tunebot(
    endpoint: str, *args: str, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("AWS_") and not key.startswith("TUNEBOT_")
    }
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        # moto answers percentile queries with HTTP 500; do not wait out ten retries.
        AWS_MAX_ATTEMPTS="1",
    )
    env.update(extra_env or {})
    return subprocess.run(
        [TUNEBOT, *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_scan_prints_ranked_table(endpoint: str) -> None:
    result = run_tunebot(endpoint, "scan", "--no-package-scan")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["#", "Function", "Rule", "Recommendation"]
    assert any(line.split()[1:2] == ["checkout"] for line in lines[2:])
    assert "\n2 functions analysed, " in result.stdout
    assert "Traceback" not in result.stderr


def test_scan_json_save_snapshot_and_store(endpoint: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "fleet.json"
    result = run_tunebot(
        endpoint,
        "scan",
        "--format",
        "json",
        "--no-package-scan",
        "--function",
        "checkout",
        "--save-snapshot",
        str(snapshot),
        "--window-days",
        "7",
        extra_env={"TUNEBOT_TABLE": TABLE},
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["summary"]["errors"] == {}
    assert document["summary"]["functions_analysed"] == 1
    recommendations = document["recommendations"]
    assert recommendations, "the busy 3008 MB function should get recommendations"
    assert {rec["function"] for rec in recommendations} == {"checkout"}
    saved = json.loads(snapshot.read_text())
    [function] = saved["functions"]
    assert function["name"] == "checkout"
    assert function["memory_mb"] == 3008
    assert function["stats"]["window_days"] == 7.0
    assert function["stats"]["invocations"] == 150000
    assert function["stats"]["log_sample_invocations"] == 2
    assert function["stats"]["max_memory_used_mb"] == 210

    # The same snapshot analyses offline to the same recommendation ids.
    offline = run_tunebot(endpoint, "analyze", "--snapshot", str(snapshot), "--format", "json")
    assert offline.returncode == 0, offline.stderr
    assert [r["id"] for r in json.loads(offline.stdout)["recommendations"]] == [
        r["id"] for r in recommendations
    ]

    # Apply-able recommendations were stored for `tunebot apply ID`.
    dynamodb = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    store = StateStore(TABLE, client=dynamodb)
    with_change = [rec for rec in recommendations if rec["change"] is not None]
    assert with_change
    for rec in with_change:
        stored = store.get_recommendation(rec["id"])
        assert stored is not None
        assert stored.function is not None and stored.function.memory_mb == 3008


def test_missing_function_is_one_sentence(endpoint: str) -> None:
    result = run_tunebot(endpoint, "scan", "--function", "chekout", "--no-package-scan")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "tunebot: Function 'chekout' was not found in us-east-1 (did you mean 'checkout'?).\n"
    )


def test_no_credentials_is_one_sentence(endpoint: str, tmp_path: Path) -> None:
    result = run_tunebot(
        endpoint,
        "scan",
        extra_env={
            "AWS_ACCESS_KEY_ID": "",
            "AWS_SECRET_ACCESS_KEY": "",
            "AWS_CONFIG_FILE": str(tmp_path / "none"),
            "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
            "AWS_EC2_METADATA_DISABLED": "true",
        },
    )
    assert result.returncode == 1
    assert result.stderr == (
        "tunebot: No AWS credentials found: configure a profile, environment variables or a "
        "role before tunebot can list Lambda functions.\n"
    )


def test_bad_accounts_configuration_is_one_sentence(endpoint: str) -> None:
    result = run_tunebot(endpoint, "scan", extra_env={"TUNEBOT_ACCOUNTS": "[{"})
    assert result.returncode == 1
    assert result.stderr.startswith("tunebot: TUNEBOT_ACCOUNTS is not valid JSON:")
    assert result.stderr.count("\n") == 1


def test_bad_window_is_rejected_by_the_parser(endpoint: str) -> None:
    result = run_tunebot(endpoint, "scan", "--window-days", "0")
    assert result.returncode == 2
    assert "must be between 1 and 455 days" in result.stderr


def test_several_regions_merge_into_one_report(endpoint: str, tmp_path: Path) -> None:
    snapshot = tmp_path / "fleet.json"
    result = run_tunebot(
        endpoint,
        "scan",
        "--region",
        "us-east-1",
        "--region",
        "eu-west-1",
        "--format",
        "markdown",
        "--no-package-scan",
        "--save-snapshot",
        str(snapshot),
    )
    assert result.returncode == 0, result.stderr
    assert "checkout" in result.stdout
    saved = json.loads(snapshot.read_text())
    assert saved["region"] is None
    assert saved["account_id"] == "123456789012"
    assert sorted((fn["region"], fn["name"]) for fn in saved["functions"]) == [
        ("us-east-1", "checkout"),
        ("us-east-1", "nightly"),
    ]


def test_package_cache_follows_xdg(tmp_path: Path) -> None:
    assert package_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "tunebot" / "packages"
    assert package_cache_dir({}) == Path.home() / ".cache" / "tunebot" / "packages"
