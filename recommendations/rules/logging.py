"""CloudWatch Logs: what a function's logs cost to ingest, and log groups that keep everything."""

from __future__ import annotations

import re

from recommendations.changes import LoggingSettings, LogLevelChange, LogRetentionChange
from recommendations.pricing import (
    BYTES_PER_GB,
    LOGS_INGESTION_USD_PER_GB,
    LOGS_STORAGE_USD_PER_GB_MONTH,
    REFERENCE_REGION,
    log_ingestion_monthly_cost,
)
from recommendations.recommendation import (
    Category,
    Confidence,
    Evidence,
    Recommendation,
    Risk,
    Severity,
)
from recommendations.rules.base import Rule, RuleContext, RuleResult
from recommendations.rules.helpers import build, cents, cost, evidence, percent
from recommendations.snapshot import (
    DAYS_PER_MONTH,
    FunctionSnapshot,
    LogFormat,
    LogGroupClass,
    LogLevel,
    PackageType,
)

# Ingestion this large next to the function's own Lambda bill is worth a look.
VERBOSE_MIN_MONTHLY_USD = 1.00
VERBOSE_SHARE_OF_LAMBDA_COST = 0.5
# What Lambda itself writes per invocation in the Text format (START, END and REPORT lines),
# roughly; what is above it is the function's own logging.
SYSTEM_LINES_BYTES = 350
# Which share of the application's lines a higher level drops is not visible without reading
# the logs; the expected saving assumes half (the range runs from none to all of them).
ASSUMED_SHARE_BELOW_NEW_LEVEL = 0.5
PROPOSED_RETENTION_DAYS = 30
# Levels at which application logs are already quiet: nothing to raise.
QUIET_LEVELS = frozenset({LogLevel.WARN, LogLevel.ERROR, LogLevel.FATAL})
VERBOSE_LEVELS = frozenset({LogLevel.TRACE, LogLevel.DEBUG})

_RUNTIME = re.compile(r"^(python|nodejs|java|dotnet)(\d+)(?:\.(\d+))?")


def supports_log_level_filtering(fn: FunctionSnapshot) -> bool:
    """Runtimes whose built-in loggers Lambda filters by level (JSON format): Python 3.8+,
    Node.js 16+, Java except java8 (Amazon Linux 1), .NET 8+. Elsewhere (custom runtimes,
    container images) only code that writes JSON with a "level" key is filtered."""
    if fn.package_type is PackageType.IMAGE or fn.runtime is None:
        return False
    match = _RUNTIME.match(fn.runtime)
    if match is None:
        return False
    family, major, minor = match.group(1), int(match.group(2)), int(match.group(3) or 0)
    if family == "python":
        return (major, minor) >= (3, 8)
    if family == "nodejs":
        return major >= 16
    if family == "java":
        return fn.runtime != "java8"
    return major >= 8


def current_logging(fn: FunctionSnapshot) -> LoggingSettings:
    """The function's format and levels as an applier reads them back (levels: JSON only)."""
    if fn.log_format is LogFormat.TEXT:
        return LoggingSettings()
    return LoggingSettings(
        log_format=LogFormat.JSON,
        application_log_level=fn.application_log_level,
        system_log_level=fn.system_log_level,
    )


def _gb(value: float) -> float:
    return round(value / BYTES_PER_GB, 2)


