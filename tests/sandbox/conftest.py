"""A sandbox HTTP server on a free port with an empty demo workspace (no bot attached)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.app import DEMO_BOT_TOKEN, demo_workspace
from sandbox.server import SandboxServer, serve_in_thread
from sandbox.workspace import Workspace


@pytest.fixture
def workspace() -> Workspace:
    return demo_workspace()


@pytest.fixture
def server(workspace: Workspace) -> Iterator[SandboxServer]:
    running = SandboxServer(0, workspace, bot_token=DEMO_BOT_TOKEN)
    thread = serve_in_thread(running)
    yield running
    running.stop()
    thread.join(timeout=5)
