"""Size of tunebot's Lambda deployment package, its biggest contributors, and what leaving out
boto3 saves.

    .venv/bin/python benchmarks/package_size.py

Builds the package exactly as ``make package`` does (arm64 wheels for the Lambda Python
version) and, as the in-script baseline, the same package with boto3 and its dependencies
bundled, as a plain ``pip install -t`` of the project would. Prints figures and the ratio; it
asserts nothing about them.
"""

from __future__ import annotations

import importlib.metadata
import sys
import tempfile
import zipfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deploy import package

# Lambda's documented limits for a zip deployment package.
DIRECT_UPLOAD_LIMIT_MB = 50.0
UNZIPPED_LIMIT_MB = 250.0
# What the runtime already provides and a naive build would bundle anyway.
BOTO_STACK = ("boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six")
TOP = 12


def build_zip(requirements: Path, work: Path, name: str) -> Path:
    zip_path = work / f"{name}.zip"
    package.build(
        output_dir=None, zip_path=zip_path, requirements=requirements, cache_root=work / "deps"
    )
    return zip_path


def contributors(zip_path: Path) -> dict[str, tuple[int, int]]:
    """Top-level entry -> (compressed bytes, uncompressed bytes); dist-info folded in."""
    sizes: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            top = info.filename.split("/", 1)[0]
            if top.endswith(".dist-info"):
                top = top.rsplit("-", 1)[0].lower().replace("_", "-") + " (metadata)"
            sizes[top][0] += info.compress_size
            sizes[top][1] += info.file_size
    return {name: (pair[0], pair[1]) for name, pair in sizes.items()}


def totals(zip_path: Path) -> tuple[float, float]:
    with zipfile.ZipFile(zip_path) as archive:
        unzipped = sum(info.file_size for info in archive.infolist())
    return zip_path.stat().st_size / 1e6, unzipped / 1e6


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="tunebot-package-size-") as scratch:
        work = Path(scratch)
        lean = build_zip(package.REQUIREMENTS, work, "tunebot")
        naive_requirements = work / "requirements-with-boto3.txt"
        pins = [f"{name}=={importlib.metadata.version(name)}" for name in BOTO_STACK]
        naive_requirements.write_text(
            package.REQUIREMENTS.read_text(encoding="utf-8") + "\n".join(pins) + "\n",
            encoding="utf-8",
        )
        naive = build_zip(naive_requirements, work, "with-boto3")

        zipped, unzipped = totals(lean)
        naive_zipped, naive_unzipped = totals(naive)
        print(f"tunebot Lambda package (python{package.PYTHON_VERSION}, {package.PLATFORM})")
        print(
            f"  zipped    {zipped:6.2f} MB  (direct upload limit {DIRECT_UPLOAD_LIMIT_MB:.0f} MB)"
        )
        print(f"  unzipped  {unzipped:6.2f} MB  (limit {UNZIPPED_LIMIT_MB:.0f} MB)")
        print()
        print(f"top {TOP} contributors        zipped MB   unzipped MB   share of zip")
        ranked = sorted(contributors(lean).items(), key=lambda item: -item[1][0])
        for name, (compressed, size) in ranked[:TOP]:
            share = compressed / lean.stat().st_size
            print(f"  {name:<26} {compressed / 1e6:9.2f} {size / 1e6:13.2f} {share:13.1%}")
        print()
        print("baseline: the same package with boto3, botocore and their dependencies bundled")
        print(f"  zipped    {naive_zipped:6.2f} MB   unzipped {naive_unzipped:6.2f} MB")
        print(
            f"  ratio tunebot / baseline: zipped {zipped / naive_zipped:.2f}, "
            f"unzipped {unzipped / naive_unzipped:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
