"""Writing imported files safely: only under ``content/``, never over an editor's file.

An import is planned whole in memory first (every file's path and text), so malformed input
stops it before anything is written. Then each file is written only if nothing is at its path;
``--force`` replaces a file only when its front matter still carries this importer's marker,
a YAML comment line (``# qsite-import: …``) that the build ignores, so no schema field is
needed and an editor who deletes the line takes the file out of the importer's reach.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qsite import urls
from qsite.problems import ConfigError, Problem
from qsite.urls import slugify

MARKER = "# qsite-import:"
_FILENAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")


@dataclass(frozen=True)
class Raw:
    """A front-matter value written exactly as given (a date, which YAML would quote)."""

    text: str


@dataclass
class Doc:
    """One file to write: ``rel`` from the site folder (``content/posts/…md``), front matter in
    the order given, the Markdown body, and YAML comment lines for the editor."""

    rel: str
    meta: dict[str, Any]
    body: str
    notes: list[str] = field(default_factory=list)


def marker(kind: str, source: str) -> str:
    return f"{MARKER} {kind} {source} (delete this line to keep `qsite import --force` from replacing the file)"


def _value(key: str, value: Any) -> str:
    if isinstance(value, Raw):
        return f"{key}: {value.text}"
    flow = None if isinstance(value, list) else False  # lists of names in brackets, like the docs' examples
    dumped = yaml.safe_dump({key: value}, allow_unicode=True, default_flow_style=flow, sort_keys=False, width=10**6)
    return dumped.rstrip("\n")


def render(doc: Doc, mark: str) -> str:
    """The file's text: ``---``, the marker, each field, the notes as comments, ``---``, body."""
    lines = ["---", mark]
    lines += [_value(key, value) for key, value in doc.meta.items() if value not in (None, "", [], ())]
    lines += [f"# {note}" for note in doc.notes]
    lines.append("---")
    body = doc.body.strip("\n")
    return "\n".join(lines) + "\n" + (body + "\n" if body else "")


def has_marker(path: Path, mark: str | None = None) -> bool:
    """True if the file's front matter has this importer's marker (``mark``: exactly it)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return False
    for line in lines[1:]:
        if line.strip() in ("---", "..."):
            return False
        if line.startswith(MARKER) and (mark is None or line == mark):
            return True
    return False


class Slugs:
    """URL names already taken, so a second post called ``update`` becomes ``update-2`` (and
    keeps its old address as an alias) instead of stopping the build with a collision."""

    def __init__(self, taken: set[str] | None = None):
        self.taken = set(taken or ())

    def claim(self, wanted: str) -> str:
        slug, number = wanted, 2
        while slug in self.taken:
            slug = f"{wanted}-{number}"
            number += 1
        self.taken.add(slug)
        return slug


def existing_slugs(root: Path, folder: str, mark: str) -> set[str]:
    """The URL names of the posts (or pages) already in ``content/<folder>``, except files this
    same import wrote earlier: a second run plans the same names and skips those files. For
    pages, also the addresses qsite keeps for its own pages (``/search/``, ``/tags/`` …)."""
    found: set[str] = set(urls.RESERVED) if folder == "pages" else set()
    top = root / "content" / folder
    if not top.is_dir():
        return found
    for path in top.rglob("*.md"):
        if has_marker(path, mark):
            continue
        stem = path.stem
        dated = _FILENAME_DATE.match(stem)
        found.add(dated.group(2) if dated and folder == "posts" else stem)
        head = path.read_text(encoding="utf-8", errors="replace")[:4000]
        given = re.search(r"^slug:\s*['\"]?([a-z0-9-]+)", head, re.M)
        if given:
            found.add(given.group(1))
    return found


@dataclass
class Written:
    """What writing did: new files, files replaced (``--force``), files left alone and why."""

    written: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept_ours: list[str] = field(default_factory=list)  # ours from an earlier run; --force replaces
    kept_theirs: list[str] = field(default_factory=list)  # an editor's file: never replaced


def check_inside(root: Path, docs: list[Doc]) -> None:
    """Refuse, before writing anything, a path that would leave ``content/``."""
    content = (root / "content").resolve()
    for doc in docs:
        target = (root / doc.rel).resolve()
        if not target.is_relative_to(content) or target == content:
            raise ConfigError([Problem(doc.rel, None, "an imported file would be written outside content/")])


def write_all(root: Path, docs: list[Doc], mark: str, *, force: bool, dry_run: bool = False) -> Written:
    check_inside(root, docs)
    result = Written()
    for doc in docs:
        path = root / doc.rel
        text = render(doc, mark)
        earlier = _same_post_dated_otherwise(path, mark)
        if earlier is not None:  # the same post, imported before under another date
            if not force:
                result.kept_ours.append(earlier.relative_to(root).as_posix())
                continue
            if not dry_run:
                earlier.unlink()
        if path.exists():
            if not has_marker(path):
                result.kept_theirs.append(doc.rel)
                continue
            if not force:
                result.kept_ours.append(doc.rel)
                continue
            if not dry_run:
                tmp = path.with_name(f".{path.name}.qsite-import")
                tmp.write_text(text, encoding="utf-8")
                os.replace(tmp, path)
            result.replaced.append(doc.rel)
            continue
        if not dry_run:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8") as out:  # "x": never over a file that appeared meanwhile
                out.write(text)
        result.written.append(doc.rel)
    return result


def copy_all(root: Path, copies: list[tuple[Path, str]], *, dry_run: bool = False) -> int:
    """Copy the old site's own files (images a post shows) to their ``content/`` paths, where
    the build publishes them at the same address. A file already there is left alone."""
    check_inside(root, [Doc(rel, {}, "") for _, rel in copies])
    count = 0
    for source, rel in copies:
        target = root / rel
        if target.exists():
            continue
        if not dry_run:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        count += 1
    return count


def _same_post_dated_otherwise(path: Path, mark: str) -> Path | None:
    """An earlier import's file for the post at ``path`` under another date: a Jekyll draft is
    dated when its file last changed, which a fresh clone changes. Slugs are unique within one
    import, so the same slug from the same source is the same post."""
    dated = _FILENAME_DATE.match(path.stem)
    if path.parent.name != "posts" or not dated or not path.parent.is_dir():
        return None
    for other in path.parent.glob(f"*-{dated.group(2)}.md"):
        again = _FILENAME_DATE.match(other.stem)
        if other != path and again and again.group(2) == dated.group(2) and has_marker(other, mark):
            return other
    return None


def slug_for(*candidates: str, fallback: str) -> str:
    """The first candidate that makes a URL name, at most 60 characters, cut at a hyphen."""
    for candidate in candidates:
        slug = slugify(candidate or "")
        if slug:
            if len(slug) > 60:
                slug = slug[:60].rsplit("-", 1)[0] or slug[:60]
            return slug
    return fallback
