"""Write the rules catalogue: ``python -m handlers.catalogue docs/rules.md`` (``make docs``).

``--check`` writes nothing and exits 1 when the file differs from what the rules generate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recommendations.catalogue import CatalogueError, render_catalogue
from recommendations.rules import RULE_CLASSES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handlers.catalogue", description="Generate the rules catalogue."
    )
    parser.add_argument("output", type=Path, help="markdown file to write, e.g. docs/rules.md")
    parser.add_argument(
        "--check", action="store_true", help="only report whether the file is up to date"
    )
    args = parser.parse_args(argv)
    try:
        text = render_catalogue(RULE_CLASSES)
    except CatalogueError as error:
        print(f"catalogue: {error}", file=sys.stderr)
        return 2
    path: Path = args.output
    if args.check:
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current != text:
            print(f"catalogue: {path} is stale; run `make docs`.", file=sys.stderr)
            return 1
        return 0
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"catalogue: cannot write {path}: {error.strerror}.", file=sys.stderr)
        return 2
    print(f"wrote {path} ({len(RULE_CLASSES)} rules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
