"""What the alert handlers share: the runtime built once per container, routing, analysis,
Powertools idempotency, and the rules for which failures are retried.

Importing this module is cheap: boto3, slack_sdk, jinja2 and the rules engine load when the
first event arrives (:func:`runtime`), and tests replace the whole runtime with :func:`configure`.

Failure policy (the same for every alert handler):

* a malformed or unknown payload is logged with the reason and the raw event, counted
  (``ParseFailures``) and the handler returns normally, so a poison message is not retried;
* a payload that is fine but not for tunebot (an EC2 alarm) is logged at info and counted
  (``EventsSkipped``);
* a transient failure (Slack 429/5xx, AWS throttling, the store) raises, so Lambda retries and
  the on-failure destination keeps the event after the last retry;
* Slack refusing for good (``channel_not_found``) is logged as an error, counted
  (``DeliveryFailures``) and not retried.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from aws.events.envelopes import Envelope, MalformedEventError, PayloadKind, Rejected

if TYPE_CHECKING:
    from aws.session import AwsSession
    from aws.store import StateStore
    from bot.alerts import AlertPublisher, FunctionFindingView, SlackPoster
    from bot.settings import BotSettings
    from recommendations.alerts import AlertDiagnosis
    from service.api import FunctionAnalysis, TunebotServices

# The template sets POWERTOOLS_SERVICE_NAME and POWERTOOLS_METRICS_NAMESPACE for every function;
# these defaults keep local runs and tests working without them.
SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "tunebot"
METRICS_NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "Tunebot"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
IDEMPOTENCY_TTL_S = 7 * 24 * 3600

T = TypeVar("T")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)


def count(name: str) -> None:
    """Add one to a Powertools metric (flushed as EMF when the handler returns)."""
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)


def traced(handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """Powertools Tracer's ``capture_lambda_handler``, with the X-Ray SDK (half a second to
    import) loaded on the first event instead of when the module is imported."""
    wrapped: Callable[[Any, Any], Any] | None = None

    @functools.wraps(handler)
    def run(event: Any, context: Any) -> Any:
        nonlocal wrapped
        if wrapped is None:
            from aws_lambda_powertools import Tracer

            wrapped = Tracer(service=SERVICE).capture_lambda_handler(handler)
        return wrapped(event, context)

    return run


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class AlertRuntime:
    """Everything an alert handler talks to, created once per container."""

    settings: BotSettings
    services: TunebotServices
    store: StateStore
    poster: SlackPoster
    session: AwsSession
    default_channel: str | None
    environ: Mapping[str, str] = field(default_factory=dict)
    now: Callable[[], datetime] = utc_now
    _idempotent: dict[str, Callable[..., Any]] = field(default_factory=dict)
    _idempotency_config: Any = None
    _account_id: str | None = None

    def account_id(self) -> str | None:
        """The account tunebot reads (one STS call per container); None when unknown."""
        from aws.errors import AwsError

        if self._account_id is None:
            try:
                self._account_id = self.session.account_id
            except AwsError as error:
                logger.warning("could not identify the account", extra={"reason": str(error)})
                return None
        return self._account_id

    def register_context(self, context: Any) -> None:
        """Let idempotency records expire with the invocation if it dies mid-way."""
        if _is_lambda_context(context):
            self._config().register_lambda_context(context)

    def _config(self) -> Any:
        if self._idempotency_config is None:
            from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

            self._idempotency_config = IdempotencyConfig(
                event_key_jmespath="key",
                raise_on_no_idempotency_key=True,
                expires_after_seconds=IDEMPOTENCY_TTL_S,
            )
        return self._idempotency_config

    @property
    def publisher(self) -> AlertPublisher:
        from bot.alerts import AlertPublisher

        return AlertPublisher(self.store, self.poster)

    def idempotent(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """``function`` wrapped with Powertools idempotency on its ``item["key"]`` argument."""
        if name not in self._idempotent:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                idempotent_function,
            )

            table = self.environ.get("TUNEBOT_IDEMPOTENCY_TABLE") or "tunebot-idempotency"
            persistence = DynamoDBPersistenceLayer(
                table_name=table, boto3_client=self.session.client("dynamodb")
            )
            self._idempotent[name] = idempotent_function(
                data_keyword_argument="item", persistence_store=persistence, config=self._config()
            )(function)
        return self._idempotent[name]


def _is_lambda_context(context: Any) -> bool:
    return context is not None and callable(getattr(context, "get_remaining_time_in_millis", None))


_lock = threading.Lock()
_runtime: AlertRuntime | None = None


def configure(runtime: AlertRuntime | None) -> None:
    """Use ``runtime`` for the next events (tests, the sandbox); None rebuilds from the env."""
    global _runtime
    with _lock:
        _runtime = runtime


def _slack_token(environ: Mapping[str, str]) -> str:
    token = environ.get("SLACK_BOT_TOKEN")
    arn = environ.get("SLACK_SECRET_ARN")
    if not token and arn:
        from handlers.compose import read_slack_secret

        token = read_slack_secret(arn).get("SLACK_BOT_TOKEN")
    if not token:
        raise RuntimeError("Set SLACK_BOT_TOKEN, or SLACK_SECRET_ARN to a secret holding it.")
    return token


def build_runtime(environ: Mapping[str, str]) -> AlertRuntime:
    from aws.session import AwsSession
    from aws.store import StateStore
    from bot.alerts import SlackPoster
    from bot.settings import BotSettings
    from handlers.compose import build_services, slack_client

    settings = BotSettings.from_env_or_safe(environ)
    if settings.configuration_error:
        logger.error("tunebot configuration", extra={"problem": settings.configuration_error})
    session = AwsSession()
    client = slack_client(_slack_token(environ), environ)
    return AlertRuntime(
        settings=settings,
        services=build_services(environ, session=session),
        store=StateStore(environ.get("TUNEBOT_TABLE", ""), session.client("dynamodb")),
        poster=SlackPoster(client),
        session=session,
        default_channel=environ.get("TUNEBOT_DEFAULT_CHANNEL") or None,
        environ=dict(environ),
    )


def runtime() -> AlertRuntime:
    global _runtime
    if _runtime is None:
        with _lock:
            if _runtime is None:
                _runtime = build_runtime(os.environ)
    return _runtime


@dataclass(frozen=True)
class Analysed:
    """One function's part of an alert: the card section and the tags that route it."""

    finding: FunctionFindingView
    tags: dict[str, str]


