"""Collect a :class:`FleetSnapshot` for an account and region, with few API calls.

Order matters for the call budget: configurations and bulk facts first, then metrics for all
functions at once, then the per-function calls only metrics can justify (async invoke config
for functions with async events, provisioned concurrency where utilisation is reported), log
statistics for functions that ran, and the package scan for arm64 candidates.

Failures never abort a scan once functions are listed: a function tunebot may not read
becomes an entry in ``FleetSnapshot.errors``; a bulk call that fails (or stays throttled
after adaptive retries) leaves its figures unknown and is logged.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import ValidationError

from aws import inventory, log_groups, metrics, package_scan
from aws import session as session_module
from aws.errors import AccessDeniedError, AwsError, CredentialsError, FunctionNotFoundError
from aws.inventory import Enrichment
from aws.logs import error_types, insights, sampling
from aws.logs.stats import LogStats
from aws.metrics import MetricsResult, figures_as_stats_fields
from aws.package_scan import PackageScanner
from aws.session import (
    AccountTarget,
    AwsSession,
    is_access_denied,
    is_throttling,
    translate_error,
)
from recommendations.error_types import top_error_types
from recommendations.snapshot import FigureSource, FleetSnapshot, FunctionSnapshot, FunctionStats

logger = logging.getLogger(__name__)

T = TypeVar("T")

IAM_ACTIONS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *session_module.IAM_ACTIONS,
            *inventory.IAM_ACTIONS,
            *metrics.IAM_ACTIONS,
            *log_groups.IAM_ACTIONS,
            *insights.IAM_ACTIONS,
            *sampling.IAM_ACTIONS,
            *package_scan.IAM_ACTIONS,
        )
    )
)

DEFAULT_WINDOW_DAYS = 14.0
# REPORT lines are read over the last week of the window only: Insights bills per GB scanned,
# and the log figures are rates and peaks over their own sample (``log_sample_invocations``),
# which a week states as well as two while keeping a whole weekly cycle (weekend traffic,
# weekly jobs). Counts over the whole window come from CloudWatch metrics.
DEFAULT_LOG_WINDOW_DAYS = 7.0
# Up to this many --function names are read one by one (GetFunction) instead of listing all.
DIRECT_READ_LIMIT = 20
DEFAULT_LOG_GROUP_PREFIX = "/aws/lambda/"
PERCENTILE_FIELDS = ("duration_p50_ms", "duration_p90_ms", "duration_p99_ms")
# Error types are read for at most this many functions (those with the most errors): one
# Insights query's worth of log groups.
ERROR_TYPE_LOG_GROUPS = insights.MAX_LOG_GROUPS_PER_QUERY


@dataclass(frozen=True)
class ScanOptions:
    window_days: float = DEFAULT_WINDOW_DAYS
    # Only these functions (empty: all of them).
    function_names: tuple[str, ...] = ()
    scan_packages: bool = True
    # Insights unavailable: how many of the busiest functions get a FilterLogEvents sample.
    log_sample_functions: int = 25
    # How many of the window's last days Logs Insights reads (at most the whole window).
    log_window_days: float = DEFAULT_LOG_WINDOW_DAYS
    insights_max_wait_s: float = insights.DEFAULT_MAX_WAIT_S
    insights_poll_interval_s: float = insights.DEFAULT_POLL_INTERVAL_S
    now: datetime | None = None

    def window(self) -> tuple[datetime, datetime]:
        end = (self.now or datetime.now(UTC)).replace(microsecond=0)
        return end - timedelta(days=self.window_days), end

    def log_start(self, start: datetime, end: datetime) -> datetime:
        """Where Logs Insights starts reading: the window's last ``log_window_days``."""
        return max(start, end - timedelta(days=self.log_window_days))


@dataclass
class _Collected:
    configs: list[Mapping[str, Any]]
    enrichment: Enrichment = field(default_factory=Enrichment)
    errors: dict[str, str] = field(default_factory=dict)
    not_found: set[str] = field(default_factory=set)
    # What reading a named function raised, so a one-function read can raise it as it was.
    failures: dict[str, AwsError] = field(default_factory=dict)


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for a close function name, else ""."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _collect_configs(session: AwsSession, options: ScanOptions) -> _Collected:
    wanted = list(dict.fromkeys(options.function_names))
    if wanted and len(wanted) <= DIRECT_READ_LIMIT:
        return _read_named_functions(session, wanted)
    configs: list[Mapping[str, Any]] = list(inventory.list_function_configs(session))
    collected = _Collected(configs=configs)
    if wanted:
        present = {str(config["FunctionName"]) for config in configs}
        collected.configs = [c for c in configs if c["FunctionName"] in set(wanted)]
        for name in wanted:
            if name not in present:
                collected.not_found.add(name)
                collected.errors[name] = (
                    f"Function '{name}' was not found in {session.region}{suggest(name, present)}."
                )
    return collected


