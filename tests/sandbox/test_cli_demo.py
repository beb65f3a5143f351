"""``tunebot demo``: bad options and a busy port get one sentence, never a traceback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from handlers.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_a_port_out_of_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--port", "70000"]) == 2
    assert capsys.readouterr().err == "tunebot: --port must be between 0 and 65535, not 70000.\n"


def test_a_busy_port_is_one_sentence_and_leaves_nothing_running(
    capsys: pytest.CaptureFixture[str],
) -> None:
    environment = dict(os.environ)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["demo", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.endswith(f"tunebot: Port {port} on 127.0.0.1 is in use; pick another with --port.\n")
    # The sandbox put back the environment it changed while starting.
    assert dict(os.environ) == environment


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_the_demo_serves_the_page_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers.cli", "demo", "--port", "0"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + 120
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("tunebot sandbox ready: open "):
                url = line.removeprefix("tunebot sandbox ready: open ").strip()
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as response:
            assert "<title>tunebot sandbox</title>" in response.read().decode()
        process.send_signal(stop_signal)
        assert process.wait(timeout=60) == 0
        assert process.stderr is not None
        assert process.stderr.read().splitlines()[-2:] == ["Stopping the sandbox…", "Stopped."]
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
