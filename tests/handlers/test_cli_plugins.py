"""Subcommands from the ``tunebot.commands`` entry points: the sandbox's ``demo`` arrives that
way, the CLI works without any, and a plugin that fails to load costs one line on stderr."""

from __future__ import annotations

import argparse
from importlib.metadata import EntryPoint

import pytest

import handlers.cli as cli

BUILT_IN = ["analyze", "scan", "apply", "undo", "audit", "store", "tune", "verify"]
DEMO = EntryPoint(name="demo", value="sandbox.cli:register", group=cli.COMMANDS_ENTRY_POINT_GROUP)


def _commands(parser: argparse.ArgumentParser) -> list[str]:
    (subparsers,) = (
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
    return list(subparsers.choices)


def test_the_installed_package_declares_the_demo_command() -> None:
    assert DEMO in list(cli.plugin_commands())


def test_the_demo_command_comes_from_its_entry_point(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "plugin_commands", lambda: [DEMO])
    assert _commands(cli.build_parser()) == [*BUILT_IN, "demo"]
    assert capsys.readouterr().err == ""


def test_without_entry_points_the_cli_keeps_its_own_commands(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "plugin_commands", lambda: [])
    assert _commands(cli.build_parser()) == BUILT_IN
    assert cli.main([]) == 2
    captured = capsys.readouterr()
    assert "demo" not in captured.out
    assert captured.err == ""


def test_a_plugin_that_fails_to_import_is_one_line_and_the_rest_still_load(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = EntryPoint(
        name="broken", value="no_such_tunebot_plugin:register", group=cli.COMMANDS_ENTRY_POINT_GROUP
    )
    monkeypatch.setattr(cli, "plugin_commands", lambda: [broken, DEMO])
    assert _commands(cli.build_parser()) == [*BUILT_IN, "demo"]
    assert capsys.readouterr().err == (
        "tunebot: the 'broken' command is left out: no_such_tunebot_plugin:register failed to "
        "load (ModuleNotFoundError: No module named 'no_such_tunebot_plugin').\n"
    )


def test_a_plugin_taking_a_name_already_used_is_left_out(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    again = EntryPoint(name="demo-again", value=DEMO.value, group=cli.COMMANDS_ENTRY_POINT_GROUP)
    monkeypatch.setattr(cli, "plugin_commands", lambda: [DEMO, again])
    assert _commands(cli.build_parser()) == [*BUILT_IN, "demo"]
    err = capsys.readouterr().err
    assert err.startswith("tunebot: the 'demo-again' command is left out: sandbox.cli:register")
    assert "conflicting subparser: demo" in err
    assert err.count("\n") == 1
