"""What a deployed function can import: the standard library, tunebot's four packages, the
pinned dependencies in deploy/requirements-lambda.txt, and what the Lambda runtime provides."""

from __future__ import annotations

import importlib.metadata
import sys

from packaging.utils import canonicalize_name

from deploy import package

# The python3.12 Lambda runtime ships boto3 with its dependencies. The package leaves out the
# AWS SDK itself; small shared libraries (jmespath) may still be pinned for Powertools.
NOT_PACKAGED = frozenset({"boto3", "botocore", "s3transfer"})
RUNTIME_PROVIDED = NOT_PACKAGED | {"jmespath", "urllib3", "python-dateutil", "six"}
FIRST_PARTY = frozenset(package.SOURCE_PACKAGES)


def pinned() -> dict[str, str]:
    """Canonical distribution name -> pinned version, from deploy/requirements-lambda.txt."""
    pins: dict[str, str] = {}
    for line in package.REQUIREMENTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"{line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version
    return pins


def allowed_top_level_modules() -> frozenset[str]:
    allowed_distributions = set(pinned()) | RUNTIME_PROVIDED
    provided_by = importlib.metadata.packages_distributions()
    third_party = {
        top
        for top, distributions in provided_by.items()
        if any(canonicalize_name(d) in allowed_distributions for d in distributions)
    }
    return frozenset(sys.stdlib_module_names) | FIRST_PARTY | third_party
