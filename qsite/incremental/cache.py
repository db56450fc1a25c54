"""The build cache: never redo work whose inputs have not changed, and never reuse work whose
inputs have. Part of the incremental engine: only ``qsite/incremental/engine.py`` uses it, so no
pipeline step builds a key itself.

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

The cache lives in ``.qsite-cache/`` beside site.yaml as JSON files (``qsite/incremental/cachefiles.py``).
It is *not* trusted: a commit or CI's cache restore can put anything there, so every value is
decoded by the typed codecs below, which build only the plain values and the few dataclasses
the cache holds (``SourceDoc``, ``markup.Rendered``), checking every field. A file or entry
that does not decode is ignored and rebuilt, with one line of notice (``Cache.notes``).
Fingerprints still use pickle, but only to turn a value into bytes to hash: nothing is ever
unpickled. Jinja's compiled templates (marshalled code) are never kept there: see CompiledTemplates
for the per-user folder outside the site that keeps them.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import io
import json
import operator
import os
import pickle
import re
import shutil
import stat
import time
import types
import typing
import weakref
import zoneinfo
from collections.abc import Callable, Iterable
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
import jinja2.bccache
from jinja2 import meta

from qsite.content import SourceDoc
from qsite.incremental import cachefiles
from qsite.incremental.cachefiles import (
    ENGINE,
    FOLDER,
    RACY_NS,
    InputStamp,
    Stamp,
    Unreadable,
    as_bool,
    as_datetime,
    as_dict,
    as_int,
    as_list,
    as_str,
    as_strs,
    as_yaml,
    check_yaml,
    dump,
    input_stamp,
    load,
    load_texts,
    optional,
)
from qsite.markup import SETTINGS as MARKDOWN_SETTINGS
from qsite.markup import Rendered
from qsite.model import Meta, fields_maker
from qsite.problems import ContentError, Problem

_HEX = re.compile("[0-9a-f]+")
SHARDS = 64  # each store is split so one edit rewrites a 64th of it (a 5,000-post site: ~80 entries)


def _hash(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "little") + data)
    return h.hexdigest()


def _keyer(kind: str) -> Callable[..., str]:
    """A hash of texts for one kind of key, made ~25,000 times a 5,000-post rebuild (each
    file's, meta's, body's and post's keys): ``kind`` and ENGINE are hashed once, and the
    texts as the ``repr`` of their tuple, one C call that tells ``("ab", "c")`` from
    ``("a", "bc")``, instead of framing each text in Python (``_hash``)."""
    start = hashlib.sha256(repr(("qsite key", kind, ENGINE)).encode())

    def key(*parts: str) -> str:
        for part in parts:
            if type(part) is not str:
                raise TypeError("a key is made of texts")
        h = start.copy()
        h.update(repr(parts).encode())
        return h.hexdigest()

    return key


_derived = _keyer("derived")
_doc = _keyer("doc")


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

    A seeded value can carry *tags* (the content files it was made from: a post, its body), and
    ``traced`` returns, with a fingerprint, the tags of every seeded value found inside, however
    deep and however memoised (a theme hashed once carries the tags of its posts): the engine
    records them with each page key, so the next build knows which pages show an edited file.
    """

    def __init__(self) -> None:
        self._memo: dict[int, tuple[object, bytes, frozenset[str]]] = {}  # id → (object kept alive, digest, tags)
        self.trail: set[str] = set()  # the tags met since ``traced`` began

    def seed(self, obj: object, key: str, tags: frozenset[str] = frozenset()) -> None:
        """Use ``key`` (already a hash of what made ``obj``) instead of hashing ``obj``."""
        # a key is already a hash (the engine's are 64 hex digits): its bytes stand for ``obj``,
        # with no hashing again (20,000 seeds a 5,000-post rebuild)
        digest = bytes.fromhex(key) if len(key) == 64 and _HEX.fullmatch(key) else None
        if digest is None:
            digest = hashlib.sha256(b"seed" + key.encode()).digest()
        self._memo[id(obj)] = (obj, digest, tags)

    def tags(self, obj: object) -> frozenset[str]:
        """The tags ``obj`` was seeded with this build (none if it was not)."""
        found = self._memo.get(id(obj))
        return found[2] if found is not None and found[0] is obj else frozenset()

    def of(self, value: object) -> bytes:
        buffer = io.BytesIO()
        try:
            _Pickler(buffer, self).dump(value)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            raise Unfingerprintable(str(exc)) from None
        return hashlib.sha256(buffer.getvalue()).digest()

    def traced(self, value: object) -> tuple[bytes, frozenset[str]]:
        """``of(value)``, and the tags of the seeded values in it."""
        outer, self.trail = self.trail, set()
        try:
            return self.of(value), frozenset(self.trail)
        finally:
            self.trail = outer

    def dataclass(self, obj: object, names: tuple[str, ...]) -> bytes:
        outer, self.trail = self.trail, set()
        try:
            digest = self.of((names, tuple(getattr(obj, name) for name in names[2:])))
            tags = frozenset(self.trail)
        finally:
            self.trail = outer | self.trail
        self._memo[id(obj)] = (obj, digest, tags)
        return digest


# A dataclass with at most this many fields (a tag, a link) is pickled in place wherever it
# appears; a bigger one (a post, a theme) is hashed once and stands in every page by its hash.
SMALL_DATACLASS = 5
_DATACLASS, _SMALL, _SET, _OTHER = range(4)
_KINDS: dict[type, int] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}
# a small dataclass is pickled as (this, its values): 16 bytes of a hash of its module, name
# and field names, instead of those five to eight texts each time (40,000 neighbour links at
# 5,000 posts), and its values read by one C call
_CLASS_IDS: dict[type, bytes] = {}
_VALUES: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def _kind(cls: type) -> int:
    if dataclasses.is_dataclass(cls):
        names = (cls.__module__, cls.__qualname__, *(f.name for f in dataclasses.fields(cls)))
        _FIELDS[cls] = names
        _CLASS_IDS[cls] = hashlib.sha256(repr(names).encode()).digest()[:16]
        fields = names[2:]
        if len(fields) >= 2:
            _VALUES[cls] = operator.attrgetter(*fields)  # type: ignore[assignment]
        else:
            _VALUES[cls] = lambda obj, fields=fields: tuple(getattr(obj, name) for name in fields)
        return _SMALL if len(names) - 2 <= SMALL_DATACLASS else _DATACLASS
    return _SET if issubclass(cls, set | frozenset) else _OTHER


