"""The demo fleet: twenty functions that between them give every rule something to say.

Each function is a configuration (what ``CreateFunction`` and friends get) plus a simulator
profile (how it behaves), so the metrics and REPORT lines seeded from the profile agree with
what a benchmark of the same function finds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from recommendations.snapshot import Architecture
from recommendations.tuning.profile import SimulationProfile

MANAGED = {"tunebot:managed": "true"}
# Just over the 50 MiB direct-upload limit PKG-001 checks against (code and layers, zipped).
CHROMIUM_LAYER_BYTES = 50 * 1024 * 1024 + 256 * 1024


@dataclass(frozen=True)
class QueueSource:
    """An SQS queue feeding the function through an event source mapping."""

    queue_name: str
    batch_size: int
    batching_window_s: int = 0
    visibility_timeout_s: int = 30
    fifo: bool = False
    with_dead_letter_queue: bool = False
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class StreamSource:
    """A Kinesis stream feeding the function (retry settings as AWS defaults them)."""

    stream_name: str
    batch_size: int = 100
    maximum_retry_attempts: int = -1
    maximum_record_age_s: int = -1
    report_batch_item_failures: bool = False


@dataclass(frozen=True)
class DemoLayer:
    name: str
    compatible_architectures: tuple[str, ...]
    # An ELF header for this machine goes into the layer, so package scans find native code.
    native_machine: str | None = None
    # Incompressible bytes standing in for a bundled binary (a headless browser), stored in
    # the zip uncompressed: the layer's CodeSize is then what such a real layer weighs.
    binary_bytes: int = 0


@dataclass(frozen=True)
class DemoFunction:
    name: str
    summary: str  # what the function is there to show, for docs and the page
    runtime: str
    memory_mb: int
    timeout_s: int
    architecture: Architecture
    profile: SimulationProfile
    invocations_per_day: int
    tags: dict[str, str] = field(default_factory=dict)
    # Share of invocations that start a new execution environment.
    cold_start_rate: float = 0.01
    # Who invokes it: "apigateway", "function_url", "sns", "s3", "events", "sqs", "kinesis".
    invoked_by: str = "apigateway"
    queue: QueueSource | None = None
    stream: StreamSource | None = None
    # None: no event invoke config. Otherwise (retries, max age, on-failure to a queue?).
    async_config: tuple[int, int, bool] | None = None
    # Share of async events dropped after retries (AsyncEventsDropped).
    async_drop_rate: float = 0.0
    layers: tuple[DemoLayer, ...] = ()
    native_machine: str | None = None  # an ELF file of this machine in the function's package
    reserved_concurrency: int | None = None
    # Share of invocations refused for want of concurrency (the Throttles metric).
    throttle_rate: float = 0.0
    cloudformation_stack: str | None = None
    # Traffic in the last day relative to before (a surge behind the demo's Cost Anomaly).
    last_day_traffic_factor: float = 1.0
    # Share of invocations that fail in the handler; each failure writes one log line naming
    # one of ``error_lines`` (in turn, weighted by repetition) before its REPORT line.
    error_rate: float = 0.0
    error_lines: tuple[str, ...] = ()
    ephemeral_storage_mb: int = 512
    # The log group's retention (None: never expire); the fleet mostly keeps 30 days.
    log_retention_days: int | None = 30
    # What the handler logs per invocation, on top of Lambda's START, END and REPORT lines.
    app_log_bytes_per_invocation: int = 0
    # X-Ray TracingConfig.Mode.
    tracing: str = "PassThrough"


def _profile(**values: object) -> SimulationProfile:
    return SimulationProfile.model_validate(values)


# Python's text log line for an unhandled boto3 error, and for a KeyError.
THROTTLED_PUT = (
    "[ERROR] ClientError: An error occurred (ProvisionedThroughputExceededException) when "
    "calling the PutItem operation (reached max retries: 0): The level of configured "
    "provisioned throughput for the table was exceeded."
)
MISSING_SKU = "[ERROR] KeyError: 'sku'\nTraceback (most recent call last):"

FLEET: tuple[DemoFunction, ...] = (
    DemoFunction(
        name="checkout-api",
        summary="Production API behind API Gateway: over-provisioned memory, runs fine on arm64; "
        "prod needs two approvers.",
        runtime="python3.12",
        memory_mb=1024,
        timeout_s=10,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=60,
            io_ms=45,
            memory_used_mb=150,
            init_ms=420,
            noise_cv=0.15,
            outlier_rate=0.01,
            outlier_factor=3,
            arm_speed=1.15,
            memory_mb=1024,
        ),
        invocations_per_day=1_500_000,
        tags={**MANAGED, "env": "prod", "team": "payments"},
        cold_start_rate=0.004,
    ),
    DemoFunction(
        name="image-resizer",
        summary="CPU-heavy and short of memory: garbage collection makes it slow, so more memory "
        "is cheaper. Its traffic quadrupled over the last day: the Cost Anomaly's cause.",
        runtime="python3.12",
        memory_mb=512,
        timeout_s=60,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=900,
            parallel_fraction=0.6,
            io_ms=80,
            memory_used_mb=430,
            gc_factor=3.0,
            init_ms=650,
            noise_cv=0.1,
            arm_speed=1.2,
            memory_mb=512,
        ),
        invocations_per_day=40_000,
        tags={**MANAGED, "env": "staging", "team": "media"},
        invoked_by="s3",
        async_config=(2, 3600, True),
        cold_start_rate=0.02,
        last_day_traffic_factor=4.0,
    ),
    DemoFunction(
        name="orders-consumer",
        summary="SQS consumer with batch size 1, no partial-batch reporting, a visibility "
        "timeout shorter than six function timeouts and no dead-letter queue.",
        runtime="python3.12",
        memory_mb=256,
        timeout_s=60,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=20,
            io_ms=80,
            memory_used_mb=95,
            init_ms=380,
            noise_cv=0.2,
            arm_speed=1.1,
            memory_mb=256,
        ),
        invocations_per_day=600_000,
        tags={**MANAGED, "env": "prod", "team": "orders"},
        invoked_by="sqs",
        queue=QueueSource(queue_name="orders-queue", batch_size=1, visibility_timeout_s=30),
    ),
    DemoFunction(
        name="email-sender",
        summary="Invoked asynchronously by SNS with no failure destination: events are dropped.",
        runtime="nodejs20.x",
        memory_mb=256,
        timeout_s=15,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=15,
            io_ms=220,
            memory_used_mb=110,
            init_ms=300,
            noise_cv=0.25,
            arm_speed=1.1,
            memory_mb=256,
        ),
        invocations_per_day=80_000,
        tags={**MANAGED, "env": "staging", "team": "growth"},
        invoked_by="sns",
        async_drop_rate=0.004,
    ),
    DemoFunction(
        name="report-generator",
        summary="A 900 s timeout for work that finishes in a few seconds.",
        runtime="python3.12",
        memory_mb=2048,
        timeout_s=900,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=2600,
            parallel_fraction=0.3,
            io_ms=900,
            memory_used_mb=640,
            init_ms=900,
            noise_cv=0.2,
            arm_speed=1.15,
            memory_mb=2048,
        ),
        invocations_per_day=96,
        tags={**MANAGED, "env": "staging", "team": "finance"},
        invoked_by="events",
        async_config=(0, 3600, True),
        cold_start_rate=0.6,
    ),
    DemoFunction(
        name="pdf-export",
        summary="Times out now and then: the timeout sits inside the slow tail. Renders with "
        "a headless-Chromium layer that takes its package past 50 MiB.",
        runtime="nodejs20.x",
        memory_mb=1024,
        timeout_s=6,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=1800,
            io_ms=600,
            memory_used_mb=410,
            init_ms=700,
            noise_cv=0.3,
            outlier_rate=0.03,
            outlier_factor=2.2,
            arm_speed=1.1,
            memory_mb=1024,
        ),
        invocations_per_day=5_000,
        tags={**MANAGED, "env": "staging", "team": "documents"},
        cold_start_rate=0.05,
        layers=(
            DemoLayer("headless-chromium", ("x86_64", "arm64"), binary_bytes=CHROMIUM_LAYER_BYTES),
        ),
    ),
    DemoFunction(
        name="legacy-billing",
        summary="Still on python3.8, a deprecated runtime, and its slowest calls use over 80% "
        "of a 1 s timeout.",
        runtime="python3.8",
        memory_mb=512,
        timeout_s=1,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=120,
            io_ms=370,
            memory_used_mb=140,
            init_ms=500,
            noise_cv=0.06,
            arm_speed=1.1,
            memory_mb=512,
        ),
        invocations_per_day=20_000,
        tags={**MANAGED, "env": "staging", "team": "finance"},
    ),
    DemoFunction(
        name="thumbnail-native",
        summary="Ships x86_64 native code in its package and a layer: arm64 would break it.",
        runtime="nodejs20.x",
        memory_mb=1536,
        timeout_s=30,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=700,
            parallel_fraction=0.5,
            io_ms=60,
            memory_used_mb=520,
            init_ms=800,
            noise_cv=0.15,
            supports_arm=False,
            memory_mb=1536,
        ),
        invocations_per_day=100_000,
        tags={**MANAGED, "env": "staging", "team": "media"},
        layers=(DemoLayer("sharp-libvips", ("x86_64",), native_machine="x86_64"),),
        native_machine="x86_64",
    ),
    DemoFunction(
        name="search-indexer",
        summary="Kinesis consumer that retries a failing batch forever and has no on-failure "
        "destination.",
        runtime="python3.12",
        memory_mb=512,
        timeout_s=60,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=180,
            io_ms=120,
            memory_used_mb=210,
            init_ms=450,
            noise_cv=0.2,
            arm_speed=1.15,
            memory_mb=512,
        ),
        invocations_per_day=300_000,
        tags={**MANAGED, "env": "prod", "team": "search"},
        invoked_by="kinesis",
        stream=StreamSource(stream_name="search-events"),
    ),
    DemoFunction(
        name="auth-authorizer",
        summary="Reserved concurrency of 5 for a busy authorizer: requests are throttled.",
        runtime="nodejs20.x",
        memory_mb=512,
        timeout_s=5,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=12,
            io_ms=8,
            memory_used_mb=90,
            init_ms=350,
            noise_cv=0.15,
            architecture="arm64",
            memory_mb=512,
        ),
        invocations_per_day=900_000,
        tags={**MANAGED, "env": "prod", "team": "identity"},
        reserved_concurrency=5,
        throttle_rate=0.02,
        cold_start_rate=0.0005,
    ),
    DemoFunction(
        name="notifications-fanout",
        summary="128 MB for a function that needs 140 MB: it runs out of memory.",
        runtime="python3.12",
        memory_mb=128,
        timeout_s=30,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=40,
            io_ms=60,
            memory_used_mb=140,
            init_ms=400,
            noise_cv=0.2,
            arm_speed=1.1,
            memory_mb=128,
        ),
        invocations_per_day=50_000,
        tags={**MANAGED, "env": "staging", "team": "growth"},
        invoked_by="sqs",
        queue=QueueSource(
            queue_name="notifications.fifo",
            batch_size=10,
            fifo=True,
            visibility_timeout_s=180,
            with_dead_letter_queue=True,
            report_batch_item_failures=True,
        ),
    ),
    DemoFunction(
        name="inventory-sync",
        summary="Deployed with CloudFormation: changes get a drift warning and a template snippet.",
        runtime="python3.12",
        memory_mb=3008,
        timeout_s=30,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=40,
            io_ms=260,
            memory_used_mb=180,
            init_ms=500,
            noise_cv=0.15,
            arm_speed=1.1,
            memory_mb=3008,
        ),
        invocations_per_day=400_000,
        tags={**MANAGED, "env": "staging", "team": "orders"},
        cloudformation_stack="inventory-service",
    ),
    DemoFunction(
        name="nightly-cleanup",
        summary="Already well tuned: arm64, small memory, sensible timeout.",
        runtime="python3.12",
        memory_mb=128,
        timeout_s=60,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=30,
            io_ms=400,
            memory_used_mb=70,
            init_ms=300,
            noise_cv=0.1,
            architecture="arm64",
            memory_mb=128,
        ),
        invocations_per_day=1,
        tags={**MANAGED, "env": "staging", "team": "platform"},
        invoked_by="events",
        async_config=(2, 3600, True),
        cold_start_rate=1.0,
    ),
    DemoFunction(
        name="webhook-receiver",
        summary="Rarely called behind a Function URL: most requests pay a slow cold start.",
        runtime="java21",
        memory_mb=1024,
        timeout_s=15,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=50,
            io_ms=90,
            memory_used_mb=210,
            init_ms=2400,
            noise_cv=0.2,
            architecture="arm64",
            memory_mb=1024,
        ),
        invocations_per_day=2_000,
        tags={**MANAGED, "env": "staging", "team": "integrations"},
        invoked_by="function_url",
        cold_start_rate=0.35,
    ),
    DemoFunction(
        name="geo-lookup",
        summary="Not tagged for tunebot: it gets advice, but nobody can apply from Slack.",
        runtime="python3.12",
        memory_mb=1024,
        timeout_s=10,
        architecture=Architecture.X86_64,
        profile=_profile(
            cpu_ms=35,
            io_ms=25,
            memory_used_mb=120,
            init_ms=400,
            noise_cv=0.15,
            arm_speed=1.15,
            memory_mb=1024,
        ),
        invocations_per_day=250_000,
        tags={"env": "staging", "team": "maps"},
    ),
    DemoFunction(
        name="clickstream-archiver",
        summary="Kinesis consumer that gives up on a failing batch after 3 retries and has no "
        "on-failure destination: the records are skipped without a trace.",
        runtime="python3.12",
        memory_mb=256,
        timeout_s=30,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=25,
            io_ms=60,
            memory_used_mb=110,
            init_ms=380,
            noise_cv=0.15,
            architecture="arm64",
            memory_mb=256,
        ),
        invocations_per_day=20_000,
        tags={**MANAGED, "env": "staging", "team": "analytics"},
        invoked_by="kinesis",
        stream=StreamSource(
            stream_name="clickstream",
            maximum_retry_attempts=3,
            report_batch_item_failures=True,
        ),
    ),
    DemoFunction(
        name="stock-sync",
        summary="8% of invocations fail, most of them throttled by DynamoDB and retried at "
        "once: failures priced as wasted compute, and a retry storm.",
        runtime="python3.12",
        memory_mb=512,
        timeout_s=30,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=40,
            io_ms=160,
            memory_used_mb=120,
            init_ms=400,
            noise_cv=0.2,
            architecture="arm64",
            memory_mb=512,
        ),
        invocations_per_day=200_000,
        tags={**MANAGED, "env": "staging", "team": "orders"},
        error_rate=0.08,
        error_lines=(THROTTLED_PUT, THROTTLED_PUT, THROTTLED_PUT, MISSING_SKU),
    ),
    DemoFunction(
        name="video-transcoder",
        summary="10 GB of /tmp configured (and billed above 512 MB) for work whose files are "
        "small: Lambda publishes no /tmp usage, so the change is high risk.",
        runtime="python3.12",
        memory_mb=3008,
        timeout_s=300,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=30_000,
            parallel_fraction=0.8,
            io_ms=500,
            memory_used_mb=900,
            init_ms=600,
            noise_cv=0.1,
            architecture="arm64",
            memory_mb=3008,
        ),
        invocations_per_day=2_000,
        tags={**MANAGED, "env": "staging", "team": "media"},
        invoked_by="s3",
        async_config=(2, 3600, True),
        ephemeral_storage_mb=10240,
    ),
    DemoFunction(
        name="legacy-export",
        summary="Not invoked for over 30 days, yet it reserves 20 of the account's concurrency.",
        runtime="python3.12",
        memory_mb=256,
        timeout_s=60,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=50,
            io_ms=200,
            memory_used_mb=90,
            init_ms=400,
            noise_cv=0.1,
            architecture="arm64",
            memory_mb=256,
        ),
        invocations_per_day=0,
        tags={**MANAGED, "env": "staging", "team": "finance"},
        invoked_by="events",
        reserved_concurrency=20,
    ),
    DemoFunction(
        name="clickstream-collector",
        summary="Logs every event it receives, keeps its logs forever and traces every request: "
        "its CloudWatch Logs and X-Ray bills dwarf its compute.",
        runtime="python3.12",
        memory_mb=256,
        timeout_s=10,
        architecture=Architecture.ARM64,
        profile=_profile(
            cpu_ms=8,
            io_ms=12,
            memory_used_mb=90,
            init_ms=300,
            noise_cv=0.1,
            architecture="arm64",
            memory_mb=256,
        ),
        invocations_per_day=400_000,
        tags={**MANAGED, "env": "prod", "team": "analytics"},
        log_retention_days=None,
        app_log_bytes_per_invocation=3_000,
        tracing="Active",
    ),
)


def by_name(name: str) -> DemoFunction:
    for function in FLEET:
        if function.name == name:
            return function
    raise KeyError(name)
