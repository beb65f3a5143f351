"""Hypothesis strategies for the fuzz suite: any JSON value, and real payloads mutated a few
places at a time (a value replaced by one of another type, a key removed, a part wrapped in
an array, text that nests thousands of levels once parsed).

Every test here runs with :data:`FUZZ`: derandomized (the same examples on every run, so CI
is stable), no example database, no deadline (a shared 2-core machine is slow at times), and a
number of examples that keeps the whole suite near a minute.
"""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FUZZ = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text that is JSON nested far deeper than any real payload (json itself cannot write it;
# Hypothesis raises the recursion limit while it runs a test, so the deepest are very deep).
nested_text = st.sampled_from([70, 500, 2000, 20000, 60000]).map(lambda n: "[" * n + "]" * n)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.just(10**400)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=24)
    | st.sampled_from(["", "0", "-1", "1e999", "ALARM", "OK", "AWS/Lambda", "\u00e9\u00e9"])
)

json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)

Path = tuple[str | int, ...]


def paths(value: Any, prefix: Path = ()) -> list[Path]:
    """Every place in ``value`` (the root included), parents before children."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(paths(child, (*prefix, index)))
    return found


def _apply(document: Any, path: Path, operation: str, value: Any) -> Any:
    if not path:
        return value if operation == "replace" else [document]
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if operation == "delete":
        del parent[last]
    elif operation == "wrap":
        parent[last] = [parent[last]]
    else:
        parent[last] = value
    return document


@st.composite
def mutated(draw: st.DrawFn, original: Any, max_changes: int = 3) -> Any:
    """``original`` with one to ``max_changes`` places changed."""
    document = copy.deepcopy(original)
    for _ in range(draw(st.integers(min_value=1, max_value=max_changes))):
        path = draw(st.sampled_from(paths(document)))
        operation = draw(st.sampled_from(["replace", "replace", "delete", "wrap"]))
        value = draw(json_values | nested_text)
        document = _apply(document, path, operation, value)
    return document


# Text that is no payload at all: anything short, or JSON nested far too deep.
garbage_text = st.text(max_size=40) | nested_text
