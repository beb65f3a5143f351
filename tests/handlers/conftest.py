"""Handler tests read the metrics a handler prints; start each from an empty metric set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_metrics_left_over() -> Iterator[None]:
    # Powertools keeps one metric set per namespace for the process: an earlier test (the
    # sandbox runs the real handlers in threads) may leave values that the next flush prints.
    from aws_lambda_powertools import Metrics

    Metrics(namespace="Tunebot").clear_metrics()
    yield
