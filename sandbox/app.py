"""The whole sandbox in one object: embedded AWS, seeded fleet, Slack stand-in, real handlers.

Start order matters: the environment the handlers read (``AWS_ENDPOINT_URL``,
``SLACK_API_URL``, ``TUNEBOT_*``) is set before any handler module builds its clients, and
the page's server is bound (so its URL is known) before the bot is configured with it.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws.errors import AwsError
from aws.invokers.simulator import SimulatorInvoker
from aws.session import AwsSession
from recommendations.snapshot import FunctionSnapshot
from sandbox.aws_events import duration_alarm_event, lambda_cost_anomaly_event
from sandbox.bridge import SlackBridge
from sandbox.embedded_aws import EmbeddedAws
from sandbox.fleet import FLEET, DemoFunction, by_name
from sandbox.lambda_context import LambdaContext
from sandbox.people import CHANNELS, TUNEBOT_CHANNEL, USERGROUPS, USERS, policy_json
from sandbox.seed import FleetSeeder
from sandbox.server import PageError, SandboxServer, serve_in_thread
from sandbox.workspace import BOT_NAME, BOT_USER_ID, JsonDict, Workspace

if TYPE_CHECKING:
    from sandbox.lazy_runner import ThreadedLazyRunner
    from service.tunebot import Tunebot

logger = logging.getLogger(__name__)

# Not secrets: they only exist inside this process and sign requests to ourselves.
DEMO_BOT_TOKEN = "xoxb-sandbox-0000000000-tunebot"
DEMO_SIGNING_SECRET = "sandbox-signing-secret-not-for-production"
TABLE_NAME = "tunebot-sandbox"
IDEMPOTENCY_TABLE_NAME = "tunebot-sandbox-idempotency"

# Credentials that must not leak into the sandbox: removed while it runs, restored after.
_AWS_CREDENTIAL_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


class SandboxBenchmarkError(AwsError):
    """A benchmark the sandbox cannot simulate (the function is not one of the demo fleet)."""


@dataclass(frozen=True)
class SandboxOptions:
    port: int = 0
    seed: int = 7
    # Seeding 14 days of metrics and logs takes a few seconds; tests may seed a subset.
    functions: tuple[str, ...] | None = None


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in (*values, *_AWS_CREDENTIAL_VARIABLES)}
    for name in _AWS_CREDENTIAL_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def posted_message(what: str, result: object) -> JsonDict:
    """What the page says after an alert handler ran: posted, or why not."""
    outcomes = result.get("results", []) if isinstance(result, dict) else []
    if any(isinstance(item, dict) and item.get("ts") for item in outcomes):
        return {"message": f"tunebot posted the {what}."}
    reasons = "; ".join(
        str(item.get("reason") or item.get("outcome"))
        for item in outcomes
        if isinstance(item, dict)
    )
    raise PageError(f"tunebot did not post the {what}: {reasons or 'it returned no result'}.")


def demo_workspace() -> Workspace:
    return Workspace(users=USERS, channels=CHANNELS, usergroups=dict(USERGROUPS))


class Sandbox:
    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self.aws = EmbeddedAws()
        self.workspace = demo_workspace()
        self.server: SandboxServer | None = None
        # Undoes the environment changes when the sandbox stops.
        self._restore = ExitStack()
        self._thread: threading.Thread | None = None
        self._lazy_runner: ThreadedLazyRunner | None = None
        self._handlers_configured = False
        # What the bot uses (set by start): tests analyse through it as /tune does.
        self.services: Tunebot | None = None

    @property
    def url(self) -> str:
        if self.server is None:
            raise RuntimeError("the sandbox is not running")
        return self.server.url

    def fleet(self) -> tuple[DemoFunction, ...]:
        if self.options.functions is None:
            return FLEET
        return tuple(by_name(name) for name in self.options.functions)

    def environment(self, page_url: str) -> dict[str, str]:
        return {
            **self.aws.environment(),
            "SLACK_BOT_TOKEN": DEMO_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": DEMO_SIGNING_SECRET,
            "SLACK_API_URL": f"{page_url}/api/",
            "TUNEBOT_TABLE": TABLE_NAME,
            "TUNEBOT_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE_NAME,
            "TUNEBOT_DEFAULT_CHANNEL": TUNEBOT_CHANNEL.id,
            "TUNEBOT_POLICY": policy_json(),
            "TUNEBOT_APPLY_MODE": "approve",
            "TUNEBOT_MANAGED_TAG": "tunebot:managed=true",
            "TUNEBOT_BENCHMARK_PREFIX": "tunebot-bench-",
            "POWERTOOLS_SERVICE_NAME": "tunebot-sandbox",
            "POWERTOOLS_METRICS_NAMESPACE": "tunebot-sandbox",
            # The handlers' JSON logs and metrics are for CloudWatch; the demo's terminal shows
            # warnings only.
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }

    def start(self) -> str:
        """Start everything; returns the page's URL. Stops what it started if a step fails."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self.url

    def _start(self) -> None:
        self.aws.start()
        self.server = SandboxServer(self.options.port, self.workspace, bot_token=DEMO_BOT_TOKEN)
        self._restore.enter_context(_environment(self.environment(self.server.url)))

        from aws.store_tables import create_tables

        create_tables(TABLE_NAME, IDEMPOTENCY_TABLE_NAME, client=self.aws.client("dynamodb"))
        seeder = FleetSeeder(
            {
                name: self.aws.client(name)
                for name in ("iam", "lambda", "sqs", "kinesis", "cloudwatch", "logs", "s3")
            },
            now=datetime.now(UTC),
            seed=self.options.seed,
        )
        seeder.seed(self.fleet())

        import handlers.alerting
        import handlers.slack
        from handlers.compose import build_services
        from sandbox.lazy_runner import ThreadedLazyRunner

        # Both handlers cache what they built from the environment; rebuild from ours.
        self._lazy_runner = ThreadedLazyRunner()
        # moto's Code.Location names a host that does not exist: the package scan reads the
        # code moto holds instead (the real zip, ELF headers and all).
        session = AwsSession(code_fetcher=self.aws.fetch_code)
        services = build_services(
            os.environ, session=session, invoker_factory=self.simulated_invoker
        )
        self.services = services
        handlers.slack.configure(services=services, lazy_runner=self._lazy_runner)
        handlers.alerting.configure(None)
        self._handlers_configured = True
        self.server.bridge = SlackBridge(
            self.workspace,
            signing_secret=DEMO_SIGNING_SECRET,
            public_url=self.server.url,
            slack_handler=handlers.slack.handler,
        )
        self.server.page_actions = {"alarm": self.fire_alarm, "cost-anomaly": self.fire_anomaly}
        self.server.info = self.page_info()
        self._thread = serve_in_thread(self.server)

    def page_info(self) -> JsonDict:
        names = [function.name for function in self.fleet()]
        return {
            "users": [
                {"id": u.id, "name": u.name, "real_name": u.real_name, "role": u.role}
                for u in self.workspace.users
            ],
            "channels": [
                {"id": c.id, "name": c.name, "topic": c.topic} for c in self.workspace.channels
            ],
            "bot": {"user_id": BOT_USER_ID, "name": BOT_NAME},
            "command_hints": [f"/tune {name}" for name in names] + ["/tune help"],
            "alert_functions": names,
            "aws_note": f"Embedded AWS (moto) at {self.aws.endpoint}, account 123456789012.",
        }

    def simulated_invoker(self, function: FunctionSnapshot) -> SimulatorInvoker:
        """Benchmarks run on the simulator, with the profile the function's traffic came from.

        The profile describes the code; memory, timeout and architecture are read from the
        function as it is now, so a benchmark after an applied change starts from there.
        """
        try:
            demo = by_name(function.name)
        except KeyError:
            raise SandboxBenchmarkError(
                f"The sandbox can only benchmark its demo functions; {function.name} is not one."
            ) from None
        profile = demo.profile.model_copy(
            update={
                "memory_mb": function.memory_mb,
                "timeout_s": function.timeout_s,
                "architecture": function.architecture,
            }
        )
        return SimulatorInvoker(profile, seed=self.options.seed)

    # -- alerts through the real handlers -----------------------------------------------

    def _function_from(self, payload: JsonDict) -> DemoFunction:
        name = payload.get("function")
        if not isinstance(name, str) or name not in {f.name for f in self.fleet()}:
            raise PageError("Pick one of the demo functions first.")
        return by_name(name)

    def fire_alarm(self, payload: JsonDict) -> JsonDict:
        import handlers.alarm

        function = self._function_from(payload)
        what = f"CloudWatch alarm for {function.name}"
        event = duration_alarm_event(function, datetime.now(UTC))
        result = handlers.alarm.handler(event, LambdaContext("tunebot-alarm"))
        return posted_message(what, result)

    def fire_anomaly(self, payload: JsonDict) -> JsonDict:
        import handlers.cost_anomaly

        event = lambda_cost_anomaly_event(datetime.now(UTC))
        result = handlers.cost_anomaly.handler(event, LambdaContext("tunebot-cost-anomaly"))
        return posted_message("Cost Anomaly on AWS Lambda", result)

    # -- stopping -------------------------------------------------------------------------

    def stop(self) -> None:
        if self._lazy_runner is not None:
            self._lazy_runner.wait(timeout_s=10)
            self._lazy_runner = None
        if self.server is not None:
            if self._thread is not None:
                self.server.stop()
                self._thread.join(timeout=5)
            else:
                self.server.server_close()
            self.server = None
        if self._handlers_configured:
            import handlers.alerting
            import handlers.slack

            # Leave nothing that points at servers that are about to stop.
            handlers.slack.configure()
            handlers.alerting.configure(None)
            self._handlers_configured = False
            self.services = None
        self.aws.stop()
        self._restore.close()
