"""Every template under ``bot/templates/`` renders with its example in ``bot.template_examples``.

A template is a partial when another template imports or includes it (``{% from "x.j2" import
…%}``, ``{% import %}``, ``{% include %}``): it has no context of its own and is rendered through
the templates using it. Partials are named with a leading underscore, and only partials are, so
the name says how a file is used; that convention is checked here too. Every other template is a
message or a view and needs an example, rendered through ``bot.rendering`` (which enforces
Slack's block counts) and then validated as Block Kit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import meta

from bot.rendering import TEMPLATES, environment, render, render_blocks, render_view
from bot.template_examples import EXAMPLES
from tests.bot.test_rendering import assert_valid_message, assert_valid_view


def template_names(root: Path) -> list[str]:
    """Every ``.j2`` under ``root``, named as jinja2's loader names it (``dir/name.j2``)."""
    return sorted(path.relative_to(root).as_posix() for path in root.rglob("*.j2"))


def referenced_templates(root: Path) -> set[str]:
    """The templates some template under ``root`` imports or includes."""
    referenced: set[str] = set()
    for name in template_names(root):
        tree = environment().parse((root / name).read_text(encoding="utf-8"))
        referenced.update(ref for ref in meta.find_referenced_templates(tree) if ref is not None)
    return referenced


def is_partial_name(name: str) -> bool:
    return Path(name).name.startswith("_")


def rendered_templates(root: Path) -> list[str]:
    """The templates rendered on their own: all but the partials."""
    partials = referenced_templates(root)
    return [name for name in template_names(root) if name not in partials]


def templates_without_example(root: Path, examples: dict[str, object]) -> list[str]:
    return [name for name in rendered_templates(root) if name not in examples]


def misnamed_templates(root: Path) -> list[str]:
    """Partials without the underscore, and underscore files nothing uses."""
    partials = referenced_templates(root)
    return [name for name in template_names(root) if (name in partials) != is_partial_name(name)]


def test_every_template_has_an_example() -> None:
    assert templates_without_example(TEMPLATES, EXAMPLES) == []


def test_no_example_names_a_missing_template_or_a_partial() -> None:
    existing = template_names(TEMPLATES)
    partials = referenced_templates(TEMPLATES)
    assert [name for name in EXAMPLES if name not in existing] == []
    assert [name for name in EXAMPLES if name in partials] == []


def test_partials_and_only_partials_start_with_an_underscore() -> None:
    assert misnamed_templates(TEMPLATES) == []
    assert {name for name in template_names(TEMPLATES) if is_partial_name(name)}, (
        "bot/templates has no partials: the discovery above has nothing to tell apart"
    )


@pytest.mark.parametrize("template", rendered_templates(TEMPLATES))
def test_the_template_renders_its_example(template: str) -> None:
    context = EXAMPLES[template]()
    if isinstance(render(template, **context), dict):
        view = render_view(template, **context)
        assert view["blocks"], template
        assert_valid_view(view, view["type"])
        assert view["type"] in ("modal", "home")
    else:
        blocks = render_blocks(template, **context)
        assert blocks, template
        assert_valid_message(blocks)


def _write(root: Path, name: str, text: str) -> None:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_a_new_template_without_an_example_is_reported(tmp_path: Path) -> None:
    for name in template_names(TEMPLATES):
        _write(tmp_path, name, (TEMPLATES / name).read_text(encoding="utf-8"))
    _write(tmp_path, "_badge.j2", '{% macro badge(x) %}"{{ x }}"{% endmacro %}')
    _write(
        tmp_path,
        "alerts/new_card.j2",
        '{% from "_badge.j2" import badge %}[{"type": "divider"}, null]',
    )
    assert templates_without_example(tmp_path, EXAMPLES) == ["alerts/new_card.j2"]
    assert misnamed_templates(tmp_path) == []


def test_a_partial_without_an_underscore_is_reported(tmp_path: Path) -> None:
    _write(tmp_path, "badge.j2", '{% macro badge(x) %}"{{ x }}"{% endmacro %}')
    _write(tmp_path, "_unused.j2", "{% macro unused() %}{% endmacro %}")
    _write(tmp_path, "card.j2", '{% from "badge.j2" import badge %}[null]')
    assert misnamed_templates(tmp_path) == ["_unused.j2", "badge.j2"]
    assert templates_without_example(tmp_path, EXAMPLES) == ["_unused.j2"]