def _read_named_functions(session: AwsSession, names: Sequence[str]) -> _Collected:
    """The fast path for a few named functions: GetFunction and friends, one by one."""
    collected = _Collected(configs=[])
    all_names: list[str] | None = None
    for name in names:
        try:
            snapshot, config = inventory.read_function(name, session)
        except FunctionNotFoundError as error:
            if all_names is None:
                try:
                    all_names = inventory.list_function_names(session)
                except AwsError:
                    all_names = []
            collected.errors[name] = f"{str(error).rstrip('.')}{suggest(name, all_names)}."
            collected.not_found.add(name)
            continue
        except CredentialsError:
            raise  # nothing else can be read either
        except AwsError as error:  # denied, or throttled past every retry: this one only
            collected.errors[name] = str(error)
            collected.failures[name] = error
            continue
        arn = snapshot.arn
        collected.configs.append(config)
        extra = collected.enrichment
        extra.tags[arn] = snapshot.tags
        extra.mappings[arn] = list(snapshot.event_source_mappings)
        extra.async_configs[arn] = snapshot.async_config
        if snapshot.provisioned_concurrency_configs is not None:
            extra.provisioned[arn] = snapshot.provisioned_concurrency_configs
        extra.reserved[arn] = snapshot.reserved_concurrency
        if snapshot.invoked_by is not None:
            extra.invoked_by[arn] = snapshot.invoked_by
        extra.layers.update({layer.arn: layer for layer in snapshot.layers})
    return collected


def _enrich_in_bulk(session: AwsSession, collected: _Collected) -> None:
    extra = collected.enrichment
    try:
        extra.tags = inventory.fetch_tags(session)
    except (ClientError, BotoCoreError) as error:
        sentence = str(translate_error(error, action="read function tags (tag:GetResources)"))
        logger.warning("%s", sentence)
        extra.warnings.append(sentence)
    extra.mappings = inventory.fetch_mappings(session, extra.warnings)
    layer_arns = [
        str(layer["Arn"]) for config in collected.configs for layer in config.get("Layers") or []
    ]
    extra.layers = inventory.fetch_layers(session, layer_arns, extra.warnings)


def _per_function_call(
    what: str,
    name: str,
    collected: _Collected,
    call: Callable[[], T],
    region: str,
    *,
    denied_is_unreadable: bool = True,
) -> tuple[bool, T | None]:
    """One per-function read: (succeeded, value). Access denied marks the function unreadable
    (unless ``denied_is_unreadable`` is False, for optional extras such as its logs); other
    failures, including throttling that outlived the retries, leave the figure unknown."""
    try:
        return True, call()
    except (ClientError, BotoCoreError) as error:
        sentence = str(translate_error(error, action=what, function=name, region=region))
        if denied_is_unreadable and is_access_denied(error):
            collected.errors[name] = sentence
        else:
            level = logging.WARNING if is_throttling(error) else logging.INFO
            logger.log(level, "%s", sentence)
            collected.enrichment.warnings.append(sentence)
        return False, None


def _enrich_where_metrics_say(
    session: AwsSession, collected: _Collected, figures: MetricsResult, direct: bool
) -> None:
    if direct:  # the single-function path already read all of it
        return
    extra = collected.enrichment
    for config in collected.configs:
        name = str(config["FunctionName"])
        arn = inventory.unqualified_arn(str(config["FunctionArn"]))
        seen = figures.for_function(name)
        if seen.get("async_events_received", 0) > 0:
            read, async_config = _per_function_call(
                f"read the async invoke config of {name}",
                name,
                collected,
                functools.partial(inventory.fetch_async_config, session, name),
                session.region,
            )
            if read:
                extra.async_configs[arn] = async_config
        if "provisioned_concurrency_utilization_max" in seen:
            read, provisioned = _per_function_call(
                f"read provisioned concurrency of {name}",
                name,
                collected,
                functools.partial(inventory.fetch_provisioned, session, name),
                session.region,
            )
            if read and provisioned is not None:
                extra.provisioned[arn] = provisioned


