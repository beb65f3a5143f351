"""The ``tunebot`` command. Each area registers its subcommands from its own module.

Subcommand modules import their heavy dependencies inside the command, so ``tunebot --help``
and ``tunebot analyze`` start fast. Other installed packages add subcommands through the
``tunebot.commands`` entry point group (the sandbox adds ``demo``): each entry point names a
``register(subparsers)`` like the modules below, so ``handlers`` never imports them.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from aws.errors import AwsError
from bot.errors import BotError
from recommendations.errors import RecommendationsError
from service.errors import ServiceError

# Each module defines ``register(subparsers)`` and sets ``func(args) -> int`` on its parsers.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "handlers.cli_analyze",
    "handlers.cli_scan",
    "handlers.cli_changes",
    "handlers.cli_tune",
    "handlers.cli_verify",
)

COMMANDS_ENTRY_POINT_GROUP = "tunebot.commands"


class CliError(Exception):
    """A problem the user can fix; the message is printed as is."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def plugin_commands() -> Iterable[EntryPoint]:
    return entry_points(group=COMMANDS_ENTRY_POINT_GROUP)


def _register_plugin(subparsers: Any, entry_point: EntryPoint) -> None:
    # A broken plugin (a missing dependency, a name already taken) must not take the other
    # commands down with it, so any error becomes one line and the command is left out.
    try:
        entry_point.load()(subparsers)
    except Exception as error:
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        print(
            f"tunebot: the {entry_point.name!r} command is left out: {entry_point.value} "
            f"failed to load ({reason}).",
            file=sys.stderr,
        )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tunebot",
        description="Keep AWS Lambda functions fast and cheap: analyse, benchmark, apply.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for entry_point in plugin_commands():
        _register_plugin(subparsers, entry_point)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except CliError as error:
        print(f"tunebot: {error}", file=sys.stderr)
        return error.exit_code
    except (RecommendationsError, AwsError, BotError, ServiceError) as error:
        print(f"tunebot: {error}", file=sys.stderr)
        return 2 if isinstance(error, RecommendationsError) else 1
    except KeyboardInterrupt:
        print("tunebot: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # Run through the imported module so that ``CliError`` raised by subcommands (which import
    # it from ``handlers.cli``) is the class caught here, not a second copy in ``__main__``.
    from handlers.cli import main as imported_main

    sys.exit(imported_main())
