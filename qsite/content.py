"""Step 2: find the Markdown files under ``content/`` and split each into front matter and body.

This step reads files and nothing else: it does not decide URLs, dates or themes (the model
does) and does not render Markdown (``markup`` does), so the parsing can be tested on strings.
Files that are not Markdown are collected as assets and copied through unchanged.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from qsite import strict_yaml
from qsite.problems import Problem, Problems

FENCE = "---"

EXAMPLE_FRONT_MATTER = "a line '---', then 'title: My post' and 'themes: [staff-wellbeing]', then '---'"


@dataclass(frozen=True)
class SourceDoc:
    """One Markdown file, split. ``rel`` is the path shown to editors (``content/posts/a.md``)."""

    rel: str
    kind: str  # "post" or "page" (later: "digest", "comment")
    meta: dict[str, Any]
    lines: dict[tuple[str | int, ...], int] = field(compare=False)
    body: str
    body_line: int
    front_line: int

    def line(self, *key: str | int) -> int:
        path = tuple(key)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.front_line

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.body.encode()).hexdigest()

    # -- a document read later --

    @classmethod
    def later(cls, rel: str, kind: str, read: Callable[[], SourceDoc]) -> SourceDoc:
        """The document of ``rel``, its front matter and body got from ``read()`` the first time
        one of them is asked for. A rebuild after one edit keeps the validated front matter and
        rendered body of every unchanged file (``qsite/incremental/engine.py``), so it needs
        their documents for little but their path and kind: this spares reading and decoding
        every file's parse (31 MB at 5,000 posts) for the few questions that need one."""
        doc = object.__new__(cls)
        doc.__dict__.update(rel=rel, kind=kind, _read=read)
        return doc

    def __getattr__(self, name: str) -> Any:
        """Only asked for a field not set yet: one of a document made by ``later``."""
        read = self.__dict__.get("_read")
        if read is None or name.startswith("__"):
            raise AttributeError(name)
        full = read()
        self.__dict__.update({f.name: getattr(full, f.name) for f in fields(full)})
        del self.__dict__["_read"]
        return getattr(self, name)


@dataclass(frozen=True)
class Asset:
    """A file copied as is: ``content/images/a.png`` → ``images/a.png``."""

    source: Path
    out: str


