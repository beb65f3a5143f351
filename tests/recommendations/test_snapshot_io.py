"""Snapshot parsing: field paths in errors, and a round trip of the example fleet."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recommendations.errors import SnapshotError
from recommendations.snapshot_io import dump_fleet_snapshot, field_path, parse_fleet_snapshot

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fleet.json"


def example() -> dict[str, object]:
    data: dict[str, object] = json.loads(EXAMPLE.read_text())
    return data


def error_for(data: object) -> str:
    with pytest.raises(SnapshotError) as caught:
        parse_fleet_snapshot(json.dumps(data), "fleet.json")
    return str(caught.value)


def test_field_paths() -> None:
    assert field_path(("functions", 3, "memory_mb")) == "functions[3].memory_mb"
    assert field_path(("functions", 0, "layers", 1, "arn")) == "functions[0].layers[1].arn"
    assert field_path(()) == "(top level)"


def test_schema_error_names_the_file_and_the_field() -> None:
    data = example()
    data["functions"][3]["memory_mb"] = 64  # type: ignore[index]
    assert error_for(data) == (
        "fleet.json: functions[3].memory_mb: input should be greater than or equal to 128 (got 64)."
    )


def test_missing_and_unknown_fields() -> None:
    data = example()
    del data["functions"][0]["timeout_s"]  # type: ignore[attr-defined]
    assert error_for(data) == "fleet.json: functions[0].timeout_s is missing."
    data = example()
    data["functions"][1]["stats"]["memry"] = 1  # type: ignore[index]
    assert error_for(data) == "fleet.json: functions[1].stats.memry is not a snapshot field."


def test_several_problems_are_counted() -> None:
    data = example()
    data["functions"][0]["memory_mb"] = "lots"  # type: ignore[index]
    data["functions"][2]["timeout_s"] = 0  # type: ignore[index]
    assert error_for(data).endswith(", and 1 more problem.")


def test_invalid_json_and_wrong_top_level() -> None:
    with pytest.raises(
        SnapshotError, match=r"^fleet.json is not valid JSON: .* at line 1 column 2\.$"
    ):
        parse_fleet_snapshot("{oops", "fleet.json")
    assert error_for([1, 2]) == (
        "fleet.json must hold a JSON object with a 'functions' list, not an array."
    )


def test_window_must_be_ordered() -> None:
    data = example()
    data["window_end"] = data["window_start"]
    assert error_for(data) == "fleet.json: (top level): window_end must be after window_start."


def test_round_trip_of_the_example() -> None:
    fleet = parse_fleet_snapshot(EXAMPLE.read_text(), "fleet.json")
    assert parse_fleet_snapshot(dump_fleet_snapshot(fleet)) == fleet


def test_the_documented_example_is_valid() -> None:
    text = (EXAMPLE.parents[1] / "docs" / "snapshot.md").read_text()
    block = text.split("```json\n", 1)[1].split("```", 1)[0]
    fleet = parse_fleet_snapshot(block, "docs/snapshot.md")
    assert [fn.name for fn in fleet.functions] == ["orders-consumer"]
    assert fleet.errors == {
        "legacy-billing": "AccessDenied: not authorised to perform lambda:GetFunction"
    }


def test_an_infinite_figure_is_refused_with_its_field() -> None:
    # JSON as Python writes it allows Infinity; priced, it became NaN in `--format json`.
    data = example()
    data["functions"][0]["stats"]["duration_p99_ms"] = float("inf")  # type: ignore[index]
    assert error_for(data) == (
        "fleet.json: functions[0].stats.duration_p99_ms: input should be a finite number "
        "(got Infinity)."
    )


def test_snapshots_without_per_qualifier_provisioned_concurrency_still_load() -> None:
    """Files written before ``provisioned_concurrency_configs`` carry a total and a qualifier;
    they load as that qualifier's, and a new file round-trips with both."""
    data = example()
    functions = data["functions"]
    assert isinstance(functions, list)
    legacy = next(fn for fn in functions if fn.get("provisioned_concurrency"))
    assert "provisioned_concurrency_configs" not in legacy
    fleet = parse_fleet_snapshot(json.dumps(data), "fleet.json")
    loaded = next(fn for fn in fleet.functions if fn.name == legacy["name"])
    [config] = loaded.provisioned_concurrency_configs or ()
    total = legacy["provisioned_concurrency"]
    assert (config.qualifier, config.requested, config.allocated) == (
        legacy["provisioned_concurrency_qualifier"],
        total,
        total,
    )
    again = parse_fleet_snapshot(dump_fleet_snapshot(fleet), "again.json")
    assert again == fleet


def test_configs_and_a_total_that_disagree_are_refused() -> None:
    data = example()
    functions = data["functions"]
    assert isinstance(functions, list)
    functions[0]["provisioned_concurrency"] = 7
    functions[0]["provisioned_concurrency_configs"] = [{"qualifier": "live", "requested": 5}]
    assert "add up to 5" in error_for(data)
