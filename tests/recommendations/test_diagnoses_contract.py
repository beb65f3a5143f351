"""Every diagnosis keeps the catalogue's contract: stable ids, docstring shape, real field names,
one diagnosis per cause, metrics the alarm card knows, and docs/alerts.md in sync."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handlers.catalogue import main
from recommendations.alerts import RELEVANT_CATEGORIES, AlarmSignal, diagnose_alarm
from recommendations.catalogue import CatalogueError, parse_rule_docstring
from recommendations.diagnoses import DIAGNOSIS_CLASSES, default_diagnoses
from recommendations.diagnoses.base import CauseKind, Diagnosis
from recommendations.diagnoses.catalogue import END_MARKER, START_MARKER, with_diagnoses
from recommendations.recommendation import Category
from recommendations.snapshot import EventSourceMapping, FunctionSnapshot, FunctionStats
from tests.recommendations.test_rules_contract import _has

ALERTS_PAGE = Path(__file__).resolve().parents[2] / "docs" / "alerts.md"
NESTED = {"stats": FunctionStats, "event_source_mappings[]": EventSourceMapping}


def test_ids_are_unique_well_formed_and_in_catalogue_order() -> None:
    ids = [cls.diagnosis_id for cls in DIAGNOSIS_CLASSES]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"DX-\d{3}", diagnosis_id) for diagnosis_id in ids)
    assert ids == sorted(ids)


def test_every_cause_kind_has_exactly_one_diagnosis() -> None:
    kinds = [cls.kind for cls in DIAGNOSIS_CLASSES]
    assert sorted(kinds) == sorted(CauseKind)


@pytest.mark.parametrize("cls", DIAGNOSIS_CLASSES, ids=lambda cls: cls.diagnosis_id)
def test_diagnosis_metadata(cls: type[Diagnosis]) -> None:
    doc = parse_rule_docstring(cls)  # raises on a malformed docstring
    assert doc.summary.endswith(".")
    assert cls.name and cls.metrics and cls.needs
    for field in cls.needs:
        head, _, tail = field.rpartition(".")
        model = NESTED[head] if head else FunctionSnapshot
        assert _has(model, tail), f"{cls.diagnosis_id} needs unknown field {field}"
    # The card picks the recommendations that address an alarm by its metric.
    assert all(metric in RELEVANT_CATEGORIES for metric in cls.metrics)
    # ...and leads with those addressing the diagnosed cause: each diagnosis names the change
    # categories that fix its cause itself (an inherited list would be a guess).
    assert "addressed_by" in vars(cls), f"{cls.diagnosis_id} declares no addressed_by"
    assert cls.addressed_by, f"{cls.diagnosis_id} names no change category that fixes it"
    assert all(isinstance(category, Category) for category in cls.addressed_by)
    assert len(set(cls.addressed_by)) == len(cls.addressed_by)


@pytest.mark.parametrize("diagnosis", default_diagnoses(), ids=lambda d: d.diagnosis_id)
def test_without_data_a_diagnosis_names_no_cause_it_cannot_see(diagnosis: Diagnosis) -> None:
    # A function tunebot read nothing about: no statistics, no triggers, no reservation
    # known. Only the account-wide limit is left as a cause of throttling.
    fn = FunctionSnapshot(
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        account_id="123456789012",
        region="us-east-1",
        memory_mb=2048,
        timeout_s=30,
    )
    signal = AlarmSignal(metric_names=diagnosis.metrics)
    cause = diagnosis.examine(fn, signal, ())
    if diagnosis.kind is CauseKind.ACCOUNT_CONCURRENCY:
        assert cause is not None and cause.evidence == ()
    else:
        assert cause is None


def test_an_alarm_runs_only_the_diagnoses_of_its_metrics() -> None:
    fn = FunctionSnapshot(
        name="fn",
        arn="arn:aws:lambda:us-east-1:123456789012:function:fn",
        account_id="123456789012",
        region="us-east-1",
        memory_mb=512,
        timeout_s=1,
        reserved_concurrency=0,
        stats=FunctionStats(window_days=14, timeouts=3, log_sample_invocations=100),
    )
    errors = diagnose_alarm(fn, AlarmSignal(metric_names=("Errors",)))
    assert [cause.kind for cause in errors.causes] == [CauseKind.TIMEOUTS]
    throttles = diagnose_alarm(fn, AlarmSignal(metric_names=("Throttles",)))
    assert [cause.kind for cause in throttles.causes] == [CauseKind.RESERVED_CONCURRENCY]


def test_docs_alerts_md_lists_every_diagnosis() -> None:
    page = ALERTS_PAGE.read_text(encoding="utf-8")
    assert with_diagnoses(page, DIAGNOSIS_CLASSES) == page, "docs/alerts.md is stale: make docs"
    for cls in DIAGNOSIS_CLASSES:
        assert f"#### {cls.diagnosis_id}: {cls.name}" in page
        fixed_by = ", ".join(f"`{category.value}`" for category in cls.addressed_by)
        assert f"*Fixed by changes to.* {fixed_by}" in page


def test_the_command_regenerates_the_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "alerts.md"
    page.write_text(
        f"# Alerts\n\n{START_MARKER}\nstale text\n{END_MARKER}\n\nmore\n", encoding="utf-8"
    )
    assert main(["--diagnoses", str(page), "--check"]) == 1
    assert main(["--diagnoses", str(page)]) == 0
    assert main(["--diagnoses", str(page), "--check"]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Alerts\n\n") and text.endswith("\n\nmore\n")
    assert "stale text" not in text and "#### DX-001: Near the timeout" in text
    page.write_text("# Alerts without a section\n", encoding="utf-8")
    assert main(["--diagnoses", str(page)]) == 2
    assert "has no diagnoses section" in capsys.readouterr().err
    with pytest.raises(CatalogueError):
        with_diagnoses("no markers", DIAGNOSIS_CLASSES)
