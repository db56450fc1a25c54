"""The README's field tables, generated from the schemas so help text lives in one place.

Each table sits in README.md between ``<!-- schema: NAME -->`` and ``<!-- end schema -->``;
``python -m qsite.reference README.md`` rewrites them after a field is added or reworded, and
tests/test_schema.py fails while the README and the schemas disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from qsite import authors, comments, config, editions, model, series
from qsite.schema import Schema, markdown_table

SCHEMAS: dict[str, Schema] = {
    "post": model.POST,
    "page": model.PAGE,
    "site.yaml": config.SITE,
    "digest edition": editions.SCHEMA,
    "comment": comments.SCHEMA,
    "author profile": authors.SCHEMA,
    "series": series.SCHEMA,
}

_BLOCK = re.compile(r"(<!-- schema: (?P<name>[^>]+?) -->\n)(?P<table>.*?)(<!-- end schema -->)", re.S)


def tables() -> dict[str, str]:
    """Table name → its Markdown table."""
    return {name: markdown_table(schema) for name, schema in SCHEMAS.items()}


def blocks(text: str) -> dict[str, str]:
    """Table name → the table now in ``text`` (a README)."""
    return {m.group("name"): m.group("table") for m in _BLOCK.finditer(text)}


def rewrite(text: str) -> str:
    """``text`` with every marked table replaced by what the schemas generate."""
    generated = tables()
    return _BLOCK.sub(lambda m: m.group(1) + generated[m.group("name")] + m.group(4), text)


def main(argv: list[str]) -> int:
    path = Path(argv[0] if argv else "README.md")
    path.write_text(rewrite(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
