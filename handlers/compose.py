"""The one composition root: every client tunebot's entry points use, built once per container
with the same retry, timeout and rate-limit settings, and the service layer wired to them.

``handlers.slack``, the alert handlers and the sandbox all build from here, so a setting (the
Slack client's 429 retry, say) cannot be present in one entry point and missing in another.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from aws.invokers.lambda_invoker import LambdaBenchmark
    from aws.session import AwsSession
    from recommendations.rules.base import Rule
    from recommendations.snapshot import FunctionSnapshot
    from service.ports import InvokerFactory
    from service.tunebot import Tunebot

# What this module calls itself (the aws/ modules it uses declare theirs), plus the
# self-invocation of the Slack function that Bolt's lazy listeners need.
IAM_ACTIONS: tuple[str, ...] = ("secretsmanager:GetSecretValue", "lambda:InvokeFunction")

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# Seconds a Slack Web API call may take before it counts as failed (slack_sdk's default is 30,
# more than half an alert handler's budget).
SLACK_TIMEOUT_S = 10
# chat.postMessage allows about one message a second per channel: wait out a 429 this often.
SLACK_RATE_LIMIT_RETRIES = 2
# A "Benchmark first" click runs in the Slack function's lazy listener (600 s timeout): the
# copy invoker stops invoking after this long, leaving time to post the result.
BENCHMARK_TIME_BUDGET_S = 420.0


def read_slack_secret(arn: str, client: Any = None) -> dict[str, str]:
    """The Secrets Manager JSON at ``arn`` (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET), cached
    (``aws.secrets``). Raises RuntimeError with one sentence; the handlers log it and answer 500.
    """
    from aws.errors import SecretError
    from aws.secrets import read_secret_json
    from aws.session import AwsSession

    try:
        return read_secret_json(
            arn, client or AwsSession().client("secretsmanager"), what="Slack secret"
        )
    except SecretError as error:
        raise RuntimeError(str(error)) from error


def slack_client(token: str, environ: Mapping[str, str]) -> WebClient:
    """The Slack Web API client every entry point uses: one timeout, one 429 policy."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    client = WebClient(
        token=token,
        base_url=environ.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL,
        timeout=SLACK_TIMEOUT_S,
    )
    client.retry_handlers.append(
        RateLimitErrorRetryHandler(max_retry_count=SLACK_RATE_LIMIT_RETRIES)
    )
    return client


def lambda_copy_invoker(fn: FunctionSnapshot) -> LambdaBenchmark:
    """Benchmarks on temporary copies of the real function (never the function itself), which
    ``LambdaBenchmark`` deletes when the run ends; invocations stop when the time budget is spent.

    The ARN, not the name, is invoked: a function of another account is then refused by Lambda
    instead of a same-named function of this account being measured.
    """
    from aws.invokers.lambda_invoker import LambdaBenchmark

    deadline = time.monotonic() + BENCHMARK_TIME_BUDGET_S
    return LambdaBenchmark(
        fn.arn,
        region=fn.region,
        in_place=False,
        should_stop=lambda: time.monotonic() > deadline,
    )


def build_services(
    environ: Mapping[str, str] | None = None,
    *,
    session: AwsSession | None = None,
    rules: Sequence[Rule] | None = None,
    invoker_factory: InvokerFactory | None = lambda_copy_invoker,
    scan_packages: bool = True,
    clock: Callable[[], datetime] | None = None,
) -> Tunebot:
    """The services for this container, from the environment (``TUNEBOT_TABLE`` & co.).

    Benchmarks use temporary copies of the real function by default; ``invoker_factory=None``
    turns them off (the button then says so)."""
    from aws.analysis_cache import DynamoAnalysisCache
    from aws.appliers.base import ApplyContext
    from aws.change_adapters import change_service
    from aws.function_source import AwsFunctionSource
    from aws.session import AwsSession
    from aws.store import StateStore
    from service.analysis import AnalysisService, analysis_ttl, utc_now
    from service.benchmarks import BenchmarkService
    from service.tunebot import Tunebot

    env = os.environ if environ is None else environ
    clock = clock or utc_now
    aws = session or AwsSession()
    store = StateStore(env.get("TUNEBOT_TABLE", ""), aws.client("dynamodb"))

    def context_for_region(region: str) -> ApplyContext:
        # A fleet scan covers every region of TUNEBOT_ACCOUNTS: each change must go to the
        # Lambda of its function's region, not to this container's.
        regional = aws.for_region(region)
        return ApplyContext(
            lambda_client=regional.client("lambda"),
            sqs_client=regional.client("sqs"),
            logs_client=regional.client("logs"),
        )

    functions = AwsFunctionSource(aws, env, scan_packages=scan_packages)
    table = env.get("TUNEBOT_TABLE", "")
    # One analysis per function revision, shared by every surface (docs/state.md).
    cache = DynamoAnalysisCache(table, aws.client("dynamodb")) if table else None
    analysis = AnalysisService(
        functions,
        store,
        rules=rules,
        clock=clock,
        cache=cache,
        cache_ttl=analysis_ttl(env),
    )
    return Tunebot(
        analysis,
        store,
        change_service(store, context_for_region=context_for_region),
        BenchmarkService(store, invoker_factory),
        clock=clock,
    )
