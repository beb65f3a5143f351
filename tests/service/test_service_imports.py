"""``service`` stays free of AWS and of the surfaces: it imports only ``recommendations``, itself
and libraries that do no I/O of their own, so its use cases run against fakes and ``aws``
implements its ports, never the other way round."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[2] / "service"

FORBIDDEN = frozenset({"aws", "bot", "handlers", "boto3", "botocore"})


def imported_modules(source: str) -> list[str]:
    """Every module ``source`` imports, absolute, at any depth (inside functions too)."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def forbidden_imports(source: str) -> list[str]:
    return [name for name in imported_modules(source) if name.split(".")[0] in FORBIDDEN]


def test_the_scan_sees_every_kind_of_import() -> None:
    source = (
        "import boto3\n"
        "from aws.store import StateStore\n"
        "def later():\n"
        "    import botocore.exceptions\n"
        "    from handlers import wiring\n"
        "from recommendations.changes import Change\n"
        "import awsome\n"
    )
    assert forbidden_imports(source) == ["boto3", "aws.store", "botocore.exceptions", "handlers"]


def test_no_service_module_imports_aws_the_surfaces_or_boto() -> None:
    modules = sorted(SERVICE.rglob("*.py"))
    assert modules, SERVICE
    offending = {
        str(path.relative_to(SERVICE.parent)): found
        for path in modules
        if (found := forbidden_imports(path.read_text(encoding="utf-8")))
    }
    assert offending == {}