class VerboseLogging(Rule):
    """Log ingestion that costs more than half of what the function itself costs.

    What it checks:
    The bytes the function's log group ingested over the window (CloudWatch's IncomingBytes),
    priced a month at $0.50 per GB (Standard class) or $0.25 per GB (Infrequent Access), next
    to the function's monthly Lambda cost. It recommends when ingestion costs at least $1 a
    month and at least half the Lambda cost. A log group that several functions write to is
    unknown: its ingestion cannot be split between them.

    Why it matters:
    Ingestion is billed on every byte a function prints. Debug logging left on, or whole
    payloads logged on every request, often cost more than the compute, and nothing in the
    Lambda bill shows it.

    What to do:
    Where the runtime's built-in logger supports it (Python 3.8+, Node.js 16+, Java except
    java8, .NET 8+), raise the application log level through LoggingConfig: DEBUG or TRACE to INFO,
    otherwise to WARN. This needs the JSON log format: switching from Text changes what every
    line looks like, so metric filters, subscriptions and queries that parse the text must
    follow. Elsewhere, log less in the code, or send the logs to a new log group of the
    Infrequent Access class (half the ingestion price, fewer features; an existing group's
    class cannot be changed).
    """

    rule_id = "LOG-001"
    name = "Verbose logging"
    category = Category.LOGGING
    needs = (
        "stats.log_ingested_bytes",
        "stats.invocations",
        "log_group_info.log_class",
        "log_group_info.shared_with",
        "runtime",
        "log_format",
        "application_log_level",
    )
    proposes = LogLevelChange
    iam_actions = LogLevelChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        stats = fn.stats
        if stats is None:
            return self.unknown("no statistics were collected")
        if stats.invocations == 0:
            return self.passed("no invocations in the window")
        info = fn.log_group_info
        if info is not None and info.shared_with:
            others = ", ".join(info.shared_with)
            return self.unknown(
                f"the log group {info.name} is shared with {others}: its ingestion cannot be "
                "split between the functions"
            )
        if stats.log_ingested_bytes is None:
            return self.unknown("the log group's ingested bytes (IncomingBytes) are unknown")
        log_class = info.log_class if info is not None else None
        bytes_per_month = stats.log_ingested_bytes / stats.window_days * DAYS_PER_MONTH
        ingestion = log_ingestion_monthly_cost(bytes_per_month, log_class)
        if ingestion is None:
            return self.not_applicable(f"the {log_class} log class is priced per delivery")
        lambda_cost = cost(fn, context.now)
        if lambda_cost is None:
            return self.unknown("the function's Lambda cost is unknown")
        if ingestion < VERBOSE_MIN_MONTHLY_USD or ingestion < (
            VERBOSE_SHARE_OF_LAMBDA_COST * lambda_cost.total_usd
        ):
            return self.passed(
                f"log ingestion ${cents(ingestion):,.2f} a month next to "
                f"${cents(lambda_cost.total_usd):,.2f} of Lambda"
            )
        per_month = lambda_cost.invocations_per_month
        system_bytes = per_month * SYSTEM_LINES_BYTES
        application_bytes = max(0.0, bytes_per_month - system_bytes)
        facts = [
            evidence("Log ingestion", _gb(bytes_per_month), "GB a month", "metrics"),
            evidence("Log ingestion cost", cents(ingestion), "USD a month"),
            evidence("Lambda cost", cents(lambda_cost.total_usd), "USD a month"),
            evidence(
                "Ingestion next to Lambda cost",
                percent(ingestion / lambda_cost.total_usd) if lambda_cost.total_usd else "∞",
                "%" if lambda_cost.total_usd else "",
            ),
        ]
        if per_month:
            facts.append(
                evidence(
                    "Logged per invocation", round(bytes_per_month / per_month), "bytes", "metrics"
                )
            )
        facts.append(
            evidence(
                "Log class",
                log_class.value if log_class else "unknown (priced as STANDARD)",
                "",
                "log group",
            )
        )
        notes = []
        if fn.region != REFERENCE_REGION:
            notes.append(f"Log prices are us-east-1's; {fn.region} may differ.")
        settings = current_logging(fn)
        level = settings.application_log_level
        # Lambda's own START/END/REPORT lines: a log level does nothing for them, and tunebot
        # reads the REPORT lines, so the system log level is left alone.
        mostly_application = application_bytes >= system_bytes
        if supports_log_level_filtering(fn) and level not in QUIET_LEVELS and mostly_application:
            return self.recommend(
                self._raise_level(
                    fn, settings, ingestion, application_bytes / bytes_per_month, facts, notes
                )
            )
        return self.recommend(
            self._advise(fn, log_class, ingestion, mostly_application, level, facts, notes)
        )

    def _raise_level(
        self,
        fn: FunctionSnapshot,
        settings: LoggingSettings,
        ingestion: float,
        application_share: float,
        facts: list[Evidence],
        notes: list[str],
    ) -> Recommendation:
        level = settings.application_log_level
        new_level = LogLevel.INFO if level in VERBOSE_LEVELS else LogLevel.WARN
        after = LoggingSettings(
            log_format=LogFormat.JSON,
            application_log_level=new_level,
            # Said explicitly (AWS's default): REPORT lines are INFO and tunebot reads them.
            system_log_level=settings.system_log_level or LogLevel.INFO,
        )
        change = LogLevelChange(function_name=fn.name, before=settings, after=after)
        application_cost = ingestion * application_share
        switching = settings.log_format is LogFormat.TEXT
        if switching:
            notes.append(
                "Log-level filtering needs the JSON log format: every line becomes a JSON object "
                "(with extra metadata, so the lines that remain are larger). Update metric "
                "filters, subscription filters, alarms and queries that parse the text first."
            )
        notes.append(
            f"Lines below {new_level.value} are dropped before they reach CloudWatch, including "
            "plain print/console output without a level (Lambda counts it as INFO). Which share "
            "of the lines that is cannot be seen without reading the logs: the estimate assumes "
            "half."
        )
        current = f"the {level.value} level" if level else "the default level"
        return build(
            self,
            fn,
            severity=Severity.MEDIUM,
            title=f"Log at {new_level.value}: ${cents(ingestion):,.2f} a month of log ingestion",
            rationale=(
                f"{fn.name}'s logs cost ${cents(ingestion):,.2f} a month to ingest into "
                f"CloudWatch, most of it its own logging at {current}. Raising the application "
                f"log level to {new_level.value} keeps {new_level.value} and above and drops "
                "the rest before it is billed."
            ),
            confidence=Confidence.LOW,
            evidence=facts,
            change=change,
            savings=application_cost * ASSUMED_SHARE_BELOW_NEW_LEVEL,
            savings_low=0.0,
            savings_high=application_cost,
            risk=Risk.MEDIUM if switching else Risk.LOW,
            notes=notes,
        )

    def _advise(
        self,
        fn: FunctionSnapshot,
        log_class: LogGroupClass | None,
        ingestion: float,
        mostly_application: bool,
        level: LogLevel | None,
        facts: list[Evidence],
        notes: list[str],
    ) -> Recommendation:
        if not mostly_application:
            why = "most of it Lambda's own START, END and REPORT lines (a log level cannot help)"
        elif level in QUIET_LEVELS:
            why = f"even at the {level.value} level" if level else ""
        else:
            why = (
                f"and its runtime ({fn.runtime or 'container image'}) has no built-in logger "
                "Lambda can filter by level"
            )
        if log_class is LogGroupClass.INFREQUENT_ACCESS:
            return build(
                self,
                fn,
                severity=Severity.LOW,
                title=f"Log less: ${cents(ingestion):,.2f} a month of log ingestion",
                rationale=(
                    f"{fn.name}'s logs cost ${cents(ingestion):,.2f} a month to ingest, {why}. "
                    "The group is already Infrequent Access: only logging less in the code "
                    "lowers it."
                ),
                confidence=Confidence.MEDIUM,
                evidence=facts,
                notes=notes,
            )
        standard = LOGS_INGESTION_USD_PER_GB[LogGroupClass.STANDARD]
        cheaper = LOGS_INGESTION_USD_PER_GB[LogGroupClass.INFREQUENT_ACCESS]
        saving = ingestion * (1 - cheaper / standard)
        notes.append(
            "A log group's class is fixed when it is created: create a new group of the "
            "Infrequent Access class and point the function's LoggingConfig.LogGroup at it. "
            "Infrequent Access has no metric filters, subscription filters or Live Tail; "
            "check what reads these logs first."
        )
        return build(
            self,
            fn,
            severity=Severity.LOW,
            title=f"Log less, or to Infrequent Access: ${cents(ingestion):,.2f} a month of logs",
            rationale=(
                f"{fn.name}'s logs cost ${cents(ingestion):,.2f} a month to ingest, {why}. "
                "Log less in the code, or log to a group of the Infrequent Access class, which "
                f"ingests at ${cheaper:.2f} per GB instead of ${standard:.2f}."
            ),
            confidence=Confidence.MEDIUM,
            evidence=facts,
            savings=saving,
            risk=Risk.MEDIUM,
            notes=notes,
        )


