"""The build cache: never redo work whose inputs have not changed, and never reuse work whose
inputs have.

Three kinds of work are kept, each under a key that hashes everything that went into it:

* **parsed files** (front matter + body), by the file's bytes. The bytes are hashed only when
  the file's size, mtime, ctime or inode differ from when it was last hashed, as git's index
  does; and, as git does for "racy" entries, a file modified within two seconds of being hashed
  is always hashed again, since a second edit within the clock's granularity keeps its mtime.
* **rendered Markdown**, by the body's text, the base path and the Markdown settings.
* **output pages**, by the template and every template it extends, includes or imports (their
  sources), the page's URL, the site config, the values of the template globals those
  templates use, and a fingerprint of the page's context. The page itself is not stored: the
  previous output file is, and it is reused (hard-linked) only if its size, mtime and inode
  still match what was written, so a hand-edited or deleted output file is rendered again.

Every key also includes ``ENGINE``: the qsite version, a hash of qsite's own source files and
the versions of the libraries it renders with, so upgrading anything invalidates everything.
Fingerprints need no per-kind code: a new page kind is covered as soon as its context holds
dataclasses, tuples, dicts and plain values. A context that cannot be fingerprinted (a lambda,
a generator) just makes that page render every time.

The cache lives in ``.qsite-cache/`` beside site.yaml as pickles. It is trusted like the
site's own source (it is only ever written by qsite); any file that fails to load is ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import pickle
import shutil
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2 import meta

from qsite.cachefiles import ENGINE, FOLDER, RACY_NS, _dump, _load
from qsite.content import SourceDoc
from qsite.markup import Rendered
from qsite.write import Stamp

SHARDS = 16  # parsed files and Markdown are split so one edit rewrites a sixteenth of each


def _hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


# -- fingerprints -------------------------------------------------------------------------


class Unfingerprintable(Exception):
    """The value holds something with no stable bytes (a lambda, a generator, an open file)."""


class Fingerprints:
    """Stable hashes of template contexts, memoised per object for one build.

    A value is pickled, but every dataclass inside it is replaced by its own fingerprint
    (computed once, however many pages show it) and every set by its sorted members, so equal
    values give equal bytes whatever the order of a set or the process's hash seed. Pickles
    decode to their value, so different values never give the same fingerprint; at worst an
    unchanged value shared differently gives a new one, which only costs a re-render.
    """

    def __init__(self) -> None:
        self._memo: dict[int, tuple[object, bytes]] = {}  # id → (object kept alive, digest)

    def seed(self, obj: object, key: str) -> None:
        """Use ``key`` (already a hash of what made ``obj``) instead of hashing ``obj``."""
        self._memo[id(obj)] = (obj, hashlib.sha256(b"seed" + key.encode()).digest())

    def of(self, value: object) -> bytes:
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, self).dump(value)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise Unfingerprintable(str(exc)) from None
        return hashlib.sha256(buffer.getvalue()).digest()

    def dataclass(self, obj: object, names: tuple[str, ...]) -> bytes:
        digest = self.of((names, tuple(getattr(obj, name) for name in names[2:])))
        self._memo[id(obj)] = (obj, digest)
        return digest


# A dataclass with at most this many fields (a tag, a link) is pickled in place wherever it
# appears; a bigger one (a post, a theme) is hashed once and stands in every page by its hash.
SMALL_DATACLASS = 5
_DATACLASS, _SMALL, _SET, _OTHER = range(4)
_KINDS: dict[type, int] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _kind(cls: type) -> int:
    if dataclasses.is_dataclass(cls):
        names = (cls.__module__, cls.__qualname__, *(f.name for f in dataclasses.fields(cls)))
        _FIELDS[cls] = names
        return _SMALL if len(names) - 2 <= SMALL_DATACLASS else _DATACLASS
    return _SET if issubclass(cls, set | frozenset) else _OTHER


def _fingerprinted(kind: str, digest: bytes) -> None:
    """Stands, in a fingerprint's pickle, for a value already reduced to its fingerprint."""


