"""``tunebot tune`` end to end: simulated functions, the JSON contract, errors, the chart."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from moto import mock_aws

import aws.invokers.lambda_invoker as lambda_invoker
from aws.invokers.lambda_invoker import BenchmarkedFunction
from aws.invokers.simulator import SimulatorInvoker
from handlers.cli import main
from recommendations.snapshot import Architecture
from recommendations.tuning.profile import SimulationProfile

IO_BOUND = {
    "cpu_ms": 20,
    "io_ms": 250,
    "memory_used_mb": 70,
    "init_ms": 400,
    "noise_cv": 0.0,
    "memory_mb": 1024,
    "invocations_per_month": 1000000,
}


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(IO_BOUND))
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_adaptive_json_contract(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(
        capsys,
        [
            "tune",
            "api",
            "--simulate",
            str(profile),
            "--architectures",
            "x86_64,arm64",
            "--format",
            "json",
        ],
    )
    assert document["best"]["memory_mb"] == 128
    assert document["best"]["architecture"] == "arm64"
    assert isinstance(document["invocations"], int) and 0 < document["invocations"] <= 80
    assert document["tuning_cost_usd"] > 0
    assert {r["architecture"] for r in document["results"]} == {"x86_64", "arm64"}
    assert document["current"]["memory_mb"] == 1024
    assert document["monthly_savings_usd"] > 0
    rules = sorted(r["rule_id"] for r in document["recommendations"])
    assert rules == ["TUNE-ARCH", "TUNE-MEM"]


def test_grid_behaves_like_power_tuning(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = _json(
        capsys,
        [
            "tune",
            "api",
            "--simulate",
            str(profile),
            "--search",
            "grid",
            "--memory-values",
            "128,512,1024",
            "--num",
            "5",
            "--format",
            "json",
        ],
    )
    assert document["invocations"] == 15
    assert document["best"]["memory_mb"] == 128
    # Noise-free: the trimmed mean drops the cold start; 250 + 20 × 1769/128 ms, billed whole.
    assert document["best"]["duration_ms"] == 527
    assert [r["memory_mb"] for r in document["results"]] == [128, 512, 1024]


def test_table_output(profile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune", "api", "--simulate", str(profile), "--max-invocations", "12"]) == 0
    out = capsys.readouterr().out
    assert "adaptive search, lowest cost" in out
    assert "Best: " in out and "Spent: 12 invocations" in out
    assert "The run was stopped by a cap: the --max-invocations cap of 12 was reached." in out


def test_chart_is_a_png(profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from PIL import Image

    chart = tmp_path / "chart.png"
    assert main(["tune", "api", "--simulate", str(profile), "--chart", str(chart)]) == 0
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert chart.stat().st_size > 10_000
    with Image.open(chart) as image:
        assert image.size == (1200, 540)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--simulate", "missing.json"], "Cannot read profile missing.json"),
        (["--simulate", "PROFILE", "--in-place"], "--in-place benchmarks a real function"),
        (
            ["--simulate", "PROFILE", "--memory-values", "128"],
            "--memory-values is for --search grid",
        ),
        (["--simulate", "PROFILE", "--payload", "x.json"], "--payload has no effect"),
    ],
)
def test_user_errors_are_one_sentence(
    profile: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    argv = [str(profile) if part == "PROFILE" else part for part in argv]
    assert main(["tune", "api", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_invalid_profile_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({**IO_BOUND, "noise_cv": -1}))
    assert main(["tune", "api", "--simulate", str(path)]) == 2
    assert "noise_cv" in capsys.readouterr().err


def test_bad_option_values_exit_through_argparse(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        main(["tune", "api", "--balanced-weight", "2"])
    assert raised.value.code == 2
    assert "must be between 0 and 1" in capsys.readouterr().err


@mock_aws
def test_unknown_function_is_reported_plainly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune", "nope", "--region", "us-east-1"]) == 1
    err = capsys.readouterr().err
    assert "nope" in err and "Traceback" not in err


class _FakeBenchmark:
    """Stands in for a real function: the simulator behind LambdaBenchmark's interface."""

    closed = False
    asked: ClassVar[list[str]] = []
    payloads: Any = None

    def __init__(self, name: str, **options: Any) -> None:
        _FakeBenchmark.asked.append(name)
        _FakeBenchmark.payloads = options.get("payloads")
        # GetFunction on "orders:live" names the function "orders" and the ARN qualified.
        base = name.partition(":")[0]
        self.function = BenchmarkedFunction(
            name=base,
            arn=f"arn:aws:lambda:eu-west-1:111122223333:function:{name}",
            account_id="111122223333",
            region="eu-west-1",
            memory_mb=1024,
            architecture=Architecture.X86_64,
        )
        self._simulator = SimulatorInvoker(SimulationProfile.model_validate(IO_BOUND))

    def __enter__(self) -> _FakeBenchmark:
        return self

    def __exit__(self, *_: Any) -> None:
        _FakeBenchmark.closed = True

    def invoke(self, probes: Any) -> Any:
        return self._simulator.invoke(probes)


def test_real_path_uses_the_function_configuration(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _FakeBenchmark)
    document = _json(
        capsys, ["tune", "orders", "--format", "json", "--invocations-per-month", "500000"]
    )
    assert _FakeBenchmark.closed
    assert document["best"]["architecture"] == "x86_64"
    assert document["current"]["memory_mb"] == 1024
    (memory,) = document["recommendations"]
    assert memory["function_arn"] == "arn:aws:lambda:eu-west-1:111122223333:function:orders"
    assert memory["change"] == {
        "function_name": "orders",
        "kind": "memory",
        "before": 1024,
        "after": 128,
    }


