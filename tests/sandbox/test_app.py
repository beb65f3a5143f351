"""Small pieces of the sandbox's orchestration: alert outcomes, page actions that fail."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from sandbox.app import posted_message
from sandbox.server import PageError, SandboxServer


def test_a_posted_alert_is_reported_as_posted() -> None:
    result = {"results": [{"outcome": "posted", "channel": "C0TUNEBOT01", "ts": "1.2"}]}
    assert posted_message("CloudWatch alarm for x", result) == {
        "message": "tunebot posted the CloudWatch alarm for x."
    }


def test_an_alert_that_was_not_posted_says_why() -> None:
    result = {"results": [{"outcome": "skipped", "reason": "not a Lambda metric"}]}
    with pytest.raises(PageError) as raised:
        posted_message("CloudWatch alarm for x", result)
    assert (
        str(raised.value) == "tunebot did not post the CloudWatch alarm for x: not a Lambda metric."
    )
    with pytest.raises(PageError, match=r"it returned no result\.$"):
        posted_message("Cost Anomaly", None)


def test_a_page_action_that_raises_is_a_500_with_one_sentence(server: SandboxServer) -> None:
    def broken(payload: object) -> dict[str, str]:
        raise RuntimeError("boom")

    server.page_actions = {"alarm": broken}
    request = urllib.request.Request(
        f"{server.url}/sandbox/alarm",
        data=b"{}",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=5)
    assert raised.value.code == 500
    assert json.load(raised.value) == {
        "error": "The handler failed; the terminal running tunebot demo has the details."
    }
