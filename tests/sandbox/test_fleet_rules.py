"""The demo fleet gives every rule something to say, as docs/sandbox.md promises.

Each function is read and analysed exactly as ``/tune`` does it (``handlers.wiring``'s
services against the seeded embedded AWS). Rules that moto cannot feed are listed, with why,
in docs/sandbox.md ("What the embedded AWS cannot show").
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from recommendations.rules import default_rules
from sandbox.app import Sandbox, SandboxOptions
from sandbox.fleet import FLEET

# moto computes no percentiles (MEM-003), has no provisioned concurrency (CONC-002), and the
# sandbox seeds no 50 MiB package (PKG-001).
NOT_SHOWABLE = {"MEM-003", "CONC-002", "PKG-001"}

# What docs/sandbox.md's fleet table says each function shows.
DOCUMENTED = {
    "checkout-api": {"MEM-001", "ARCH-001"},
    "orders-consumer": {"BAT-001", "BAT-004", "TMO-004"},
    "email-sender": {"ASYNC-001", "ASYNC-002"},
    "report-generator": {"TMO-003"},
    "pdf-export": {"TMO-001"},
    "legacy-billing": {"RT-001", "TMO-002"},
    "thumbnail-native": {"COLD-001"},
    "search-indexer": {"BAT-002", "BAT-003"},
    "auth-authorizer": {"CONC-001"},
    "notifications-fanout": {"MEM-002"},
    "webhook-receiver": {"COLD-001"},
    "nightly-cleanup": set(),
}


@pytest.fixture(scope="module")
def found() -> Iterator[dict[str, set[str]]]:
    sandbox = Sandbox(SandboxOptions())
    sandbox.start()
    try:
        from handlers.wiring import build_services

        services = build_services(os.environ)

        def rules_of(name: str) -> set[str]:
            report = services.analyze_function(name).report
            return {rec.rule_id for rec in report.recommendations}

        # The first function alone creates the boto3 clients (creating them is not
        # thread-safe); the rest are independent and read side by side to keep this short.
        first, *others = [function.name for function in FLEET]
        results = {first: rules_of(first)}
        with ThreadPoolExecutor(max_workers=4) as pool:
            results.update(zip(others, pool.map(rules_of, others), strict=True))
        yield results
    finally:
        sandbox.stop()


def test_every_rule_the_embedded_aws_can_feed_fires_somewhere(found: dict[str, set[str]]) -> None:
    every_rule = {rule.rule_id for rule in default_rules()}
    fired = set().union(*found.values())
    assert every_rule - NOT_SHOWABLE - fired == set()


@pytest.mark.parametrize("function", sorted(DOCUMENTED))
def test_each_function_shows_what_the_docs_say(found: dict[str, set[str]], function: str) -> None:
    assert DOCUMENTED[function] <= found[function]
    if not DOCUMENTED[function]:
        assert found[function] == set()
