"""Importing an alert handler is cheap: the heavy parts load with the first event."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("boto3", "slack_sdk", "jinja2", "aws_xray_sdk", "recommendations.engine")


@pytest.mark.parametrize("module", ["handlers.alarm", "handlers.cost_anomaly", "handlers.digest"])
def test_import_loads_nothing_heavy(module: str) -> None:
    code = (
        f"import sys, {module}\nprint(','.join(name for name in {HEAVY!r} if name in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == ""