class _Pickler(pickle.Pickler):
    """Pickles a value with every dataclass and set in it replaced by its fingerprint.

    ``reducer_override`` rather than ``persistent_id``: pickle calls it for everything but
    exact str, bytes, int, float, None, bool, tuple, list and dict, which are most of a
    context's objects, so hashing a page's context costs a fraction of the Python calls."""

    def __init__(self, file: io.BytesIO, fingerprints: Fingerprints):
        super().__init__(file, protocol=5)
        self.fast = True  # no memo: bytes depend on values only, not on which objects are shared
        self.fingerprints = fingerprints
        self.memo_of = fingerprints._memo.get

    def reducer_override(self, obj: Any) -> Any:
        cls = type(obj)
        kind = _KINDS.get(cls)
        if kind is None:
            kind = _KINDS[cls] = _kind(cls)
        if kind == _OTHER:
            return NotImplemented
        if kind == _SET:
            return (_fingerprinted, (cls.__name__, b"".join(sorted(self.fingerprints.of(item) for item in obj))))
        found = self.memo_of(id(obj))  # hashed already, or seeded
        if found is not None:
            return (_fingerprinted, ("dataclass", found[1]))
        names = _FIELDS[cls]
        if kind == _SMALL:
            return (_fingerprinted, (names, tuple(getattr(obj, name) for name in names[2:])))
        return (_fingerprinted, ("dataclass", self.fingerprints.dataclass(obj, names)))


# -- template dependencies ----------------------------------------------------------------


class TemplateDeps:
    """For each template: a hash of its source and of every template it pulls in, and the
    names it looks up that are not its own (globals such as ``posts``, and context variables).

    A template that names another one only at run time (``{% include name %}``) depends on
    every template and every global: there is no telling which it will use.
    """

    def __init__(self, env: jinja2.Environment, parsed: dict[str, Any] | None = None):
        # Jinja's analysis leaves out names found in the environment's globals, which are
        # exactly the ones we need: analyse with an overlay that has none.
        self.env = env.overlay()
        self.env.globals = {}
        self.all_globals = frozenset(env.globals)
        self.global_fps: dict[str, bytes] = {}
        self.prefixes: dict[tuple[str, tuple[str, ...]], str] = {}  # see page_key
        self._direct: dict[str, tuple[str, frozenset[str], frozenset[str] | None]] = {}
        self._closure: dict[str, tuple[str, frozenset[str]]] = {}
        self.parsed = parsed if parsed is not None else {}  # source hash → (names, pulled): kept by Cache

    def _read(self, name: str) -> tuple[str, frozenset[str], frozenset[str] | None]:
        found = self._direct.get(name)
        if found is None:
            assert self.env.loader is not None
            source, _filename, _uptodate = self.env.loader.get_source(self.env, name)
            digest = _hash("template", ENGINE, source)
            known = self.parsed.get(digest)
            if known is None:  # parsing is most of the cost of a no-change build's templates
                ast = self.env.parse(source)
                names = frozenset(meta.find_undeclared_variables(ast))
                refs = list(meta.find_referenced_templates(ast))
                pulled = None if any(r is None for r in refs) else frozenset(r for r in refs if r is not None)
                known = self.parsed[digest] = (names, pulled)
            found = (source, *known)
            self._direct[name] = found
        return found

    def of(self, name: str) -> tuple[str, frozenset[str]]:
        """(hash of the sources, names looked up) for ``name`` and all it pulls in.

        Raises jinja2.TemplateError if a template is missing or broken: the render reports it.
        """
        found = self._closure.get(name)
        if found is not None:
            return found
        seen: set[str] = set()
        todo = [name]
        names: set[str] = set()
        dynamic = False
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            _source, used, pulled = self._read(current)
            names |= used
            if pulled is None:
                dynamic = True
            else:
                todo.extend(pulled)
        if dynamic:
            seen = set(self.env.list_templates())
            names |= self.all_globals
            for other in seen:
                names |= self._read(other)[1]
        digest = _hash(*(part for t in sorted(seen) for part in (t, self._read(t)[0])))
        found = (digest, frozenset(names))
        self._closure[name] = found
        return found


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates, kept by ``Cache`` (in memory, and on disk beside the rest):
    compiling the templates a rebuild renders costs more than rendering a few pages. Jinja
    stores each with its source's checksum and recompiles a template whose source changed."""

    def __init__(self) -> None:
        self.store: dict[str, bytes] = {}
        self.dirty = False

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.store[bucket.key] = bucket.bytecode_to_string()
        self.dirty = True


# -- the cache ----------------------------------------------------------------------------