def _fingerprinted(kind: str, digest: bytes) -> None:
    """Stands, in a fingerprint's pickle, for a value already reduced to its fingerprint."""


# what a date in a context is pickled with: datetime(…, ZoneInfo) reduces to getattr(ZoneInfo, "_unpickle")
_PRESET = {id(obj): (i, obj) for i, obj in enumerate((_fingerprinted, datetime, getattr, zoneinfo.ZoneInfo))}


class _Pickler(pickle.Pickler):
    """Pickles a value with every dataclass and set in it replaced by its fingerprint.

    ``reducer_override`` rather than ``persistent_id``: pickle calls it for everything but
    exact str, bytes, int, float, None, bool, tuple, list and dict, which are most of a
    context's objects, so hashing a page's context costs a fraction of the Python calls."""

    def __init__(self, file: io.BytesIO, fingerprints: Fingerprints):
        super().__init__(file, protocol=5)
        self.fast = True  # no memo: bytes depend on values only, not on which objects are shared
        # … except for these, always at the same index: pickle looks in the memo before calling
        # ``reducer_override``, and ``_fingerprinted`` is saved once per dataclass in a page's
        # context (nearly half of all the calls, before this)
        self.memo = _PRESET  # type: ignore[assignment]
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
            if found[2]:
                self.fingerprints.trail |= found[2]
            return (_fingerprinted, ("dataclass", found[1]))
        if kind == _SMALL:
            return (_fingerprinted, (_CLASS_IDS[cls], _VALUES[cls](obj)))
        return (_fingerprinted, ("dataclass", self.fingerprints.dataclass(obj, _FIELDS[cls])))


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
        self.prefixes: dict[tuple[str, tuple[str, ...]], str] = {}  # see page_prefix
        self._direct: dict[str, tuple[str, frozenset[str], frozenset[str] | None]] = {}
        self._closure: dict[str, tuple[str, frozenset[str]]] = {}
        self._members: dict[str, frozenset[str]] = {}  # template → it and every template it pulls in
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
        self._members[name] = frozenset(seen)
        return found

    def members(self, name: str) -> frozenset[str]:
        """``name`` and every template it pulls in, as far as ``of`` found them."""
        return self._members.get(name, frozenset([name]))


