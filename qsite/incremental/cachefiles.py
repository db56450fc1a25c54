"""The build cache's files, their data-only format, the one shape of a file stamp, and the key
of the engine that wrote them. Kept free of the libraries the build renders with: the
no-change shortcut (``fastpath``) reads the cache before (and, when nothing changed, instead
of) importing Jinja, Markdown or Pygments.

**Caches hold data, not code.** ``.qsite-cache/`` can arrive in a commit or through CI's cache
restore, so whatever is in it is read as untrusted input: each file is JSON (parsing JSON
never runs code; the stores of bodies and their HTML keep those long texts after their JSON,
as raw UTF-8 it lists the lengths of: ``load_texts``), and every value is decoded by a typed
decoder that checks each field's type and builds only qsite's own plain values and
dataclasses, named by the caller, never by the file. A file that is missing is a miss; one
that is damaged, truncated, of another format or
written by another qsite (``ENGINE``) is *unreadable*: it is ignored, the caller rebuilds it,
and ``note`` turns the list of such files into the one line the CLI prints. No cache file
can stop or change a build.

``ENGINE`` hashes qsite's version, its own source files (the Markdown settings in markup.py
among them) and default theme (``qsite/theme/``), the Python version and the versions of the
libraries qsite depends on: anything that changes stamps every cache file as someone else's.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from qsite import __version__

FOLDER = ".qsite-cache"
FORMAT = "qsite-cache/2"  # 1 was pickles: never read, removed by the next save (see ``remove_old``)
RACY_NS = 2_000_000_000  # a file changed this close to being read may change again unseen

T = TypeVar("T")


def _engine() -> str:
    """Everything outside the site that can change what a build produces."""
    h = hashlib.sha256(f"qsite {__version__} python {sys.version_info[:2]}".encode())
    for name, version in _dependencies():
        h.update(f"{name} {version}".encode())
    package = Path(__file__).resolve().parent.parent  # qsite/, from qsite/incremental/
    for source in sorted(package.rglob("*.py")):
        h.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
    # The default theme is an input of every site that does not override all of it: its bytes
    # (about 150 KB) key every cache file too, so an edited theme never leaves a stale page.
    for source in sorted(p for p in (package / "theme").rglob("*") if p.is_file()):
        h.update(source.relative_to(package).as_posix().encode() + source.read_bytes())
    return h.hexdigest()


_DIST_INFO = re.compile(r"([A-Za-z0-9_.]+)-([^-]+)\.dist-info")


def _dependencies() -> list[tuple[str, str]]:
    """(name, installed version) of each library qsite requires (not its test extras).

    Every process computes ENGINE, the no-change shortcut's too, so this reads the names of the
    ``NAME-VERSION.dist-info`` folders on ``sys.path`` and qsite's own ``Requires-Dist`` lines,
    instead of importing ``importlib.metadata`` (with ``email``, ``zipfile``, ``csv``…) and
    parsing a dozen METADATA files: ~20 ms of every start (issue 10). Anything installed
    another way is asked of ``importlib.metadata``, as before."""
    folders: dict[str, tuple[str, str]] = {}  # normalised name → (version, folder): first on sys.path wins
    for entry in sys.path:
        with contextlib.suppress(OSError):
            for name in os.listdir(entry or "."):
                found = _DIST_INFO.fullmatch(name)
                if found:
                    key = _normalised(found.group(1))
                    folders.setdefault(key, (found.group(2), os.path.join(entry or ".", name)))
    own = folders.get("qsite")
    requirements = _requires(own[1]) if own else None
    if requirements is None:
        import importlib.metadata

        requirements = importlib.metadata.requires("qsite") or []
    result = []
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        name = re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        known = folders.get(_normalised(name))
        if known is not None:
            result.append((name, known[0]))
            continue
        import importlib.metadata

        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            result.append((name, importlib.metadata.version(name)))
    return result


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _requires(folder: str) -> list[str] | None:
    """The ``Requires-Dist`` headers of an installed distribution's METADATA (the headers end
    at the first blank line; the long description follows)."""
    try:
        with open(os.path.join(folder, "METADATA"), encoding="utf-8") as file:
            text = file.read()
    except OSError:
        return None
    headers = text.split("\n\n", 1)[0]
    return [line[len("Requires-Dist:"):].strip() for line in headers.splitlines() if line.startswith("Requires-Dist:")]


ENGINE = _engine()


# -- file stamps ----------------------------------------------------------------------------

# One shape for "what a file looked like when last seen", for every file qsite tracks:
# (size, mtime_ns, inode). An *input* file (under content/, templates/, site.yaml) also carries
# its ctime, which catches an edit that restored the mtime; output files cannot, since the
# renames and hard links that put them in place change their ctime but not their stamp.
Stamp = tuple[int, int, int]
InputStamp = tuple[int, int, int, int]  # (*Stamp, ctime_ns)


def stamp(st: os.stat_result) -> Stamp:
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def input_stamp(st: os.stat_result) -> InputStamp:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)


def is_racy(seen: InputStamp, checked_ns: int) -> bool:
    """True if the file changed so close to ``checked_ns`` (when it was read) that a second
    edit within the clock's granularity could keep this stamp: its bytes must be compared."""
    return max(seen[1], seen[3]) >= checked_ns - RACY_NS


