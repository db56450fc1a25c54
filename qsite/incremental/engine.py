"""The incremental engine: the one place that decides whether earlier work can be reused.

A pipeline step (``qsite/build.py``) hands the engine its work and that work's inputs; the
engine answers from what an earlier build recorded if the inputs are unchanged, else has the
step compute it, records the result, and returns it. No step builds a cache key, hashes a file
or stamps an output itself. What the engine keeps, and where:

* file stamps and hashes, parsed files, rendered Markdown, template dependencies, related posts
  and page keys: ``qsite/incremental/cache.py`` (stores and keys) on ``qsite/incremental/cachefiles.py`` (the JSON
  format, one stamp shape);
* the no-change shortcut's record: ``qsite/incremental/fastpath.py``;
* the search shards' manifest: read and written here, its content made and checked by
  ``qsite/search.py``;
* what ``qsite serve`` keeps between rebuilds: validated front matter and rendered pages, in
  memory only (``Engine.in_memory``).

Three kinds of engine: ``on_disk`` (``qsite build``: ``.qsite-cache/`` and the no-change record),
``in_memory`` (``qsite serve``: kept across rebuilds, never written) and ``throwaway``
(``qsite check``, ``digest --print``, ``--no-cache``: remembers nothing, keys no page).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from itertools import accumulate
from pathlib import Path
from stat import S_ISREG
from typing import Any, Protocol

import jinja2

from qsite import search
from qsite.incremental import fastpath
from qsite.incremental.cache import (
    Cache,
    DataclassCodec,
    Fingerprints,
    PlanRecord,
    TemplateDeps,
    Unfingerprintable,
    keyed,
    meta_codec,
    page_prefix,
    traced_page_key,
)
from qsite.incremental.cachefiles import (
    Stamp,
    Unreadable,
    as_dict,
    as_list,
    as_stamp,
    as_str,
    dump,
    load,
    write_pieces,
)
from qsite.markup import MarkdownError, Rendered, render_markdown
from qsite.problems import Problem, Problems
from qsite.render import Job, Renderer

_HEX64 = re.compile("[0-9a-f]{64}")  # a key of the cache's stores
SEARCH_MANIFEST = "search-index.json"  # in the cache's folder: see qsite/search.py
COPIES = "copies.json"  # in the cache's folder: the copied files' record (``Engine.copies``)
Meta = Any  # qsite.model.Meta: the engine keeps it, never looks inside


class Sink(Protocol):
    """Where rendered pages go: the staging tree (``build``) or memory (``render_site``).

    ``put`` returns a token the engine remembers with the page's key (a file stamp, or the
    page itself); ``keep`` is offered that token on the next build and says whether the page
    it stands for is still there unchanged, in which case the sink keeps it instead."""

    in_memory: bool

    def put(self, index: int, job: Job, data: bytes) -> Any: ...
    def keep(self, index: int, job: Job, token: Any) -> bool: ...


@dataclass
class PageRun:
    """One render step's pages: which to render (``todo``), and the tokens to remember."""

    jobs: Sequence[Job]
    keys: list[str | None]
    todo: list[int]
    tokens: dict[str, tuple[str, Any]]  # output file → (page key, sink token)
    hits: int
    deps: TemplateDeps | None
    record: PlanRecord | None = None  # how these pages were keyed, for the next build
    keyed: int = 0  # pages whose key was computed (the others' came from ``record``)
    carried: bool = False  # decided in bulk from the last record (``Engine._carried``)

    key_inputs: tuple[Any, ...] | None = None  # set: keys are made as pages render (``key``)

    # a cold build's (context fingerprint, trail), from ``key``: the trail is made as each
    # page comes back, so the files its context held (new texts in each page's pickle, ~80
    # MiB at 20,000 posts) are not all held until the render step ends
    traces: list[tuple[str, str] | None] | None = None

    def key(self, index: int) -> tuple[str | None, str, frozenset[str]] | None:
        """The key of ``jobs[index]`` if it is still to be made (a cold build's, made in the
        render worker along with the page), with its context's fingerprint and the files its
        context held (for the engine's record); else None."""
        if self.key_inputs is None:
            return None
        deps, fingerprints, env, config_fp = self.key_inputs
        job = self.jobs[index]
        key, context_fp, tags = traced_page_key(deps, fingerprints, env, config_fp, job.template, job.path, job.context)
        return key, context_fp.hex(), tags

    def rendered(self, index: int, token: Any, traced: tuple[str | None, str, frozenset[str]] | None = None) -> None:
        if traced is not None:
            self.keys[index] = traced[0]
            if self.traces is not None:
                trail = self.record.trail(traced[2]) if self.record is not None and traced[0] is not None else ""
                self.traces[index] = (traced[1], trail) if traced[0] is not None else None
        key = self.keys[index]
        if key is not None and token is not None:
            self.tokens[self.jobs[index].file] = (key, token)

    def templates(self, names: Iterable[str]) -> set[str]:
        """These templates and every one they pull in (to compile before forking)."""
        if self.deps is None:
            return set(names)
        return {member for name in names for member in self.deps.members(name)}


