"""``tunebot apply``, ``undo``, ``audit`` and ``store init``: changes and their audit trail.

All of them use the table named by ``TUNEBOT_TABLE`` and the account boto3 resolves
(``AWS_ENDPOINT_URL`` is honoured by boto3 itself). The actor recorded in the audit is
``cli:<login name>``.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from handlers.cli_args import positive_int

if TYPE_CHECKING:
    from aws.store import AuditRecord, StateStore
    from service.changes import ChangeResult, ChangeService

FORMATS = ("table", "json")


def register(subparsers: Any) -> None:
    apply_parser = subparsers.add_parser(
        "apply",
        help="apply a stored recommendation's change",
        description=(
            "Apply the change of a stored recommendation (its id is shown on its card and in "
            "`tunebot scan --format json`). The function is re-read first; if it changed since "
            "the recommendation was computed, nothing is changed."
        ),
    )
    apply_parser.add_argument("recommendation_id", metavar="RECOMMENDATION_ID")
    apply_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    apply_parser.add_argument(
        "--allow-iam-changes",
        action="store_true",
        help="let tunebot grant the function's role sqs:SendMessage on a new failure queue",
    )
    apply_parser.set_defaults(func=run_apply)

    undo_parser = subparsers.add_parser(
        "undo",
        help="undo an applied change",
        description=(
            "Apply the inverse of an applied change, if the function still has the value the "
            "change set."
        ),
    )
    undo_parser.add_argument("change_id", metavar="CHANGE_ID")
    undo_parser.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    undo_parser.set_defaults(func=run_undo)

    audit_parser = subparsers.add_parser(
        "audit",
        help="list applied, failed and undone changes",
        description="List audit records, newest first.",
    )
    audit_parser.add_argument("--function", metavar="NAME", help="only records of function NAME")
    audit_parser.add_argument("--format", choices=FORMATS, default="table", help="output format")
    audit_parser.add_argument(
        "--limit", type=positive_int, default=50, metavar="N", help="at most N records"
    )
    audit_parser.set_defaults(func=run_audit)

    store_parser = subparsers.add_parser("store", help="manage tunebot's DynamoDB tables")
    store_commands = store_parser.add_subparsers(dest="store_command", metavar="COMMAND")
    init_parser = store_commands.add_parser(
        "init",
        help="create the state table and the idempotency table",
        description=(
            "Create the tunebot table (TUNEBOT_TABLE) and the idempotency table "
            "(TUNEBOT_IDEMPOTENCY_TABLE, default tunebot-idempotency) if they do not exist."
        ),
    )
    init_parser.add_argument("--table", metavar="NAME", help="instead of TUNEBOT_TABLE")
    init_parser.add_argument(
        "--idempotency-table", metavar="NAME", help="instead of TUNEBOT_IDEMPOTENCY_TABLE"
    )
    init_parser.set_defaults(func=run_store_init)
    store_parser.set_defaults(func=_store_help(store_parser))


def _store_help(parser: argparse.ArgumentParser) -> Any:
    def show(args: argparse.Namespace) -> int:
        parser.print_help()
        return 2

    return show


def actor() -> str:
    try:
        return "cli:" + getpass.getuser()
    except (KeyError, OSError):  # no login name in some containers
        return "cli:unknown"


def _store() -> StateStore:
    from aws.session import AwsSession
    from aws.store import StateStore

    return StateStore.from_environment(AwsSession().client("dynamodb"))


def _service(store: StateStore, allow_iam_changes: bool = False) -> ChangeService:
    from aws.appliers.base import ApplyContext
    from aws.change_adapters import change_service
    from aws.session import AwsSession

    def context_for_region(region: str) -> ApplyContext:
        # Each function is changed in its own region, whatever the default region is.
        session = AwsSession(region=region)
        return ApplyContext(
            session.client("lambda"),
            session.client("sqs"),
            session.client("iam"),
            allow_iam_changes=allow_iam_changes,
        )

    return change_service(store, context_for_region=context_for_region)


def confirm(question: str, assume_yes: bool, what: str) -> bool:
    """Ask y/N on a terminal. Without a terminal only ``--yes`` may say yes."""
    from handlers.cli import CliError

    if assume_yes:
        return True
    if not sys.stdin.isatty():
        raise CliError(
            f"Refusing to {what} without confirmation: there is no terminal to ask on; "
            "pass --yes to go ahead."
        )
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def _report(result: ChangeResult) -> int:
    stream = sys.stdout if result.ok else sys.stderr
    prefix = "" if result.ok else "tunebot: "
    print(prefix + result.message, file=stream)
    for note in result.notes:
        print(f"  note: {note}", file=stream)
    if result.ok and result.record is not None and result.record.reverts is None:
        print(f"  undo with: tunebot undo {result.record.change_id}")
    return 0 if result.ok else 1


def run_apply(args: argparse.Namespace) -> int:
    from handlers.cli import CliError

    store = _store()
    stored = store.get_recommendation(args.recommendation_id)
    if stored is None:
        raise CliError(
            f"Recommendation {args.recommendation_id} was not found or has expired "
            "(recommendations are kept 14 days); run the analysis again.",
            exit_code=1,
        )
    rec = stored.recommendation
    if rec.change is None:
        raise CliError(
            f"“{rec.title}” is advice without an automatic change; there is nothing to apply.",
            exit_code=1,
        )
    print(f"{rec.title} ({rec.rule_id}, {rec.function} in {rec.region})")
    print(f"  change: {rec.change.describe()}")
    saving = rec.monthly_savings_usd
    if saving is not None and saving >= 0:
        print(f"  expected saving: ${saving:,.2f} a month")
    elif saving is not None:
        # Memory after out-of-memory kills, longer timeouts: paid for on purpose.
        why = f" (for {rec.trade_off.value})" if rec.trade_off is not None else ""
        print(f"  extra cost: ${-saving:,.2f} a month{why}")
    if stored.function is not None and stored.function.cloudformation_stack:
        print(
            f"  warning: {rec.function} is managed by the CloudFormation stack "
            f"{stored.function.cloudformation_stack}; make the same change in its template or "
            "the next deployment reverts it."
        )
    if not confirm("Apply this change?", args.yes, "apply a change"):
        print("Nothing was changed.")
        return 1
    service = _service(store, allow_iam_changes=args.allow_iam_changes)
    return _report(service.apply_recommendation(args.recommendation_id, actor()))


def run_undo(args: argparse.Namespace) -> int:
    from handlers.cli import CliError

    store = _store()
    record = store.get_change(args.change_id)
    if record is None:
        raise CliError(
            f"There is no change {args.change_id}; `tunebot audit` lists the changes.",
            exit_code=1,
        )
    print(f"Change {record.change_id} by {record.actor}: {record.description}")
    print(f"  undo: {record.change.inverse().describe()}")
    if not confirm("Undo this change?", args.yes, "undo a change"):
        print("Nothing was changed.")
        return 1
    return _report(_service(store).undo_change(args.change_id, actor()))


def _audit_row(record: AuditRecord) -> list[str]:
    return [
        record.at.strftime("%Y-%m-%d %H:%M:%S"),
        record.actor,
        record.action.value,
        record.function_name,
        record.result.value,
        record.change_id or "-",
        record.description,
    ]


def render_audit_table(records: list[AuditRecord]) -> str:
    if not records:
        return "No audit records."
    header = ["WHEN (UTC)", "ACTOR", "ACTION", "FUNCTION", "RESULT", "CHANGE", "WHAT"]
    rows = [header, *(_audit_row(record) for record in records)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def run_audit(args: argparse.Namespace) -> int:
    store = _store()
    records = store.recent_audit(limit=args.limit, function=args.function)
    if args.format == "json":
        payload = {"audit": [record.model_dump(mode="json") for record in records]}
        print(json.dumps(payload, indent=2))
    else:
        print(render_audit_table(records))
    return 0


def run_store_init(args: argparse.Namespace) -> int:
    from aws.session import AwsSession
    from aws.store import (
        DEFAULT_IDEMPOTENCY_TABLE,
        IDEMPOTENCY_TABLE_ENV,
        TABLE_ENV,
        create_tables,
    )
    from handlers.cli import CliError

    table = args.table or os.environ.get(TABLE_ENV, "")
    if not table:
        raise CliError(f"{TABLE_ENV} is not set; set it or pass --table NAME.")
    idempotency = (
        args.idempotency_table
        or os.environ.get(IDEMPOTENCY_TABLE_ENV, "")
        or DEFAULT_IDEMPOTENCY_TABLE
    )
    results = create_tables(table, idempotency, client=AwsSession().client("dynamodb"))
    for name, status in results.items():
        verb = "created" if status.value == "created" else "already exists"
        print(f"{name}: {verb}")
    return 0
