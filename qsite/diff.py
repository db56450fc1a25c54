"""``qsite diff OLD NEW``: which pages a change adds, changes and removes, as Markdown.

Made for the pull-request preview (``.github/workflows/check.yml``): the workflow builds the base
branch and the pull request into two folders and writes this list into the job summary, so a
reviewer who never installed Python sees, by title and address, what the pull request would
publish. It is just as usable locally on any two output folders.

What counts as a difference. Two builds of the same sources are byte for byte the same (tested
in tests/test_diff.py: another folder, another day, a clean or a cached build), so files are
compared by their bytes, with three exceptions, all made by the build rather than the content:

* a feed's ``<generator version=…>`` and a page's ``<meta name="generator">`` change with qsite's
  own version, so a pull request that only upgrades qsite does not "change" every feed;
* a feed's own ``<updated>`` / ``<lastBuildDate>`` (the one before its first entry) follows its
  newest entry, which is compared anyway: where other generators put the build's time there,
  it would otherwise mark every feed changed on every build;
* ``pagefind/`` is the search index, whose file names are hashes of its content: one line says
  whether it changed, instead of a list of hashes.

The one input that legitimately differs between two builds of the same sources is the clock
(an edition in progress, a scheduled post coming due): the workflow pins ``SOURCE_DATE_EPOCH``
once for both builds, so both see the same "now".

Pure apart from reading the two folders: the command (qsite/cli.py) prints the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from qsite.problems import ConfigError, Problem

SEARCH_INDEX = "pagefind"
# qsite's own bookkeeping inside an output folder (qsite/write.py), never part of the site.
_OWN = re.compile(r"^\.qsite-(output$|staging-)")
MAX_ROWS = 100  # per section: a job summary holds at most 1 MiB, and nobody reads 5,000 rows

_GENERATOR = re.compile(rb"<generator\b[^>]*>.*?</generator>|<meta\s+name=\"generator\"[^>]*>", re.S | re.I)
_FEED_HEAD = re.compile(rb"(<updated>[^<]*</updated>|<lastBuildDate>[^<]*</lastBuildDate>)")
_FIRST_ENTRY = re.compile(rb"<entry\b|<item\b")


@dataclass(frozen=True)
class PageChange:
    path: str  # site-relative address: "/posts/a/", "/404.html"
    title: str
    old_title: str | None = None  # when a changed page's title changed too


@dataclass(frozen=True)
class SiteDiff:
    added: tuple[PageChange, ...]
    changed: tuple[PageChange, ...]
    removed: tuple[PageChange, ...]
    other_added: tuple[str, ...]
    other_changed: tuple[str, ...]
    other_removed: tuple[str, ...]
    search_index_changed: bool

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.changed or self.removed
            or self.other_added or self.other_changed or self.other_removed or self.search_index_changed
        )


def compare(old: Path, new: Path) -> SiteDiff:
    """The difference between two output folders; ConfigError (exit 2) if one is missing."""
    missing = [Problem(str(p), None, "there is no such folder", "pass two output folders: qsite diff OLD NEW")
               for p in (old, new) if not p.is_dir()]
    if missing:
        raise ConfigError(missing)
    before, after = _files(old), _files(new)
    pages: dict[str, list[PageChange]] = {"added": [], "changed": [], "removed": []}
    others: dict[str, list[str]] = {"added": [], "changed": [], "removed": []}
    search = False
    for rel in sorted(before.keys() | after.keys()):
        if rel in before and rel in after:
            if _same(before[rel], after[rel], rel):
                continue
            kind = "changed"
        else:
            kind = "added" if rel in after else "removed"
        if rel.split("/", 1)[0] == SEARCH_INDEX:
            search = True
        elif rel.endswith(".html"):
            pages[kind].append(_page(rel, before.get(rel), after.get(rel)))
        else:
            others[kind].append("/" + rel)
    return SiteDiff(
        tuple(pages["added"]), tuple(pages["changed"]), tuple(pages["removed"]),
        tuple(others["added"]), tuple(others["changed"]), tuple(others["removed"]),
        search,
    )


def _files(root: Path) -> dict[str, Path]:
    found = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if _OWN.match(rel) or not path.is_file():
            continue
        found[rel] = path
    return found


def _same(a: Path, b: Path, rel: str) -> bool:
    if a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes():
        return True
    if rel.endswith((".xml", ".html")):
        return _normal(a.read_bytes()) == _normal(b.read_bytes())
    return False


def _normal(data: bytes) -> bytes:
    """The bytes with what the build (not the content) puts in them taken out: see the module."""
    data = _GENERATOR.sub(b"", data)
    first = _FIRST_ENTRY.search(data)
    end = first.start() if first else len(data)
    return _FEED_HEAD.sub(b"", data[:end]) + data[end:]


def address(rel: str) -> str:
    """``posts/a/index.html`` → ``/posts/a/``; ``404.html`` → ``/404.html``."""
    if rel == "index.html":
        return "/"
    if rel.endswith("/index.html"):
        return "/" + rel.removesuffix("index.html")
    return "/" + rel


def _page(rel: str, old: Path | None, new: Path | None) -> PageChange:
    title = page_title(new) if new else page_title(old) if old else ""
    old_title = page_title(old) if old and new else None
    return PageChange(address(rel), title, old_title if old_title not in (None, title) else None)


class _Titles(HTMLParser):
    """The first ``<h1>`` (the page's own title) and the ``<title>`` (the tab's, often with the
    site's name after it), as text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.h1: list[str] | None = None
        self.title: list[str] | None = None
        self.inside: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "h1" and self.h1 is None:
            self.h1, self.inside = [], "h1"
        elif tag == "title" and self.title is None:
            self.title, self.inside = [], "title"

    def handle_endtag(self, tag: str) -> None:
        if tag == self.inside:
            self.inside = None

    def handle_data(self, data: str) -> None:
        if self.inside == "h1" and self.h1 is not None:
            self.h1.append(data)
        elif self.inside == "title" and self.title is not None:
            self.title.append(data)


def page_title(path: Path) -> str:
    parser = _Titles()
    parser.feed(path.read_bytes().decode("utf-8", "replace"))
    parser.close()
    for parts in (parser.h1, parser.title):
        text = " ".join(unescape("".join(parts or [])).split())
        if text:
            return text
    return ""


# ---------------------------------------------------------------------------------------------
# Markdown, for a job summary or a terminal


def markdown(diff: SiteDiff) -> str:
    if diff.empty:
        return "### Pages\n\nNo changes: every page and file is the same in both builds.\n"
    counts = ", ".join(f"{len(items)} {word}" for word, items in
                       (("added", diff.added), ("changed", diff.changed), ("removed", diff.removed)))
    out = ["### Pages", "", f"{counts}.", ""]
    for word, items in (("Added", diff.added), ("Changed", diff.changed), ("Removed", diff.removed)):
        if items:
            out += [f"#### {word} ({len(items)})", "", "| Page | Address |", "| --- | --- |"]
            out += [f"| {_title_cell(p)} | {_code(p.path)} |" for p in items[:MAX_ROWS]]
            if len(items) > MAX_ROWS:
                out.append(f"| … and {len(items) - MAX_ROWS} more | |")
            out.append("")
    others = [(w, f) for w, files in (("added", diff.other_added), ("changed", diff.other_changed),
                                      ("removed", diff.other_removed)) for f in files]
    if others:
        out += [f"<details><summary>Other files: {len(others)} (feeds, images, styles…)</summary>", ""]
        out += [f"- {w}: {_code(f)}" for w, f in others[:MAX_ROWS]]
        if len(others) > MAX_ROWS:
            out.append(f"- … and {len(others) - MAX_ROWS} more")
        out += ["", "</details>", ""]
    if diff.search_index_changed:
        out += ["The search index changed.", ""]
    return "\n".join(out)


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|<>#!~])")


def _text(text: str) -> str:
    """Text as itself in a Markdown table cell: no markup, links or HTML can come through."""
    return _MD_SPECIAL.sub(r"\\\1", text.replace("&", "&amp;")) if text else "*(no title)*"


def _title_cell(page: PageChange) -> str:
    if page.old_title is not None:
        return f"{_text(page.title)} (was: {_text(page.old_title)})"
    return _text(page.title)


def _code(path: str) -> str:
    return "`" + path.replace("`", "%60").replace("|", "\\|") + "`"

