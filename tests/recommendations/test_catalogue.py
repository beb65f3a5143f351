"""docs/rules.md is generated from the rules; this fails when it is stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.catalogue import main
from recommendations.catalogue import CatalogueError, parse_rule_docstring, render_catalogue
from recommendations.recommendation import Category
from recommendations.rules import RULE_CLASSES
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.snapshot import FunctionSnapshot

DOCS = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_docs_rules_md_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == render_catalogue(RULE_CLASSES), (
        "docs/rules.md is stale: run `make docs`"
    )


def test_catalogue_lists_every_rule_with_its_sections() -> None:
    text = render_catalogue(RULE_CLASSES)
    for rule in RULE_CLASSES:
        assert f"## {rule.rule_id}: {rule.name}" in text
    assert text.count("### What it checks") == len(RULE_CLASSES)
    assert "- **IAM actions to apply:** `lambda:GetFunctionConfiguration`, " in text


class Sloppy(Rule):
    """Checks something.

    Why it matters:
    Out of order.

    What it checks:
    Too late.
    """

    rule_id = "TEST-009"
    name = "sloppy"
    category = Category.PACKAGE
    needs = ("runtime",)

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        return self.passed("")


def test_malformed_docstrings_are_rejected() -> None:
    with pytest.raises(CatalogueError, match="headings are"):
        parse_rule_docstring(Sloppy)


def test_the_command_writes_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "rules.md"
    assert main([str(target), "--check"]) == 1
    assert main([str(target)]) == 0
    assert main([str(target), "--check"]) == 0
    assert target.read_text(encoding="utf-8") == render_catalogue(RULE_CLASSES)
    assert "is stale; run `make docs`" in capsys.readouterr().err