def _log_stats(
    session: AwsSession,
    collected: _Collected,
    figures: MetricsResult,
    options: ScanOptions,
    start: datetime,
    end: datetime,
) -> dict[str, LogStats]:
    """Log statistics by function name, for functions that ran in the window."""
    groups: dict[str, list[str]] = {}
    busy: list[tuple[float, str]] = []
    for config in collected.configs:
        name = str(config["FunctionName"])
        invocations = figures.for_function(name).get("invocations")
        if invocations == 0:
            continue
        groups.setdefault(inventory.log_group_of(config), []).append(name)
        weight = (invocations or 0.0) * float(config.get("MemorySize") or 128)
        busy.append((weight, name))
    # A log group shared by several functions (LoggingConfig) cannot be split between them.
    owner = {group: names[0] for group, names in groups.items() if len(names) == 1}
    if not owner:
        return {}
    runner = insights.InsightsRunner(
        session,
        max_wait_s=options.insights_max_wait_s,
        poll_interval_s=options.insights_poll_interval_s,
    )
    # A scan of the whole region reads the default log groups with one SOURCE query.
    prefix = None if options.function_names else DEFAULT_LOG_GROUP_PREFIX
    found = runner.run(sorted(owner), options.log_start(start, end), end, source_prefix=prefix)
    collected.enrichment.warnings.extend(found.warnings)
    if not found.unavailable:
        for group, reason in sorted(found.denied.items()):
            if group in owner:
                sentence = (
                    f"The log figures of {owner[group]} are unknown: tunebot may not query its "
                    f"log group {group} with Logs Insights (grant it with the template's "
                    "LogGroupPrefixes, docs/deploy.md)."
                )
                logger.warning("%s %s", sentence, reason)
                collected.enrichment.warnings.append(sentence)
        stats_by_name = {
            owner[group]: stats for group, stats in found.stats.items() if group in owner
        }
        _add_error_types(session, collected, figures, options, owner, stats_by_name, start, end)
        return stats_by_name
    logger.info("Logs Insights unavailable; sampling the busiest functions' logs instead")
    group_of = {name: group for group, name in owner.items()}
    chosen = [name for _, name in sorted(busy, reverse=True) if name in group_of]
    stats: dict[str, LogStats] = {}
    for name in chosen[: options.log_sample_functions]:
        _, sample = _per_function_call(
            f"read the logs of {name}",
            name,
            collected,
            functools.partial(
                sampling.sample_log_group, session, group_of[name], start=start, end=end
            ),
            session.region,
            denied_is_unreadable=False,
        )
        if sample is not None:
            stats[name] = sample
    return stats


def _add_error_types(
    session: AwsSession,
    collected: _Collected,
    figures: MetricsResult,
    options: ScanOptions,
    owner: Mapping[str, str],
    stats_by_name: dict[str, LogStats],
    start: datetime,
    end: datetime,
) -> None:
    """Error types from the logs of the functions with the most failed invocations, with one
    more Insights query over at most ``ERROR_TYPE_LOG_GROUPS`` log groups (one batch, so a
    few calls whatever the fleet's size), over the same window as the REPORT statistics.
    Functions without a failed invocation, or beyond the cut, keep their error types unknown."""
    failing = [
        (figures.for_function(name).get("errors"), group)
        for group, name in owner.items()
        if name in stats_by_name and figures.for_function(name).get("errors") != 0
    ]
    # Unknown error counts come after known ones: they may be zero.
    failing.sort(key=lambda item: (item[0] is None, -(item[0] or 0.0), item[1]))
    wanted = [group for _, group in failing[:ERROR_TYPE_LOG_GROUPS]]
    if not wanted:
        return
    runner = error_types.error_types_runner(
        session,
        max_wait_s=options.insights_max_wait_s,
        poll_interval_s=options.insights_poll_interval_s,
    )
    found = runner.run(wanted, start, end)
    collected.enrichment.warnings.extend(found.warnings)
    if found.unavailable:
        return
    for group in wanted:
        if group in found.failed:
            continue
        name = owner[group]
        counts = found.stats.get(group, {})
        stats_by_name[name] = stats_by_name[name].model_copy(
            update={"top_error_types": top_error_types(counts)}
        )