# -- a small typed codec ---------------------------------------------------------------------


class Unreadable(ValueError):
    """A cache file or value that is not what qsite wrote; the message says why."""


def as_int(value: object) -> int:
    if type(value) is not int:  # bool is an int subclass: refused
        raise Unreadable(f"expected an integer, found {type(value).__name__}")
    return value


def as_str(value: object) -> str:
    if type(value) is not str:
        raise Unreadable(f"expected text, found {type(value).__name__}")
    return value


def as_bool(value: object) -> bool:
    if type(value) is not bool:
        raise Unreadable(f"expected true or false, found {type(value).__name__}")
    return value


def optional(decode: Callable[[object], T]) -> Callable[[object], T | None]:
    return lambda value: None if value is None else decode(value)


def as_list(value: object, length: int | None = None) -> list[Any]:
    if type(value) is not list or (length is not None and len(value) != length):
        raise Unreadable(f"expected a list of {length or 'any number of'} items")
    return value


def as_dict(value: object) -> dict[str, Any]:
    if type(value) is not dict:  # JSON objects' keys are always text
        raise Unreadable(f"expected an object, found {type(value).__name__}")
    return value


def as_strs(value: object) -> tuple[str, ...]:
    items = as_list(value)
    for item in items:
        if type(item) is not str:
            raise Unreadable("expected a list of texts")
    return tuple(items)


def as_ints(value: object, length: int) -> tuple[int, ...]:
    items = as_list(value, length)
    for item in items:
        if type(item) is not int:
            raise Unreadable("expected a list of integers")
    return tuple(items)


def as_stamp(value: object) -> Stamp:
    return as_ints(value, 3)  # type: ignore[return-value]


def as_input_stamp(value: object) -> InputStamp:
    return as_ints(value, 4)  # type: ignore[return-value]


def as_datetime(value: object) -> datetime:
    """An aware datetime, kept as ISO 8601 text with its UTC offset."""
    try:
        found = datetime.fromisoformat(as_str(value))
    except ValueError:
        raise Unreadable("expected a date and time") from None
    if found.tzinfo is None:
        raise Unreadable("expected a date and time with its UTC offset")
    return found


def from_datetime(value: datetime) -> str:
    return value.isoformat()


MAX_DEPTH = 64  # front matter is refused past strict_yaml.MAX_DEPTH (20) levels


def as_yaml(value: object, depth: int = 0) -> Any:
    """A front-matter value as strict_yaml builds it: text, integer, float, true/false, null,
    lists and objects of those; nothing else, and never deeper than any front matter can be."""
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float or value is None:
        return value
    if depth > MAX_DEPTH:
        raise Unreadable("values nested too deeply")
    if kind is list:
        for item in value:  # type: ignore[attr-defined]
            as_yaml(item, depth + 1)
        return value
    if kind is dict:
        for item in value.values():  # type: ignore[attr-defined]
            as_yaml(item, depth + 1)
        return value
    raise Unreadable(f"unexpected {kind.__name__} in front matter")


def check_yaml(value: object, depth: int = 0) -> None:
    """Raise TypeError unless ``value`` is one ``as_yaml`` accepts and JSON keeps as it is
    (a float that is not finite, or an integer too big for other JSON readers, is not
    cached: the file is parsed again next time)."""
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if abs(value) >= 2**63:  # type: ignore[arg-type]
            raise TypeError("integer too big to cache")
        return
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            raise TypeError("float not finite")
        return
    if depth > MAX_DEPTH:
        raise TypeError("nested too deeply to cache")
    if kind is list:
        for item in value:  # type: ignore[attr-defined]
            check_yaml(item, depth + 1)
        return
    if kind is dict:
        for key, item in value.items():  # type: ignore[attr-defined]
            if type(key) is not str:
                raise TypeError("front matter keys are text")
            check_yaml(item, depth + 1)
        return
    raise TypeError(f"{kind.__name__} cannot be cached")