class Engine:
    """What earlier builds made, and the answer to "is it still fresh?" for each step.

    One per build (``on_disk``, ``throwaway``), or one kept across rebuilds (``in_memory``):
    ``begin`` starts each build, and everything a build learns about its own values (the keys
    of its documents, metas and bodies, the fingerprints of its posts) is forgotten there."""

    def __init__(self, cache: Cache, root: Path | None = None, *, keys: bool = True):
        self.cache = cache
        self.root = root  # set: .qsite-cache/ under it is read and written, and the no-change record
        self.keys = keys  # False: no page keys (nothing to reuse pages against)
        self.sources: fastpath.Sources | None = None
        self.notes: list[str] = []  # unreadable records (cachefiles.note); the cache's own are in cache.notes
        self.meta_codec: DataclassCodec = meta_codec(UTC)  # set again for each build's timezone (``begin``)
        self._began = False
        self.base_path = "/"  # set for each build (``begin``): the Markdown's base path
        # id(meta) → (meta, base path, key of its body's rendered Markdown): filled by ``metas``
        # and ``bodies``, kept across builds with the metas themselves (serve)
        self._markdown_keys: dict[int, tuple[Meta, str, str]] = {}
        self._doc_key_memo: dict[tuple[str, str, str], str] = {}  # (file hash, rel, kind) → doc key
        self._fresh_build()

    @classmethod
    def on_disk(cls, root: Path) -> Engine:
        """For ``qsite build``: stats every source now, before any is read, for the no-change record."""
        engine = cls(Cache(), root)
        engine.sources = fastpath.snapshot_sources(root)
        return engine

    @classmethod
    def in_memory(cls) -> Engine:
        """For ``qsite serve``: keep one across rebuilds; nothing is written to disk."""
        return cls(Cache())

    @classmethod
    def throwaway(cls) -> Engine:
        """Remembers nothing (``qsite check``, ``digest --print``, ``--no-cache``)."""
        return cls(Cache(), keys=False)

    def _fresh_build(self) -> None:
        # the last build's posts by key: only an engine kept across builds has any (serve)
        self._last_posts: dict[str, Any] = getattr(self, "_posts", {}) if self.keys else {}
        self._posts: dict[str, Any] = {}
        # (key texts) → derived key, this build's and the last one's (``_derive``)
        self._derived_last: dict[tuple[str, ...], str] = getattr(self, "_derived_now", {}) if self.keys else {}
        self._derived_now: dict[tuple[str, ...], str] = {}
        self.fingerprints = Fingerprints()
        self.config_key = ""
        self._doc_keys: dict[int, str] = {}  # id(doc) → its key
        self._meta_keys: dict[int, str] = {}  # id(meta) → its key: a meta is read from its file and site.yaml only
        self._body_keys: dict[int, str] = {}  # id(meta) → the key of its rendered body
        self._later: set[int] = set()  # id(doc) of the documents read only if asked for (``documents``)
        self._unread_bodies: dict[int, tuple[Meta, Any]] = {}  # id(meta) → (it, its document): body not read yet
        # body → its Markdown, rendered with this build's settings while its file was parsed
        self._ready: dict[str, Rendered | MarkdownError] = {}
        # the plan's inputs fingerprinted with each post and body standing for its file only
        self.shapes = Fingerprints()
        self._tags: dict[str, dict[str, str]] = {}  # content file → {"post"/"body": its key}
        self._fronts: dict[str, tuple[str, str]] = {}  # post's file → (its meta's key, its front key)
        self._plan_inputs: tuple[Any, ...] | None = None
        self.last_run: PageRun | None = None  # this build's render step (tests, bench: how many pages were keyed)
        self._copies_made: dict[str, tuple[str, Stamp]] = {}  # this build's copied files (``copies``)
        self._copies_last: dict[str, tuple[str, Stamp]] | None = None  # the last build's, once read
        self._copies_ran = False  # whether this build's copied files went through ``copies``

    # -- the start of a build, and the no-change shortcut --

    def begin(self, config: Any, options: Any, out: Path | None) -> fastpath.Record | None:
        """Start a build of ``config``. With an output folder and ``options.quick``: the last
        build's record if file stats prove this build would change nothing (then do nothing)."""
        if self._began:  # the sources' stats were taken for the first build only: stale now
            self.sources = None
        self._began = True
        self._fresh_build()
        self.config_key = self.fingerprints.of(config).hex()
        self.meta_codec = meta_codec(config.tz)
        self.base_path = config.base_path
        if self.root is not None and out is not None:
            if options.quick:
                last = fastpath.unchanged(config.root, out, _options_key(options, out), options.now, self.notes)
                if last is not None:
                    return last
            fastpath.forget(config.root)  # recorded again only once this build has succeeded
            self.cache = Cache.open(config.root)
        return None

    @property
    def compiled(self) -> Any:
        return self.cache.compiled

    @property
    def all_notes(self) -> list[str]:
        return self.notes + self.cache.notes

    # -- content: parsed files --

    def documents(
        self, sources: Sequence[tuple[Path, str, str]], parse: Callable[[Any, Any], list[Any]], workers: Any,
        problems: Problems,
    ) -> list[Any]:
        """Each source parsed (``parse`` over chunks, in workers), reused when its bytes are unchanged."""
        cache = self.cache
        docs: list[Any] = [None] * len(sources)
        doc_keys: list[str] = [""] * len(sources)
        to_parse: list[int] = []
        # the stats taken for the no-change record (``on_disk``) answer this too: one stat of
        # each source per build
        taken = self.sources.stats if self.sources is not None else {}
        known_keys, self._doc_key_memo = self._doc_key_memo, {}  # serve: the last build's, by hash
        # serve: a file the watcher saw no event for is as the last build read it (``expect_changes``)
        dirty = self._dirty()
        read = self._hashes if dirty is not None and self._hashes is not None else {}
        hashes: dict[str, str] = {}
        later = cache.docs.persist and cache.validated.persist  # on disk: see ``later_doc``
        for i, (path, rel, kind) in enumerate(sources):
            unread = read.get(rel) if read and rel not in dirty else None  # type: ignore[operator]
            file_hash = unread or cache.known_digest(path, taken.get(rel)) or cache.hash_file(path)
            if file_hash:
                memo = (file_hash, rel, kind)
                doc_keys[i] = known_keys.get(memo) or Cache.doc_key(file_hash, rel, kind)
                self._doc_key_memo[memo] = doc_keys[i]
            if file_hash and later and kind in ("post", "page") and cache.validated.has(
                self._derive("meta", doc_keys[i], self.config_key)
            ):  # its front matter is kept validated (``metas``): its document is read only if asked for
                docs[i] = cache.later_doc(doc_keys[i], path, rel, kind)
                self._later.add(id(docs[i]))
                hashes[rel] = file_hash
                continue
            doc = cache.docs.get(doc_keys[i]) if file_hash else None
            if doc is None:
                to_parse.append(i)
            else:
                docs[i] = doc
                hashes[rel] = file_hash
        parsed = workers.map(parse, [sources[i] for i in to_parse])
        for i, (file_hash, stat, checked, result, *markdown) in zip(to_parse, parsed, strict=True):
            path, rel, kind = sources[i]
            if isinstance(result, Problem):
                problems.items.append(result)
                continue
            if markdown:  # its body rendered along, in the same worker (``bodies`` takes it)
                self._ready[result.body] = markdown[0]
            cache.record_file(path, stat, checked, file_hash)
            doc_keys[i] = Cache.doc_key(file_hash, rel, kind)
            cache.docs.put(doc_keys[i], result)
            docs[i] = result
            hashes[rel] = file_hash
        for doc, key in zip(docs, doc_keys, strict=True):
            if doc is not None:
                self._doc_keys[id(doc)] = key
        self._hashes = hashes
        self._read_again()
        return docs

    def checked(self, docs: Sequence[Any], *checks: Callable[[Any], Iterable[Problem]]) -> list[Problem]:
        """Each of ``checks`` over every parsed document, in that order, each document's
        results reused while its file is unchanged: the warnings that read a whole body (a
        control character, a misspelt callout) cost a pass over every file's text, which a
        rebuild after one edit need not repeat. A check must depend on the document only; the
        checks' qualified names are part of the key."""
        names = _hash_names(f"{check.__module__}.{check.__qualname__}" for check in checks)
        found: list[list[Problem]] = [[] for _ in checks]
        for doc in docs:
            key = self._doc_keys[id(doc)][:48] + names  # already a hash of the file: no hashing per file
            known = self.cache.checks.get(key)
            if known is None or len(known) != len(checks):
                known = tuple(tuple(check(doc)) for check in checks)
                self.cache.checks.put(key, known)
            for results, problems in zip(found, known, strict=True):
                results.extend(problems)
        return [problem for results in found for problem in results]

    # -- qsite serve: only what the watcher saw change --
    # ``qsite serve``'s watcher knows which files changed since the last rebuild began; told so
    # (``expect_changes``), the next build walks content/ and stats and hashes its files only
    # if one of them may have changed, instead of every one of 5,000 files on every save.

    _since: frozenset[str] | None = None  # site paths touched since the last build read its files
    _told = False  # ``expect_changes`` was called for the build in progress
    _found: tuple[Path, Any, frozenset[str], frozenset[str]] | None = None  # (root, Found, files, known)
    _hashes: dict[str, str] | None = None  # source file → its hash as the last build read it

    def expect_changes(self, paths: Iterable[str] | None) -> None:
        """The site paths (``content/posts/a.md``, ``site.yaml``) touched since the last build
        began, every event's, moved-away and ignored ones too; None: unknown (check everything).
        Kept, growing, until a build has read the files again: a build that fails first
        (a broken site.yaml) leaves them for the next one."""
        self._told = True
        if paths is None:
            self._since = None
        elif self._since is not None:
            self._since = self._since | frozenset(paths)

    def _dirty(self) -> frozenset[str] | None:
        """The paths that may have changed since the last build read its files, or None if
        any may have: this build was not told, or content/ reaches files through links."""
        if not self._told or self._found is None or self._found[1].linked:
            return None
        return self._since

    def found(self, root: Path, find: Callable[[Path], Any]) -> Any:
        """``find(root)`` (``content.find_content``), or the last build's walk again if no
        path touched since could change it: the files touched were Markdown or assets it found,
        still plain files, or files it never saw that are gone again (an editor's temporary
        file). A new, deleted or renamed file, a folder, a link or templates/ walks again."""
        dirty = self._dirty()
        last = self._found
        if dirty is None or last is None or last[0] != root or not _walk_unchanged(root, dirty, last[2], last[3]):
            found = find(root)
            files = frozenset([rel for _path, rel, _kind in found.sources] + [f"content/{a.out}" for a in found.assets])
            folders = {rel.rsplit("/", n)[0] for rel in files for n in range(1, rel.count("/") + 1)}
            known = files | folders | {p.path for p in found.problems.items}
            self._found = (root, found, files, known)
            return _copy_found(found)
        return _copy_found(last[1])

    def _read_again(self) -> None:
        """The files have been read (``documents``): what changes from now on is news."""
        self._since = frozenset()
        self._told = False

    _passed: list[str] | None = None  # the output paths the last ``check_paths`` call passed

    def check_paths(self, paths: list[str], check: Callable[[list[str]], None]) -> None:
        """``check(paths)`` (``write.check_paths``: no two outputs on one path), unless it passed
        these very paths last time: a rebuild after an edit has the same 20,000 outputs."""
        if paths != self._passed:
            self._passed = None
            check(paths)
            self._passed = paths

    # -- qsite serve: the last full rebuild kept whole (qsite/incremental/edit.py) --
    # A save that changes only posts' bodies is rebuilt from the model the last full rebuild
    # made (``edit.rebuild``), without a step of the pipeline: such a rebuild reads no file
    # through ``documents``, so the paths touched since keep gathering (``expect_changes``)
    # until a full rebuild reads them, and every record here stays the base's.

    kept_model: Any = None  # edit.Model, set only by a full rebuild that succeeded

    @property
    def keeps_model(self) -> bool:
        """Whether this engine lives on across rebuilds in memory (``in_memory``: serve's)."""
        return self.keys and self.root is None and self.cache.folder is None

    def keep_model(self, model: Any) -> None:
        self.kept_model = model if self.keeps_model else None

    def forget_model(self) -> None:
        """A full rebuild begins: whatever becomes of it, the last one is no longer the base."""
        self.kept_model = None

    def touched_since_read(self) -> frozenset[str] | None:
        """The site paths touched since the last full rebuild read the files, or None if not known."""
        return self._dirty()

    def no_source(self, rel: str) -> bool:
        """Whether the touched path ``rel`` is neither a source nor read by a build: beside
        content/, templates/ and site.yaml (output/, .qsite-cache/), or a file in content/
        the last walk never saw that is gone again (an editor's temporary file)."""
        if rel == "site.yaml" or rel.startswith(("templates/", "content/")) or rel in ("templates", "content"):
            if self._found is None or not rel.startswith("content/") or rel in self._found[3]:
                return False
            try:
                os.lstat(self._found[0] / rel)
            except OSError:
                return True
            return False
        return True

    def kept_document(self, rel: str, kind: str) -> Any:
        """The parsed document of ``rel`` as the last full rebuild read it (None if not kept)."""
        file_hash = (self._hashes or {}).get(rel)
        key = self._doc_key_memo.get((file_hash, rel, kind)) if file_hash else None
        return self.cache.docs.get(key) if key else None

    def kept_plan(self) -> PlanRecord | None:
        """The last in-memory render step's page record (each page's trail)."""
        return self.cache.memory_plan

    def markdown(self, text: str, base_path: str, limit: float) -> Rendered | MarkdownError:
        """``text`` rendered (``markup.render_markdown``), reused while it and ``base_path`` are unchanged."""
        key = Cache.markdown_key(text, base_path)
        known = self.cache.markdown.get(key)
        if isinstance(known, Rendered):
            return known
        try:
            made = render_markdown(text, base_path, limit)
        except MarkdownError as exc:
            return exc
        self.cache.markdown.put(key, made)
        return made

    # -- the end of the content step (on disk) --

    def content_read(self) -> None:
        """The content step is over: what it keeps on disk is written now, not held in
        memory until ``finish`` (``Cache.save_content``), and each meta lets go of its
        Markdown text, which only the content step reads (``bodies`` renders it; a post holds
        its ``Rendered`` body, and the codec keeps a meta without it): every file's text was
        held to the end of a build and inherited by the render step's workers (~110 MiB at
        20,000 posts). On disk only: ``qsite serve`` keeps its metas for the next rebuild."""
        if self.root is None or not self.keys:
            return
        self.cache.save_content()
        for meta, _problems in self.cache.metas.values():
            if meta is not None:
                object.__setattr__(meta, "body", "")  # frozen for the model's sake; dead text here
        self._forget_lookups()

    def _forget_lookups(self, model: bool = False) -> None:
        """An on-disk engine serves one build (the next opens the cache again), so what it
        looked up by document and meta is let go once the steps that ask are over: after the
        content step, the documents' keys, the bodies' Markdown keys and the memo of derived
        keys; with ``model``, once the model is made (``planned``), the metas' and bodies' keys
        and the memo again (the posts' keys, each made once). They were held to the build's end
        and inherited by every render worker: ~40 MiB at 20,000 posts (bench/memory.py).
        A memo let go is only a lookup made again (``_derive``), never a different key."""
        self._derived_now = {}
        self._doc_keys, self._markdown_keys, self._doc_key_memo = {}, {}, {}
        self._unread_bodies, self._later, self._hashes = {}, set(), None
        self.cache.metas = {}  # the last build's metas, for the next build of this engine: none
        if model:
            self._meta_keys, self._body_keys = {}, {}

    # -- model: validated front matter, rendered Markdown, posts --

    def metas(
        self, docs: Iterable[Any], read: Callable[[Any, Problems], Meta | None], problems: Problems
    ) -> list[Meta]:
        """``read(doc, problems)`` for each document, reused when the document and site.yaml
        are unchanged: from memory (``qsite serve``), or from ``.qsite-cache/`` if it had no
        problems (a rebuild after one edit validates one file, not every file). A meta kept
        also keeps the key of its body's Markdown (``markdown_keys``): hashing 5,000 bodies
        again to find their rendered HTML costs more than decoding their metas."""
        metas: list[Meta] = []
        known_metas, self.cache.metas = self.cache.metas, {}  # the last build's
        known_bodies, self._markdown_keys = self._markdown_keys, {}
        for doc in docs:
            key = self._derive("meta", self._doc_keys[id(doc)], self.config_key)
            known = known_metas.get(key) or self._stored_meta(key, doc)
            if known is None:
                mine = Problems()
                known = (read(doc, mine), tuple(mine.items))
                if known[0] is not None and not mine.items and self.cache.validated.persist:
                    markdown = self._markdown_key(known[0])
                    with contextlib.suppress(TypeError, ValueError):  # not keepable: validated again next time
                        self.cache.validated.put(key, [*self.meta_codec.encode(known[0]), *markdown])
            self.cache.metas[key] = known
            meta, met = known
            problems.extend(met)
            if meta is not None:
                metas.append(meta)
                self._meta_keys[id(meta)] = key
                body_key = known_bodies.get(id(meta))
                if body_key is not None and body_key[0] is meta:  # kept in memory (serve): the same meta
                    self._markdown_keys[id(meta)] = body_key
        return metas

    def _markdown_key(self, meta: Meta) -> tuple[str, str]:
        """(base path, key of ``meta``'s body's rendered Markdown), remembered for ``bodies``."""
        known = (self.base_path, Cache.markdown_key(meta.body, self.base_path))
        self._markdown_keys[id(meta)] = (meta, *known)
        return known

    def _stored_meta(self, key: str, doc: Any) -> tuple[Meta, tuple[Problem, ...]] | None:
        """A meta an earlier build validated without problems, with its body from ``doc``, and
        the key of that body's Markdown as ``_markdown_key`` found it (the meta's key hashes
        the file, so the body is the same)."""
        if not self.cache.validated.persist:
            return None
        plain = self.cache.validated.get(key)
        if plain is None:
            return None
        try:
            *fields, base_path, markdown = as_list(plain)
            later = id(doc) in self._later  # its body is read only if its Markdown must be rendered again
            meta = self.meta_codec.decode(fields, body="" if later else doc.body)
            if not _HEX64.fullmatch(as_str(markdown)):
                raise Unreadable("expected the key of a rendered body")
        except (Unreadable, TypeError, ValueError) as exc:  # a damaged or forged entry is a miss
            self.cache.validated.drop(key, str(exc))
            return None
        self._markdown_keys[id(meta)] = (meta, as_str(base_path), markdown)
        if later:
            self._unread_bodies[id(meta)] = (meta, doc)
        return meta, ()

    def _body_text(self, meta: Meta) -> str:
        """``meta.body``, read from its document first if ``_stored_meta`` left it unread."""
        unread = self._unread_bodies.pop(id(meta), None)
        if unread is not None and unread[0] is meta:
            object.__setattr__(meta, "body", unread[1].body)  # frozen for the model's sake
        return meta.body

    def bodies(
        self, metas: Sequence[Meta], base_path: str, limit: float, render: Callable[[Any, Any], list[Any]],
        workers: Any, problems: Problems,
    ) -> list[Rendered | None]:
        """Each meta's Markdown body rendered (``render`` over chunks, in workers), reused when
        its text and base path are unchanged; a failure is reported against its file."""
        keys = []
        for m in metas:
            known = self._markdown_keys.get(id(m))
            if known is None or known[0] is not m or known[1] != base_path:
                known = (m, base_path, Cache.markdown_key(self._body_text(m), base_path))
                self._markdown_keys[id(m)] = known
            keys.append(known[2])
        bodies: list[Rendered | None] = [self.cache.markdown.get(k) for k in keys]
        missing = [i for i, b in enumerate(bodies) if b is None]
        for i in missing:
            self._body_text(metas[i])
        ready, self._ready = self._ready, {}
        todo = [i for i in missing if metas[i].body not in ready]
        made = dict(zip(todo, workers.map(render, [(metas[i].body, base_path, limit) for i in todo]), strict=True))
        for i in missing:
            body = made[i] if i in made else ready[metas[i].body]
            if isinstance(body, MarkdownError):
                problems.add(metas[i].source, metas[i].line, body.message, body.fix)
                continue
            self.cache.markdown.put(keys[i], body)
            bodies[i] = body
        for meta, key, body in zip(metas, keys, bodies, strict=True):
            self._body_keys[id(meta)] = key
            self._seed_body(meta, body, key)  # pages need not hash the HTML
        return bodies

    def _seed_body(self, meta: Meta, body: Rendered | None, key: str) -> None:
        """Seed ``body`` with its key and tag it with its file; in the plan's inputs, it stands
        for its file(s) only (two files with the same text share one Rendered)."""
        if body is None:
            return
        tags = self.fingerprints.tags(body) | {meta.source}
        self.fingerprints.seed(body, key, tags)
        self.shapes.seed(body, _shape_text("body of", *sorted(tags)))
        self._tags.setdefault(meta.source, {})["body"] = key

    def rebodied(self, meta: Meta, body: Rendered) -> None:
        """``meta``'s body was changed after the Markdown step (its images sized, from the image
        files: qsite/images.py), so its key hashes the new HTML too, and the pages showing it
        are rendered again when an image changes though the Markdown did not."""
        key = Cache.derived_key("body", self._body_keys[id(meta)], body.html, body.summary_html)
        self._body_keys[id(meta)] = key
        self._seed_body(meta, body, key)

    def post(self, meta: Meta, future: bool, make: Callable[[], Any], *more: str) -> Any:
        """The post ``make()`` makes from ``meta`` (its file and site.yaml), its body, whether it
        is in the future (the only part of "now" a post holds) and ``more`` (what else it is
        made from, e.g. its byline's profiles). Its fingerprint is a hash of those keys, so no
        page hashes the post's fields; ``qsite serve`` (``in_memory``) reuses the post the last
        rebuild made under the same key instead of making 5,000 posts again after one edit."""
        key = self._derive(
            "post", self._meta_keys[id(meta)], self._body_keys[id(meta)], self.config_key, str(future), *more
        )
        post = self._last_posts.get(key)
        if post is None:
            post = make()
        self._posts[key] = post
        held = self.fingerprints.tags(post.body)  # most often its file alone: one frozenset for both
        self.fingerprints.seed(post, key, held if len(held) == 1 and post.source in held else frozenset([post.source]))
        # in the plan's inputs the post stands for all it was made from but its body: a page
        # whose context holds the post (so its body) is found by its tag (``pages``)
        shape = self._derive("post shape", post.source, self._front_key(meta), self.config_key, str(future), *more)
        self.shapes.seed(post, shape)
        self._tags.setdefault(post.source, {})["post"] = key
        return post

    def _derive(self, *parts: str) -> str:
        """``Cache.derived_key(*parts)``, remembered for one build more: serve's engine, kept
        across rebuilds, makes the same meta, post and shape keys of every unchanged post each
        rebuild (4 × 5,000 hashes); looking them up by their texts (whose hashes Python keeps
        with the strings) costs a fraction of hashing them again."""
        key = self._derived_now.get(parts)
        if key is None:
            key = self._derived_last.get(parts)
            if key is None:
                key = Cache.derived_key(*parts)
            self._derived_now[parts] = key
        return key

    def _front_key(self, meta: Meta) -> str:
        """A key of ``meta`` but its body: its validated front matter. The meta's own key hashes
        the whole file, body too, so it is the last build's front key while the meta's key is
        the same (most files), else a hash of the meta as the cache keeps it, which is without
        its body; a meta that cannot be kept so gets its own key (its body in it: never wrong)."""
        meta_key = self._meta_keys[id(meta)][:32]
        last = self.cache.plan if self.cache.plan is not None else self.cache.memory_plan
        known = last.fronts.get(meta.source) if last is not None else None
        if known is not None and known[0] == meta_key:
            front = known[1]
        else:
            try:
                front = Cache.derived_key("front", json.dumps(self.meta_codec.encode(meta), ensure_ascii=False))[:32]
            except (TypeError, ValueError):
                front = meta_key
        self._fronts[meta.source] = (meta_key, front)
        return front

    def html(self, text: str, variant: str, render: Callable[[], str]) -> str:
        """``render()``'s HTML of ``text``, reused while ``text`` and ``variant`` are unchanged
        (comments: ``comments.RenderedStore``); kept with the rendered Markdown."""
        key = Cache.markdown_key(text, variant)
        known = self.cache.get_rendered(key)
        if known is not None:
            return known.html
        html = render()
        self.cache.put_rendered(key, Rendered(html, "", False, 0, ()))
        return html

    # -- grouping: related posts --

    def groups(self, site: Any, make: Callable[[dict[str, tuple[str, ...]] | None], Any]) -> Any:
        """``make(known_related)`` with the last build's related posts if no post's slug, date,
        themes or tags changed (None otherwise). ``make`` must make the groups from ``site``
        alone, and from no post's body or what is made from it (``summary``, ``toc``): the
        page keys rely on it (``planned``)."""
        last = self._related_memo
        if last is not None and _same_related_shape(last[0], site.posts):  # serve: no hashing of every post
            return make(last[1])
        groups = make(self.cache.related_for(site))
        self.cache.remember_related(site, groups)
        self._related_memo = (site.posts, self.cache.related[1] if self.cache.related is not None else None)
        return groups

    # the last build's posts, and their related posts by key (as ``Cache.related_for`` gives them)
    _related_memo: tuple[Sequence[Any], dict[str, tuple[str, ...]] | None] | None = None

    # -- render: page keys --

    def planned(self, site: Any, groups: Any, digest: Any) -> None:
        """The values this build's jobs were planned from (``plan.plan(site, groups, digest)``,
        a pure function of them): if they equal the last build's but for the posts and bodies
        of some files, only the pages that showed those need their keys computed again.

        ``groups`` is left out of the comparison: ``groups`` (above) makes them from the site
        alone, reading no post's body (tests/test_cache_keys.py checks it), and hashing them
        would cost as much as the site is big (40,000 neighbour links at 5,000 posts)."""
        self._plan_inputs = (site, digest)
        if self.root is not None and self.keys:
            self._forget_lookups(model=True)

    def _model_key(self) -> str | None:
        if self._plan_inputs is None:
            return None
        try:
            return self.shapes.of(self._plan_inputs).hex()
        except Unfingerprintable:
            return None

    def pages(self, jobs: Sequence[Job], renderer: Renderer, sink: Sink) -> PageRun:
        """Which pages to render: those whose key (template sources, globals used, context) is
        new, or whose earlier output the sink no longer has unchanged.

        Computing every page's key costs as much as the site is big, so when the plan's inputs
        (``planned``) are those of the last build but for some files' posts and bodies, a page
        keeps its last key unless its context held one of those (its recorded tags) or its
        template, the config or a global it uses changed (its key's prefix). That key is the one
        computing it would give: plan made the same jobs from the same values, and the values
        that differ are seeded, tagged ones, which the recorded tags of the page would name."""
        if not self.keys:
            return PageRun(jobs, [None] * len(jobs), list(range(len(jobs))), {}, 0, None)
        env = renderer.env
        deps = TemplateDeps(env, self.cache.templates)
        fps = self.fingerprints
        config_fp = fps.of(renderer.site.config)
        previous = self.cache.memory_pages if sink.in_memory else self.cache.pages
        last = self.cache.memory_plan if sink.in_memory else self.cache.plan
        model = self._model_key()
        tags = {file: _tag_text(keys) for file, keys in self._tags.items()}
        if not previous:  # a cold build renders every page: each is keyed where it is rendered,
            # in the workers, not all here before the first page can start (bench/PROFILE.md C7)
            for name in sorted({job.template for job in jobs}):  # their analysis is kept (cache.templates)
                with contextlib.suppress(jinja2.TemplateError):
                    deps.of(name)
            record = PlanRecord(model, tags, self._fronts, []) if model is not None else None
            run = PageRun(jobs, [None] * len(jobs), list(range(len(jobs))), {}, 0, deps, record)
            run.key_inputs = (deps, fps, env, config_fp)
            run.traces = [None] * len(jobs)
            run.keyed = len(jobs)  # in the workers
            self.last_run = run
            return run
        touched: re.Pattern[str] | None = None  # matches a trail holding a changed file's number
        if model is not None and last is not None and last.model == model and len(last.files) == len(jobs):
            changed = {source for source, digest in tags.items() if last.tags.get(source) != digest}
            changed.update(source for source in last.tags if source not in tags)
            numbers = sorted(last.numbers[source] for source in changed if source in last.numbers)
            carried = self._carried(jobs, numbers, last, previous, sink, (deps, fps, env, config_fp), model, tags)
            if carried is not None:
                self.last_run = carried
                return carried
            # a trail is numbers joined by commas: one search of each, not one per changed file
            touched = re.compile(f"(?:^|,)(?:{'|'.join(numbers)})(?:,|$)" if numbers else "(?!)")
        record = None
        if model is not None:  # numbered as last time while the trails carried over are
            record = PlanRecord(model, tags, self._fronts, list(last.sources) if touched is not None and last else [])
        run = PageRun(jobs, [], [], {}, 0, deps, record)
        prefixes = deps.prefixes  # (template, context's names) → prefix: ``page_prefix`` fills it
        for i, job in enumerate(jobs):
            path = job.path
            job_file = job.file  # made once per job: the stage and the records share its text
            known = previous.get(job_file)
            key: str | None = None
            trail = context_hex = ""
            shape = (job.template, tuple(job.context))
            if touched is not None and last.files[i] == job_file:  # type: ignore[union-attr]
                trail = last.trails[i]  # type: ignore[union-attr]
                if touched.search(trail) is None:  # its context is as last time
                    context_hex = last.contexts[i]  # type: ignore[union-attr]
                    prefix = prefixes.get(shape) or page_prefix(deps, fps, env, config_fp, *shape)
                    if prefix is None:
                        pass
                    elif (
                        known is not None and prefix == last.prefixes[i]  # type: ignore[union-attr]
                        and last.keys[i] == known[0][:KEY_CHECK]  # type: ignore[union-attr]
                    ):
                        key = known[0]
                    else:  # a template, the config or a global changed: the same context, a new key
                        key = keyed(prefix, path, bytes.fromhex(context_hex))
            if key is None:
                key, context_fp, tags_held = traced_page_key(
                    deps, fps, env, config_fp, job.template, path, job.context
                )
                run.keyed += 1
                context_hex = context_fp.hex()
                if record is not None:
                    trail = record.trail(tags_held)
            run.keys.append(key)
            if key is not None and record is not None:
                record.files.append(job_file)
                record.keys.append(key[:KEY_CHECK])
                record.prefixes.append(prefixes[shape])
                record.contexts.append(context_hex)
                record.trails.append(trail)
            if key is not None and known is not None and known[0] == key and sink.keep(i, job, known[1]):
                run.tokens[job_file] = known
                run.hits += 1
            else:
                run.todo.append(i)
        if record is not None and len(record.files) != len(jobs):
            run.record = None  # a page with no key: matched by position next time, so keep no record
        self.last_run = run
        return run

    def _carried(
        self, jobs: Sequence[Job], numbers: list[str], last: PlanRecord, previous: dict[str, tuple[str, Any]],
        sink: Sink, key_inputs: tuple[Any, ...], model: str, tags: dict[str, str],
    ) -> PageRun | None:
        """``pages`` when the jobs are the last build's, file for file, and the plan's inputs
        too but for the files numbered ``numbers``: the same answer as its loop, decided in
        bulk. The pages whose trail names one of those files are found by one search of all
        the trails, and the record is the last one with only those pages' entries (and any
        page whose prefix changed) made again; every other page keeps its key if its output
        is the one that key made. None (``pages`` then decides page by page) if the files
        differ or a page has no prefix (a missing or broken template)."""
        files = [job.file for job in jobs]
        if files != last.files:
            return None
        deps, fps, env, config_fp = key_inputs
        shapes = [(job.template, tuple(job.context)) for job in jobs]
        for shape in set(shapes):
            page_prefix(deps, fps, env, config_fp, *shape)  # fills deps.prefixes
        prefixes = [deps.prefixes.get(shape) for shape in shapes]
        if None in prefixes:
            return None
        touched = trails_holding(last.trails, numbers) if numbers else set()
        knowns = [previous.get(file) for file in files]
        record = PlanRecord(model, tags, self._fronts, list(last.sources))
        record.files, record.prefixes = files, prefixes  # type: ignore[assignment]
        record.keys, record.contexts, record.trails = list(last.keys), list(last.contexts), list(last.trails)
        run = PageRun(jobs, [known[0] if known is not None else None for known in knowns], [], {}, 0, deps, record)
        run.carried = True
        checks = [known[0][:KEY_CHECK] if known is not None else None for known in knowns]
        columns = zip(checks, last.keys, prefixes, last.prefixes, strict=True)
        # the pages whose key is not their output's as it stands
        again = [i for i, (check, before, prefix, was) in enumerate(columns) if check != before or prefix != was]
        for i in sorted(touched.union(again)):
            job = jobs[i]
            if i in touched:  # its context held a changed file's post or body
                key, context_fp, held = traced_page_key(deps, fps, env, config_fp, job.template, job.path, job.context)
                run.keyed += 1
                if key is None:
                    run.record = None  # a page with no key: matched by position next time, so keep no record
                else:
                    record.contexts[i], record.trails[i] = context_fp.hex(), record.trail(held)
            else:  # a template, the config or a global changed: the same context, a new key
                key = keyed(prefixes[i], job.path, bytes.fromhex(last.contexts[i]))  # type: ignore[arg-type]
            run.keys[i] = key
            if key is not None:
                record.keys[i] = key[:KEY_CHECK]
        # the pages whose output the sink may still hold as that key made it: asked all at once
        # where the sink can (the stage: one ``lstat`` each, no two calls a page for 7,800 pages)
        held = [i for i, (known, key) in enumerate(zip(knowns, run.keys, strict=True))
                if key is not None and known is not None and known[0] == key]
        keep_files = getattr(sink, "keep_files", None)
        if keep_files is not None:
            kept = keep_files([(files[i], knowns[i][1]) for i in held])  # type: ignore[index]
        else:
            kept = [sink.keep(i, jobs[i], knowns[i][1]) for i in held]  # type: ignore[index]
        kept_pages = [i for i, ok in zip(held, kept, strict=True) if ok]
        for i in kept_pages:
            run.tokens[files[i]] = knowns[i]  # type: ignore[assignment]
        run.hits = len(kept_pages)
        run.todo = sorted(set(range(len(jobs))).difference(kept_pages))
        return run

    def rendered(self, run: PageRun, sink: Sink) -> None:
        """Remember the pages of a render step that succeeded, for the next one."""
        if not self.keys:
            return
        if run.key_inputs is not None:
            self._record_traces(run)
        if sink.in_memory:
            self.cache.memory_pages = run.tokens
            self.cache.memory_plan = run.record
        else:
            self.cache.pages = run.tokens
            self.cache.plan = run.record

    def _record_traces(self, run: PageRun) -> None:
        """A cold build's pages were keyed in the workers that rendered them (``PageRun.key``):
        their record, in plan order, as ``pages`` makes it for the pages it keys itself, so the
        first edit after a cold build keys only the pages that show the edited file."""
        record = run.record
        if record is None:
            return
        deps, fps, env, config_fp = run.key_inputs  # type: ignore[misc]
        for i, job in enumerate(run.jobs):
            key, trace = run.keys[i], run.traces[i]
            if key is None or trace is None:
                run.record = None  # a page with no key: matched by position next time, so keep no record
                return
            context_hex, trail = trace
            record.files.append(job.file)
            record.keys.append(key[:KEY_CHECK])
            record.prefixes.append(page_prefix(deps, fps, env, config_fp, job.template, tuple(job.context)) or "")
            record.contexts.append(context_hex)
            record.trails.append(trail)

    # -- index: the search shards' manifest --

    def search_manifest(self) -> object:
        """The last build's search manifest, as saved (``search.valid_manifest`` checks it);
        None if this engine keeps none (everything is then indexed again)."""
        if self.cache.folder is None:
            return None
        try:
            return json.loads((self.cache.folder / SEARCH_MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def search_links(self) -> Path | None:
        """Where the search index keeps its shards' folders of page links between builds
        (``search.LINKS``); None if this engine keeps nothing on disk, or its folder is a symlink."""
        folder = self.cache.folder
        if folder is None or folder.is_symlink():
            return None
        return folder / search.LINKS

    def _save_manifest(self, indexed: search.Indexed | None) -> None:
        """Keep the manifest of an index now committed (``{}``: nothing changed, keep the old
        one). A manifest that cannot be saved costs the next build a full index, never correctness."""
        if indexed is None or self.cache.folder is None or not indexed.manifest:
            return
        path = self.cache.folder / SEARCH_MANIFEST
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            # not sort_keys: sorting ~13,000 keys (5,000 posts) tripled the dump's time, and the
            # manifest is only ever read back whole, into dicts
            with tmp.open("w", encoding="utf-8") as f:
                write_pieces(f, indexed.manifest)
            os.replace(tmp, path)

    # -- write: files copied as they are (theme and site static files, image variants, preview cards) --

    def copies_known(self) -> dict[str, tuple[str, Stamp]]:
        """The last build's copied files: output path → (what it was made from, the stamp it
        had once committed). Empty for an engine that keeps nothing on disk."""
        folder = self.cache.folder
        if not self.keys or folder is None:
            return {}
        if self._copies_last is None:  # never read through a link (as ``Cache.open``)
            self._copies_last = {} if folder.is_symlink() else load(folder / COPIES, _decode_copies, self.notes) or {}
        return self._copies_last

    def copies(
        self, paths: Sequence[str], origins: Sequence[str | None],
        keep: Callable[[list[tuple[str, Stamp]]], list[bool]],
    ) -> list[int]:
        """Which copied files to write (their indexes): those made from something else than last
        time (``origins``: a hash of their bytes, or a preview card's key; None: unknown, always
        written), or whose output ``keep`` (given (path, stamp) pairs, it says which it kept)
        finds gone or changed since it was stamped. The others are kept, unread, and not sent
        to a render worker: a one-post edit of a 5,000-post site compared 5,000 preview cards
        with the output on every build."""
        known = self.copies_known()
        self._copies_ran = True
        todo: list[int] = []
        vouched: list[int] = []
        for n, (path, origin) in enumerate(zip(paths, origins, strict=True)):
            last = known.get(path)
            if last is not None and last[0] == origin:
                vouched.append(n)
            else:
                todo.append(n)
        kept = keep([(paths[n], known[paths[n]][1]) for n in vouched])
        for n, ok in zip(vouched, kept, strict=True):
            if ok:
                self._copies_made[paths[n]] = known[paths[n]]
            else:
                todo.append(n)
        return sorted(todo)

    def copied(self, path: str, origin: str | None, stamp: Stamp | None) -> None:
        """A copied file this build wrote (or found the same as the output's), for the next one."""
        if origin is not None and stamp is not None and self.keys and self.cache.folder is not None:
            self._copies_made[path] = (origin, stamp)

    def _save_copies(self) -> None:
        """Keep the record of copied files of this build, now committed (unless it is the last
        one's, or this build copied none: ``render_site``). A record that cannot be saved costs
        the next build time, never correctness."""
        if not self._copies_ran or self.cache.folder is None or self._copies_last == self._copies_made:
            return
        with contextlib.suppress(OSError, ValueError, TypeError):
            if not self.cache.folder.is_symlink():  # never write through a link (as ``Cache.save``)
                self.cache.folder.mkdir(exist_ok=True)
                dump(self.cache.folder / COPIES, {p: [o, list(s)] for p, (o, s) in self._copies_made.items()})
                self._copies_last = dict(self._copies_made)

    # -- the end of a build --

    def finish(self, seen: Iterable[str], indexed: search.Indexed | None = None) -> None:
        """Keep what this build made (for files still in the site), in memory or on disk, and
        the manifest of its search index, now committed."""
        self._save_manifest(indexed)
        self._save_copies()
        if self.keys:
            self.cache.save(seen)

    def record(
        self, config: Any, options: Any, out: Path, committed: dict[str, Stamp | None], valid_until: datetime | None,
        counts: tuple[int, int, int], warnings: Sequence[Problem], files: int,
    ) -> None:
        """Record the no-change shortcut (on disk only) for a build that succeeded."""
        if self.root is None or self.sources is None:
            return
        output = fastpath.output_after(out, committed)
        if output is None:
            return
        posts, pages, planned = counts
        record = fastpath.Record(
            _options_key(options, out), options.now, valid_until, self.sources.started_ns,
            self.sources.digest, self.sources.racy, output, posts, pages, planned, tuple(warnings), files,
        )
        fastpath.record(config.root, record)



def _tag_text(keys: dict[str, str]) -> str:
    """A content file's entry in the plan record's ``tags``: its post's and body's keys."""
    if len(keys) == 2 and "body" in keys and "post" in keys:  # most files: the same text, made directly
        return f"body:{keys['body'][:32]},post:{keys['post'][:32]}"
    return ",".join(f"{k}:{v[:32]}" for k, v in sorted(keys.items()))


def _shape_text(*parts: str) -> str:
    """What a body stands for in the plan's inputs (``Engine.shapes``), as a text that tells
    any two different ``parts`` apart (their ``repr``), which ``Fingerprints.seed`` hashes
    once: it is only ever fingerprinted, so it needs no derived key of its own (measured:
    ``_seed_body`` 0.030 → 0.024 s CPU at 5,000 posts, 0.126 → 0.108 s at 20,000). A post's
    shape, a longer text, showed no gain so (``Engine.post``), and keeps its derived key."""
    return repr(parts)


def trails_holding(trails: Sequence[str], numbers: Sequence[str]) -> set[int]:
    """The indexes of the trails that hold one of ``numbers`` (whole, between commas), found
    by one search of the trails joined by lines. An edit changes a file or two: each number
    is then looked for between its possible separators with ``str.find`` (a 30,000-page
    site's trails are 1.3 MB: ~1 ms a number, against ~20 ms for the regular expression
    below, which is kept for many numbers)."""
    ends = list(accumulate(len(trail) + 1 for trail in trails))
    joined = "\n".join(trails)
    if len(numbers) > _FIND_NUMBERS:
        pattern = re.compile(f"(?<![^,\n])(?:{'|'.join(numbers)})(?![^,\n])")
        return {bisect_right(ends, m.start()) for m in pattern.finditer(joined)}
    padded = f"\n{joined}\n"  # each number has a separator before and after it
    found: set[int] = set()
    for number in numbers:
        for before, after in ((",", ","), (",", "\n"), ("\n", ","), ("\n", "\n")):
            needle = before + number + after
            at = padded.find(needle)
            while at >= 0:  # ``at`` in ``padded`` is where the number starts in ``joined``
                found.add(bisect_right(ends, at))
                at = padded.find(needle, at + 1)
    return found


_FIND_NUMBERS = 8  # from this many numbers on, ``trails_holding`` uses one regular expression


def _same_related_shape(last: Sequence[Any], posts: Sequence[Any]) -> bool:
    """Whether ``posts`` have the keys, dates, themes and tags of ``last``, in order (what
    ``Cache.related_for`` hashes): the same objects but for the few an edit made again."""
    return len(last) == len(posts) and all(
        a is b or (
            a.key == b.key and a.date.timestamp() == b.date.timestamp() and a.themes == b.themes
            and [t.slug for t in a.tags] == [t.slug for t in b.tags]
        )
        for a, b in zip(last, posts, strict=True)
    )


def _walk_unchanged(root: Path, dirty: frozenset[str], files: frozenset[str], known: frozenset[str]) -> bool:
    """Whether walking content/ again would find what the last walk found, given that only the
    ``dirty`` paths were touched since (``Engine.found``)."""
    for rel in dirty:
        if rel == "site.yaml":
            continue  # read by every build; no part of the walk
        if rel == "templates" or rel.startswith("templates/"):
            return False  # walked for its links
        if not (rel == "content" or rel.startswith("content/")):
            continue  # beside the sources (output/, .qsite-cache/): never walked
        try:
            mode = os.lstat(root / rel).st_mode
        except OSError:
            mode = None
        if rel in files and mode is not None and S_ISREG(mode):
            continue  # a file it found, changed in place
        if rel not in known and mode is None:
            continue  # a file it never saw, gone again
        return False
    return True


def _copy_found(found: Any) -> Any:
    """A copy the build may add problems to."""
    problems = type(found.problems)(list(found.problems.items))
    return type(found)(list(found.sources), list(found.assets), problems, found.linked)


def _decode_copies(value: object) -> dict[str, tuple[str, Stamp]]:
    copies: dict[str, tuple[str, Stamp]] = {}
    for path, entry in as_dict(value).items():
        origin, stamp = as_list(entry, 2)
        copies[path] = (as_str(origin), as_stamp(stamp))
    return copies


def _hash_names(names: Iterable[str]) -> str:
    return Cache.derived_key("checks", *names)[:16]


def valid_until(
    now: datetime, metas: Iterable[Meta], editions: Iterable[Any], curations: Iterable[Any], tz: tzinfo
) -> datetime | None:
    """When "now" next changes the site: a scheduled post becomes due, an edition in progress ends."""
    moments = [m.date for m in metas if m.date is not None]
    moments += [e.end for e in editions]
    for c in curations:
        moments += [c.period.end(tz), c.period.start(tz)]
    return min((t for t in moments if t > now), default=None)


# Each page's key is kept in the page-key record (``PlanRecord``), written after every build,
# by its first 16 hex digits only: it is checked against the full key kept with the output.
KEY_CHECK = 16


def _options_key(options: Any, out: Path) -> tuple[object, ...]:
    return fastpath.options_key(
        options.drafts, options.future, options.base_url, options.search, out, options.output is not None
    )