def stats_for_function(
    window_days: float, figures: Mapping[str, float], logs: LogStats | None
) -> FunctionStats:
    """CloudWatch figures plus what the REPORT lines say; duration percentiles come from the
    logs only when CloudWatch has not all three, and ``duration_percentiles_source`` says
    which it was."""
    fields: dict[str, Any] = dict(figures_as_stats_fields(figures))
    from_metrics = all(key in fields for key in PERCENTILE_FIELDS)
    if from_metrics:
        fields["duration_percentiles_source"] = FigureSource.METRICS
    if logs is not None and logs.sample_size > 0:
        fields.update(logs.as_stats_fields())
        from_logs = logs.duration_percentiles()
        # CloudWatch gives no percentiles for some functions (and an emulator none at all):
        # the REPORT lines already read give all three, from one consistent set of records,
        # rather than a mix of the two sources.
        if not from_metrics and all(key in from_logs for key in PERCENTILE_FIELDS):
            fields.update(from_logs)
            fields["duration_percentiles_source"] = FigureSource.LOGS
    return FunctionStats(window_days=window_days, **fields)


def scan_region(
    session: AwsSession,
    options: ScanOptions | None = None,
    *,
    scanner: PackageScanner | None = None,
) -> FleetSnapshot:
    """One account and region. Raises AwsError only when functions cannot be listed at all."""
    return _scan(session, options or ScanOptions(), scanner)[0]


def _scan(
    session: AwsSession, opts: ScanOptions, scanner: PackageScanner | None
) -> tuple[FleetSnapshot, set[str], dict[str, AwsError]]:
    """The fleet, the requested names that do not exist, and what reading the others raised."""
    start, end = opts.window()
    direct = bool(opts.function_names) and len(set(opts.function_names)) <= DIRECT_READ_LIMIT
    collected = _collect_configs(session, opts)
    if not direct:
        _enrich_in_bulk(session, collected)
    names = [str(config["FunctionName"]) for config in collected.configs]
    group_of = {
        str(config["FunctionName"]): inventory.log_group_of(config) for config in collected.configs
    }
    groups = log_groups.describe_log_groups(session, group_of.values())
    collected.enrichment.warnings.extend(groups.warnings)
    figures = metrics.collect_metrics(
        session, names, start=start, end=end, now=opts.now or end, log_groups=group_of
    )
    collected.enrichment.warnings.extend(figures.warnings)
    writers: dict[str, set[str]] = {}
    for name, group in group_of.items():
        writers.setdefault(group, set()).add(name)
    _enrich_where_metrics_say(session, collected, figures, direct)
    logs = _log_stats(session, collected, figures, opts, start, end)
    packages = scanner or PackageScanner()
    functions: list[FunctionSnapshot] = []
    for config in collected.configs:
        name = str(config["FunctionName"])
        if name in collected.errors:
            continue
        native = None
        # An idle function saves nothing on arm64: its package is not worth a download.
        if opts.scan_packages and figures.for_function(name).get("invocations") != 0:
            _, native = _per_function_call(
                f"download the package of {name}",
                name,
                collected,
                functools.partial(packages.scan, session, config),
                session.region,
            )
            if name in collected.errors:
                continue
        try:
            snapshot = inventory.snapshot_from_config(
                config, region=session.region, enrichment=collected.enrichment
            )
            stats = stats_for_function(opts.window_days, figures.for_function(name), logs.get(name))
            group = group_of[name]
            others = writers[group] - {name}
            # A shared group's bytes cannot be split between its functions: unknown for each.
            ingested = None if others else figures.log_group_bytes.get(group)
            stats = stats.model_copy(
                update={"log_ingested_bytes": None if ingested is None else round(ingested)}
            )
            raw_group = groups.groups.get(group)
            if raw_group is not None:
                snapshot = snapshot.model_copy(
                    update={"log_group_info": log_groups.log_group_info(raw_group, others)}
                )
        except (ValidationError, ValueError, KeyError, TypeError) as error:
            # A configuration this version of tunebot cannot model (a new architecture or
            # package type, say) costs that function, not the scan.
            logger.warning("cannot model %s: %r", name, error)
            collected.errors[name] = (
                f"tunebot could not interpret the configuration of {name}: {type(error).__name__}."
            )
            continue
        functions.append(snapshot.model_copy(update={"stats": stats, "native_binaries": native}))
    account_id = functions[0].account_id if functions else session.account_id
    for warning in dict.fromkeys(collected.enrichment.warnings):
        logger.debug("scan warning: %s", warning)
    fleet = FleetSnapshot(
        collected_at=end,
        window_start=start,
        window_end=end,
        account_id=account_id,
        region=session.region,
        functions=tuple(functions),
        errors=collected.errors,
    )
    return fleet, collected.not_found, collected.failures