# -- files -----------------------------------------------------------------------------------


def load(path: Path, decode: Callable[[Any], T], notes: list[str]) -> T | None:
    """The value kept in ``path`` by ``dump``, decoded and checked by ``decode``; None if there
    is none. An unreadable file (see the module docstring) also adds its name and why to
    ``notes``, and the caller rebuilds it: a cache file can cost time, never a build."""
    return load_texts(path, lambda data, _texts: decode(data), notes, texts=False)


def load_texts(
    path: Path, decode: Callable[[Any, list[str]], T], notes: list[str], texts: bool = True
) -> T | None:
    """``load`` for a file ``dump`` wrote with ``texts``: ``decode(data, texts)``.

    Long texts (Markdown bodies, their HTML: ~70 MB at 5,000 posts) are kept after the JSON,
    as raw UTF-8, one after the other, and the JSON lists their lengths in bytes: parsing JSON
    costs a scan of every character of every string, escapes and all, where this is one slice
    and one UTF-8 decode each. Still data only: a length that does not add up, or bytes that
    are not UTF-8, make the file unreadable."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        notes.append(f"{path.name} ({exc.strerror or exc})")
        return None
    try:
        end = raw.find(b"\n")  # JSON as ``dump`` writes it has no newline: it escapes them
        try:
            doc = json.loads(raw if end < 0 else raw[:end])
        except (ValueError, RecursionError):
            raise Unreadable("not a JSON file qsite wrote: damaged, truncated or of an older format") from None
        if type(doc) is not dict or doc.get("format") != FORMAT or "data" not in doc:
            raise Unreadable("not a qsite cache file of this format")
        if doc.get("engine") != ENGINE:
            raise Unreadable("written by another version of qsite or its libraries")
        if not texts:
            if end >= 0 or "texts" in doc:
                raise Unreadable("not a qsite cache file of this kind")
            return decode(doc["data"], [])
        return decode(doc["data"], _texts(doc.get("texts"), memoryview(raw)[end + 1:] if end >= 0 else None))
    except Exception as exc:  # any surprise in a cache file is just a miss
        why = str(exc) if isinstance(exc, Unreadable) else f"unexpected content: {type(exc).__name__}"
        notes.append(f"{path.name} ({why})")
        return None


def _texts(lengths: object, tail: memoryview | None) -> list[str]:
    if tail is None or type(lengths) is not list:
        raise Unreadable("its texts are missing")
    found = []
    start = 0
    try:
        for length in lengths:
            if type(length) is not int or length < 0:
                raise Unreadable("a text's length is not a number of bytes")
            found.append(str(tail[start:start + length], "utf-8"))
            start += length
    except UnicodeDecodeError:
        raise Unreadable("a text is not UTF-8") from None
    if start != len(tail):
        raise Unreadable("its texts are not the lengths it lists: damaged or truncated")
    return found


def dump(path: Path, data: Any, texts: list[str] | None = None) -> None:
    """Write ``data`` (plain JSON values only) to ``path`` atomically: a reader sees the old
    file or the new one, never half of one. ``texts``: kept after the JSON (``load_texts``)."""
    header: dict[str, Any] = {"format": FORMAT, "engine": ENGINE, "data": data}
    tail: list[bytes] = []
    if texts is not None:
        for text in texts:
            if type(text) is not str:
                raise TypeError("a kept text must be a str")
            tail.append(text.encode())
        header["texts"] = [len(b) for b in tail]
    import tempfile  # here: a no-change build writes no cache file, and tempfile costs an import

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            for piece in _pieces(header):
                f.write(piece.encode())
            if texts is not None:
                f.write(b"\n")
                f.write(b"".join(tail))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_CHUNK = 512  # items of a large dict or list encoded at once by ``_pieces``


def write_pieces(f: IO[str], value: dict[str, Any]) -> None:
    """``value`` as compact JSON into the text file ``f``, each of its long dicts a few hundred
    entries at a time: for a big record written at the end of a build that is not in this
    module's format (the search manifest: 5.7 MB at 20,000 posts, nearly all its ``pages``,
    whose text and bytes at once were the parent's peak there, bench/memory.py). One level
    only, so as fast as one ``json.dumps`` (``_pieces`` asks each entry whether it is large:
    twice as slow on the manifest, written by every build that indexes)."""
    f.write("{")
    for n, (key, item) in enumerate(value.items()):
        f.write(("," if n else "") + _json({key: 0})[1:-2])  # '"key":', as the encoder writes keys
        if type(item) is not dict or len(item) <= _CHUNK:
            f.write(_json(item))
            continue
        f.write("{")
        entries = iter(item.items())
        for start in range(0, len(item), _CHUNK):
            f.write(("," if start else "") + _json(dict(itertools.islice(entries, _CHUNK)))[1:-1])
        f.write("}")
    f.write("}")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _pieces(value: Any) -> Iterator[str]:
    """``_json(value)``, in pieces that join to the same text: a large dict or list (the
    record of every output file and folder, every input's stamp: ~70,000 entries at 20,000
    posts) is encoded a few hundred items at a time, so the whole JSON text and its UTF-8
    bytes never exist at once at the end of a build, when the process is at its largest."""
    if type(value) is dict:
        if len(value) <= _CHUNK and not _any_large(value.values()):
            yield _json(value)
            return
        yield "{"
        items = iter(value.items())
        for start in range(0, len(value), _CHUNK):
            if start:
                yield ","
            chunk = list(itertools.islice(items, _CHUNK))
            if not _any_large(v for _k, v in chunk):
                yield _json(dict(chunk))[1:-1]
                continue
            for i, (key, item) in enumerate(chunk):
                yield (',' if i else '') + _json({key: 0})[1:-2]  # '"key":', as the encoder writes keys
                yield from _pieces(item)
        yield "}"
    elif type(value) is list:
        if len(value) <= _CHUNK and not _any_large(value):
            yield _json(value)
            return
        yield "["
        for start in range(0, len(value), _CHUNK):
            if start:
                yield ","
            chunk = value[start:start + _CHUNK]
            if not _any_large(chunk):
                yield _json(chunk)[1:-1]
                continue
            for i, item in enumerate(chunk):
                if i:
                    yield ","
                yield from _pieces(item)
        yield "]"
    else:
        yield _json(value)


def _any_large(values: Iterable[Any]) -> bool:
    return any((type(v) is dict or type(v) is list) and _large(v) for v in values)


def _large(value: Any, depth: int = 3) -> bool:
    """Whether ``value`` is a dict or list worth encoding in pieces: a long one, or one that
    holds a long one (a record's few fields around its list of every output file). Asked of
    every entry of a big record (~30,000 at 5,000 posts), so a text or number inside one is
    told apart where it is met, not by a call each."""
    kind = type(value)
    if kind is not dict and kind is not list:
        return False
    if len(value) > _CHUNK // 8:
        return True
    items = value.values() if type(value) is dict else value
    # most hold only numbers and strings (a folder's file stamps): told in C, without a call per item
    if depth <= 0 or _CONTAINERS.isdisjoint(map(type, items)):
        return False
    return any(_large(v, depth - 1) for v in items)


_CONTAINERS = frozenset((dict, list))


def remove_old(folder: Path) -> None:
    """Delete the cache files of the older, pickled format (never read: they could run code)."""
    with contextlib.suppress(OSError):
        for old in folder.glob("*.pickle"):
            with contextlib.suppress(OSError):
                old.unlink()


def note(notes: list[str]) -> str | None:
    """The one line that tells an editor which cache files were ignored, or None. ``notes``
    holds ``"name (why)"``; files ignored for the same reason (a new qsite: all of them) share it."""
    if not notes:
        return None
    unique = list(dict.fromkeys(notes))
    if len(unique) == 1:
        name, _, why = unique[0].partition(" (")
        return f"note: {FOLDER}/{name} was unreadable ({why}, so it was ignored and rebuilt"
    names = list(dict.fromkeys(n.split(" (", 1)[0] for n in unique))
    reasons = {n.split(" (", 1)[-1].rstrip(")") for n in unique}
    why = f" ({reasons.pop()})" if len(reasons) == 1 else ""
    shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
    return f"note: {len(names)} files in {FOLDER}/ were unreadable{why}, so they were ignored and rebuilt: {shown}"
