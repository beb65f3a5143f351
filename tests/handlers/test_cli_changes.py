"""``tunebot apply/undo/audit/store init`` in-process against moto, and once end to end."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.server import ThreadedMotoServer

from aws.store import StateStore, create_tables
from handlers import cli_changes
from handlers.cli import main
from recommendations.changes import MemoryChange
from recommendations.recommendation import Recommendation
from tests.aws.change_helpers import REGION, TABLE, create_function, recommendation, snapshot

REPO = Path(__file__).resolve().parents[2]
# The installed console script, exactly what a user runs.
TUNEBOT = Path(sys.executable).parent / "tunebot"


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[StateStore]:
    monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
    monkeypatch.setattr(cli_changes.getpass, "getuser", lambda: "alice")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(TABLE, client=client)
        create_function()
        yield StateStore(TABLE, client)


def _memory() -> int:
    client = boto3.client("lambda", region_name=REGION)
    return int(client.get_function_configuration(FunctionName="checkout-api")["MemorySize"])


def test_apply_with_yes_then_audit_then_undo(
    aws: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = recommendation()
    aws.put_recommendation(rec, snapshot())
    assert main(["apply", rec.id, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "Memory is over-provisioned (MEM-001, checkout-api in us-east-1)" in out
    assert "change: Set memory of checkout-api from 1024 MB to 512 MB" in out
    assert "expected saving: $12.50 a month" in out
    assert _memory() == 512
    [record] = aws.recent_audit()
    assert record.actor == "cli:alice"
    assert f"Applied change {record.change_id}" in out
    assert f"undo with: tunebot undo {record.change_id}" in out

    assert main(["audit", "--format", "json", "--function", "checkout-api"]) == 0
    audit = json.loads(capsys.readouterr().out)["audit"]
    assert [(a["action"], a["result"], a["before"], a["after"]) for a in audit] == [
        ("apply", "applied", 1024, 512)
    ]

    assert main(["undo", record.change_id or "", "--yes"]) == 0
    assert "Undid change" in capsys.readouterr().out
    assert _memory() == 1024
    assert main(["audit"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "WHEN",
        "(UTC)",
        "ACTOR",
        "ACTION",
        "FUNCTION",
        "RESULT",
        "CHANGE",
        "WHAT",
    ]
    assert [line.split()[3] for line in table[1:]] == ["undo", "apply"]


def test_apply_asks_on_a_terminal_and_respects_no(
    aws: StateStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = recommendation()
    aws.put_recommendation(rec)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main(["apply", rec.id]) == 1
    assert "Nothing was changed." in capsys.readouterr().out
    assert _memory() == 1024
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    assert main(["apply", rec.id]) == 0
    assert _memory() == 512


def test_a_change_that_costs_more_says_so_instead_of_a_negative_saving(
    aws: StateStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bigger = MemoryChange(function_name="checkout-api", before=1024, after=1536)
    rec = Recommendation.model_validate(
        {
            **recommendation(bigger).model_dump(),
            "monthly_savings_usd": -36.35,
            "trade_off": "safety",
        }
    )
    aws.put_recommendation(rec)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    assert main(["apply", rec.id]) == 1
    out = capsys.readouterr().out
    assert "  extra cost: $36.35 a month (for safety)\n" in out
    assert "saving" not in out


def test_no_terminal_and_no_yes_refuses(
    aws: StateStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = recommendation()
    aws.put_recommendation(rec)
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    assert main(["apply", rec.id]) == 2
    assert capsys.readouterr().err == (
        "tunebot: Refusing to apply a change without confirmation: there is no terminal to "
        "ask on; pass --yes to go ahead.\n"
    )
    assert _memory() == 1024


def test_stale_apply_exits_non_zero_with_the_reason(
    aws: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = recommendation()
    aws.put_recommendation(rec)
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="checkout-api", MemorySize=256
    )
    assert main(["apply", rec.id, "--yes"]) == 1
    assert capsys.readouterr().err == (
        "tunebot: The memory of checkout-api is 256 MB now, not the 1024 MB the recommendation "
        "was computed from; nothing was changed. Run the analysis again.\n"
    )


def test_missing_function_is_one_sentence(
    aws: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = recommendation(name="gone-function")
    aws.put_recommendation(rec)
    assert main(["apply", rec.id, "--yes"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "tunebot: Could not read the configuration of gone-function: it does not exist"
    )
    assert err.count("\n") == 1


def test_unknown_ids_and_missing_table_setting(
    aws: StateStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["apply", "rec-unknown", "--yes"]) == 1
    assert "Recommendation rec-unknown was not found or has expired" in capsys.readouterr().err
    assert main(["undo", "chg-unknown", "--yes"]) == 1
    assert capsys.readouterr().err == (
        "tunebot: There is no change chg-unknown; `tunebot audit` lists the changes.\n"
    )
    monkeypatch.delenv("TUNEBOT_TABLE")
    assert main(["audit"]) == 1
    assert capsys.readouterr().err.startswith("tunebot: TUNEBOT_TABLE is not set;")
    assert main(["store", "init"]) == 2
    assert capsys.readouterr().err == (
        "tunebot: TUNEBOT_TABLE is not set; set it or pass --table NAME.\n"
    )


def test_access_denied_is_one_sentence(
    aws: StateStore, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import ClientError

    original = StateStore._call

    def denied(self, operation, **kwargs):  # type: ignore[no-untyped-def]
        raise self._translate(
            ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
                "Query",
            )
        )

    monkeypatch.setattr(StateStore, "_call", denied)
    assert main(["audit"]) == 1
    assert capsys.readouterr().err == (
        "tunebot: Access denied: the credentials may not use the tunebot table "
        f"{TABLE} (not authorized).\n"
    )
    monkeypatch.setattr(StateStore, "_call", original)


def test_no_credentials_is_one_sentence(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    # No instance metadata lookups on this machine.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("TUNEBOT_TABLE", TABLE)
    assert main(["audit"]) == 1
    assert capsys.readouterr().err == (
        "tunebot: No AWS credentials found: configure a profile, environment variables or a "
        f"role before tunebot can use the tunebot table {TABLE}.\n"
    )


@pytest.fixture
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        # The server shares moto's in-process backends: leave them empty for other tests.
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        server.stop()


def test_end_to_end_through_aws_endpoint_url(moto_server: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": moto_server,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "TUNEBOT_TABLE": "tunebot-e2e",
        "TUNEBOT_IDEMPOTENCY_TABLE": "tunebot-e2e-idempotency",
    }

    def tunebot(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(TUNEBOT), *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    init = tunebot("store", "init")
    assert init.returncode == 0, init.stderr
    assert init.stdout == "tunebot-e2e: created\ntunebot-e2e-idempotency: created\n"
    assert tunebot("store", "init").stdout == (
        "tunebot-e2e: already exists\ntunebot-e2e-idempotency: already exists\n"
    )

    # Seed the server the way the bot would: a function and a stored recommendation.
    session = boto3.Session(region_name=REGION)
    lambda_client = session.client("lambda", endpoint_url=moto_server)
    iam = session.client("iam", endpoint_url=moto_server)
    role = iam.create_role(
        RoleName="e2e-role",
        AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}',
    )["Role"]["Arn"]
    from tests.aws.change_helpers import zip_bytes

    lambda_client.create_function(
        FunctionName="checkout-api",
        Runtime="python3.12",
        Role=role,
        Handler="app.handler",
        Code={"ZipFile": zip_bytes()},
        MemorySize=1024,
        Timeout=30,
    )
    store = StateStore("tunebot-e2e", session.client("dynamodb", endpoint_url=moto_server))
    rec = recommendation()
    store.put_recommendation(rec, snapshot())

    refused = tunebot("apply", rec.id)
    assert refused.returncode == 2
    assert "pass --yes" in refused.stderr

    applied = tunebot("apply", rec.id, "--yes")
    assert applied.returncode == 0, applied.stderr
    assert (
        lambda_client.get_function_configuration(FunctionName="checkout-api")["MemorySize"] == 512
    )
    again = tunebot("apply", rec.id, "--yes")
    assert again.returncode == 0
    assert "nothing changed this time" in again.stdout

    audit = json.loads(tunebot("audit", "--format", "json").stdout)["audit"]
    assert len(audit) == 1
    change_id = audit[0]["change_id"]
    undone = tunebot("undo", change_id, "--yes")
    assert undone.returncode == 0, undone.stderr
    assert (
        lambda_client.get_function_configuration(FunctionName="checkout-api")["MemorySize"] == 1024
    )
    audit = json.loads(tunebot("audit", "--format", "json").stdout)["audit"]
    assert [(a["action"], a["result"]) for a in audit] == [
        ("undo", "applied"),
        ("apply", "applied"),
    ]


def test_apply_warns_about_cloudformation_drift(
    aws: StateStore, capsys: pytest.CaptureFixture[str]
) -> None:
    rec = recommendation()
    aws.put_recommendation(rec, snapshot().model_copy(update={"cloudformation_stack": "shop"}))
    assert main(["apply", rec.id, "--yes"]) == 0
    assert (
        "  warning: checkout-api is managed by the CloudFormation stack shop; make the same "
        "change in its template or the next deployment reverts it.\n"
    ) in capsys.readouterr().out
