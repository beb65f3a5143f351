"""Lazy listeners as Lambda runs them: the event re-sent to the handler, later, on its own thread.

The deployed bot re-invokes itself asynchronously (``lambda:InvokeFunction``) with Bolt's
lazy-only headers; ``handlers.slack.InProcessLazyRunner`` builds exactly that event, and this
runner hands it to ``handlers.slack.handler`` on a thread so the acknowledgement returns first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from slack_bolt.request import BoltRequest

from handlers.slack import InProcessLazyRunner, handler
from sandbox.lambda_context import LambdaContext

SLACK_FUNCTION_NAME = "tunebot-slack"


class ThreadedLazyRunner(InProcessLazyRunner):
    def __init__(self) -> None:
        super().__init__(deferred=True)
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def start(self, function: Callable[..., None], request: BoltRequest) -> None:
        super().start(function, request)
        with self._lock:
            event = self.pending.pop()
            context = LambdaContext(function_name=SLACK_FUNCTION_NAME, timeout_s=900)
            thread = threading.Thread(
                target=self._run, args=(event, context), name="lazy-listener", daemon=True
            )
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    @staticmethod
    def _run(event: dict[str, Any], context: LambdaContext) -> None:
        handler(event, context)

    def wait(self, timeout_s: float) -> None:
        """Wait for lazy listeners started so far (used when stopping)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=timeout_s)
