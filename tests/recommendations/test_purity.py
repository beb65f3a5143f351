"""``recommendations/`` is pure: it imports only the standard library, pydantic and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "recommendations"
ALLOWED_THIRD_PARTY = {"pydantic", "pydantic_core", "typing_extensions"}
FORBIDDEN_CALLS = {("os", "getenv"), ("os", "environ")}


def _imported_roots(tree: ast.AST) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


def test_recommendations_imports_only_stdlib_and_pydantic() -> None:
    offenders: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        roots = _imported_roots(ast.parse(path.read_text(), filename=str(path)))
        bad = {
            root
            for root in roots
            if root not in sys.stdlib_module_names
            and root not in ALLOWED_THIRD_PARTY
            and root != "recommendations"
        }
        if bad:
            offenders[str(path.relative_to(PACKAGE.parent))] = bad
    assert offenders == {}


def test_recommendations_reads_no_environment() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, path


def test_the_check_catches_a_forbidden_import() -> None:
    tree = ast.parse("import boto3\nfrom slack_sdk import WebClient\nimport json\n")
    roots = _imported_roots(tree)
    assert {"boto3", "slack_sdk"} <= roots
    assert "json" in sys.stdlib_module_names
