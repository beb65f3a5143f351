"""How fast the Slack entry point starts and acknowledges.

1. Cold import of ``handlers.slack`` in fresh interpreters, against the cold import of
   ``slack_bolt`` and ``boto3`` alone (the floor any Bolt-on-Lambda bot pays). Target: the
   ratio of medians is at most 1.3.
2. Acknowledgement latency of ``/tune <function>`` through ``handlers.slack.handler``
   in-process (signed Function URL event in, HTTP response out; the lazy work is queued, not
   run, as on Lambda where it is a separate invocation). Target: p99 at most 50 ms.
3. The ``/tune <function>`` card in the sandbox (``make demo``: embedded AWS, the real
   handlers): seconds from the slash command to the card, for the first analysis of a
   function and for a repeated one (served from the analysis of its revision). Targets: the
   first within 2.5 s, the repeated one within 0.5 s.

Run: ``.venv/bin/python benchmarks/slack.py [--runs 15] [--requests 500]``. Prints figures;
the exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IMPORT_TARGET_RATIO = 1.3
ACK_TARGET_P99_MS = 50.0
FIRST_CARD_TARGET_S = 2.5
REPEATED_CARD_TARGET_S = 0.5
CARD_FUNCTION = "checkout-api"
SIGNING_SECRET = "benchmark-signing-secret"


def _import_seconds(statement: str) -> float:
    """Seconds the import statement takes in a fresh interpreter (startup excluded)."""
    code = (
        "import time\n"
        "started = time.perf_counter()\n"
        f"{statement}\n"
        "print(time.perf_counter() - started)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "0"}
    output = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, env=env, cwd=ROOT
    )
    return float(output.stdout.strip().splitlines()[-1])


def cold_import(runs: int) -> tuple[float, float]:
    baseline: list[float] = []
    ours: list[float] = []
    # Warm the file cache and .pyc files first, then alternate so drift hits both equally.
    _import_seconds("import slack_bolt, boto3")
    _import_seconds("import handlers.slack")
    for _ in range(runs):
        baseline.append(_import_seconds("import slack_bolt, boto3"))
        ours.append(_import_seconds("import handlers.slack"))
    return statistics.median(baseline), statistics.median(ours)


_COLD_ACK = """
import os, time
from fakes.slack import function_url_event, running_fake_slack, slash_command_body

with running_fake_slack() as fake:
    os.environ.update(
        SLACK_BOT_TOKEN="xoxb-b",
        SLACK_SIGNING_SECRET="s",
        SLACK_API_URL=fake.api_url,
        TUNEBOT_TABLE="unused",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ACCESS_KEY_ID="benchmark",
        AWS_SECRET_ACCESS_KEY="benchmark",
    )
    body = slash_command_body(
        "checkout-api", user_id="U1", channel_id="C1", response_url=fake.response_url()
    )
    event = function_url_event(body, "s")
    started = time.perf_counter()
    import handlers.slack
    from slack_bolt.adapter.aws_lambda.lazy_listener_runner import LambdaLazyListenerRunner

    class StubbedSelfInvoke(LambdaLazyListenerRunner):
        # Bolt's runner, with its boto3 client created in the timed path as on Lambda and
        # its Invoke call answered by a Stubber instead of AWS.
        def start(self, function, request):
            import boto3
            from botocore.stub import Stubber

            self.lambda_client = boto3.client("lambda")
            stubber = Stubber(self.lambda_client)
            stubber.add_response("invoke", {"StatusCode": 202})
            with stubber:
                super().start(function, request)

    import logging

    handlers.slack.configure(lazy_runner=StubbedSelfInvoke(logging.getLogger("bench")))

    class Context:
        function_name = "tunebot-slack"
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:tunebot-slack"

    response = handlers.slack.handler(event, Context())
    elapsed = time.perf_counter() - started
    assert response["statusCode"] == 200, response
    print(elapsed)