class CompiledTemplates(jinja2.BytecodeCache):
    """Jinja's compiled templates: compiling the ~20 templates a rebuild renders costs more
    than rendering a few pages (~0.1 s of a one-post edit at 1,000 posts), so they are kept
    in memory (``qsite serve`` keeps one Cache across rebuilds) and, between processes, in a
    per-user folder *outside* the site, as Python keeps ``__pycache__`` and Jinja's own
    ``FileSystemBytecodeCache`` keeps its files.

    Compiled templates are marshalled Python code, so they are never kept in ``.qsite-cache/``
    (a commit or a CI cache restore can fill it): loading them would run whatever was put there.
    The per-user folder (``$QSITE_TEMPLATE_CACHE``, else ``$XDG_CACHE_HOME/qsite/templates``,
    else ``~/.cache/qsite/templates``) is made mode 0700 and used only if, opened without
    following a symlink, it is a directory owned by this user that group and others cannot
    write (the checks of Jinja's ``FileSystemBytecodeCache._get_default_cache_dir``); it is then
    held open and every entry is read and written relative to that handle, so swapping the
    folder after the check changes nothing. An entry must be a regular file owned by this user.
    Anything else, or ``QSITE_NO_TEMPLATE_CACHE=1``, keeps compiled templates in memory only.

    An entry is named by a hash of ``ENGINE`` (qsite's version and source, the Python and
    library versions, Jinja's among them), the template's name and file, and its source's
    checksum; inside, Jinja's ``Bucket`` checks the Python version and the checksum again. It
    is written to a temporary file and renamed into place, so a reader never sees half of one,
    and carries a SHA-256 of its bytes: a damaged entry is ignored and compiled again. The
    folder keeps at most ``KEEP`` entries: past that, writing one removes the oldest half.
    """

    KEEP = 400
    MAGIC = b"qsite-templates/1\n"

    def __init__(self, folder: Path | bool | None = True) -> None:
        """``folder``: True for the per-user folder (looked up on first use), a Path for that
        folder (same checks), None or False for memory only."""
        self.store: dict[str, bytes] = {}
        self.dirty = False
        self._wanted = folder
        self._fd: int | None = None  # the per-user folder, held open once checked
        self._opened = False
        self.loaded = 0  # templates read from the per-user folder (tests, bench)
        self.written = 0

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)
            if bucket.code is not None:
                return
        data = self._read(bucket)
        if data is None:
            return
        with contextlib.suppress(Exception):  # damaged: Bucket reads a pickle and a marshal
            bucket.bytecode_from_string(data)
        if isinstance(bucket.code, types.CodeType):
            self.store[bucket.key] = data
            self.loaded += 1
        else:
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = bucket.bytecode_to_string()
        self.store[bucket.key] = data
        self.dirty = True
        self._write(bucket, data)

    # -- the per-user folder --------------------------------------------------------------

    def folder(self) -> Path | None:
        """Where the per-user folder is, whether or not it is safe to use."""
        if isinstance(self._wanted, Path):
            return self._wanted
        if not self._wanted or os.environ.get("QSITE_NO_TEMPLATE_CACHE", "") not in ("", "0"):
            return None
        chosen = os.environ.get("QSITE_TEMPLATE_CACHE", "")
        if chosen:
            return Path(chosen)
        xdg = os.environ.get("XDG_CACHE_HOME", "")
        if os.path.isabs(xdg):  # the XDG spec: a relative path is invalid and ignored
            return Path(xdg) / "qsite" / "templates"
        try:
            return Path.home() / ".cache" / "qsite" / "templates"
        except (RuntimeError, KeyError):  # no home: memory only
            return None

    def _open(self) -> int | None:
        if self._opened:
            return self._fd
        self._opened = True
        folder = self.folder()
        if folder is None or not hasattr(os, "getuid") or not hasattr(os, "O_NOFOLLOW"):
            return None
        try:
            folder.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with contextlib.suppress(FileExistsError):
                folder.mkdir(mode=0o700)
            # (Python opens every file non-inheritable: no child process gets the handle)
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        except OSError:  # cannot be made, or a symlink (O_NOFOLLOW): memory only
            return None
        info = os.fstat(fd)
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o022:
            os.close(fd)
            return None
        self._fd = fd
        weakref.finalize(self, os.close, fd)
        return fd

    @staticmethod
    def _name(bucket: jinja2.bccache.Bucket) -> str:
        return _hash("qsite compiled template", ENGINE, bucket.key, bucket.checksum) + ".tpl"

    def _read(self, bucket: jinja2.bccache.Bucket) -> bytes | None:
        fd = self._open()
        if fd is None:
            return None
        try:
            entry = os.open(self._name(bucket), os.O_RDONLY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            return None
        try:
            info = os.fstat(entry)
            if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
                return None
            with open(entry, "rb", closefd=False) as f:
                data = f.read()
        except OSError:
            return None
        finally:
            os.close(entry)
        head = len(self.MAGIC) + 32
        if not data.startswith(self.MAGIC) or hashlib.sha256(data[head:]).digest() != data[len(self.MAGIC) : head]:
            return None
        return data[head:]

    def _write(self, bucket: jinja2.bccache.Bucket, data: bytes) -> None:
        """Best effort: a full disk or a read-only home only means compiling again next time."""
        fd = self._open()
        if fd is None:
            return
        name = self._name(bucket)
        temp = f".{name}.{os.getpid()}.{time.monotonic_ns()}.tmp"
        try:
            out = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=fd)
        except OSError:
            return
        try:
            with open(out, "wb") as f:
                f.write(self.MAGIC + hashlib.sha256(data).digest() + data)
            os.replace(temp, name, src_dir_fd=fd, dst_dir_fd=fd)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(temp, dir_fd=fd)
            return
        self.written += 1
        self._prune(fd)

    def _prune(self, fd: int) -> None:
        try:
            names = [n for n in os.listdir(fd) if n.endswith(".tpl")]
        except OSError:
            return
        if len(names) <= self.KEEP:
            return
        ages: list[tuple[float, str]] = []
        for n in names:
            with contextlib.suppress(OSError):
                ages.append((os.stat(n, dir_fd=fd, follow_symlinks=False).st_mtime, n))
        for _, n in sorted(ages)[: len(ages) - self.KEEP // 2]:
            with contextlib.suppress(OSError):
                os.unlink(n, dir_fd=fd)


# -- codecs: each cached value to plain JSON data and back, every field checked --------------

_SOURCEDOC_FIELDS = ("rel", "kind", "meta", "lines", "body", "body_line", "front_line")
_RENDERED_FIELDS = ("html", "summary_html", "has_more", "words", "toc")


def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


# If a field is added to a cached dataclass and not to its codec, nothing of that kind is
# cached (a slower build, never a wrong one); tests/test_cache_format.py fails loudly.
CODECS_CURRENT = {
    "SourceDoc": _fields(SourceDoc) == _SOURCEDOC_FIELDS,
    "Rendered": _fields(Rendered) == _RENDERED_FIELDS,
    "Problem": _fields(Problem) == ("path", "line", "message", "fix", "severity"),
}


def encode_doc(doc: SourceDoc) -> list[Any]:
    if not CODECS_CURRENT["SourceDoc"] or type(doc) is not SourceDoc:
        raise TypeError("not a SourceDoc this codec knows")
    check_yaml(doc.meta)
    lines = []
    for path, line in doc.lines.items():
        for part in path:
            if type(part) is not str and type(part) is not int:
                raise TypeError("front-matter paths are texts and integers")
        lines.append([list(path), line])
    return [doc.rel, doc.kind, doc.meta, lines, doc.body, doc.body_line, doc.front_line]


def decode_doc(value: object) -> SourceDoc:
    """Every file of the site is decoded on each rebuild, so the checks are written out in
    loops rather than one call per value (``as_list``, ``_path``): the same checks."""
    rel, kind, meta, lines, body, body_line, front_line = as_list(value, 7)
    if type(meta) is not dict:
        raise Unreadable("front matter must be an object")
    for item in meta.values():
        if type(item) is not str:
            as_yaml(item, 1)
    found: dict[tuple[str | int, ...], int] = {}
    for entry in as_list(lines):
        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not list or type(entry[1]) is not int:
            raise Unreadable("expected a front-matter path and its line")
        path = entry[0]
        for part in path:
            if type(part) is not str and type(part) is not int:
                raise Unreadable("expected a front-matter path")
        found[tuple(path)] = entry[1]
    return SourceDoc(as_str(rel), as_str(kind), meta, found, as_str(body), as_int(body_line), as_int(front_line))


def encode_rendered(body: Rendered) -> list[Any]:
    if not CODECS_CURRENT["Rendered"] or type(body) is not Rendered:
        raise TypeError("not a Rendered this codec knows")
    return [body.html, body.summary_html, body.has_more, body.words, [list(entry) for entry in body.toc]]


def decode_rendered(value: object) -> Rendered:
    """Every body is decoded on each rebuild: the checks written out in loops, as ``decode_doc``."""
    html, summary_html, has_more, words, toc = as_list(value, 5)
    entries = []
    for entry in as_list(toc):
        if type(entry) is not list or len(entry) != 3:
            raise Unreadable("expected a heading: its level, anchor and text")
        level, ident, text = entry
        if type(level) is not int or type(ident) is not str or type(text) is not str:
            raise Unreadable("expected a heading: its level, anchor and text")
        entries.append((level, ident, text))
    return Rendered(as_str(html), as_str(summary_html), as_bool(has_more), as_int(words), tuple(entries))


def encode_problems(found: tuple[tuple[Problem, ...], ...]) -> list[Any]:
    """The warnings each check found in one file (``Engine.checked``): usually none."""
    plain: list[Any] = []
    for problems in found:
        plain.append([])
        for p in problems:
            if not CODECS_CURRENT["Problem"] or type(p) is not Problem:
                raise TypeError("not a Problem this codec knows")
            entry = [p.path, p.line, p.message, p.fix, p.severity]
            if any(type(v) not in (str, int, type(None)) for v in entry):
                raise TypeError("a Problem's fields are texts, a line number or None")
            plain[-1].append(entry)
    return plain


_optional_int = optional(as_int)
_optional_str = optional(as_str)


def _problem(value: object) -> Problem:
    path, line, message, fix, severity = as_list(value, 5)
    return Problem(as_str(path), _optional_int(line), as_str(message), _optional_str(fix), as_str(severity))


def decode_problems(value: object) -> tuple[tuple[Problem, ...], ...]:
    if type(value) is list and all(type(found) is list and not found for found in value):
        return ((),) * len(value)  # most files: no warning from any check, decoded in one step
    return tuple(tuple(_problem(entry) for entry in as_list(problems)) for problems in as_list(value))


class _NoCodec(TypeError):
    """A declared field type the generic codec cannot keep (its values are then not cached)."""


_NONE = type(None)


def _field_codec(hint: Any, tz: tzinfo) -> tuple[Callable[[Any], Any], Callable[[Any], Any], tuple[type, ...] | None]:
    """(encode, decode, kept) for values of the declared type ``hint``: exact types only, so
    that what is decoded is what was encoded (a ``str`` subclass such as Markup is refused).
    ``kept``: the exact types of a value JSON gives back as it is (texts, integers, true/false,
    None), which decoding only checks (``DataclassCodec.decode``, in one loop); else None."""
    if hint in (str, int, bool):
        check = {str: as_str, int: as_int, bool: as_bool}[hint]

        def plain(value: Any) -> Any:
            if type(value) is not hint:
                raise TypeError(f"expected {hint.__name__}")
            return value

        return plain, check, (hint,)
    if hint is datetime:  # every date a meta holds is in the site's timezone (schema.parse_date)

        def encode_date(value: Any) -> str:
            if type(value) is not datetime or value.tzinfo is not tz:
                raise TypeError("a date not in the site's timezone")
            return value.isoformat()

        return encode_date, lambda value: as_datetime(value).astimezone(tz), None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and len(args) == 2 and _NONE in args:
        enc, dec, kept = _field_codec(next(a for a in args if a is not _NONE), tz)
        return (
            (lambda v: None if v is None else enc(v)), (lambda v: None if v is None else dec(v)),
            (*kept, _NONE) if kept is not None else None,
        )
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        enc, dec, kept = _field_codec(args[0], tz)

        def encode_items(value: Any) -> list[Any]:
            if type(value) is not tuple:
                raise TypeError("expected a tuple")
            return [enc(item) for item in value]

        if kept is not None:  # a tuple of texts: its items checked, not decoded one by one

            def decode_plain_items(value: Any) -> tuple[Any, ...]:
                for item in as_list(value):
                    if type(item) not in kept:
                        raise Unreadable(f"expected a list of {kept[0].__name__}")
                return tuple(value)

            return encode_items, decode_plain_items, None
        return encode_items, lambda value: tuple([dec(item) for item in as_list(value)]), None
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        codec = DataclassCodec(hint, tz)
        return codec.encode, codec.decode, None
    raise _NoCodec(f"no codec for {hint!r}")


class DataclassCodec:
    """A frozen dataclass of plain fields (texts, integers, true/false, dates, optional values,
    tuples, smaller dataclasses) as a JSON list and back, each field checked against its
    declared type. Made from the class's type hints, so a field added to ``Meta`` is kept with
    no code here; a field of a type this does not know leaves the codec ``usable`` False, and
    nothing of the class is kept (slower, never wrong). ``supplied`` fields are left out of
    the JSON and given back to ``decode`` by the caller (a meta's body: in the parsed file).

    Decoding 5,000 metas is a rebuild's cost, so ``decode`` checks the fields JSON gives back
    as they are (most of them) in one loop over their types and calls a decoder only for the
    rest (dates, tuples, smaller dataclasses)."""

    def __init__(self, cls: type, tz: tzinfo, supplied: tuple[str, ...] = ()):
        self.cls = cls
        self.supplied = supplied
        hints = typing.get_type_hints(cls)
        names = [f.name for f in dataclasses.fields(cls)]
        try:
            codecs = [(name, *_field_codec(hints[name], tz)) for name in names if name not in supplied]
            self.usable = all(name in names for name in supplied)
        except _NoCodec:
            codecs, self.usable = [], False
        self.fields = [(name, encode, decode) for name, encode, decode, _kept in codecs]
        self.kept = [(i, kept) for i, (*_, kept) in enumerate(codecs) if kept is not None]
        self.decoded = [(i, decode) for i, (_name, _encode, decode, kept) in enumerate(codecs) if kept is None]
        self.stored = [name for name, *_ in codecs]
        # Built as its own __init__ would build it (every field, in declared order) but without
        # a frozen __setattr__ per field, which is most of decoding 5,000 metas; only for a
        # class whose __init__ does nothing else. ``insert``: where each supplied field goes.
        self.names = names
        self.insert = sorted((names.index(name), name) for name in supplied if name in names)
        self.make = fields_maker(cls)  # a slotted class (``Meta``, ``Tag``): made as model.fields_maker says
        self.direct = self.make is not None or (
            not hasattr(cls, "__post_init__") and "__slots__" not in vars(cls)
            and all(f.init for f in dataclasses.fields(cls))
        )

    def encode(self, value: Any) -> list[Any]:
        if not self.usable or type(value) is not self.cls:
            raise TypeError(f"not a {self.cls.__name__} this codec knows")
        return [encode(getattr(value, name)) for name, encode, _decode in self.fields]

    def decode(self, value: object, **supplied: Any) -> Any:
        items = as_list(value, len(self.fields))
        for i, kept in self.kept:
            if type(items[i]) not in kept:
                raise Unreadable(f"{self.stored[i]}: expected {' or '.join(t.__name__ for t in kept)}")
        values = list(items)
        for i, decode in self.decoded:
            values[i] = decode(values[i])
        if not self.direct or supplied.keys() != set(self.supplied):
            return self.cls(**dict(zip(self.stored, values, strict=True)), **supplied)
        for position, name in self.insert:
            values.insert(position, supplied[name])
        if self.make is not None:
            return self.make(*values)
        value = object.__new__(self.cls)
        value.__dict__.update(zip(self.names, values, strict=True))
        return value


def meta_codec(tz: tzinfo) -> DataclassCodec:
    """Validated front matter (``model.Meta``), kept without its body (``decode(value, body=…)``)."""
    return DataclassCodec(Meta, tz, supplied=("body",))


StatEntry = tuple[int, int, int, int, int, str]  # (*InputStamp, when it was hashed (ns), sha256 of its bytes)


# stats.json and pages.json hold an entry per source file and per page, read on every build:
# their checks are written out in one loop each, not one call per value.


def _decode_stats(value: object) -> dict[str, StatEntry]:
    stats: dict[str, StatEntry] = {}
    for path, entry in as_dict(value).items():
        if (
            type(entry) is not list or len(entry) != 6 or type(entry[0]) is not int or type(entry[1]) is not int
            or type(entry[2]) is not int or type(entry[3]) is not int or type(entry[4]) is not int
            or type(entry[5]) is not str
        ):
            raise Unreadable("expected a file's stamp, when it was hashed and its hash")
        stats[path] = tuple(entry)  # type: ignore[assignment]
    return stats


def _decode_pages(value: object) -> dict[str, tuple[str, Stamp]]:
    pages: dict[str, tuple[str, Stamp]] = {}
    for file, entry in as_dict(value).items():
        if type(entry) is not list or len(entry) != 2 or type(entry[0]) is not str:
            raise Unreadable("expected a page's key and stamp")
        stamp = entry[1]
        if (
            type(stamp) is not list or len(stamp) != 3 or type(stamp[0]) is not int or type(stamp[1]) is not int
            or type(stamp[2]) is not int
        ):
            raise Unreadable("expected a page's stamp: three integers")
        pages[file] = (entry[0], tuple(stamp))  # type: ignore[assignment]
    return pages


def _decode_related(value: object) -> tuple[str, dict[str, tuple[str, ...]]]:
    shape, related = as_list(value, 2)
    return as_str(shape), {slug: as_strs(slugs) for slug, slugs in as_dict(related).items()}


_pulled = optional(lambda value: frozenset(as_strs(value)))


def _decode_templates(value: object) -> dict[str, tuple[frozenset[str], frozenset[str] | None]]:
    found: dict[str, tuple[frozenset[str], frozenset[str] | None]] = {}
    for digest, entry in as_dict(value).items():
        names, pulled = as_list(entry, 2)
        found[digest] = (frozenset(as_strs(names)), _pulled(pulled))
    return found


def _encode_templates(templates: dict[str, Any]) -> dict[str, Any]:
    return {
        digest: [sorted(names), None if pulled is None else sorted(pulled)]
        for digest, (names, pulled) in templates.items()
    }


# -- the cache ----------------------------------------------------------------------------


class _Store:
    """A dict kept as ``SHARDS`` files; remembers which shards changed and which entries this
    build used, so ``save`` rewrites only changed shards and drops what is no longer used.

    On disk each entry is plain data (``encode``); it is decoded and checked (``decode``) only
    when a build asks for it, and an entry that does not decode is a miss. A value that cannot
    be encoded is simply not kept: it is made again next time.

    ``lazy``: a shard's file is read only when an entry of it is asked for, put or dropped;
    ``touch`` keeps an entry without reading it. The parsed files (with every Markdown text:
    31 MB at 5,000 posts) are needed, after one edit, only for the edited file and the few that
    are read again every build (``Engine.documents``): reading them all cost ~70 ms."""

    def __init__(
        self, name: str, encode: Callable[[Any], Any], decode: Callable[[Any], Any], persist: bool = True,
        texts: tuple[int, ...] = (), lazy: bool = False,
    ):
        self.name = name
        self.lazy = lazy
        self.folder: Path | None = None  # where unread shards are (``load`` of a lazy store)
        self.unread: set[int] = set()  # shards not read yet (``_read``)
        # the places in an entry's plain list of its long texts, kept after the JSON (``load_texts``)
        self.texts = texts
        self.persist = persist  # False: in memory only (qsite serve, --no-cache), so values are never encoded
        self.encode = encode
        self.decode = decode
        self.shards: list[dict[str, Any]] = [{} for _ in range(SHARDS)]  # key → plain data
        self.objects: dict[str, Any] = {}  # key → value, for entries decoded or put in this process
        self.dirty = [False] * SHARDS
        self.used: set[str] = set()
        self.notes: list[str] = []  # shared with Cache.notes by ``load``

    @staticmethod
    def _shard(key: str) -> int:
        return int(key[:2], 16) % SHARDS

    def get(self, key: str) -> Any:
        value = self.objects.get(key)
        if value is None:
            if self.unread:
                self._read(self._shard(key))
            shard = self.shards[self._shard(key)]
            plain = shard.get(key)
            if plain is None:
                return None
            try:
                value = self.decode(plain)
            except Exception as exc:  # any surprise in a cache file is just a miss
                del shard[key]  # damaged: made again, and the shard rewritten
                self.dirty[self._shard(key)] = True
                why = str(exc) if isinstance(exc, Unreadable) else type(exc).__name__
                self.notes.append(f"{self._file(self._shard(key))} (an entry: {why})")
                return None
            self.objects[key] = value
        self.used.add(key)
        return value

    def drop(self, key: str, why: str) -> None:
        """An entry found unusable by its caller: made again, and its shard rewritten."""
        i = self._shard(key)
        if self.unread:
            self._read(i)
        if self.shards[i].pop(key, None) is not None:
            self.dirty[i] = True
            self.notes.append(f"{self._file(i)} (an entry: {why})")
        self.objects.pop(key, None)
        self.used.discard(key)

    def put(self, key: str, value: Any) -> None:
        if not self.persist:
            self.objects[key] = value
            self.used.add(key)
            return
        try:
            plain = self.encode(value)
        except (TypeError, ValueError):
            return  # not cacheable (see ``check_yaml``): made again next time
        i = self._shard(key)
        if self.unread:
            self._read(i)
        self.shards[i][key] = plain
        self.objects[key] = value
        self.dirty[i] = True
        self.used.add(key)

    def touch(self, key: str) -> None:
        """Keep ``key``'s entry, if there is one, without reading it (see ``lazy``)."""
        self.used.add(key)

    def has(self, key: str) -> bool:
        """Whether an entry is kept under ``key`` (not whether it decodes: ``get`` says)."""
        if self.unread:
            self._read(self._shard(key))
        return key in self.objects or key in self.shards[self._shard(key)]

    def load(self, folder: Path, notes: list[str]) -> None:
        self.notes = notes
        self.folder = folder
        self.unread = set(range(SHARDS))
        if not self.lazy:
            for i in range(SHARDS):
                self._read(i)

    def _read(self, i: int) -> None:
        if i not in self.unread:
            return
        self.unread.discard(i)
        assert self.folder is not None
        path = self.folder / self._file(i)
        data = load_texts(path, functools.partial(self._inline, i), self.notes, texts=bool(self.texts))
        if data is not None:
            data.update(self.shards[i])  # anything put before it was read (none: ``put`` reads it first)
            self.shards[i] = data
        elif path.exists():
            self.dirty[i] = True  # unreadable: rewrite it

    def _inline(self, i: int, data: object, texts: list[str]) -> dict[str, Any]:
        """A shard's entries with their texts in place, as ``put`` keeps them: an entry whose
        places do not name a text is dropped (made again, and the shard rewritten)."""
        shard = as_dict(data)
        if not self.texts:
            return shard
        for key, plain in list(shard.items()):
            try:
                if type(plain) is not list or len(plain) <= max(self.texts):
                    raise Unreadable("expected a list")
                for place in self.texts:
                    number = plain[place]
                    if type(number) is not int or not 0 <= number < len(texts):
                        raise Unreadable("it names no text")
                    plain[place] = texts[number]
            except Unreadable as exc:
                del shard[key]
                self.dirty[i] = True
                self.notes.append(f"{self._file(i)} (an entry: {exc})")
        return shard

    def _file(self, i: int) -> str:
        return f"{self.name}-{i:02d}.json"

    def _dump(self, folder: Path, i: int, shard: dict[str, Any]) -> None:
        texts: list[str] = []
        data: dict[str, Any] = {}
        for key, plain in shard.items():
            if self.texts:
                plain = list(plain)
                for place in self.texts:
                    texts.append(plain[place])
                    plain[place] = len(texts) - 1
            data[key] = plain
        dump(folder / self._file(i), data, texts if self.texts else None)

    def save(self, folder: Path | None) -> None:
        for i, shard in enumerate(self.shards):
            if i in self.unread:
                continue  # never read: unchanged (its entries no longer used are dropped once it is)
            unused = [k for k in shard if k not in self.used]
            for key in unused:
                del shard[key]
            if folder is not None and (self.dirty[i] or unused):
                self._dump(folder, i, shard)
            self.dirty[i] = False
        self.objects = {k: v for k, v in self.objects.items() if k in self.used}
        self.used = set()


class Cache:
    """What earlier builds did. ``folder`` None keeps it in memory only (``qsite serve`` keeps
    one Cache across rebuilds; tests use it too)."""

    def __init__(self, folder: Path | None = None):
        self.folder = folder
        self.stats: dict[str, StatEntry] = {}  # input file → its stamp, when hashed, and its hash
        self.docs = _Store(  # the body kept after the JSON; a shard read when asked for (``Engine.documents``)
            "sources", encode_doc, decode_doc, persist=folder is not None, texts=(4,), lazy=True
        )
        self.markdown = _Store(  # the HTML and the summary's
            "markdown", encode_rendered, decode_rendered, persist=folder is not None, texts=(0, 1)
        )
        self.pages: dict[str, tuple[str, Stamp]] = {}  # output file → (page key, stamp)
        self.memory_pages: dict[str, tuple[str, Any]] = {}  # URL path → (page key, Output): serve
        self.plan: PlanRecord | None = None  # how ``pages`` were keyed (Engine.pages)
        self.memory_plan: PlanRecord | None = None  # how ``memory_pages`` were keyed
        self.related: tuple[str, dict[str, tuple[str, ...]]] | None = None  # (shape key, slug → related slugs)
        self.related_dirty = False
        self._shape = ""
        self.metas: dict[str, Any] = {}  # derived key → (Meta, problems): the last build's, in memory
        # derived key → a meta that had no problems, as ``meta_codec`` keeps it (on disk only)
        self.validated = _Store("metas", lambda plain: plain, as_list, persist=folder is not None)
        # derived key → the warnings a check of one parsed file found (``Engine.checked``)
        self.checks = _Store("checks", encode_problems, decode_problems, persist=folder is not None)
        self.templates: dict[str, Any] = {}  # template source hash → what TemplateDeps found in it
        self.templates_dirty = False
        self.templates_size = 0
        self.compiled = CompiledTemplates()  # in memory and a per-user folder: see CompiledTemplates
        self.notes: list[str] = []  # cache files found unreadable (and ignored): see cachefiles.note
        self.content_saved = False  # ``save_content`` wrote the content step's stores: ``save`` does not
        self.hits = 0
        self.renders = 0

    @classmethod
    def open(cls, root: Path) -> Cache:
        cache = cls(root / FOLDER)
        folder = root / FOLDER
        if folder.is_dir() and not folder.is_symlink():
            notes = cache.notes
            cache.stats = load(folder / "stats.json", _decode_stats, notes) or {}
            cache.pages = load(folder / "pages.json", _decode_pages, notes) or {}
            cache.plan = load(folder / "plan.json", decode_plan, notes)
            cache.docs.load(folder, notes)
            cache.markdown.load(folder, notes)
            cache.validated.load(folder, notes)
            cache.checks.load(folder, notes)
            cache.related = load(folder / "related.json", _decode_related, notes)
            cache.related_dirty = cache.related is None and (folder / "related.json").exists()
            cache.templates = load(folder / "templates.json", _decode_templates, notes) or {}
            cache.templates_size = len(cache.templates)
            cache.templates_dirty = not cache.templates and (folder / "templates.json").exists()
        return cache

    def save_content(self) -> None:
        """Write now the stores the content step fills (parsed files, validated front matter,
        their checks, rendered Markdown: none changes after it) and let their entries go: the
        rest of the build never reads them, and holding them (with every file's text) until
        ``save`` made the render step's forked workers inherit them too (~110 MiB at 20,000
        posts). On disk only: an in-memory cache (``qsite serve``) is the only copy."""
        if self.folder is None:
            return
        with contextlib.suppress(OSError, ValueError, TypeError):  # as ``save``: never correctness
            if self.folder.is_symlink():
                return
            self.folder.mkdir(exist_ok=True)
            for store in (self.docs, self.validated, self.checks, self.markdown):
                store.save(self.folder)
        self.content_saved = True
        for store in (self.docs, self.validated, self.checks, self.markdown):
            store.shards = [{} for _ in range(SHARDS)]
            store.objects = {}
            # a late question (a parsed file read on demand) is answered from disk, and what
            # it reads is never written back (``save`` skips these stores now)
            store.unread = set(range(SHARDS)) if store.folder is not None else set()

    def save(self, seen_files: Iterable[str]) -> None:
        """Forget files no longer in the site; write what changed (if this cache has a folder)."""
        keep = set(seen_files)
        self.stats = {k: v for k, v in self.stats.items() if k in keep}
        if self.folder is None:
            self.docs.save(None)
            self.markdown.save(None)
            self.validated.save(None)
            self.checks.save(None)
            return
        try:
            if self.folder.is_symlink():
                return  # never write through a link to who knows where
            self.folder.mkdir(exist_ok=True)
            tag = self.folder / "CACHEDIR.TAG"
            if not tag.exists():  # backup tools skip folders tagged so (bford.info/cachedir)
                tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# qsite's build cache\n", encoding="utf-8")
            cachefiles.remove_old(self.folder)
            if not self.content_saved:
                self.docs.save(self.folder)
                self.markdown.save(self.folder)
                self.validated.save(self.folder)
                self.checks.save(self.folder)
            dump(self.folder / "stats.json", {path: list(entry) for path, entry in self.stats.items()})
            dump(self.folder / "pages.json", {file: [key, list(stamp)] for file, (key, stamp) in self.pages.items()})
            if self.plan is not None:
                dump(self.folder / "plan.json", encode_plan(self.plan))
            else:
                (self.folder / "plan.json").unlink(missing_ok=True)
            if self.related_dirty and self.related is not None:
                shape, related = self.related
                dump(self.folder / "related.json", [shape, {slug: list(slugs) for slug, slugs in related.items()}])
                self.related_dirty = False
            if self.templates_dirty or len(self.templates) != self.templates_size:
                if len(self.templates) > 1000:  # template edits pile up: start afresh now and then
                    self.templates = {}
                dump(self.folder / "templates.json", _encode_templates(self.templates))
                self.templates_dirty = False
                self.templates_size = len(self.templates)
        except (OSError, ValueError, TypeError):
            pass  # a cache that cannot be saved costs the next build time, never correctness

    # -- parsed files --

    def known_digest(self, path: Path, now: InputStamp | None = None) -> str | None:
        """The hash of ``path``'s bytes if its stat proves they have not changed, else None.
        ``now``: its stat taken already this build (the no-change record's, ``fastpath``), so
        a file is stat'ed once per build, not once per question."""
        entry = self.stats.get(str(path))
        if entry is None:
            return None
        if now is None:
            try:
                now = input_stamp(path.stat())
            except OSError:
                return None
        seen: InputStamp = entry[:4]  # type: ignore[assignment]
        if now != seen:
            return None
        if cachefiles.is_racy(seen, entry[4]):
            return None  # changed too close to when it was hashed: a second edit could hide
        return entry[5]

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
        self.stats[str(path)] = (*input_stamp(stat), checked_ns, digest)

    @staticmethod
    def derived_key(*parts: str) -> str:
        """The key of a value made only from values with these keys."""
        return _derived(*parts)

    # -- related posts --

    @staticmethod
    def _related_key(site: Any) -> str:
        """Related posts depend only on each post's key (its address), date, themes and tags."""
        shape = [(p.key, p.date.timestamp(), p.themes, tuple(t.slug for t in p.tags)) for p in site.posts]
        return _hash("related", ENGINE, json.dumps(shape))

    def related_for(self, site: Any) -> dict[str, tuple[str, ...]] | None:
        """The related posts (by ``Post.key``) of the last build, if the site's shape is the same."""
        self._shape = self._related_key(site)
        return self.related[1] if self.related is not None and self.related[0] == self._shape else None

    def remember_related(self, site: Any, groups: Any) -> None:
        if self.related is None or self.related[0] != self._shape:
            self.related = (self._shape, {key: tuple(p.key for p in ps) for key, ps in groups.related.items()})
            self.related_dirty = True

    @staticmethod
    def doc_key(digest: str, rel: str, kind: str) -> str:
        return _doc(digest, rel, kind)

    def later_doc(self, key: str, path: Path, rel: str, kind: str) -> SourceDoc:
        """The parsed document of an unchanged file (kept under ``key``), read from this cache
        only if something asks for more than its path and kind (``SourceDoc.later``)."""
        self.docs.touch(key)
        return SourceDoc.later(rel, kind, functools.partial(self._read_later, key, path, rel, kind))

    def _read_later(self, key: str, path: Path, rel: str, kind: str) -> SourceDoc:
        doc = self.docs.get(key)
        if doc is None:  # lost from the cache (a damaged shard): the file, parsed again, is the same
            from qsite.content import load_file

            doc = load_file(path, rel, kind)
            if not isinstance(doc, SourceDoc):  # it changed or went since it was stat'ed: say so
                raise ContentError([doc])
        return doc

    # -- Markdown --

    @staticmethod
    def markdown_key(body: str, base_path: str) -> str:
        return _hash("markdown", ENGINE, MARKDOWN_SETTINGS, base_path, body)  # settings: markup.SETTINGS

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


def page_prefix(
    deps: TemplateDeps, fingerprints: Fingerprints, env: jinja2.Environment, config_fp: bytes, template: str,
    names: tuple[str, ...],
) -> str | None:
    """The part of a page's key shared by every page of ``template`` whose context has these
    ``names``: the template's sources, the site config and the globals it uses. None if it has
    none (a missing or broken template, a global that cannot be fingerprinted)."""
    shape = (template, names)
    prefix = deps.prefixes.get(shape)
    if prefix is not None:
        return prefix
    try:
        sources, used_names = deps.of(template)
    except jinja2.TemplateError:
        return None  # rendering will report it with its file and line
    try:
        used = sorted(n for n in used_names if n in env.globals and n not in names)
        parts = []
        for name in used:  # globals do not change during a build: hash each once
            if name not in deps.global_fps:
                deps.global_fps[name] = fingerprints.of(env.globals[name])
            parts.append(deps.global_fps[name])
    except Unfingerprintable:
        return None
    prefix = deps.prefixes[shape] = _hash("page", ENGINE, sources, template, config_fp, ",".join(used), *parts)
    return prefix


def traced_page_key(
    deps: TemplateDeps,
    fingerprints: Fingerprints,
    env: jinja2.Environment,
    config_fp: bytes,
    template: str,
    path: str,
    context: dict[str, Any],
) -> tuple[str | None, bytes, frozenset[str]]:
    """The key of one page (None if it cannot have one: render it every time), the fingerprint
    of its context, and the tags of the seeded values its context holds (``Fingerprints.traced``)."""
    prefix = page_prefix(deps, fingerprints, env, config_fp, template, tuple(context))
    if prefix is None:
        return None, b"", frozenset()
    try:
        digest, tags = fingerprints.traced(context)
    except Unfingerprintable:
        return None, b"", frozenset()
    return keyed(prefix, path, digest), digest, tags


def keyed(prefix: str, path: str, context_fp: bytes) -> str:
    """A page's key from its prefix (``page_prefix``), URL path and context's fingerprint."""
    return _hash(prefix, path, context_fp)


@dataclasses.dataclass
class PlanRecord:
    """What the engine needs to key again only the pages whose inputs changed (``Engine.pages``).

    ``model``: the fingerprint of what the plan was made from (the site and the digest; the
    groups are made from the site) with each post and body standing for its content file only;
    ``tags``: content file → hash of its post's and body's keys; ``fronts``: a post's file →
    (its meta's key, a key of its meta but the body), so that a build hashes only the metas
    whose key changed. Then, for each job in plan order: its output file, the first digits of
    its page key (checked against the full key kept with the output in ``Cache.pages``), the
    key's prefix, its context's fingerprint (so a template edit needs no context hashed
    again), and its *trail*: the content files whose post or body its context held, as
    numbers into ``sources`` joined by commas. Written after every build, so kept as columns
    of texts that JSON reads at C speed; a trail is parsed only when a page is checked."""

    model: str
    tags: dict[str, str]
    fronts: dict[str, tuple[str, str]]
    sources: list[str] = dataclasses.field(default_factory=list)
    files: list[str] = dataclasses.field(default_factory=list)
    keys: list[str] = dataclasses.field(default_factory=list)
    prefixes: list[str] = dataclasses.field(default_factory=list)
    contexts: list[str] = dataclasses.field(default_factory=list)  # each context's fingerprint (hex)
    trails: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.numbers = {source: str(i) for i, source in enumerate(self.sources)}

    def number(self, source: str) -> str:
        found = self.numbers.get(source)
        if found is None:
            found = self.numbers[source] = str(len(self.sources))
            self.sources.append(source)
        return found

    def trail(self, tags: frozenset[str]) -> str:
        return ",".join(sorted(self.number(tag) for tag in tags))


def encode_plan(record: PlanRecord) -> dict[str, Any]:
    prefixes: dict[str, int] = {}
    return {
        "model": record.model, "tags": [list(record.tags), list(record.tags.values())],
        "fronts": [list(record.fronts), [m for m, _ in record.fronts.values()], [f for _, f in record.fronts.values()]],
        "sources": record.sources, "files": record.files, "keys": record.keys,
        "prefix_of": [prefixes.setdefault(p, len(prefixes)) for p in record.prefixes], "prefixes": list(prefixes),
        "contexts": record.contexts, "trails": record.trails,
    }


def _columns(value: object, count: int, length: int | None = None) -> list[tuple[str, ...]]:
    columns = [as_strs(column) for column in as_list(value, count)]
    if length is None:
        length = len(columns[0])
    if any(len(column) != length for column in columns):
        raise Unreadable("columns of different lengths")
    return columns


def decode_plan(value: object) -> PlanRecord:
    data = as_dict(value)
    tag_sources, tag_values = _columns(data.get("tags"), 2)
    front_sources, metas, fronts = _columns(data.get("fronts"), 3)
    files = as_strs(data.get("files"))
    keys, contexts, trails = _columns([data.get("keys"), data.get("contexts"), data.get("trails")], 3, len(files))
    try:  # every context's fingerprint is 32 bytes in hex (one C call checks them all)
        if any(len(c) != 64 for c in contexts) or len(bytes.fromhex("".join(contexts))) != 32 * len(contexts):
            raise ValueError
    except ValueError:
        raise Unreadable("a context's fingerprint is not 64 hex digits") from None
    prefixes = as_strs(data.get("prefixes"))
    prefix_of = as_list(data.get("prefix_of"))
    if len(prefix_of) != len(files) or any(type(i) is not int or not 0 <= i < len(prefixes) for i in prefix_of):
        raise Unreadable("a job refers to no prefix")
    return PlanRecord(
        as_str(data.get("model")), dict(zip(tag_sources, tag_values, strict=True)),
        dict(zip(front_sources, zip(metas, fronts, strict=True), strict=True)), list(as_strs(data.get("sources"))),
        list(files), list(keys), [prefixes[i] for i in prefix_of], list(contexts), list(trails),
    )


def remove(root: Path) -> bool:
    folder = root / FOLDER
    if folder.is_dir():
        shutil.rmtree(folder)
        return True
    return False


# RACY_NS: tests make recent files trusted by setting it here and in cachefiles
__all__ = [
    "RACY_NS",
    "Cache",
    "Fingerprints",
    "PlanRecord",
    "Rendered",
    "SourceDoc",
    "TemplateDeps",
    "keyed",
    "page_prefix",
    "read_and_parse",
    "remove",
    "traced_page_key",
]