def analyse_for_alert(
    rt: AlertRuntime,
    name: str,
    region: str | None,
    *,
    diagnose: Callable[[FunctionAnalysis], AlertDiagnosis | None] = lambda _: None,
    changes: Sequence[str] = (),
    cost_line: str | None = None,
    limit: int = 3,
    account_id: str | None = None,
) -> Analysed:
    """One function's card section (``service.alerts.AlertAnalysis`` decides what it says)."""
    from bot.alerts import finding_view, problem_view
    from service.alerts import AlertAnalysis

    found = AlertAnalysis(
        rt.services, region=rt.session.region, account_id=rt.account_id, now=rt.now
    ).function(
        name,
        region,
        diagnose=diagnose,
        changes=changes,
        cost_line=cost_line,
        limit=limit,
        account_id=account_id,
    )
    if found.problem is not None:
        return Analysed(problem_view(found.function, found.region, found.problem), {})
    return Analysed(
        finding_view(
            function=found.function,
            region=found.region,
            recommendations=found.recommendations,
            settings=rt.settings,
            tags=found.tags,
            cloudformation_stack=found.cloudformation_stack,
            now=rt.now(),
            diagnosis=found.diagnosis,
            changes=found.changes,
            cost_line=found.cost_line,
            limit=found.limit,
            applied=found.applied,
            pending=found.pending,
            other_savings=found.other_savings,
        ),
        found.tags,
    )


def published(result: Any) -> dict[str, Any]:
    """Count and log a published alert; the summary the handler returns (and idempotency keeps)."""
    count("AlertsPosted" if result.outcome.value == "posted" else "AlertsUpdated")
    logger.info(
        "alert published",
        extra={"outcome": result.outcome.value, "channel": result.channel, "ts": result.ts},
    )
    return {"outcome": result.outcome.value, "channel": result.channel, "ts": result.ts}


def handle_envelope(
    rt: AlertRuntime,
    item: Envelope | Rejected,
    raw: Any,
    *,
    expected: PayloadKind,
    description: str,
    parse: Callable[[Envelope], T],
    key: Callable[[T], str],
    handle: Callable[[AlertRuntime, T], dict[str, Any]],
) -> dict[str, Any]:
    """One delivered event, by the failure policy above: malformed or unexpected payloads are
    logged with the raw event, counted and answered; the payload is processed at most once per
    ``key`` (Powertools idempotency); transient failures raise for Lambda to retry."""
    from bot.alerts import SlackDeliveryError

    count("EventsReceived")
    if isinstance(item, Rejected):
        return _malformed("malformed event", item.reason, raw)
    logger.set_correlation_id(item.delivery_id)
    if item.kind is not expected:
        return _malformed("unknown payload", f"not {description} ({item.kind.value} payload)", raw)
    try:
        payload = parse(item)
    except MalformedEventError as error:
        return _malformed(f"malformed {expected.value} payload", str(error), raw)

    # Named "process" as before: Powertools keys idempotency records by the function's name.
    def process(*, item: dict[str, str], payload: T) -> dict[str, Any]:
        return handle(rt, payload)

    idempotent = rt.idempotent(expected.value, process)
    try:
        result: dict[str, Any] = idempotent(item={"key": key(payload)}, payload=payload)
    except SlackDeliveryError as error:
        logger.error("Slack refused the alert", extra={"reason": str(error)})
        count("DeliveryFailures")
        return {"outcome": "delivery_failed", "reason": str(error)}
    except Exception as error:
        if not is_transient(error):
            raise
        logger.exception("transient failure; the event will be retried")
        count("TransientFailures")
        raise retried_error(error) from error.__cause__
    return result


def _malformed(message: str, reason: str, raw: Any) -> dict[str, Any]:
    from aws.events.common import too_deep

    # The logger serialises the event; one nested thousands of levels deep would overflow it.
    event = "(not logged: nested too deeply)" if too_deep(raw) else raw
    logger.warning(message, extra={"reason": reason, "event": event})
    count("ParseFailures")
    return {"outcome": "malformed", "reason": reason}


def is_transient(error: BaseException) -> bool:
    """Whether Lambda should retry the event after ``error``: Slack busy or rate limiting, the
    same event in progress elsewhere, or an AWS or store failure that says it is retryable
    (a request AWS rejected for good is not: retries would send the same request again)."""
    if isinstance(error, transient_errors()):
        return True
    return bool(getattr(error, "retryable", False))


def retried_error(error: BaseException) -> BaseException:
    """What to raise for Lambda's retry: the AWS error a service error reports, if any."""
    from service.errors import PortError, ServiceError

    if isinstance(error, ServiceError) and isinstance(error.__cause__, PortError):
        return error.__cause__
    return error


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors after which Lambda should retry the event whatever they say; AWS and service
    errors are retried when their ``retryable`` says so (:func:`is_transient`)."""
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
    )

    from bot.alerts import AlertInProgressError, SlackTransientError

    return (
        SlackTransientError,
        AlertInProgressError,
        # The same event is being handled by a concurrent invocation right now.
        IdempotencyAlreadyInProgressError,
    )