class LogsNeverExpire(Rule):
    """A function's log group that keeps its events forever.

    What it checks:
    The retention of the log group the function writes to. Groups Lambda creates never expire
    their events unless someone sets a retention. When several functions share a group, the
    change is proposed once, on the first of them by name.

    Why it matters:
    Stored logs are billed every month ($0.03 per GB-month), and a group that never expires
    grows for as long as the function runs. Old debug output is rarely read.

    What to do:
    Set a retention (tunebot proposes 30 days). Events older than that are deleted for good:
    keep longer where audits or regulations require it. Undo restores the previous setting,
    not the deleted events. Log groups do not inherit their function's tags: tunebot may
    change a group only when the group itself carries the managed tag.
    """

    rule_id = "LOG-002"
    name = "Logs never expire"
    category = Category.LOGGING
    needs = (
        "log_group_info.retention_days",
        "log_group_info.stored_bytes",
        "log_group_info.shared_with",
        "stats.log_ingested_bytes",
    )
    proposes = LogRetentionChange
    iam_actions = LogRetentionChange.iam_actions

    def evaluate(self, fn: FunctionSnapshot, context: RuleContext) -> RuleResult:
        info = fn.log_group_info
        if info is None:
            return self.unknown("the log group was not read (or does not exist yet)")
        if info.retention_days is not None:
            return self.passed(f"{info.name} keeps events {info.retention_days} days")
        if info.shared_with and min(info.shared_with) < fn.name:
            return self.not_applicable(
                f"{info.name} is shared: proposed on {min(info.shared_with)}"
            )
        facts = [evidence("Retention", "never expire", "", "log group")]
        saving = None
        stats = fn.stats
        if info.stored_bytes is not None:
            facts.append(evidence("Stored", _gb(info.stored_bytes), "GB", "log group"))
            facts.append(
                evidence(
                    "Storage cost",
                    cents(info.stored_bytes / BYTES_PER_GB * LOGS_STORAGE_USD_PER_GB_MONTH),
                    "USD a month",
                )
            )
            if stats is not None and stats.log_ingested_bytes is not None:
                # Stored bytes are compressed and ingested ones are not, so this overstates
                # what the retention keeps: the saving is on the low side.
                kept = min(
                    info.stored_bytes,
                    stats.log_ingested_bytes / stats.window_days * PROPOSED_RETENTION_DAYS,
                )
                saving = (info.stored_bytes - kept) / BYTES_PER_GB * LOGS_STORAGE_USD_PER_GB_MONTH
        notes = [
            f"Events older than {PROPOSED_RETENTION_DAYS} days are deleted for good; choose a "
            "longer retention where audits or regulations need one. Undo restores the setting, "
            "not the deleted events.",
            "The stored volume keeps growing while the group never expires, so the saving "
            "grows too.",
        ]
        if info.shared_with:
            notes.append(
                f"The group is shared with {', '.join(info.shared_with)}: the retention applies "
                "to all of them."
            )
        if saving is None:
            notes.append("The stored volume or the ingestion is unknown: no saving is estimated.")
        return self.recommend(
            build(
                self,
                fn,
                severity=Severity.LOW,
                title=f"Expire logs after {PROPOSED_RETENTION_DAYS} days",
                rationale=(
                    f"{info.name} keeps every event {fn.name} ever logged, and storage is billed "
                    f"every month. A {PROPOSED_RETENTION_DAYS}-day retention keeps what is "
                    "useful for debugging and deletes the rest."
                ),
                confidence=Confidence.HIGH,
                evidence=facts,
                change=LogRetentionChange(
                    function_name=fn.name,
                    log_group=info.name,
                    before=None,
                    after=PROPOSED_RETENTION_DAYS,
                ),
                savings=saving,
                risk=Risk.MEDIUM,
                notes=notes,
            )
        )