@mock_aws
def test_real_path_prices_months_with_cloudwatch_traffic(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime, timedelta

    import boto3

    boto3.client("cloudwatch", region_name="eu-west-1").put_metric_data(
        Namespace="AWS/Lambda",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "FunctionName", "Value": "orders"}],
                "Timestamp": datetime.now(UTC) - timedelta(hours=2),
                "Value": 1400.0,
                "Unit": "Count",
            }
        ],
    )
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _FakeBenchmark)
    document = _json(capsys, ["tune", "orders", "--format", "json"])
    # 1400 invocations in 14 days, over a 30.42-day month.
    per_month = 1400 / 14 * 730 / 24
    assert document["best"]["monthly_cost_usd"] == pytest.approx(
        document["best"]["cost_per_invocation_usd"] * per_month
    )


def test_an_unwritable_chart_path_is_reported_before_invoking(
    profile: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    chart = tmp_path / "missing-folder" / "chart.png"
    assert main(["tune", "api", "--simulate", str(profile), "--chart", str(chart)]) == 2
    captured = capsys.readouterr()
    assert f"Cannot write the chart to {chart}" in captured.err
    assert captured.out == "" and not chart.exists()


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_draws_on_a_terminal_only() -> None:
    from handlers.cli_tune import Progress
    from recommendations.tuning.observation import Probe
    from recommendations.tuning.request import TuningRequest, TuningState

    state = TuningState(request=TuningRequest(function_name="api"))
    probes = [Probe(memory_mb=1024, architecture=Architecture.X86_64, count=6)]
    terminal = _Terminal()
    bar = Progress(terminal, expected=12)
    bar(state, probes)
    assert terminal.getvalue().startswith("\r[" + "." * 30 + "] 0 invocations; next 1024 MB x86_64")
    bar.close()
    assert terminal.getvalue().endswith("\r" + " " * 100 + "\r")

    pipe = io.StringIO()
    quiet = Progress(pipe, expected=12)
    quiet(state, probes)
    quiet.close()
    assert pipe.getvalue() == ""


def test_qualified_names_benchmark_that_version_and_change_the_function(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _FakeBenchmark)
    _FakeBenchmark.asked = []
    document = _json(
        capsys, ["tune", "orders:live", "--format", "json", "--invocations-per-month", "1000"]
    )
    assert _FakeBenchmark.asked == ["orders:live"]  # GetFunction reads the alias's code
    (memory,) = document["recommendations"]
    assert memory["function_arn"] == "arn:aws:lambda:eu-west-1:111122223333:function:orders"
    assert memory["change"]["function_name"] == "orders"


@pytest.mark.parametrize(
    "name", ["orders:live:extra", "orders:bad.alias", "arn:aws:lambda:eu-west-1:1:layer:x"]
)
def test_malformed_qualified_names_are_usage_errors(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["tune", name])
    assert stopped.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_in_place_refuses_a_qualified_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune", "orders:3", "--in-place"]) == 2
    err = capsys.readouterr().err
    assert "--in-place benchmarks $LATEST" in err and "Traceback" not in err


def test_weighted_payload_files_are_mixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(lambda_invoker, "LambdaBenchmark", _FakeBenchmark)
    (tmp_path / "a.json").write_text('{"size": "small"}')
    (tmp_path / "b.json").write_text('{"size": "large"}')
    _json(
        capsys,
        [
            "tune",
            "orders",
            "--format",
            "json",
            "--invocations-per-month",
            "1",
            "--payload",
            f"{tmp_path / 'a.json'}:3",
            "--payload",
            f"{tmp_path / 'b.json'}:1",
        ],
    )
    sent = [json.loads(_FakeBenchmark.payloads.next()) for _ in range(8)]
    assert sent.count({"size": "small"}) == 6 and sent.count({"size": "large"}) == 2


def test_a_bad_payload_weight_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["tune", "orders", "--payload", "a.json:0"])
    assert stopped.value.code == 2


def test_max_cost_json_names_the_cap_and_holds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hungry.json"
    path.write_text(
        json.dumps(
            {
                "cpu_ms": 1500,
                "io_ms": 50,
                "memory_used_mb": 900,
                "init_ms": 800,
                "noise_cv": 0.05,
                "memory_mb": 512,
                "timeout_s": 8,
            }
        )
    )
    assert (
        main(["tune", "etl", "--simulate", str(path), "--max-cost", "0.001", "--format", "json"])
        == 0
    )
    document = json.loads(capsys.readouterr().out)
    assert document["tuning_cost_usd"] <= 0.001
    assert document["stopped_by"] == "max_cost"
    assert any(r["failures"].get("out_of_memory") for r in document["results"])


def test_allowed_errors_are_measured_not_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flaky.json"
    path.write_text(json.dumps({**IO_BOUND, "error_rate": 0.3, "error_type": "ValidationError"}))
    strict = _json(capsys, ["tune", "api", "--simulate", str(path), "--format", "json"])
    allowed = _json(
        capsys,
        [
            "tune",
            "api",
            "--simulate",
            str(path),
            "--format",
            "json",
            "--allowed-errors",
            "ValidationError",
        ],
    )
    assert any(r["failures"].get("error: ValidationError") for r in strict["results"])
    assert not any(r["error"] for r in allowed["results"])
    assert any(r["failures"].get("allowed: ValidationError") for r in allowed["results"])
    assert allowed["best"] is not None
