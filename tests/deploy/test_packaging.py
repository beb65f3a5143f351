"""The Lambda package: pinned runtime dependencies without boto3, only tunebot's four packages,
the same bytes for the same inputs, and a build target for every function in the template."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from deploy import package
from tests.deploy.cfn import REPO_ROOT, functions, load_template
from tests.deploy.lambda_runtime import NOT_PACKAGED, allowed_top_level_modules, pinned


def _runtime_closure() -> set[str]:
    """pyproject's runtime dependencies and theirs, stopping at what the runtime provides."""
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pending = [Requirement(text) for text in pyproject["project"]["dependencies"]]
    seen: set[str] = set()
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in seen or name in NOT_PACKAGED:
            continue
        seen.add(name)
        extras = requirement.extras or {""}
        for text in importlib.metadata.requires(name) or []:
            dependency = Requirement(text)
            marker = dependency.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(dependency)
    return seen


def test_lambda_requirements_cover_every_runtime_dependency_but_boto3() -> None:
    pins = pinned()
    missing = sorted(_runtime_closure() - set(pins))
    assert not missing, f"add to {package.REQUIREMENTS.name}: {missing}"
    assert not NOT_PACKAGED & set(pins)


def test_lambda_pins_are_the_versions_the_tests_run_with() -> None:
    for name, version in pinned().items():
        assert importlib.metadata.version(name) == version, name


def test_package_matches_the_template_runtime_and_architecture() -> None:
    for fn in functions(load_template()).values():
        assert fn["Runtime"] == f"python{package.PYTHON_VERSION}"
        assert fn["Architectures"] == ["arm64"]
    assert package.PLATFORM.endswith("aarch64")


def test_makefile_has_a_sam_build_target_for_every_function() -> None:
    makefile = (REPO_ROOT / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"^LAMBDA_FUNCTIONS := ((?:.*\\\n)*.*)$", makefile, re.MULTILINE)
    assert listed
    names = set(listed.group(1).replace("\\\n", " ").split())
    assert names == set(functions(load_template()))


@pytest.fixture
def fake_dependencies(tmp_path: Path) -> Path:
    deps = tmp_path / "deps"
    (deps / "somelib").mkdir(parents=True)
    (deps / "somelib" / "__init__.py").write_text("VALUE = 1\n")
    (deps / "somelib" / "__pycache__").mkdir()
    (deps / "somelib" / "__pycache__" / "x.cpython-312.pyc").write_bytes(b"\0")
    (deps / "bin").mkdir()
    (deps / "bin" / "somelib-cli").write_text("#!/usr/bin/python\n")
    (deps / "somelib-1.0.dist-info").mkdir()
    (deps / "somelib-1.0.dist-info" / "METADATA").write_text("Name: somelib\n")
    (deps / ".complete").touch()
    return deps


def test_package_holds_dependencies_and_only_tunebots_four_packages(
    fake_dependencies: Path,
) -> None:
    names = [name for _, name in package.package_files(fake_dependencies)]
    assert "somelib/__init__.py" in names
    assert "somelib-1.0.dist-info/METADATA" in names
    assert "handlers/slack.py" in names
    assert "recommendations/engine.py" in names
    assert any(name.startswith("bot/templates/") and name.endswith(".j2") for name in names)
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {"somelib", "somelib-1.0.dist-info", *package.SOURCE_PACKAGES}
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [
        n for n in names if n.startswith(("bin/", "tests/", "sandbox/", "benchmarks/", "fakes/"))
    ]


def test_zip_is_byte_for_byte_reproducible(fake_dependencies: Path, tmp_path: Path) -> None:
    files = list(package.package_files(fake_dependencies))
    first, second = tmp_path / "a.zip", tmp_path / "b.zip"
    package.write_zip(files, first)
    package.write_zip(list(reversed(files)), second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.testzip() is None
        assert archive.read("somelib/__init__.py") == b"VALUE = 1\n"
        assert sorted(archive.namelist()) == archive.namelist()
        # The development-only packages (stand-ins, the sandbox, the tests) never ship.
        assert not [n for n in archive.namelist() if n.startswith(("fakes/", "sandbox/", "tests/"))]


def test_cache_key_changes_with_requirements_and_target(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("a==1\n")
    key = package.dependency_cache_key(requirements, "3.12", "manylinux2014_aarch64")
    assert key == package.dependency_cache_key(requirements, "3.12", "manylinux2014_aarch64")
    assert key != package.dependency_cache_key(requirements, "3.13", "manylinux2014_aarch64")
    requirements.write_text("a==2\n")
    assert key != package.dependency_cache_key(requirements, "3.12", "manylinux2014_aarch64")


def test_failed_pip_install_is_one_clear_error(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    # Malformed on purpose: pip rejects it before looking anything up.
    requirements.write_text("not a requirement ===\n")
    with pytest.raises(package.PackagingError, match=r"pip could not install requirements\.txt"):
        package.install_dependencies(requirements, tmp_path / "cache", "3.12", package.PLATFORM)
    assert not list((tmp_path / "cache").glob("*/.complete"))  # a failed install is not reused


def test_cli_requires_a_destination(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        package.main([])
    assert exit_info.value.code == 2
    assert "give --output-dir, --zip or both" in capsys.readouterr().err


def _imports(path: Path) -> set[str]:
    """Top-level modules a file imports, leaving out ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = {
        id(inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for inner in ast.walk(node)
    }
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_packaged_code_imports_only_what_the_package_or_runtime_has() -> None:
    """A runtime import of a dev-only library would fail in Lambda, not in the tests. The CLI
    modules (``handlers/cli*.py``) never run in Lambda and may use workstation extras."""
    allowed = allowed_top_level_modules()
    unknown: set[str] = set()
    for source_package in package.SOURCE_PACKAGES:
        for path in (REPO_ROOT / source_package).rglob("*.py"):
            if path.parent.name == "handlers" and path.name.startswith("cli"):
                continue
            unknown |= {
                f"{path.relative_to(REPO_ROOT)}: {name}" for name in _imports(path) - allowed
            }
    assert not sorted(unknown)


def test_import_scanner_ignores_type_checking_imports(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "from typing import TYPE_CHECKING\nimport json\nfrom slack_sdk import WebClient\n"
        "if TYPE_CHECKING:\n    from mypy_boto3_lambda import LambdaClient\n"
        "def later():\n    import matplotlib\n"
    )
    assert _imports(source) == {"typing", "json", "slack_sdk", "matplotlib"}
    assert "matplotlib" not in allowed_top_level_modules()
    assert {"boto3", "pydantic_core", "json", "handlers"} <= allowed_top_level_modules()
    assert sys.version_info >= (3, 11)
