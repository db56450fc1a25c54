"""Full-text search: a Pagefind index of the built site, offline, re-indexing only what changed.

Pagefind has no incremental mode, and indexing a whole site costs about 2 ms a page (10 s and
over 1 GiB of memory at 5,000 posts), so the index is **sharded**: the indexed pages are split
into small, stable shards, each indexed by its own Pagefind run into ``pagefind/<shard>/``,
and the search page loads them all at once with Pagefind's multisite support (the first shard
is the primary index; the others are passed to ``mergeIndex``, which shares the primary's
WebAssembly and sums the theme filter's counts across shards). Shards are:

* ``pages``: every indexed page that is not a post (About, the accessibility statement…);
* ``posts-<year>``: the posts of one year — a year's set of posts rarely changes once it is
  over, and new posts only ever land in the current one. A year with more than
  ``SHARD_PAGES`` posts is split by a hash of each page's path into a power of two of buckets
  (``posts-2020-1-of-4``…), so no shard costs more than a fraction of a second to index.

The shard of a page depends only on the page itself and how many pages share its year, never
on an earlier build, so a warm build makes the same shards as a cold one.

A manifest (kept by the incremental engine, ``qsite/incremental/engine.py``, in
``.qsite-cache/``) records, for every HTML file of the output, its stamp (size, mtime, inode)
and, if it is indexed, the hash of its bytes; and for every shard the hash of its inputs (its
pages' paths and hashes, the Pagefind binary, the settings) and the stamps of the files it
wrote. The pages a build renders are hashed by the render step while their HTML is in memory
(``digest``); of the others, a rebuild reads only the HTML files whose stamp changed. It
re-indexes only the shards whose inputs changed, and keeps every other shard's files as they
are (same inode, same mtime) — after checking their stamps, so a damaged or hand-edited shard
is indexed again.

Indexing happens before the staged output is committed (see ``write.Stage``): the index files
are staged like any other output, so a failed index leaves the previous site, index and all,
exactly as it was, and a deleted or renamed post's shard is re-indexed without it (or, when it
was the shard's last page, the shard's folder goes the way of every file no longer built).

Pagefind's binary comes from the ``pagefind[bin]`` package on PyPI (found where the
``pagefind`` package's own lookup finds it, which also honours ``PAGEFIND_BINARY_PATH``);
nothing is downloaded at build time. We run the binary's command line, once per changed shard,
over a folder holding that shard's pages reduced to what Pagefind reads of them
(``as_pagefind_reads_it``: the same index for ~15 % less of Pagefind's time), in folders kept
in the cache from build to build (``_check_out``), writing outside the stage and moving its
bundle in with one rename, rather than the package's asyncio service API: a subprocess has an
exit code, a timeout and captured output to quote in an error, whereas the service's reader
task dies silently if the binary crashes, and it reads one reply per 100 ms.

What gets indexed is decided by the templates: only pages with an element marked
``data-pagefind-body`` (post and page bodies; a digest edition's introduction and takeaways),
with ``data-pagefind-filter="Theme"`` on theme chips so readers can search within one theme, and
``data-pagefind-filter="Type:…"`` on each kind of page (Posts, Digest editions, Pages) so they
can search one kind.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qsite.problems import ConfigError, Problem
from qsite.write import DIR_MODE, Stage, Stamp, stamp_of

BUNDLE = "pagefind"  # output subfolder; reserved in urls.RESERVED
LIST = f"{BUNDLE}/shards.json"  # the shards the search page loads, primary first
LINKS = "search-links"  # in the cache's folder: each shard's folder of page links, kept (``_check_out``)
FORMAT = 3  # of the manifest; a change re-indexes everything (2: filters put in order; 3: filter names too)
SHARD_PAGES = 200  # a shard of a year holding more posts is split in two, four, eight…
PAGES_SHARD = "pages"
TIMEOUT_SECONDS = 300
EXCLUDE = ".heading-anchor"  # the "#" links Markdown adds to headings are not words
# Pagefind's user-interface files: the same in every shard's output, so served once, from
# pagefind/ (where the search page loads them), taken from the primary shard's run.
UI_FILES = frozenset(
    {
        "pagefind-ui.js",
        "pagefind-ui.css",
        "pagefind-modular-ui.js",
        "pagefind-modular-ui.css",
        "pagefind-component-ui.js",
        "pagefind-component-ui.css",
        "pagefind-highlight.js",
    }
)
# The search engine itself: only the primary index's copy is ever loaded (merged indexes use
# the primary's WebAssembly), so other shards leave it out.
_RUNTIME = re.compile(r"pagefind\.js|pagefind-worker\.js|wasm\.[^/]*\.pagefind")
_PAGES = re.compile(r"Indexed (\d+) pages?")
# A start tag (quoted attribute values may hold ">"), and a data-pagefind-* attribute in one
# other than -ignore. A post *about* Pagefind quoting one in its text or code is not a tag.
_START = re.compile(rb"""<([A-Za-z][A-Za-z0-9-]*)(?:[^<>"']|"[^"]*"|'[^']*')*>""")
_MARKER = re.compile(rb"\sdata-pagefind-(?!ignore\b)[a-z]")
# What Pagefind may read besides marked elements: the language, the title, the default title
# and image (the first h1 and img).
_ALSO = (
    re.compile(rb"<html\b[^<>]*>", re.IGNORECASE),
    re.compile(rb"<title\b.*?</title>", re.IGNORECASE | re.DOTALL),
    re.compile(rb"<h1\b.*?</h1>", re.IGNORECASE | re.DOTALL),
    re.compile(rb"<img\b[^<>]*>", re.IGNORECASE),
)
_WORD_BYTES = frozenset(bytes([c]) for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_VOID = frozenset(b"area base br col embed hr img input link meta source track wbr".split())
# For ``as_pagefind_reads_it``: what a page holds that is not markup (scripts, styles, comments…),
# where a tag-like text is not a tag; the first h1, each img, and the tags that cannot be nested.
_OPAQUE = re.compile(
    rb"<(?:!--|(script|style|textarea|title|xmp|iframe|noembed|noframes|noscript|template|plaintext)\b)", re.IGNORECASE
)
_CLOSE: dict[bytes, re.Pattern[bytes]] = {}  # element name → its end tag
_H1 = re.compile(rb"<h1\b.*?</h1\s*>", re.IGNORECASE | re.DOTALL)
_IMG = re.compile(rb"""<img\b(?:[^<>"']|"[^"]*"|'[^']*')*>""", re.IGNORECASE)
_DOCUMENT = re.compile(rb"<(?:html|head|body)\b", re.IGNORECASE)

INSTALL_FIX = "install it with: pip install 'pagefind[bin]' (or build with --no-search)"


@dataclass(frozen=True)
class Indexed:
    pages: int  # pages in the index, over all shards
    seconds: float
    shards: tuple[str, ...] = ()  # primary first
    reindexed: tuple[str, ...] = ()  # shards indexed by this build; the others were kept
    manifest: dict[str, Any] = field(default_factory=dict, repr=False)  # to save after commit; {} if unchanged


def made_by_indexer(path: str) -> bool:
    """Whether a site-relative path belongs to the search bundle, which Pagefind writes after
    rendering: ``qsite check`` checks rendered pages in memory, where the bundle is not yet."""
    return path == BUNDLE or path.startswith(BUNDLE + "/")


def find_binary() -> Path:
    """The Pagefind executable, or ConfigError (exit 2): a missing tool is the environment's
    problem, not the editor's content."""
    found = _lookup_binary()
    if found is None or not found.is_file():
        raise ConfigError(
            [Problem("pagefind", None, "the Pagefind binary was not found", INSTALL_FIX)]
        )
    return found


def _lookup_binary() -> Path | None:
    """Where ``pagefind.service.get_executable`` looks, in its order (``PAGEFIND_BINARY_PATH``,
    the ``pagefind_bin_extended`` and ``pagefind_bin`` wheels, then ``PATH``), without importing
    ``pagefind.service``, whose asyncio client costs every build 30–40 ms of imports
    (bench/PROFILE.md) though only its lookup is used. ConfigError if no ``pagefind`` package."""
    import importlib.util

    env = os.environ.get("PAGEFIND_BINARY_PATH")
    if env is not None:
        return Path(env)
    if importlib.util.find_spec("pagefind") is None:
        raise ConfigError(
            [Problem("pagefind", None, "the pagefind package is not installed", INSTALL_FIX)]
        )
    for wheel in ("pagefind_bin_extended", "pagefind_bin"):
        try:
            module = importlib.import_module(wheel)
        except ImportError:
            continue
        try:
            return Path(module.get_executable())
        except (FileNotFoundError, OSError):
            return None
    external = shutil.which("pagefind_extended") or shutil.which("pagefind")
    return Path(external) if external else None


# ---- Which shard a page belongs to ----


def post_years(posts: Iterable[Any]) -> dict[str, int]:
    """Output file → year, for every post (``model.Post``: its ``path`` and ``date``)."""
    from qsite.urls import output_file

    return {output_file(p.path): p.date.year for p in posts}


def buckets_for(count: int) -> int:
    """How many shards a group of ``count`` pages is split into: a power of two, so that when
    a growing year passes a threshold its shards split evenly rather than all reshuffling."""
    if count <= SHARD_PAGES:
        return 1
    return 2 ** math.ceil(math.log2(count / SHARD_PAGES))


@functools.lru_cache(maxsize=1 << 16)  # a build asks twice per post (``Early``, then ``index_stage``)
def _bucket(rel: str, buckets: int) -> int:
    return int.from_bytes(hashlib.sha1(rel.encode()).digest()[:4], "big") % buckets


def assign(pages: Iterable[str], years: Mapping[str, int]) -> dict[str, str]:
    """Indexed output file → shard name: a post by its year, anything else to ``pages``; a
    group bigger than ``SHARD_PAGES`` split by a stable hash of the file's path."""
    groups: dict[str, list[str]] = {}
    for rel in pages:
        year = years.get(rel)
        groups.setdefault(PAGES_SHARD if year is None else f"posts-{year}", []).append(rel)
    shard: dict[str, str] = {}
    for name, members in groups.items():
        n = buckets_for(len(members))
        for rel in members:
            shard[rel] = name if n == 1 else f"{name}-{_bucket(rel, n) + 1}-of-{n}"
    return shard


# ---- What a page gives the index ----


def what_pagefind_reads(html: bytes) -> bytes | None:
    """The parts of a page that can change its entry in the index, or None if it is not
    indexed (no element marked ``data-pagefind-body``).

    A superset, so that no change Pagefind would see is missed: every element carrying a
    ``data-pagefind-*`` attribute (the body, filters, metadata, sort keys) with everything in
    it, plus the ``<html>`` tag (language), ``<title>`` and the first ``<h1>`` and ``<img>``
    (Pagefind's default title and image). The rest of the page — navigation, the related-posts
    list that changes whenever a neighbouring post is edited — is left out, so editing one post
    does not re-index the shards of every post that links to it. An element whose end cannot be
    found runs to the end of the page: more than needed, never less.
    """
    parts: list[bytes] = []
    body = False
    for tag in _marked(html):
        body = body or b"data-pagefind-body" in tag.group(0)
        parts.append(html[tag.start():_element_end(html, tag)])
    if not body:
        return None
    for pattern in _ALSO:
        found = pattern.search(html)
        parts.append(found.group(0) if found else b"")
    return b"\0".join(parts)


def digest(html: bytes) -> str | None:
    """The hash of what Pagefind reads from a page (``what_pagefind_reads``), None if it is
    not indexed. The render step calls it on each page's HTML while it is in memory, so the
    index step need not read the rendered site back from disk (bench/PROFILE.md, C5)."""
    extract = what_pagefind_reads(html)
    return hashlib.sha256(extract).hexdigest() if extract is not None else None


def as_pagefind_reads_it(html: bytes) -> bytes | None:
    """The page reduced to what Pagefind reads of it — the elements ``what_pagefind_reads``
    names, each whole and in the page's order: the ``<html>`` tag, ``<title>``, every element
    marked ``data-pagefind-*`` (the body, filters, metadata), the first ``<h1>`` and every
    ``<img>`` — or None to give Pagefind the whole page.

    Pagefind indexes it exactly as the whole page (same files, byte for byte: checked on the
    example and the 1,000-post sites, and by tests/test_search_reduced.py) for about 15 % less
    of its CPU: a post page is ~20 KB, of which the navigation, scripts and related-post cards
    it never indexes are more than half. A tag-like text in a script, style or comment is no
    tag, for Pagefind as here. None (the whole page, always right) where a part could be
    misread: one that ends within a script, style or comment (a quoted end tag), and a marked
    ``<html>``, ``<head>`` or ``<body>``."""
    opaque = _opaque(html)

    def markup(found: re.Match[bytes]) -> bool:  # not text in a script, style or comment
        return not any(first <= found.start() < last for first, last in opaque)

    spans = [(tag.start(), _element_end(html, tag)) for tag in _marked(html) if markup(tag)]
    if not spans:
        return None
    h1 = next(filter(markup, _H1.finditer(html)), None)
    if h1 is not None:
        spans.append(h1.span())
    spans.extend(img.span() for img in _IMG.finditer(html) if markup(img))
    spans.sort()
    kept: list[list[int]] = []
    for start, end in spans:
        if kept and start < kept[-1][1]:
            kept[-1][1] = max(kept[-1][1], end)
        else:
            kept.append([start, end])
    for first, last in opaque:
        if any(first < end and start < last and not (start <= first and last <= end) for start, end in kept):
            return None
    if any(_DOCUMENT.match(html, start) for start, _ in kept):
        return None
    opening = _ALSO[0].search(html)
    title = _ALSO[1].search(html)
    return b"".join(
        (
            opening.group(0) if opening else b"<html>",
            b"<head>", title.group(0) if title else b"", b"</head><body>\n",
            b"\n".join(html[start:end] for start, end in kept),
            b"\n</body></html>\n",
        )
    )


def _opaque(html: bytes) -> list[tuple[int, int]]:
    """Where ``html`` holds scripts, styles, comments… (what ``<script…>.*?</script>`` or
    ``<!--.*?-->`` would match, left to right), found by their start, each end then by a search
    of its own: a third quicker than one pattern with a lazy ``.*?`` tried at every ``<``."""
    spans: list[tuple[int, int]] = []
    pos = 0
    while (start := _OPAQUE.search(html, pos)) is not None:
        name = start.group(1)
        if name is None:
            close = html.find(b"-->", start.end())
            end = close + 3 if close >= 0 else -1
        else:
            key = name.lower()
            pattern = _CLOSE.get(key) or _CLOSE.setdefault(key, re.compile(rb"</" + key + rb"\s*>", re.IGNORECASE))
            found = pattern.search(html, start.end())
            end = found.end() if found is not None else -1
        if end < 0:  # never closed: no match from here, as the one pattern would have it
            pos = start.start() + 1
            continue
        spans.append((start.start(), end))
        pos = end
    return spans


def _marked(html: bytes) -> Iterator[re.Match[bytes]]:
    """Start tags with a ``data-pagefind-*`` attribute other than -ignore, in order. Found by
    the attribute's text first (a page has a handful), then the tag around it: far quicker than
    matching every tag of the page."""
    pos = 0
    while (i := html.find(b"data-pagefind-", pos)) >= 0:
        pos = i + 1
        if html.startswith(b"ignore", i + 14) and html[i + 20 : i + 21] not in _WORD_BYTES:
            continue  # marks no tag (_MARKER): a post page holds a dozen, on its cards' bylines
        tag = _START.match(html, max(html.rfind(b"<", 0, i), 0))
        if tag is None or tag.end() <= i:
            continue  # in text, not in a tag
        pos = tag.end()
        if _MARKER.search(tag.group(0)):
            yield tag


def _element_end(html: bytes, start: re.Match[bytes]) -> int:
    """Where the element opened by ``start`` ends, counting nested elements of its name."""
    name = start.group(1).lower()
    if name in _VOID or start.group(0).endswith(b"/>"):
        return start.end()
    depth = 1
    for tag in re.compile(rb"<(/?)" + re.escape(name) + rb"\b[^<>]*>", re.IGNORECASE).finditer(html, start.end()):
        depth += -1 if tag.group(1) else 1
        if depth == 0:
            return tag.end()
    return len(html)


# ---- The manifest ----


def _engine(binary: Path) -> str:
    """Everything besides the pages that changes what an index holds."""
    try:
        st = binary.stat()
        fingerprint = f"{st.st_size} {st.st_mtime_ns}"
    except OSError:
        fingerprint = "?"
    return f"qsite-search {FORMAT} {binary} {fingerprint} exclude={EXCLUDE} shard={SHARD_PAGES}"


def valid_manifest(data: object, engine: str, out: Path) -> dict[str, Any]:
    """``data`` if it is the manifest of the last build into ``out`` by this engine, else {} (re-index all)."""
    if not isinstance(data, dict) or data.get("engine") != engine or data.get("out") != str(out):
        return {}
    if not isinstance(data.get("pages"), dict) or not isinstance(data.get("shards"), dict):
        return {}
    return data


def _inputs(engine: str, primary: bool, pages: list[tuple[str, str]]) -> str:
    text = f"{engine}\nprimary={primary}\n" + "".join(f"{rel}\0{hashed}\n" for rel, hashed in pages)
    return hashlib.sha256(text.encode()).hexdigest()  # one call per shard, not one per page


def _source(stage: Stage, rel: str) -> Path:
    """Where a file of the next output is now: staged if written by this build, else in ``out``."""
    return stage.path / rel if stage.files.get(rel) else stage.out / rel


# ---- Indexing ----


def index_stage(
    stage: Stage, years: Mapping[str, int], previous: object, jobs: int = 1,
    digests: Mapping[str, str | None] | None = None, links: Path | None = None, early: Early | None = None,
) -> Indexed:
    """Index the HTML files staged for the next output (``stage.files``) into ``pagefind/``
    inside the same stage: unchanged shards are kept, changed ones indexed again (``jobs`` at
    a time). ``years``: output file → year for posts. Returns the manifest to save once the
    stage is committed; ``previous`` is the last build's manifest as the engine kept it (None,
    or anything but a manifest of this engine and output folder, re-indexes everything).
    ``digests``: output file → ``digest`` of its HTML, for the pages the render step wrote
    (hashed there, from memory); any other HTML file is known by its stamp from the last
    manifest, or read from disk. ``links``: where the shards' folders of page links are kept
    between builds (``_check_out``), None to make them afresh each time. ``early``: the shards
    begun while the site rendered (``Early``), whose runs are taken where they fit."""
    start = time.perf_counter()
    binary = find_binary()
    engine = _engine(binary)
    old = valid_manifest(previous, engine, stage.out)
    old_pages: dict[str, Any] = old.get("pages", {})
    old_shards: dict[str, Any] = old.get("shards", {})

    pages: dict[str, list[Any]] = {}
    bodies: dict[str, str] = {}  # indexed file → hash of what Pagefind reads from it
    rendered = digests or {}
    for rel in list(stage.files):
        if not rel.endswith(".html") or made_by_indexer(rel):
            continue
        stamp: Stamp | None = stage.stamps.get(rel)
        if rel in rendered:
            hashed = rendered[rel]
        else:
            known = old_pages.get(rel)
            if stamp is not None and isinstance(known, list) and tuple(known[:3]) == stamp:
                hashed = known[3]
            else:
                source = _source(stage, rel)
                try:
                    hashed = digest(source.read_bytes())
                except OSError as exc:
                    raise ConfigError(
                        [Problem(str(source), None, f"cannot read for indexing: {exc.strerror}")]
                    ) from None
                stamp = stamp or stamp_of(source)
        if stamp is not None:
            pages[rel] = [*stamp, hashed]
        if hashed:
            bodies[rel] = hashed

    members: dict[str, list[str]] = {}
    for rel, name in assign(bodies, years).items():
        members.setdefault(name, []).append(rel)
    names = sorted(members)  # "pages" sorts before "posts-…": the primary when there is one
    shards: dict[str, dict[str, Any]] = {}
    todo: list[tuple[str, str]] = []
    for name in names:
        inputs = _inputs(engine, name == names[0], [(rel, bodies[rel]) for rel in sorted(members[name])])
        previous = old_shards.get(name)
        if (
            isinstance(previous, dict)
            and previous.get("inputs") == inputs
            and isinstance(previous.get("files"), dict)
            and stage.keep_all({rel: tuple(st) for rel, st in previous["files"].items()})
        ):
            shards[name] = previous
        else:
            todo.append((name, inputs))

    if todo:
        shards.update(_reindex(stage, binary, todo, members, names[0], jobs, links, early, bodies))
    listing = {"format": FORMAT, "shards": names}
    stage.put(LIST, (json.dumps(listing, indent=1) + "\n").encode())
    manifest = {"format": FORMAT, "engine": engine, "out": str(stage.out), "pages": pages, "shards": shards}
    if manifest == old:
        manifest = {}  # nothing to save
    return Indexed(
        pages=sum(int(shards[n]["pages"]) for n in names),
        seconds=time.perf_counter() - start,
        shards=tuple(names),
        reindexed=tuple(name for name, _ in todo),
        manifest=manifest,
    )


def _reindex(
    stage: Stage,
    binary: Path,
    todo: list[tuple[str, str]],
    members: Mapping[str, list[str]],
    primary: str,
    jobs: int,
    links: Path | None = None,
    early: Early | None = None,
    bodies: Mapping[str, str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Run Pagefind once per shard, over a folder of hard links to its pages (``_link``), then
    move each shard's bundle into the stage (``pagefind/<shard>/``) with one rename: its files
    are taken in where they are (``Stage.adopt``), never read back and written again
    (bench/PROFILE.md, C1). Pointing Pagefind at the stage itself with a ``--glob`` of the
    shard's pages (no links) was measured and costs Pagefind more CPU than the links save:
    it walks every staged file and matches each against the glob. A shard ``early`` began
    indexing while the site rendered, with these very pages (``bodies``: their hashes), is not
    run again."""
    work = stage.scratch(".search-")  # beside the staged files, never in the output's parent
    try:

        def run(name: str, inputs: str) -> tuple[int, Path]:
            begun = None
            if early is not None and bodies is not None:
                begun = early.take(name, [(rel, bodies[rel]) for rel in members[name]])
            if begun is not None:
                return begun.result(), early.work / f"{name}.bundle"  # type: ignore[union-attr]
            return _index_shard(stage, binary, name, members[name], work, links), work / f"{name}.bundle"

        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            runs = list(pool.map(run, *zip(*todo, strict=True)))
        done: dict[str, dict[str, Any]] = {}
        os.makedirs(stage.path / BUNDLE, exist_ok=True)
        for (name, inputs), (count, bundle) in zip(todo, runs, strict=True):
            os.rename(bundle, stage.path / BUNDLE / name)  # one rename, whatever it holds
            done[name] = {"inputs": inputs, "pages": count, "files": _adopt_bundle(stage, name, name == primary)}
        return done
    except OSError as exc:
        raise ConfigError(
            [Problem(str(work), None, f"cannot prepare the search index: {exc.strerror or exc}",
                     "check the output folder's permissions and free disk space")]
        ) from None
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _index_shard(stage: Stage, binary: Path, name: str, pages: list[str], work: Path, links: Path | None) -> int:
    """Index shard ``name``'s ``pages`` into ``work/<name>.bundle``, from a folder of them
    (kept in ``links`` between builds: ``_check_out``); returns how many pages Pagefind indexed.
    They are linked in the order given: Pagefind numbers pages in the order it lists them,
    which some file systems (tmpfs) give in the order the files were made."""
    bundle = work / f"{name}.bundle"
    site = _check_out(links, name, work)
    try:
        _link(stage, pages, site)
    except OSError:
        if links is None:
            raise
        os.rename(site, work / f"{name}.spoilt")  # a kept folder someone put a symlink in
        os.mkdir(site)
        _link(stage, pages, site)
    count = _run_pagefind(binary, site, bundle)
    _check_in(site, pages, links, name)
    _order_filters(bundle)
    return count


class Early:
    """The index step begun while the site renders: a posts shard whose pages have all been
    rendered by this build starts its Pagefind run at once (``rendered``), in a thread, while
    the rest of the site still renders, so that Pagefind works on a core the render leaves
    idle (at its end, and between its batches) rather than after it. ``index_stage`` then
    decides the shards as it always does, and takes an early run's bundle (``take``) only for
    a shard it would index with exactly those pages and inputs; any other is run there as
    before, so a wrong guess costs time, never a different index.

    Which shard a post's page belongs to is guessed before the render from the posts alone
    (``assign`` over every planned post page, each taken to be indexed); a post page that turns
    out not indexed, or a page kept from the last output, leaves its shard to ``index_stage``.
    Used as a context manager: on exit (the build done or failed) runs not begun are dropped,
    running ones waited for, and their folders removed."""

    def __init__(
        self, stage: Stage, years: Mapping[str, int], previous: object, jobs: int, planned: Iterable[str],
        links: Path | None = None,
    ) -> None:
        self.stage, self.years, self.jobs, self.links = stage, years, jobs, links
        self.binary = find_binary()
        self.engine = _engine(self.binary)
        self.old_shards: dict[str, Any] = valid_manifest(previous, self.engine, stage.out).get("shards", {})
        self.shard_of = assign([rel for rel in planned if rel in years], years)
        self.members: dict[str, list[str]] = {}
        for rel, name in self.shard_of.items():
            self.members.setdefault(name, []).append(rel)
        self.waiting = {name: len(pages) for name, pages in self.members.items()}
        self.digests: dict[str, str] = {}
        self.runs: dict[str, tuple[list[tuple[str, str]], Future[int]]] = {}  # name → its pages, their run
        self.work = stage.scratch(".search-early-")  # its runs' bundles, until taken
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> Early:
        self._pool = ThreadPoolExecutor(max_workers=max(1, self.jobs))
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        shutil.rmtree(self.work, ignore_errors=True)

    def stop(self) -> None:
        """Drop the runs not begun and wait for those under way, so that none is left writing
        into the stage: call it before anything abandons the stage (``Stage.failed``)."""
        for _, begun in self.runs.values():
            begun.cancel()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def rendered(self, rel: str, hashed: str | None) -> None:
        """Page ``rel`` was rendered and staged by this build; ``hashed``: its ``digest``."""
        name = self.shard_of.get(rel)
        if name is None or self.waiting.get(name, 0) <= 0:
            return
        if hashed is None:  # not indexed after all: the guess was wrong, ``index_stage`` decides
            self.waiting[name] = -1
            return
        self.digests[rel] = hashed
        self.waiting[name] -= 1
        if self.waiting[name] > 0:
            return
        pages = [(page, self.digests[page]) for page in self.members[name]]  # in ``index_stage``'s order
        kept = self.old_shards.get(name)
        if isinstance(kept, dict) and kept.get("inputs") == _inputs(self.engine, False, sorted(pages)):
            return  # likely kept as it is: ``index_stage`` checks its files
        assert self._pool is not None, "Early is used as a context manager"
        begun = self._pool.submit(
            _index_shard, self.stage, self.binary, name, self.members[name], self.work, self.links
        )
        self.runs[name] = (pages, begun)

    def take(self, name: str, pages: list[tuple[str, str]]) -> Future[int] | None:
        """The early run of shard ``name``, if it indexed exactly ``pages`` (file, ``digest``),
        in that order: the order Pagefind numbers them in, on file systems that list files in
        the order they were made (tmpfs). Whether the shard is the primary one changes nothing
        Pagefind writes (``_adopt_bundle`` decides what is kept of it), so it is not compared."""
        run = self.runs.pop(name, None)
        if run is None:
            return None
        if run[0] == pages:
            return run[1]
        run[1].cancel()  # guessed wrong: its folders (in ``work``) go on exit; it uses no kept one meanwhile
        wait([run[1]])
        return None


def _check_out(links: Path | None, name: str, work: Path) -> Path:
    """An empty folder (no file in it, at any depth) in ``work`` to link shard ``name``'s pages
    into: the one the last run of this shard left in ``links`` (``_check_in``), moved here
    with one rename, or a new one.

    Why keep it: a shard's pages sit one folder each (``posts/<slug>/index.html``), and
    removing those folders after every run cost more than the rest of qsite's side of the
    index — on a disk mounted with ``discard``, as here, each ``rmdir`` waits ~1 ms for the
    device (a one-post edit of 5,000 posts: 139 folders, 0.1–0.3 s of wall time under load).
    Kept, its folders are made once. Moved out while in use, so two builds at once never share
    one, and one killed mid-run leaves it in its scratch folder, removed with the stage."""
    site = work / f"{name}.site"
    if links is not None and _real_folder(links):
        try:
            os.rename(links / name, site)
        except OSError:
            pass  # none kept (the first run, another build has it) or not on the stage's disk
        else:
            if stat.S_ISDIR(os.lstat(site).st_mode):
                return site
            os.unlink(site)  # a symlink put there: never linked through
    os.mkdir(site)
    return site


def _check_in(site: Path, pages: list[str], links: Path | None, name: str) -> None:
    """Unlink ``pages`` from ``site`` and, if nothing is left in it but folders, keep it in
    ``links`` for the next run of shard ``name``; otherwise it goes with the scratch folder."""
    if links is None:
        return
    try:
        _unlink(pages, site)
        # shards check in from parallel threads: another may make ``links`` between a look and a mkdir
        with contextlib.suppress(FileExistsError):
            os.mkdir(links)
        if _real_folder(links):  # never moved through a symlink put in its place
            os.rename(site, links / name)  # fails if another build kept one meanwhile: this one goes
    except OSError:
        pass


def _real_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _link(stage: Stage, pages: list[str], site: Path) -> None:
    """``pages`` as Pagefind reads them (``as_pagefind_reads_it``; else hard links, or copies
    where links fail), from wherever each is now: staged, or the previous output's, at the
    same paths as in the site (so result URLs come out right).
    Folders are made where missing and opened without following symlinks, so nothing is
    written outside ``site``."""
    with _Folders(site) as folders:
        for rel in pages:
            folder, _, base = rel.rpartition("/")
            fd = folders.open(folder)
            source = _source(stage, rel)
            page = as_pagefind_reads_it(source.read_bytes())
            if page is not None:
                _write_at(fd, base, page)
                continue
            try:
                os.link(source, base, dst_dir_fd=fd)
            except FileExistsError:  # left by a run that failed before unlinking its pages
                os.unlink(base, dir_fd=fd)
                os.link(source, base, dst_dir_fd=fd)
            except OSError:
                _write_at(fd, base, source.read_bytes())


def _write_at(folder: int, name: str, data: bytes) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o644, dir_fd=folder)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _unlink(pages: list[str], site: Path) -> None:
    """Remove the links ``_link`` made, and only them: the folders stay, for the next run."""
    with _Folders(site, make=False) as folders:
        for rel in pages:
            folder, _, base = rel.rpartition("/")
            os.unlink(base, dir_fd=folders.open(folder))


class _Folders:
    """The folders of a tree, each opened once (``O_NOFOLLOW``, relative to its parent's
    descriptor), made where missing if ``make``; closed on exit."""

    def __init__(self, root: Path, make: bool = True):
        self.make = make
        self.fds: dict[str, int] = {"": os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)}

    def open(self, rel: str) -> int:
        fd = self.fds.get(rel)
        if fd is None:
            parent, _, base = rel.rpartition("/")
            parent_fd = self.open(parent)
            if self.make:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(base, dir_fd=parent_fd)
            fd = self.fds[rel] = os.open(base, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=parent_fd)
        return fd

    def __enter__(self) -> _Folders:
        return self

    def __exit__(self, *exc: object) -> None:
        for fd in self.fds.values():
            os.close(fd)


def _adopt_bundle(stage: Stage, name: str, primary: bool) -> dict[str, list[int]]:
    """Stage what Pagefind wrote into ``pagefind/<name>/`` (one ``scandir`` per folder, one
    ``lstat`` per file, no file read): the user-interface files move up to ``pagefind/``
    from the primary shard and go from the others, as does every other shard's copy of the
    search engine. Returns staged file → stamp, for the manifest."""
    root = os.path.join(stage.path, BUNDLE, name)
    found: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        # Pagefind made this folder under the build's umask (077 in some CI jobs): the output
        # is for a web server, usually another user, so it gets the mode qsite's own have
        if stat.S_IMODE(os.lstat(folder).st_mode) != DIR_MODE:
            os.chmod(folder, DIR_MODE)
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    walk(entry.path, prefix + entry.name + "/")
                else:
                    found.append(prefix + entry.name)

    bundle = os.path.join(stage.path, BUNDLE)
    if stat.S_IMODE(os.lstat(bundle).st_mode) != DIR_MODE:
        os.chmod(bundle, DIR_MODE)
    walk(root, "")
    files: dict[str, list[int]] = {}
    for rel in sorted(found):
        if rel in UI_FILES:
            dest = f"{BUNDLE}/{rel}" if primary else None
        elif _RUNTIME.fullmatch(rel):
            dest = f"{BUNDLE}/{name}/{rel}" if primary else None
        else:
            dest = f"{BUNDLE}/{name}/{rel}"
        if dest is None:
            os.unlink(os.path.join(root, rel))
            continue
        if dest != f"{BUNDLE}/{name}/{rel}":
            os.rename(os.path.join(root, rel), os.path.join(stage.path, dest))
        files[dest] = list(stage.adopt(dest))
    return files


# ---------------------------------------------------------------------------------------------
# Making Pagefind's output the same on every run

_GZ_SIGNATURE = b"pagefind_dcd"  # what Pagefind puts before the data of each gzipped file


def _order_filters(bundle: Path) -> None:
    """Put each filter's values in order, so an index of the same pages is the same bytes.

    Pagefind keeps a filter's values in a Rust ``HashMap``, seeded at random on every run, and
    writes them in that order (a TODO in its ``index/mod.rs`` says so): the filter file, and
    through its hash-derived name the metadata file and ``pagefind-entry.json``, change on
    every clean build of the very same site. The filter file is a small CBOR array (filter
    name, then [value, [page numbers]] pairs); sorting the pairs changes no answer. The new
    files are named as Pagefind names them (its ``full_hash``: SHA-1, each byte in hex without
    zero padding, cut short), and the names are replaced in the metadata and the entry file.
    A file that does not read back as expected is left as Pagefind wrote it.
    """
    renamed: dict[str, str] = {}
    for path in sorted((bundle / "filter").glob("*.pf_filter")):
        data = _gunzip(path.read_bytes())
        try:
            value, end = _cbor_read(data, 0)
        except (IndexError, ValueError):
            continue
        if end != len(data) or _cbor_write(value) != data or not _is_filter_index(value):
            continue  # not the format we know: keep it
        value[1].sort(key=lambda pair: pair[0])
        ordered = _cbor_write(value)
        lang, _, old_hash = path.stem.rpartition("_")
        new_stem = f"{lang}_{_full_hash(ordered)[: len(old_hash)]}"
        path.unlink()  # written again even if in order already: our gzip, not Pagefind's
        (path.parent / f"{new_stem}.pf_filter").write_bytes(_gzip(ordered))
        renamed[path.stem] = new_stem
    if not renamed:
        return
    entry_path = bundle / "pagefind-entry.json"
    entry = entry_path.read_bytes()
    for meta_path in sorted(bundle.glob("pagefind.*.pf_meta")):
        data = _gunzip(meta_path.read_bytes())
        for old, new in renamed.items():
            if old != new:
                data = data.replace(_cbor_write(old), _cbor_write(new))
        data = _order_meta_filters(data)
        old_stem = meta_path.name.removeprefix("pagefind.").removesuffix(".pf_meta")
        lang, _, old_hash = old_stem.rpartition("_")
        new_stem = f"{lang}_{_full_hash(data)[: len(old_hash)]}"
        meta_path.unlink()
        (bundle / f"pagefind.{new_stem}.pf_meta").write_bytes(_gzip(data))
        entry = entry.replace(f'"{old_stem}"'.encode(), f'"{new_stem}"'.encode())
    entry_path.write_bytes(entry)


def _order_meta_filters(data: bytes) -> bytes:
    """The metadata file lists the filters (name, file) in the same random order as their
    values: with more than one filter (Theme and Type) sort them by name too. Data that does
    not read back as expected is returned as it is."""
    try:
        value, end = _cbor_read(data, 0)
    except (IndexError, ValueError):
        return data
    if end != len(data) or _cbor_write(value) != data or not isinstance(value, list) or len(value) < 4:
        return data
    filters = value[3]
    if not (isinstance(filters, list) and all(isinstance(f, list) and f and isinstance(f[0], str) for f in filters)):
        return data
    filters.sort(key=lambda f: f[0])
    return _cbor_write(value)


def _is_filter_index(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], list)
        and all(isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str) for pair in value[1])
    )


def _full_hash(data: bytes) -> str:
    return "".join(f"{byte:x}" for byte in hashlib.sha1(data).digest())  # a name, as Pagefind's


def _gunzip(data: bytes) -> bytes:
    raw = gzip.decompress(data)
    return raw.removeprefix(_GZ_SIGNATURE)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(_GZ_SIGNATURE + data, compresslevel=9, mtime=0)


def _cbor_read(data: bytes, at: int) -> tuple[Any, int]:
    """One CBOR item of the kinds Pagefind's filter files hold: unsigned integers, text and
    definite-length arrays."""
    major, info = data[at] >> 5, data[at] & 0x1F
    at += 1
    if info < 24:
        arg = info
    elif info in (24, 25, 26, 27):
        size = 1 << (info - 24)
        arg = int.from_bytes(data[at : at + size], "big")
        at += size
    else:
        raise ValueError("indefinite length or reserved CBOR item")
    if major == 0:
        return arg, at
    if major == 3:
        return data[at : at + arg].decode("utf-8"), at + arg
    if major == 4:
        items = []
        for _ in range(arg):
            item, at = _cbor_read(data, at)
            items.append(item)
        return items, at
    raise ValueError(f"CBOR major type {major} not expected in a filter file")


def _cbor_head(major: int, arg: int) -> bytes:
    if arg < 24:
        return bytes([major << 5 | arg])
    for info, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if arg < 1 << (8 * size):
            return bytes([major << 5 | info]) + arg.to_bytes(size, "big")
    raise ValueError("integer too large for CBOR")


def _cbor_write(value: Any) -> bytes:
    if isinstance(value, int):
        return _cbor_head(0, value)
    if isinstance(value, str):
        raw = value.encode("utf-8")
        return _cbor_head(3, len(raw)) + raw
    return _cbor_head(4, len(value)) + b"".join(_cbor_write(item) for item in value)


def _run_pagefind(binary: Path, site: Path, bundle: Path) -> int:
    """Index ``site`` into ``bundle``; returns the number of pages Pagefind indexed."""
    try:
        run = subprocess.run(
            [str(binary), "--site", str(site), "--output-path", str(bundle), "--exclude-selectors", EXCLUDE],
            capture_output=True,
            # Pagefind prints UTF-8 whatever the locale; under LANG=C the default would be ASCII
            # and decoding its first "…" would fail the build.
            encoding="utf-8",
            errors="replace",
            timeout=TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ConfigError(
            [
                Problem(
                    "pagefind",
                    None,
                    f"search indexing took longer than {TIMEOUT_SECONDS} s and was stopped",
                    "build with --no-search, and report this",
                )
            ]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(str(binary), None, f"cannot run Pagefind: {exc.strerror or exc}", INSTALL_FIX)]
        ) from None
    output = (run.stdout or "") + (run.stderr or "")
    if run.returncode != 0 or not (bundle / "pagefind-entry.json").is_file():
        tail = " / ".join(line.strip() for line in output.strip().splitlines()[-5:] if line.strip())
        raise ConfigError(
            [
                Problem(
                    "pagefind",
                    None,
                    f"search indexing failed (exit {run.returncode}): {tail or 'no output'}",
                    "build with --no-search to publish without search, and report this",
                )
            ]
        )
    match = _PAGES.search(output)
    return int(match.group(1)) if match else 0
