"""The lines the commands print about a step's result: worded here, printed by ``qsite/cli.py``.

Kept apart from the command table so that a command only wires steps together, and apart from
the steps so that they return values rather than text. Every function is pure: a result in,
lines out. The types are imported for the type checker only, because ``qsite build``'s
no-change shortcut prints through this module without importing the pipeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from qsite.problems import Problem

if TYPE_CHECKING:
    from qsite.build import BuildResult
    from qsite.check import Report
    from qsite.digest import Edition
    from qsite.incremental.fastpath import Record


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def problem_count(problems: Sequence[Problem]) -> str | None:
    """``Found 2 errors and 1 warning.``, or None when there is nothing to count."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    parts = [_plural(errors, "error")] if errors else []
    if warnings:
        parts.append(_plural(warnings, "warning"))
    return f"Found {' and '.join(parts)}." if parts else None


def built(result: BuildResult) -> str:
    """One line: what was written, what was reused, and where the time went."""
    written = result.written
    stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in result.timings.items())
    return (
        f"Built {result.post_count} posts and {result.page_count} pages into {result.out}: "
        f"{written.written if written else 0} files written, {written.unchanged if written else 0} unchanged, "
        f"{result.cache_hits} of {result.pages} pages from the cache ({stages})."
    )


def searched(result: BuildResult) -> str:
    """What the search step did in this build."""
    if result.search_pages is None:
        return NOT_INDEXED
    shards, again = len(result.search_shards), len(result.search_reindexed)
    return f"Search: indexed {result.search_pages} pages in {shards} shards; " + (
        f"re-indexed {again} in {result.timings['search'] * 1000:.0f} ms."
        if again
        else "no page changed, so every shard was kept."
    )


NOT_INDEXED = "Search: not indexed (--no-search)."


def unchanged(last: Record, out: Path, seconds: float, search: bool) -> list[str]:
    """The two lines of a build that the no-change shortcut (``qsite/incremental/fastpath.py``) skipped."""
    return [
        f"Built {last.posts} posts and {last.pages} pages into {out}: 0 files written, {last.files} unchanged, "
        f"{last.planned} of {last.planned} pages from the cache (nothing changed: checked in "
        f"{seconds * 1000:.0f} ms).",
        "Search: no page changed, so the index was kept." if search else NOT_INDEXED,
    ]


NOT_CHECKED = "Links, anchors and images were not checked: fix the problems above first."


def checked(report: Report) -> str:
    """The last line of ``qsite check``."""
    if not report.rendered:
        return NOT_CHECKED
    counts = f"Checked {report.pages} pages and {report.links} internal links"
    return f"{counts}: no problems." if not report.problems else f"{counts}."


STRICT = "Failing because of --strict: warnings count as errors."


def edition_not_ended(edition: Edition) -> str:
    return f"note: {edition.label} has not ended yet, so this edition may still grow"


def edition_files(edition: Edition, out: Path) -> list[str]:
    """Where ``qsite digest`` wrote one edition, and how to send it."""
    return [
        f"The {edition.label} edition: {_plural(edition.count, 'post')}, “{edition.title}”",
        f"  web page:    {out / edition.path / 'index.html'}  ({edition.permalink})",
        f"  email HTML:  {out / edition.email_path}",
        f"  email text:  {out / edition.text_path}",
        f"  send it:     qsite digest {edition.key} --send  (or --eml FILE for a mail client)",
    ]
