"""Build tunebot's Lambda deployment package: its packages plus pinned dependencies.

``make package`` runs it to write ``build/tunebot-lambda.zip``; ``sam build`` runs it through
the ``build-<Function>`` Makefile targets (``BuildMethod: makefile``) to fill each function's
artifacts directory. Dependencies come from ``deploy/requirements-lambda.txt`` as arm64 wheels
for the Lambda Python version (``pip --platform manylinux2014_aarch64 --only-binary=:all:``),
so the package is the same on any build machine and never contains boto3 or botocore, which the
runtime provides. Only the standard library and pip are needed.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "deploy" / "requirements-lambda.txt"
# The code that runs in Lambda. sandbox/, fakes/, tests/, benchmarks/ and docs/ stay out.
SOURCE_PACKAGES = ("recommendations", "service", "aws", "bot", "charts", "handlers")
PYTHON_VERSION = "3.12"  # keep in step with Runtime in template.yaml
PLATFORM = "manylinux2014_aarch64"  # arm64, as Architectures in template.yaml
# Never shipped: compiled caches, console scripts pip writes for the build machine.
EXCLUDED_DIR_NAMES = frozenset({"__pycache__", "bin"})
EXCLUDED_SUFFIXES = (".pyc", ".pyo")
# Fixed timestamp so that the same inputs give the same zip, byte for byte.
ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)


class PackagingError(Exception):
    """The package could not be built; the message says why."""


def dependency_cache_key(requirements: Path, python_version: str, platform: str) -> str:
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{python_version}|{platform}".encode())
    return digest.hexdigest()[:16]


def install_dependencies(
    requirements: Path, cache_root: Path, python_version: str, platform: str
) -> Path:
    """Install the pinned wheels once per requirements content; later builds reuse them."""
    target = cache_root / dependency_cache_key(requirements, python_version, platform)
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--only-binary=:all:", "--implementation", "cp",
        "--platform", platform, "--python-version", python_version,
        "--target", str(target), "--requirement", str(requirements),
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(
            f"pip could not install {requirements.name} for {platform}/py{python_version}: "
            + (result.stderr.strip().splitlines() or ["no output"])[-1]
        )
    (target / ".complete").touch()
    return target


def _kept(path: Path, root: Path) -> bool:
    relative = path.relative_to(root)
    if any(part in EXCLUDED_DIR_NAMES for part in relative.parts):
        return False
    return path.is_file() and not path.name.endswith(EXCLUDED_SUFFIXES) and path.name != ".complete"


def package_files(dependencies: Path, repo_root: Path = REPO_ROOT) -> Iterator[tuple[Path, str]]:
    """(file on disk, path inside the package), dependencies first, then tunebot's code."""
    for path in sorted(dependencies.rglob("*")):
        if _kept(path, dependencies):
            yield path, path.relative_to(dependencies).as_posix()
    for package in SOURCE_PACKAGES:
        for path in sorted((repo_root / package).rglob("*")):
            if _kept(path, repo_root):
                yield path, path.relative_to(repo_root).as_posix()


def write_directory(files: list[tuple[Path, str]], output_dir: Path) -> None:
    output_dir.mkdir(parents=True, exist_ok=True)
    for source, name in files:
        destination = output_dir / name
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)


def write_zip(files: list[tuple[Path, str]], zip_path: Path) -> None:
    zip_path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for source, name in sorted(files, key=lambda item: item[1]):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, source.read_bytes(), compresslevel=9)


def build(
    *,
    output_dir: Path | None,
    zip_path: Path | None,
    requirements: Path = REQUIREMENTS,
    cache_root: Path = REPO_ROOT / "build" / "deps",
    python_version: str = PYTHON_VERSION,
    platform: str = PLATFORM,
) -> list[tuple[Path, str]]:
    dependencies = install_dependencies(requirements, cache_root, python_version, platform)
    files = list(package_files(dependencies))
    duplicates = sorted(name for name, count in Counter(n for _, n in files).items() if count > 1)
    if duplicates:
        raise PackagingError(f"a dependency clashes with tunebot's own files: {duplicates[0]}")
    if output_dir is not None:
        write_directory(files, output_dir)
    if zip_path is not None:
        write_zip(files, zip_path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output-dir", type=Path, help="also write the files here (sam build)")
    parser.add_argument("--zip", type=Path, help="write the deployment zip here")
    args = parser.parse_args(argv)
    if args.output_dir is None and args.zip is None:
        parser.error("give --output-dir, --zip or both")
    try:
        files = build(output_dir=args.output_dir, zip_path=args.zip)
    except PackagingError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    unzipped = sum(source.stat().st_size for source, _ in files)
    where = args.zip or args.output_dir
    print(f"package: {len(files)} files, {unzipped / 1e6:.1f} MB unzipped -> {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