"""


def cold_first_ack(runs: int) -> float:
    """Median seconds from ``import handlers.slack`` to the first /tune acknowledgement in a
    fresh interpreter: the real (deferred) wiring, and Bolt's self-invocation with its boto3
    Lambda client (the Invoke answered by a Stubber). What a cold Lambda start adds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("SLACK_SECRET_ARN", "TUNEBOT_POLICY"):
        env.pop(name, None)
    times = []
    for _ in range(runs):
        output = subprocess.run(
            [sys.executable, "-c", _COLD_ACK],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
        )
        times.append(float(output.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


def ack_latency(requests: int) -> tuple[float, list[float]]:
    """(first request ms, warm request latencies in ms)."""
    from fakes.services import InMemoryServices, memory_recommendation, snapshot
    from fakes.slack import function_url_event, running_fake_slack, slash_command_body
    from handlers import slack as slack_handler

    with running_fake_slack() as fake:
        os.environ.update(
            {
                "SLACK_BOT_TOKEN": "xoxb-benchmark",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": fake.api_url,
                "TUNEBOT_POLICY": json.dumps({"appliers": ["UALICE1"]}),
            }
        )
        fn = snapshot()
        services = InMemoryServices([fn])
        services.recommend(memory_recommendation(fn))
        runner = slack_handler.InProcessLazyRunner(deferred=True)
        slack_handler.configure(services=services, lazy_runner=runner)
        body = slash_command_body(
            "checkout-api", user_id="UALICE1", channel_id="C1", response_url=fake.response_url()
        )

        def one() -> float:
            event = function_url_event(body, SIGNING_SECRET)
            started = time.perf_counter()
            response = slack_handler.handler(event, None)
            elapsed = (time.perf_counter() - started) * 1000.0
            if response["statusCode"] != 200 or "Analysing" not in response["body"]:
                raise SystemExit(f"unexpected acknowledgement: {response}")
            runner.pending.clear()  # on Lambda the lazy part is another invocation
            return elapsed

        first = one()
        latencies = [one() for _ in range(requests)]
        slack_handler.configure()
    return first, latencies


def _card_seconds(sandbox: Any, function: str) -> float:
    """Seconds from ``/tune function`` to its card in the sandbox's channel."""
    from sandbox.people import ALICE, TUNEBOT_CHANNEL
    from sandbox.workspace import BOT_USER_ID

    def newest_card() -> object | None:
        for message in reversed(sandbox.workspace.messages):
            if message.user == BOT_USER_ID and message.ephemeral_to is None:
                header = next((b for b in message.blocks if b["type"] == "header"), None)
                if header and header["text"]["text"] == f"Tuning {function}":
                    return message
        return None

    before = newest_card()
    started = time.perf_counter()
    sandbox.server.bridge.slash_command(ALICE.id, TUNEBOT_CHANNEL.id, f"/tune {function}")
    while time.perf_counter() - started < 60:
        card = newest_card()
        if card is not None and card is not before:
            return time.perf_counter() - started
        time.sleep(0.01)
    raise RuntimeError(f"no /tune {function} card within 60 s")


def card_latency(function: str = CARD_FUNCTION) -> tuple[float, float]:
    """(first, repeated) seconds to the ``/tune`` card in a fresh sandbox."""
    from sandbox.app import Sandbox, SandboxOptions

    sandbox = Sandbox(SandboxOptions(functions=(function,)))
    sandbox.start()
    try:
        return _card_seconds(sandbox, function), _card_seconds(sandbox, function)
    finally:
        sandbox.stop()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters per import")
    parser.add_argument("--requests", type=int, default=500, help="warm /tune acknowledgements")
    args = parser.parse_args()

    baseline, ours = cold_import(args.runs)
    ratio = ours / baseline
    print(f"cold import, median of {args.runs} fresh interpreters")
    print(f"  slack_bolt + boto3 (baseline): {baseline * 1000:8.1f} ms")
    print(f"  handlers.slack               : {ours * 1000:8.1f} ms")
    print(f"  ratio                        : {ratio:8.2f}  (target <= {IMPORT_TARGET_RATIO})")

    cold = cold_first_ack(max(3, args.runs // 3))
    print("cold start, fresh interpreter: import handlers.slack + first /tune acknowledgement")
    print(f"  median                        : {cold * 1000:8.1f} ms  (Slack allows 3000)")

    first, latencies = ack_latency(args.requests)
    p50, p99 = percentile(latencies, 0.50), percentile(latencies, 0.99)
    print(f"/tune acknowledgement through handlers.slack.handler, {args.requests} requests")
    print(f"  first request (builds the app): {first:8.1f} ms")
    print(f"  p50                           : {p50:8.2f} ms")
    print(f"  p99                           : {p99:8.2f} ms  (target <= {ACK_TARGET_P99_MS:.0f})")
    print(f"  max                           : {max(latencies):8.2f} ms")

    first_card, repeated_card = card_latency()
    print(f"/tune {CARD_FUNCTION} card in the sandbox (make demo), slash command to card")
    print(
        f"  first analysis                : {first_card:8.2f} s   (target <= {FIRST_CARD_TARGET_S})"
    )
    print(
        f"  repeated (same revision)      : {repeated_card:8.2f} s   "
        f"(target <= {REPEATED_CARD_TARGET_S})"
    )

    missed = []
    if first_card > FIRST_CARD_TARGET_S:
        missed.append("first card")
    if repeated_card > REPEATED_CARD_TARGET_S:
        missed.append("repeated card")
    if ratio > IMPORT_TARGET_RATIO:
        missed.append("import ratio")
    if p99 > ACK_TARGET_P99_MS:
        missed.append("ack p99")
    print("targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
