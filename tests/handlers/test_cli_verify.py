"""``tunebot verify --simulate`` end to end: the JSON contract, the table, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from handlers.cli import main

IO_BOUND = {
    "cpu_ms": 20,
    "io_ms": 250,
    "memory_used_mb": 70,
    "init_ms": 400,
    "noise_cv": 0.1,
    "memory_mb": 1024,
    "supports_arm": False,
}


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(IO_BOUND))
    return path


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_json_document_has_the_documented_shape(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(
        capsys,
        ["verify", "--simulate", str(profile), "--from", "1024", "--to", "922,x86_64",
         "--invocations", "600", "--seed", "3", "--format", "json"],
    )  # fmt: skip
    assert document["verdict"] == "verified"
    for name in ("cost_per_invocation", "p50_ms", "p90_ms", "p99_ms", "error_rate"):
        metric = document["metrics"][name]
        assert {"before", "after", "change_pct", "ci_low_pct", "ci_high_pct"} <= set(metric)
    cost = document["metrics"]["cost_per_invocation"]
    assert cost["ci_low_pct"] <= cost["change_pct"] <= cost["ci_high_pct"] < 0
    assert document["to"] == {"memory_mb": 922, "architecture": "x86_64"}


def test_the_same_seed_gives_the_same_document(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["verify", "--simulate", str(profile), "--from", "1024", "--to", "1024",
            "--invocations", "400", "--seed", "5", "--format", "json"]  # fmt: skip
    first = _json(capsys, argv)
    assert first == _json(capsys, argv)
    assert first["verdict"] in {"no_effect", "inconclusive"}


def test_an_architecture_the_function_cannot_run_on_is_a_regression(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(
        capsys,
        ["verify", "--simulate", str(profile), "--from", "1024", "--to", "1024,arm64",
         "--invocations", "400", "--format", "json"],
    )  # fmt: skip
    assert document["verdict"] == "regression"
    assert "error_rate" in document["regressions"]


def test_too_few_invocations_is_inconclusive(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = _json(
        capsys,
        ["verify", "--simulate", str(profile), "--from", "1024", "--to", "512",
         "--invocations", "50", "--format", "json"],
    )  # fmt: skip
    assert (document["verdict"], document["reason"]) == ("inconclusive", "too_little_traffic")


def test_table_names_the_verdict_and_every_metric(
    profile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["verify", "--simulate", str(profile), "--from", "1024", "--to", "922",
            "--invocations", "400"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "verified" in out.splitlines()[0]
    for name in ("cost_per_invocation", "p99_ms", "oom_rate", "cold_start_rate"):
        assert name in out


def test_a_missing_profile_is_one_sentence_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.json"
    assert main(["verify", "--simulate", str(missing), "--from", "1024", "--to", "512"]) == 2
    err = capsys.readouterr().err
    assert "Cannot read profile" in err and "Traceback" not in err


@pytest.mark.parametrize("bad", ["lots", "64", "512,sparc", "512,"])
def test_a_bad_configuration_is_a_usage_error(
    profile: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["verify", "--simulate", str(profile), "--from", bad, "--to", "512"])
    assert exit_info.value.code == 2
    assert "--from" in capsys.readouterr().err
