"""The rules catalogue. Add a rule by writing its class and listing it in ``RULE_CLASSES``."""

from __future__ import annotations

from functools import cache

from recommendations.rules.base import Rule

RULE_CLASSES: tuple[type[Rule], ...] = ()


@cache
def default_rules() -> tuple[Rule, ...]:
    return tuple(rule_class() for rule_class in RULE_CLASSES)
