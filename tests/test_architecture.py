"""The layering, enforced: which package may import which (docs/architecture.md draws it).

Every ``import`` and ``from … import`` in a package's modules is read with ``ast`` (also those
inside functions and ``if TYPE_CHECKING:`` blocks: a type-only back-arrow is still one). A new
back-arrow fails here with the file and line.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]

# First-party packages and what each may import besides itself and third-party libraries.
ALLOWED: dict[str, frozenset[str]] = {
    "recommendations": frozenset(),
    "service": frozenset({"recommendations"}),
    "aws": frozenset({"recommendations", "service"}),
    # charts/ draws a benchmark result: pure figures plus Pillow, no AWS and no Slack.
    "charts": frozenset({"recommendations"}),
    "bot": frozenset({"recommendations", "service", "charts"}),
    "handlers": frozenset({"recommendations", "service", "aws", "bot", "charts"}),
    "fakes": frozenset({"recommendations", "service", "aws", "bot", "charts", "handlers"}),
    "sandbox": frozenset(
        {"recommendations", "service", "aws", "bot", "charts", "handlers", "fakes"}
    ),
    # benchmarks/ measure the product as users meet it, the sandbox (`make demo`) included.
    "benchmarks": frozenset(
        {
            "recommendations",
            "service",
            "aws",
            "bot",
            "charts",
            "handlers",
            "fakes",
            "sandbox",
            "deploy",
        }
    ),
}
FIRST_PARTY = frozenset(ALLOWED) | {"tests", "deploy"}

# Third-party libraries a layer must not reach for: AWS SDK errors are translated in aws/, the
# service layer talks to neither AWS nor Slack, and recommendations/ does no I/O.
FORBIDDEN_LIBRARIES: dict[str, frozenset[str]] = {
    "recommendations": frozenset({"boto3", "botocore", "slack_sdk", "slack_bolt", "jinja2"}),
    "service": frozenset({"boto3", "botocore", "slack_sdk", "slack_bolt", "jinja2"}),
    "charts": frozenset({"boto3", "botocore", "slack_sdk", "slack_bolt", "jinja2"}),
    "bot": frozenset({"boto3", "botocore"}),
    "handlers": frozenset({"botocore"}),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) for every absolute import in the file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(package: str) -> list[str]:
    allowed = ALLOWED[package] | {package}
    forbidden = FORBIDDEN_LIBRARIES.get(package, frozenset())
    problems = []
    for path in sorted((REPO_ROOT / package).rglob("*.py")):
        for line, module in imported_modules(path):
            where = f"{path.relative_to(REPO_ROOT)}:{line}"
            if (module in FIRST_PARTY and module not in allowed) or module in forbidden:
                problems.append(f"{where} imports {module}")
    return problems


@pytest.mark.parametrize("package", sorted(p for p in ALLOWED if (REPO_ROOT / p).is_dir()))
def test_a_package_imports_only_the_layers_below_it(package: str) -> None:
    assert violations(package) == []


def test_a_back_arrow_is_reported(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from aws.store import StateStore\n", encoding="utf-8")
    assert imported_modules(module) == [(2, "aws")]