def scan_function(
    name: str, session: AwsSession, options: ScanOptions | None = None
) -> FunctionSnapshot:
    """One function with its statistics (``/tune fn``). Raises FunctionNotFoundError & co."""
    opts = options or ScanOptions()
    single = dataclasses.replace(opts, function_names=(name,))
    fleet, not_found, failures = _scan(session, single, None)
    if fleet.functions:
        return fleet.functions[0]
    message = fleet.errors.get(name, f"Function '{name}' could not be read.")
    if name in not_found:
        raise FunctionNotFoundError(message)
    # Throttling or AWS failing is raised as it was, so callers can retry (the alert handlers
    # leave it to Lambda); only a refusal means the function cannot be read.
    if name in failures and not isinstance(failures[name], AccessDeniedError):
        raise failures[name]
    raise AccessDeniedError(message)


def sessions_for(
    targets: Sequence[AccountTarget], regions: Sequence[str], base: AwsSession | None = None
) -> list[AwsSession]:
    """One session per (account, region): ``regions`` (from --region) override the targets'."""
    root = base or AwsSession()
    sessions: list[AwsSession] = []
    for target in targets:
        account = root.assume_role(target.role_arn) if target.role_arn else root
        for region in regions or target.regions or (root.region,):
            sessions.append(account.for_region(region))
    return sessions


def scan_all(
    sessions: Sequence[AwsSession],
    options: ScanOptions | None = None,
    *,
    scanner: PackageScanner | None = None,
) -> list[FleetSnapshot]:
    """One FleetSnapshot per (account, region); the package cache is shared between them."""
    shared = scanner or PackageScanner()
    return [scan_region(session, options, scanner=shared) for session in sessions]


@dataclass
class ScanOutcome:
    """Snapshots of the targets that could be scanned, and one sentence per one that could not
    (keyed ``account-or-role/region``, or the role alone when it could not be assumed)."""

    snapshots: list[FleetSnapshot]
    failures: dict[str, str] = field(default_factory=dict)


def scan_targets(
    targets: Sequence[AccountTarget],
    regions: Sequence[str],
    options: ScanOptions | None = None,
    *,
    base: AwsSession | None = None,
    scanner: PackageScanner | None = None,
) -> ScanOutcome:
    """Every (account, region). One that cannot be scanned (a role that cannot be assumed, a
    region where listing is denied) does not stop the others; when none can be scanned the
    first error is raised, so a single-target scan fails with its own sentence."""
    root = base or AwsSession()
    shared = scanner or PackageScanner()
    outcome = ScanOutcome(snapshots=[])
    first_error: AwsError | None = None
    for target in targets:
        label = target.role_arn or "own account"
        try:
            account = root.assume_role(target.role_arn) if target.role_arn else root
        except AwsError as error:
            first_error = first_error or error
            outcome.failures[label] = str(error)
            continue
        for region in regions or target.regions or (root.region,):
            try:
                outcome.snapshots.append(
                    scan_region(account.for_region(region), options, scanner=shared)
                )
            except AwsError as error:
                first_error = first_error or error
                outcome.failures[f"{label}/{region}"] = str(error)
    if not outcome.snapshots and first_error is not None:
        raise first_error
    return outcome


def merge_snapshots(
    snapshots: Sequence[FleetSnapshot], failures: Mapping[str, str] | None = None
) -> FleetSnapshot:
    """One fleet for reporting. Account and region stay set only when all agree; error keys
    gain an ``account/region/`` prefix when several were scanned, and targets that could not
    be scanned at all are errors too."""
    if not snapshots:
        raise ValueError("nothing to merge")
    if len(snapshots) == 1 and not failures:
        return snapshots[0]
    accounts = {snapshot.account_id for snapshot in snapshots}
    regions = {snapshot.region for snapshot in snapshots}
    errors: dict[str, str] = {}
    for snapshot in snapshots:
        for name, sentence in snapshot.errors.items():
            errors[f"{snapshot.account_id}/{snapshot.region}/{name}"] = sentence
    errors.update(failures or {})
    return FleetSnapshot(
        collected_at=max(snapshot.collected_at for snapshot in snapshots),
        window_start=min(snapshot.window_start for snapshot in snapshots),
        window_end=max(snapshot.window_end for snapshot in snapshots),
        account_id=accounts.pop() if len(accounts) == 1 else None,
        region=regions.pop() if len(regions) == 1 else None,
        functions=tuple(fn for snapshot in snapshots for fn in snapshot.functions),
        errors=errors,
    )