class _Store:
    """A dict kept as ``SHARDS`` pickles; remembers which shards changed and which entries
    this build used, so ``save`` rewrites only changed shards and drops what is no longer used."""

    def __init__(self, name: str):
        self.name = name
        self.shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
        self.dirty = [False] * SHARDS
        self.used: set[str] = set()

    @staticmethod
    def _shard(key: str) -> int:
        return int(key[:2], 16) % SHARDS

    def get(self, key: str) -> Any:
        value = self.shards[self._shard(key)].get(key)
        if value is not None:
            self.used.add(key)
        return value

    def put(self, key: str, value: Any) -> None:
        i = self._shard(key)
        self.shards[i][key] = value
        self.dirty[i] = True
        self.used.add(key)

    def load(self, folder: Path) -> None:
        for i in range(SHARDS):
            data = _load(folder / f"{self.name}-{i:02d}.pickle")
            if isinstance(data, dict):
                self.shards[i] = data

    def save(self, folder: Path | None) -> None:
        for i, shard in enumerate(self.shards):
            unused = [k for k in shard if k not in self.used]
            for key in unused:
                del shard[key]
            if folder is not None and (self.dirty[i] or unused):
                _dump(folder / f"{self.name}-{i:02d}.pickle", shard)
            self.dirty[i] = False
        self.used = set()


class Cache:
    """What earlier builds did. ``folder`` None keeps it in memory only (``qsite serve`` keeps
    one Cache across rebuilds; tests use it too)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.stats: dict[str, tuple[int, int, int, int, int, str]] = {}  # file → stat + hash
        self.docs = _Store("sources")
        self.markdown = _Store("markdown")
        self.pages: dict[str, tuple[str, Stamp]] = {}  # output file → (page key, stamp)
        self.memory_pages: dict[str, tuple[str, Any]] = {}  # URL path → (page key, Output): serve
        self.related: tuple[str, dict[str, tuple[str, ...]]] | None = None  # (shape key, slug → related slugs)
        self.related_dirty = False
        self._shape = ""
        self.metas: dict[str, Any] = {}  # derived key → (Meta, problems): the last build's, never saved
        self.templates: dict[str, Any] = {}  # template source hash → what TemplateDeps found in it
        self.templates_size = 0
        self.compiled = CompiledTemplates()
        self.hits = 0
        self.renders = 0

    @classmethod
    def open(cls, root: Path) -> Cache:
        cache = cls(root / FOLDER)
        folder = root / FOLDER
        if folder.is_dir():
            stats = _load(folder / "stats.pickle")
            if isinstance(stats, dict):
                cache.stats = stats
            pages = _load(folder / "pages.pickle")
            if isinstance(pages, dict):
                cache.pages = pages
            cache.docs.load(folder)
            cache.markdown.load(folder)
            related = _load(folder / "related.pickle")
            if isinstance(related, tuple):
                cache.related = related
            templates = _load(folder / "templates.pickle")
            if isinstance(templates, tuple) and len(templates) == 2:
                cache.templates, cache.compiled.store = templates
                cache.templates_size = len(cache.templates)
        return cache

    def save(self, seen_files: Iterable[str]) -> None:
        """Forget files no longer in the site; write what changed (if this cache has a folder)."""
        keep = set(seen_files)
        self.stats = {k: v for k, v in self.stats.items() if k in keep}
        if self.folder is None:
            self.docs.save(None)
            self.markdown.save(None)
            return
        try:
            self.folder.mkdir(exist_ok=True)
            tag = self.folder / "CACHEDIR.TAG"
            if not tag.exists():  # backup tools skip folders tagged so (bford.info/cachedir)
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# qsite's build cache\n", encoding="utf-8")
            self.docs.save(self.folder)
            self.markdown.save(self.folder)
            _dump(self.folder / "stats.pickle", self.stats)
            _dump(self.folder / "pages.pickle", self.pages)
            if self.related_dirty:
                _dump(self.folder / "related.pickle", self.related)
                self.related_dirty = False
            if self.compiled.dirty or len(self.templates) != self.templates_size:
                if len(self.templates) > 1000:  # template edits pile up: start afresh now and then
                    self.templates, self.compiled.store = {}, {}
                _dump(self.folder / "templates.pickle", (self.templates, self.compiled.store))
                self.compiled.dirty = False
                self.templates_size = len(self.templates)
        except OSError:
            pass  # a cache that cannot be saved costs the next build time, never correctness

    # -- parsed files --

    def known_digest(self, path: Path) -> str | None:
        """The hash of ``path``'s bytes if its stat proves they have not changed, else None."""
        entry = self.stats.get(str(path))
        if entry is None:
            return None
        try:
            st = path.stat()
        except OSError:
            return None
        size, mtime, ctime, ino, checked, digest = entry
        if (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino) != (size, mtime, ctime, ino):
            return None
        if max(mtime, ctime) >= checked - RACY_NS:
            return None  # changed too close to when it was hashed: a second edit could hide
        return digest

    def hash_file(self, path: Path) -> str | None:
        """Hash a file whose stat is new (cheap next to parsing it) and remember its stat."""
        checked = time.time_ns()
        try:
            stat = path.stat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None  # parsing it will report why
        self.record_file(path, stat, checked, digest)
        return digest

    def record_file(self, path: Path, stat: os.stat_result, checked_ns: int, digest: str) -> None:
        self.stats[str(path)] = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino, checked_ns, digest)

    @staticmethod
    def derived_key(*parts: str) -> str:
        """The key of a value made only from values with these keys."""
        return _hash("derived", ENGINE, *parts)

    # -- related posts --

    @staticmethod
    def _related_key(site: Any) -> str:
        """Related posts depend only on each post's slug, date, themes and tags."""
        shape = [(p.slug, p.date.timestamp(), p.themes, tuple(t.slug for t in p.tags)) for p in site.posts]
        return _hash("related", ENGINE, pickle.dumps(shape, protocol=5))

    def related_for(self, site: Any) -> dict[str, tuple[str, ...]] | None:
        """The related posts (by slug) of the last build, if the site's shape is the same."""
        self._shape = self._related_key(site)
        return self.related[1] if self.related is not None and self.related[0] == self._shape else None

    def remember_related(self, site: Any, groups: Any) -> None:
        if self.related is None or self.related[0] != self._shape:
            self.related = (self._shape, {slug: tuple(p.slug for p in ps) for slug, ps in groups.related.items()})
            self.related_dirty = True

    @staticmethod
    def doc_key(digest: str, rel: str, kind: str) -> str:
        return _hash("doc", ENGINE, digest, rel, kind)

    # -- Markdown --

    @staticmethod
    def markdown_key(body: str, base_path: str) -> str:
        return _hash("markdown", ENGINE, base_path, body)

    def get_rendered(self, key: str) -> Rendered | None:
        """Rendered Markdown kept under ``key`` (comments.RenderedStore)."""
        known = self.markdown.get(key)
        return known if isinstance(known, Rendered) else None

    def put_rendered(self, key: str, rendered: Rendered) -> None:
        self.markdown.put(key, rendered)


