"""Write the catalogues (``make docs``): ``python -m handlers.catalogue docs/rules.md`` writes the
rules catalogue; ``--diagnoses docs/alerts.md`` regenerates that page's diagnoses section.

``--check`` writes nothing and exits 1 when the file differs from what the classes generate.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from recommendations.catalogue import CatalogueError, render_catalogue
from recommendations.diagnoses import DIAGNOSIS_CLASSES
from recommendations.diagnoses.catalogue import with_diagnoses
from recommendations.rules import RULE_CLASSES


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m handlers.catalogue", description="Generate the rules catalogue."
    )
    parser.add_argument("output", type=Path, help="markdown file to write, e.g. docs/rules.md")
    parser.add_argument(
        "--diagnoses",
        action="store_true",
        help="regenerate the diagnoses section of the page (e.g. docs/alerts.md) instead",
    )
    parser.add_argument(
        "--check", action="store_true", help="only report whether the file is up to date"
    )
    args = parser.parse_args(argv)
    path: Path = args.output
    try:
        if args.diagnoses:
            if not path.is_file():
                print(f"catalogue: {path} does not exist.", file=sys.stderr)
                return 2
            text = with_diagnoses(path.read_text(encoding="utf-8"), DIAGNOSIS_CLASSES)
        else:
            text = render_catalogue(RULE_CLASSES)
    except CatalogueError as error:
        print(f"catalogue: {error}", file=sys.stderr)
        return 2
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
    count = (
        f"{len(DIAGNOSIS_CLASSES)} diagnoses" if args.diagnoses else f"{len(RULE_CLASSES)} rules"
    )
    print(f"wrote {path} ({count})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
