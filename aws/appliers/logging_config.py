"""Log format and levels, and X-Ray tracing: ``UpdateFunctionConfiguration`` guarded by the
function's RevisionId, like memory and timeout."""

from __future__ import annotations

from typing import Any

from aws.appliers.base import ApplyContext, ApplyOutcome, ChangeKind, iam_actions_of, request_ids
from aws.appliers.configuration import (
    FUNCTION_CONFIGURATION_ACTIONS,
    check_not_updating,
    check_revision,
    revision_guard,
)
from aws.appliers.errors import ChangeVerificationError, StaleChangeError
from recommendations.changes import LoggingSettings, LogLevelChange, TracingChange
from recommendations.snapshot import LogFormat, LogLevel, TracingMode


def logging_settings(configuration: dict[str, Any]) -> LoggingSettings:
    """The format and levels a configuration reports (AWS omits ``LoggingConfig`` when unset)."""
    logging = configuration.get("LoggingConfig") or {}
    log_format = LogFormat.JSON if logging.get("LogFormat") == "JSON" else LogFormat.TEXT

    def level(key: str) -> LogLevel | None:
        value = logging.get(key)
        return LogLevel(value) if isinstance(value, str) and value in LogLevel.__members__ else None

    if log_format is LogFormat.TEXT:
        return LoggingSettings()
    return LoggingSettings(
        log_format=log_format,
        application_log_level=level("ApplicationLogLevel"),
        system_log_level=level("SystemLogLevel"),
    )


def tracing_mode(configuration: dict[str, Any]) -> TracingMode:
    mode = (configuration.get("TracingConfig") or {}).get("Mode")
    return TracingMode.ACTIVE if mode == TracingMode.ACTIVE.value else TracingMode.PASS_THROUGH


def _logging_config(settings: LoggingSettings, current: dict[str, Any]) -> dict[str, str]:
    """The ``LoggingConfig`` to send: the new format and levels, the current log group kept
    (levels only with JSON: AWS refuses them with the Text format)."""
    config: dict[str, str] = {"LogFormat": settings.log_format.value}
    if settings.log_format is LogFormat.JSON:
        if settings.application_log_level is not None:
            config["ApplicationLogLevel"] = settings.application_log_level.value
        if settings.system_log_level is not None:
            config["SystemLogLevel"] = settings.system_log_level.value
    group = (current.get("LoggingConfig") or {}).get("LogGroup")
    if group:
        config["LogGroup"] = str(group)
    return config


def _matches(wanted: LoggingSettings, found: LoggingSettings) -> bool:
    """Levels left unset in ``wanted`` are whatever AWS defaults them to (INFO)."""
    if wanted.log_format is not found.log_format:
        return False
    for attribute in ("application_log_level", "system_log_level"):
        level = getattr(wanted, attribute)
        if level is not None and getattr(found, attribute) is not level:
            return False
    return True


def _read(context: ApplyContext, name: str, target: str, what: str) -> dict[str, Any]:
    return context.call(
        context.lambda_client.get_function_configuration, f"{what} of {name}", FunctionName=target
    )


def apply_log_level(
    change: LogLevelChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    client = context.lambda_client
    current = _read(context, name, target, "read the configuration")
    check_not_updating(name, current)
    check_revision(name, current, expected_revision_id)
    now = logging_settings(current)
    # A level the change left unset is whatever AWS defaulted it to: the inverse of a change
    # that set only the application level must still match what was applied.
    if not _matches(change.before, now):
        raise StaleChangeError(
            f"The logging of {name} is {now.describe()} now, not the {change.before.describe()} "
            "the recommendation was computed from; nothing was changed. Run the analysis again."
        )
    updated = context.call(
        client.update_function_configuration,
        f"update the logging configuration of {name}",
        FunctionName=target,
        **revision_guard(current),
        LoggingConfig=_logging_config(change.after, current),
    )
    context.wait_until_updated(target)
    after = _read(context, name, target, "read back the configuration")
    found = logging_settings(after)
    if not _matches(change.after, found):
        raise ChangeVerificationError(
            f"AWS accepted the update, but the logging of {name} reads {found.describe()} "
            f"instead of {change.after.describe()}; check the function."
        )
    return ApplyOutcome(
        change=change,
        request_ids=request_ids(current, updated, after),
        revision_before=current.get("RevisionId"),
        revision_id=after.get("RevisionId"),
    )


def apply_tracing(
    change: TracingChange,
    context: ApplyContext,
    *,
    expected_revision_id: str | None = None,
    function_id: str | None = None,
) -> ApplyOutcome:
    name = change.function_name
    target = function_id or name
    client = context.lambda_client
    current = _read(context, name, target, "read the configuration")
    check_not_updating(name, current)
    check_revision(name, current, expected_revision_id)
    now = tracing_mode(current)
    if now is not change.before:
        raise StaleChangeError(
            f"X-Ray tracing of {name} is {now.value} now, not the {change.before.value} the "
            "recommendation was computed from; nothing was changed. Run the analysis again."
        )
    updated = context.call(
        client.update_function_configuration,
        f"update the X-Ray tracing of {name}",
        FunctionName=target,
        **revision_guard(current),
        TracingConfig={"Mode": change.after.value},
    )
    context.wait_until_updated(target)
    after = _read(context, name, target, "read back the configuration")
    if tracing_mode(after) is not change.after:
        raise ChangeVerificationError(
            f"AWS accepted the update, but X-Ray tracing of {name} reads "
            f"{tracing_mode(after).value} instead of {change.after.value}; check the function."
        )
    return ApplyOutcome(
        change=change,
        request_ids=request_ids(current, updated, after),
        revision_before=current.get("RevisionId"),
        revision_id=after.get("RevisionId"),
    )


KINDS: tuple[ChangeKind[Any], ...] = (
    ChangeKind(LogLevelChange, apply_log_level, FUNCTION_CONFIGURATION_ACTIONS),
    ChangeKind(TracingChange, apply_tracing, FUNCTION_CONFIGURATION_ACTIONS),
)
IAM_ACTIONS: tuple[str, ...] = iam_actions_of(KINDS)
