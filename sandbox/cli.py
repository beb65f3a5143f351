"""``tunebot demo``: the local sandbox (embedded AWS, Slack stand-in page, the real handlers).

The sandbox adds this subcommand to the CLI through the ``tunebot.commands`` entry point
(pyproject.toml), so ``handlers`` never imports the sandbox.
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from types import FrameType
from typing import Any

from handlers.cli import CliError


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo",
        help="run tunebot locally: an embedded AWS with a demo fleet and a Slack stand-in page",
        description=(
            "Start the local sandbox on 127.0.0.1: moto as the AWS account (seeded with 15 demo "
            "functions and 14 days of metrics and logs), the real Slack, alarm and cost-anomaly "
            "handlers, and a web page standing in for Slack. Stop it with Ctrl-C."
        ),
    )
    parser.add_argument(
        "--port",
        type=int,
        default=8000,
        help="port of the page on 127.0.0.1 (default 8000; 0 picks a free one)",
    )
    parser.add_argument(
        "--seed", type=int, default=7, help="seed for the demo fleet's traffic (default 7)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise CliError(f"--port must be between 0 and 65535, not {args.port}.")
    from sandbox.app import Sandbox, SandboxOptions

    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop_requested.set()

    sandbox = Sandbox(SandboxOptions(port=args.port, seed=args.seed))
    print("Starting the tunebot sandbox (embedded AWS, demo fleet, Slack stand-in)…", flush=True)
    try:
        url = sandbox.start()
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise CliError(
                f"Port {args.port} on 127.0.0.1 is in use; pick another with --port."
            ) from error
        raise
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        print(f"tunebot sandbox ready: open {url}", flush=True)
        print("Try /tune thumbnail-native, then Apply. Press Ctrl-C to stop.", flush=True)
        while not stop_requested.wait(timeout=0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        print("Stopping the sandbox…", file=sys.stderr, flush=True)
        sandbox.stop()
    print("Stopped.", file=sys.stderr, flush=True)
    return 0