def parse_document(rel: str, kind: str, text: str) -> SourceDoc | Problem:
    """Split ``text`` (already decoded) into front matter and body. Pure, for unit tests."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return Problem(
            rel, 1, "the file is empty", f"start it with front matter: {EXAMPLE_FRONT_MATTER}"
        )
    lines = text.split("\n")
    start = 0
    while start < len(lines) and not lines[start].strip():
        start += 1
    if lines[start].rstrip() != FENCE:
        return Problem(
            rel,
            start + 1,
            "the file does not start with front matter",
            f"begin the file with front matter: {EXAMPLE_FRONT_MATTER}",
        )
    end = next((i for i in range(start + 1, len(lines)) if lines[i].rstrip() in (FENCE, "...")), None)
    if end is None:
        return Problem(
            rel,
            start + 1,
            "the front matter that starts here is never closed",
            "add a line '---' after the last front-matter field",
        )
    yaml_text = "\n".join(lines[start + 1 : end])
    try:
        doc = strict_yaml.load(yaml_text, line_offset=start + 1)
    except strict_yaml.YamlProblem as exc:
        return Problem(rel, exc.line, exc.message, exc.fix)
    meta = doc.value
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        return Problem(rel, start + 2, "front matter must be 'key: value' lines", EXAMPLE_FRONT_MATTER)
    body = "\n".join(lines[end + 1 :])
    return SourceDoc(rel, kind, meta, doc.lines, body, end + 2, start + 1)


def read_text(path: Path, rel: str) -> str | Problem:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Problem(rel, None, f"cannot read the file: {exc.strerror}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return Problem(
            rel,
            line,
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on this line)",
            "save it as UTF-8 in your editor (usually File → Save As → Encoding: UTF-8)",
        )


# Folders of content/ and the kind of Markdown each holds. ``pages`` is flat, as the URL scheme is.
KINDS: dict[str, str] = {
    "posts": "post", "pages": "page", "digests": "digest", "comments": "comment", "authors": "author",
    "series": "series",
}


@dataclass
class Loaded:
    docs: list[SourceDoc]
    assets: list[Asset]
    problems: Problems


# Dot-folders of content/ published as they are: domain verification files and security.txt.
PUBLISHED_DOT_FOLDERS = frozenset({".well-known"})
# Dotfiles editors and systems leave everywhere: skipped without a note.
QUIET_DOTFILES = frozenset({".DS_Store", ".gitkeep", ".gitignore"})


def link_problem(root: Path, path: Path) -> Problem | None:
    """The one rule for symlinks among the site's sources (content/ and templates/, static
    files and Jinja templates alike): a link may lead anywhere inside the site's folder except
    ``.git/`` (where a checkout keeps its credentials), and must lead somewhere."""
    target = path.resolve()
    rel = _rel(root, path)
    root = root.resolve()
    if not target.is_relative_to(root):
        return Problem(
            rel,
            None,
            f"this is a link to {target}, outside the site folder; qsite does not follow it",
            "copy the file into the site instead of linking to it",
        )
    if ".git" in target.relative_to(root).parts:
        return Problem(
            rel,
            None,
            f"this is a link into .git/ ({target}); qsite never reads .git/",
            "remove the link; copy what you need into the site instead",
        )
    if not target.exists():
        return Problem(rel, None, "this link points to nothing")
    return None


def walk(
    root: Path, top: Path, problems: Problems, *, dotfiles: bool = False, links: list[Path] | None = None
) -> list[Path]:
    """Every file below ``top``, sorted; symlinks breaking ``link_problem``'s rule are refused
    by name. Names starting with a dot are skipped; with ``dotfiles`` (content/), the top
    level's ``.well-known/`` is walked too and every other one skipped is named in a warning.
    ``links``: every symlink met (followed or refused) is added to it."""
    found: list[Path] = []
    seen: set[Path] = set()

    def visit(folder: Path, depth: int) -> None:
        real = folder.resolve()
        if real in seen:
            return
        seen.add(real)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            problems.add(_rel(root, folder), None, f"cannot read the folder: {exc.strerror}")
            return
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith(".") and not (dotfiles and depth == 0 and entry.name in PUBLISHED_DOT_FOLDERS):
                if dotfiles and entry.name not in QUIET_DOTFILES:
                    problems.add(
                        _rel(root, path),
                        None,
                        "skipped: names starting with a dot are not published (only content/.well-known/ is)",
                        "rename it without the dot if it belongs on the site",
                        severity="warning",
                    )
                continue
            if entry.is_symlink():
                if links is not None:
                    links.append(path)
                problem = link_problem(root, path)
                if problem is not None:
                    problems.items.append(problem)
                    continue
            if entry.is_dir():
                visit(path, depth + 1)
            elif entry.is_file():
                found.append(path)

    if top.is_symlink():
        if links is not None:
            links.append(top)
        problem = link_problem(root, top)
        if problem is not None:
            problems.items.append(problem)
            return found
    if top.is_dir():
        visit(top, 0)
    return found


def _rel(root: Path, path: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


@dataclass
class Found:
    """What ``find_content`` saw: Markdown to parse as (file, rel, kind), and assets to copy."""

    sources: list[tuple[Path, str, str]]
    assets: list[Asset]
    problems: Problems
    # content/ reaches files through symlinks: a change to them shows in no event of content/'s
    # watch, so ``qsite serve`` cannot trust its watcher alone (``Engine.found``)
    linked: bool = False


def find_content(root: Path, kinds: dict[str, str] | None = None) -> Found:
    """Every file under ``root/content``, sorted into Markdown of a known folder and assets,
    without reading them: the build parses the Markdown in parallel, or takes it from its cache.
    ``templates/`` is walked too, only for its links: the same rule holds for every source."""
    kinds = kinds or KINDS
    problems = Problems()
    sources: list[tuple[Path, str, str]] = []
    assets: list[Asset] = []
    content = root / "content"
    links: list[Path] = []
    prefix = len(str(content)) + 1  # walk's paths are content's joined with names: cut as text,
    for path in walk(root, content, problems, dotfiles=True, links=links):  # not with pathlib (5,000 files)
        inner = str(path)[prefix:].replace(os.sep, "/")
        rel = f"content/{inner}"
        folder, sep, name = inner.partition("/")
        if not sep:
            folder, name = "", inner
        if os.path.splitext(name)[1].lower() in (".md", ".markdown") and folder not in PUBLISHED_DOT_FOLDERS:
            kind = kinds.get(folder)
            if kind is None:
                problems.add(
                    rel,
                    None,
                    "qsite does not know what this Markdown file is",
                    f"put posts in content/posts/ and pages in content/pages/ (known folders: {', '.join(kinds)})",
                    severity="warning",
                )
                continue
            sources.append((path, rel, kind))
        else:
            assets.append(Asset(path, inner))
    walk(root, root / "templates", problems)
    return Found(sources, assets, problems, linked=bool(links))


def load_file(path: Path, rel: str, kind: str) -> SourceDoc | Problem:
    text = read_text(path, rel)
    return text if isinstance(text, Problem) else parse_document(rel, kind, text)


def load_content(root: Path, kinds: dict[str, str] | None = None) -> Loaded:
    """Read every file under ``root/content``: Markdown of a known folder becomes a SourceDoc."""
    found = find_content(root, kinds)
    docs: list[SourceDoc] = []
    for path, rel, kind in found.sources:
        result = load_file(path, rel, kind)
        if isinstance(result, Problem):
            found.problems.items.append(result)
        else:
            docs.append(result)
    return Loaded(docs, found.assets, found.problems)