def read_and_parse(path: Path, rel: str, kind: str) -> tuple[str, os.stat_result, int, SourceDoc | Any]:
    """Stat, read, hash and parse one file (in a worker): the stat is taken before reading, so
    an edit made while reading shows as a changed stat next time."""
    from qsite.content import load_file

    checked = time.time_ns()
    stat = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return digest, stat, checked, load_file(path, rel, kind)


def page_key(
    deps: TemplateDeps,
    fingerprints: Fingerprints,
    env: jinja2.Environment,
    config_fp: bytes,
    template: str,
    path: str,
    context: dict[str, Any],
) -> str | None:
    """The key of one page, or None if it cannot have one (render it every time)."""
    try:
        sources, names = deps.of(template)
    except jinja2.TemplateError:
        return None  # rendering will report it with its file and line
    try:
        shape = (template, tuple(context))
        prefix = deps.prefixes.get(shape)
        if prefix is None:  # the same for every page of this template with these context names
            used = sorted(n for n in names if n in env.globals and n not in context)
            parts = []
            for name in used:  # globals do not change during a build: hash each once
                if name not in deps.global_fps:
                    deps.global_fps[name] = fingerprints.of(env.globals[name])
                parts.append(deps.global_fps[name])
            prefix = deps.prefixes[shape] = _hash("page", ENGINE, sources, template, config_fp, ",".join(used), *parts)
        return _hash(prefix, path, fingerprints.of(context))
    except Unfingerprintable:
        return None


def remove(root: Path) -> bool:
    folder = root / FOLDER
    if folder.is_dir():
        shutil.rmtree(folder)
        return True
    return False


__all__ = ["Cache", "Fingerprints", "Rendered", "SourceDoc", "TemplateDeps", "page_key", "read_and_parse", "remove"]
