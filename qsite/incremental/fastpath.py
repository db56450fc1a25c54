"""The no-change rebuild: prove from file stats alone that a build would change nothing, and
then do nothing. Part of the incremental engine (``qsite/incremental/engine.py`` records and checks
it for a build; ``qsite build`` asks ``quick`` before importing the pipeline).

A build's output is a function of its inputs: the files under ``content/`` and ``templates/``,
``site.yaml``, qsite itself, its default theme and the libraries it renders with (``cache.ENGINE``), the options
that change output (drafts, future, base URL, output folder, search), and "now", which decides
whether a scheduled post is published yet and whether a digest edition is complete. After each
full build, ``record`` keeps all of these, plus the stamp (size, mtime, inode) of every file
then in the output folder. ``unchanged`` compares them with the present:

* every source file has the same size, mtime, ctime and inode, and no file was added or
  removed. A file modified within two seconds of the recorded build's start is "racy", as git
  calls it: a second edit within the clock's granularity could keep its stat, so its bytes were
  hashed when the build started and are hashed again and compared;
* the output folder holds exactly the files recorded, with the same stamps (a hand-edited or
  deleted output file, or a stray new one, means a full build, which repairs it); each folder's
  own stamp vouches for what it holds, so it is read only when that cannot (see ``Output``);
* now is not earlier than the recorded build's now, nor past the first moment at which a
  scheduled post becomes due or an edition in progress ends (``valid_until``).

The record keeps no stamp one by one: the sources' and the output's are each kept as one
digest of all of them (``_packed``), and the output's paths as two texts after the record's
JSON (``cachefiles.dump``). The check stats every path the record names and compares digests,
making no Python object per entry beyond the stat itself and its path (at 20,000 posts:
~102,000 output paths and ~20,000 sources; a record of JSON values per stamp took longer to
read than the stats of the sources, and comparing it value by value longer still). Whatever
a damaged record holds, its digests can only equal the present's, or not. On a large site a
forked child process stats a share of the output files meanwhile (``_Child``): the stats are
mostly the kernel's, but each also makes a stat result under the interpreter's lock, so two
threads never overlapped them.

Anything unexpected (a symlink among the sources, an unreadable folder, a missing record)
means "not proven", and the full build runs. ``qsite build`` calls ``quick`` before importing the
rest of qsite (Jinja, Markdown, Pygments cost more than the check), so this module imports only
the output folder's checks and the cache's file format: not even the configuration (YAML and the
schema), since an unchanged site.yaml gives the output folder the record names. The full build
re-renders only what changed anyway; this path saves planning and checking every page when
nothing at all did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
import signal
import threading
import time
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import partial
from itertools import chain, compress, islice
from operator import attrgetter, itemgetter, not_
from pathlib import Path
from stat import S_ISDIR, S_ISLNK
from typing import TYPE_CHECKING, Any

from qsite.incremental import cachefiles
from qsite.incremental.cachefiles import (
    FOLDER,
    InputStamp,
    Stamp,
    Unreadable,
    as_bool,
    as_datetime,
    as_dict,
    as_int,
    as_list,
    as_str,
    from_datetime,
    optional,
)
from qsite.problems import ConfigError, Problem
from qsite.write import MARKER, check_output_dir, recover

if TYPE_CHECKING:
    from qsite.config import SiteConfig

RECORD = "last-build.json"

# What one stat tells of each kind of path, in the order the digests pack it: an output file's
# ``Stamp``, an output folder's stamp (its type too: a folder that became something else), a
# source's type and ``InputStamp``. Each is taken from a stat result in C, without a call per field.
_FILE_STAMP = attrgetter("st_size", "st_mtime_ns", "st_ino")
_FOLDER_STAMP = attrgetter("st_mode", "st_mtime_ns", "st_ctime_ns", "st_ino", "st_nlink")
_SOURCE_ROW = attrgetter("st_mode", "st_size", "st_mtime_ns", "st_ino", "st_ctime_ns")  # its type, then its stamp
_MODE_OF_ROW = itemgetter(0)
_STAMP_OF_ROW = itemgetter(slice(1, None))


@dataclass(frozen=True)
class Output:
    """The output folder as the last build left it: its folders ("." for itself, then paths
    from it) and files, the digest of their stamps (``_output_digest``: each folder's type,
    mtime, ctime, inode and link count, then each file's ``Stamp``), taken at ``taken_ns``.

    A file added to, removed from or renamed in a folder changes the folder's mtime and ctime
    (POSIX), and a subfolder added also its link count, so a folder whose stamp is unchanged
    holds the same entries as when it was stamped: the check stats each folder and each file
    by its path, instead of reading every folder (an open, reads and a close each). Two
    kinds are read after all (``unproven``, their places in ``folders``): a folder changed within
    ``RACY_NS`` of ``taken_ns`` (a later change within the clock's granularity could keep its
    stamp), and one whose link count does not prove it has no other subfolders (an empty
    folder; a file system that counts no links); both follow from the stamps the digest
    vouches for. What each folder holds is the build's own list of what it wrote and kept, the
    search index's files among them (``qsite/write.py`` assembles exactly those files)."""

    taken_ns: int
    folders: Sequence[str]
    files: Sequence[str]
    unproven: tuple[int, ...]
    digest: str


@dataclass(frozen=True)
class Record:
    """What the last successful build used and made; see the module docstring."""

    options: tuple[object, ...]
    now: datetime
    valid_until: datetime | None  # first instant at which "now" changes the output
    started_ns: int  # when the sources were stat'ed, before any was read
    sources: str  # the digest of every source's type and stamp, and every source folder's names (``walk_sources``)
    racy: dict[str, str]  # source → sha256 of its bytes when stat'ed, for those too recent to trust
    output: Output
    posts: int
    pages: int  # site pages (content/pages), for the summary line
    planned: int  # output pages planned
    warnings: tuple[Problem, ...]
    files: int  # files the build wrote or kept
    root: str = ""  # the site's folder (``record`` sets it): a site moved elsewhere is built again


def _packed(stamps: Callable[[], Iterable[Sequence[int]]]) -> bytes:
    """The stamps ``stamps()`` gives as bytes to digest: one run of 64-bit integers, made in C;
    spelled out instead if a number does not fit (an inode number of 2**63 or more, as some
    network and overlay file systems give). The same stamps always give the same bytes."""
    try:
        return b"q" + array("q", chain.from_iterable(stamps())).tobytes()
    except OverflowError:
        return b"r" + repr([tuple(seen) for seen in stamps()]).encode()


def _digest(*parts: bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(len(part).to_bytes(8, "little"))
        h.update(part)
    return h.hexdigest()


def _output_digest(taken_ns: int, unproven: Sequence[int], folders: bytes, files: bytes) -> str:
    """``Output.digest``, from the packed stamps of its folders and of its files."""
    return _digest(f"{taken_ns} {list(unproven)}".encode(), folders, files)


def encode_record(record: Record) -> tuple[dict[str, Any], list[str]]:
    """The record as plain JSON data and the texts ``cachefiles.dump`` keeps after it (the
    output's folders and files, each joined by NUL, which no path holds); ``decode_record``
    checks every field on the way back."""
    output = record.output
    data = {
        "options": list(record.options),
        "now": from_datetime(record.now),
        "valid_until": None if record.valid_until is None else from_datetime(record.valid_until),
        "started_ns": record.started_ns,
        "sources": record.sources,
        "racy": record.racy,
        "output": {"taken_ns": output.taken_ns, "unproven": list(output.unproven), "digest": output.digest},
        "posts": record.posts,
        "pages": record.pages,
        "planned": record.planned,
        "warnings": [[p.path, p.line, p.message, p.fix, p.severity] for p in record.warnings],
        "files": record.files,
        "root": record.root,
    }
    return data, ["\0".join(output.folders), "\0".join(output.files)]


_RECORD_FIELDS = (
    "options", "now", "valid_until", "started_ns", "sources", "racy", "output", "posts", "pages", "planned",
    "warnings", "files", "root",
)
_OUTPUT_FIELDS = ("taken_ns", "unproven", "digest")
_PROBLEM_FIELDS = ("path", "line", "message", "fix", "severity")
_optional_str = optional(as_str)
_optional_int = optional(as_int)


def _problem(value: object) -> Problem:
    path, line, message, fix, severity = as_list(value, 5)
    return Problem(as_str(path), _optional_int(line), as_str(message), _optional_str(fix), as_str(severity))


def _output(value: object, texts: list[str]) -> Output:
    data = as_dict(value)
    if tuple(data) != _OUTPUT_FIELDS or len(texts) != 2:
        raise Unreadable("not a record of the output folder")
    folders, files = texts[0].split("\0"), texts[1].split("\0")
    unproven = tuple(as_int(i) for i in as_list(data["unproven"]))
    if folders[0] != "." or not all(0 <= i < len(folders) for i in unproven):
        raise Unreadable("not a record of the output folder")
    return Output(as_int(data["taken_ns"]), folders, files, unproven, as_str(data["digest"]))


def decode_record(value: object, texts: list[str]) -> Record:
    """The record in ``value`` and ``texts`` (``encode_record``), every field checked."""
    data = as_dict(value)
    if tuple(data) != _RECORD_FIELDS:
        raise Unreadable("not a build record of this version")
    drafts, future, base_url, search, out, overridden = as_list(data["options"], 6)
    valid_until = data["valid_until"]
    return Record(
        options=(
            as_bool(drafts), as_bool(future), _optional_str(base_url), as_bool(search), as_str(out), as_bool(overridden)
        ),
        now=as_datetime(data["now"]),
        valid_until=None if valid_until is None else as_datetime(valid_until),
        started_ns=as_int(data["started_ns"]),
        sources=as_str(data["sources"]),
        racy={rel: as_str(digest) for rel, digest in as_dict(data["racy"]).items()},
        output=_output(data["output"], texts),
        posts=as_int(data["posts"]),
        pages=as_int(data["pages"]),
        planned=as_int(data["planned"]),
        warnings=tuple(_problem(p) for p in as_list(data["warnings"])),
        files=as_int(data["files"]),
        root=as_str(data["root"]),
    )


def codecs_current() -> bool:
    """True if the codecs above cover every field of what they keep (tests check it)."""
    return (
        tuple(f.name for f in fields(Record)) == _RECORD_FIELDS
        and tuple(f.name for f in fields(Problem)) == _PROBLEM_FIELDS
        and tuple(f.name for f in fields(Output)) == ("taken_ns", "folders", "files", "unproven", "digest")
    )


# -- the sources -------------------------------------------------------------------------------


class SourceWalk:
    """Every input file's type and ``InputStamp`` as one walk found them (``walk_sources``), and
    the digest of those and of every source folder's names, which the record keeps. (A plain
    class: each dataclass costs every process that imports it ~0.6 ms to make.)"""

    __slots__ = ("digest", "files", "rows", "started_ns")

    def __init__(self, started_ns: int, files: list[str], rows: list[tuple[int, ...]], digest: str) -> None:
        self.started_ns = started_ns  # when the walk began
        self.files = files  # paths from the site's folder
        self.rows = rows  # of ``files``, in their order: st_mode, then the ``InputStamp``
        self.digest = digest


@dataclass(frozen=True)
class Sources:
    started_ns: int
    stats: dict[str, InputStamp]
    racy: dict[str, str]
    digest: str  # ``SourceWalk.digest``: what the record keeps


def walk_sources(root: Path) -> SourceWalk | None:
    """site.yaml, and every file under content/ and templates/, or None if a symlink is among
    them (its target may change without its own stat changing) or a folder cannot be read.

    Each folder is listed and its entries stat'ed by one ``lstat`` each (which tells a folder
    or a link too), in C (``map``): no Python frame per file."""
    started = time.time_ns()
    try:
        top = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    lstat = partial(os.lstat, dir_fd=top)
    files = ["site.yaml"]
    try:
        rows = [_SOURCE_ROW(os.stat("site.yaml", dir_fd=top))]
        names_seen: list[str] = []  # each folder's path and "/", then its names (which hold no "/")
        for first in ("content", "templates"):
            stack = [first]
            while stack:
                rel = stack.pop()
                try:
                    names = sorted(os.listdir(os.path.join(root, rel)))
                except FileNotFoundError:
                    continue  # no templates/ folder: nothing to stat (site.yaml's stat covers the choice)
                names_seen.append(f"{rel}/")
                names_seen += names
                paths = [f"{rel}/{name}" for name in names]
                found = list(map(_SOURCE_ROW, map(lstat, paths)))
                modes = list(map(_MODE_OF_ROW, found))
                if any(map(S_ISLNK, modes)):
                    return None
                inner = list(map(S_ISDIR, modes))
                if any(inner):
                    stack += reversed(list(compress(paths, inner)))
                    plain = list(map(not_, inner))
                    paths, found = list(compress(paths, plain)), list(compress(found, plain))
                files += paths
                rows += found
    except OSError:
        return None
    finally:
        os.close(top)
    listing = "\0".join(names_seen).encode(errors="surrogateescape")
    return SourceWalk(started, files, rows, _digest(listing, _packed(lambda: rows)))


def snapshot_sources(root: Path) -> Sources | None:
    """The stat of every input file (and the hash of those too recent to trust their stat), or
    None if the sources cannot be vouched for. Right after ``quick`` found a change, its walk
    is taken as this one (``_walked``): an edit's build need not stat every source twice."""
    walked, _walked[:] = _walked[:], []
    if walked and walked[0] == str(root.resolve()) and time.time_ns() - walked[1].started_ns < _REUSE_NS:
        walk: SourceWalk | None = walked[1]
    else:
        walk = walk_sources(root)
    if walk is None:
        return None
    started = walk.started_ns
    found: dict[str, InputStamp] = dict(zip(walk.files, map(_STAMP_OF_ROW, walk.rows), strict=True))
    try:
        racy = {rel: _sha(root / rel) for rel, seen in found.items() if cachefiles.is_racy(seen, started)}
    except OSError:
        return None
    return Sources(started, found, racy, walk.digest)


# ``quick``'s walk of the sources, when it found a change: (site folder, its ``SourceWalk``),
# for the build that follows in the same process (``snapshot_sources``). Taking it there is
# taking the snapshot a moment earlier, still before any source is read: a file changed since
# has another stamp than the one recorded, and the next check builds.
_walked: list[Any] = []
# Older than this, it is not the build that follows: walk again (the build's imports and the
# check come between: ~1 s at 5,000 posts on a busy machine, more at 20,000).
_REUSE_NS = 5_000_000_000


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- the output folder -------------------------------------------------------------------------


def _folders_of(files: Iterable[str]) -> list[str]:
    """"." and every folder holding one of ``files`` or a folder of them, sorted (each after the one holding it)."""
    found: set[str] = set()
    for folder in {rel.rpartition("/")[0] for rel in files}:
        while folder and folder not in found:
            found.add(folder)
            folder = folder.rpartition("/")[0]
    return [".", *sorted(found)]


def output_after(out: Path, stamps: dict[str, Stamp | None]) -> Output | None:
    """The ``Output`` of the folder the build just put in place, from what it wrote and kept
    (their stamps survive the renames and hard links that put them in place), without reading
    any folder again: the output holds exactly those files and the marker (``qsite/write.py``
    assembles the tree from that list and nothing else, the search index included, which
    ``Stage.adopt`` and ``Stage.keep_all`` took in), so only the marker and each folder are
    stat'ed. Should a stamp be wrong after all, the next check finds a mismatch and builds:
    never a wrong skip."""
    if None in stamps.values():
        return None
    taken = time.time_ns()
    try:
        top = os.open(out, _FOLDER)
    except OSError:
        return None
    try:
        kept = dict(stamps)
        kept[MARKER] = _FILE_STAMP(os.lstat(MARKER, dir_fd=top))
        files = list(kept)
        folders = _folders_of(files)
        seen = list(map(_FOLDER_STAMP, map(partial(os.lstat, dir_fd=top), folders)))
    except OSError:
        return None
    finally:
        os.close(top)
    if not all(map(S_ISDIR, map(itemgetter(0), seen))):
        return None
    subfolders = Counter(folder.rpartition("/")[0] or "." for folder in islice(folders, 1, None))
    trusted = taken - cachefiles.RACY_NS
    unproven = tuple(
        i for i, (folder, (_mode, mtime, ctime, _inode, links)) in enumerate(zip(folders, seen, strict=True))
        if max(mtime, ctime) >= trusted or links != 2 + subfolders[folder]
    )
    values = list(kept.values())
    digest = _output_digest(taken, unproven, _packed(lambda: seen), _packed(lambda: values))
    return Output(taken, folders, files, unproven, digest)


class _Child:
    """A forked process stat'ing the first ``count`` of the output's files, and sending their
    packed stamps down ``pipe`` (a plain class, as ``SourceWalk`` is).

    The stats are mostly the kernel's, but each also makes a stat result while holding the
    interpreter's lock (about half of its cost), so two threads took turns rather than
    overlapped: a second process is what puts a second core to work. It is forked only with
    no other thread running (a fork copies no thread, and may copy a lock one of them held),
    and does nothing but stats and a write before ``os._exit``. Should it fail, its share is
    done here after all."""

    __slots__ = ("count", "pid", "pipe")

    def __init__(self, pid: int, pipe: int, count: int) -> None:
        self.pid = pid
        self.pipe = pipe
        self.count = count

    @staticmethod
    def start(lstat: Callable[[str], os.stat_result], files: Sequence[str], count: int) -> _Child | None:
        if count < 1 or not hasattr(os, "fork") or threading.active_count() > 1:
            return None
        try:
            read, write = os.pipe()
        except OSError:
            return None
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return None
        if pid == 0:  # pragma: no cover (the child; what it sends is checked)
            code = 1
            try:
                os.close(read)
                view = memoryview(array("q", chain.from_iterable(map(_FILE_STAMP, map(lstat, islice(files, count))))))
                view = view.cast("B")
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        return _Child(pid, read, count)

    def take(self) -> bytes | None:
        """Its share (packed as ``_packed`` packs it, without the tag), or None if it failed."""
        chunks = []
        while chunk := os.read(self.pipe, 1 << 20):
            chunks.append(chunk)
        data = b"".join(chunks)
        return data if len(data) == self.count * 24 else None

    def end(self) -> None:
        """Stop it if it is still at work (its share is not needed: a difference was found first)."""
        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGKILL)
        os.close(self.pipe)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


_SHARED = 8000  # stats (output folders and files, sources) from which a child process pays for itself


def _child_share(output: Output, sources: int) -> int:
    """How many of the output's files the child stats: half of all the stats, the walk of the
    sources (``sources`` files, about) and the folders' stats being this process's own. (At
    20,000 posts, with a second core free: 0.31 s for the whole build command with this
    share, 0.32 s counting a source as two stats, 0.34 s counting none.)"""
    total = len(output.folders) + len(output.files) + sources
    return min(len(output.files), total // 2) if total >= _SHARED else 0


def _same_output(top: int, output: Output, child: _Child | None) -> bool:
    """Whether the output folder (open as ``top``) is as ``output`` says: the same folders and
    files with the same stamps, nothing more (see ``Output``); ``child``: stat'ing a share of
    the files, if started (``_Child``). Paths are looked up from the output folder, opened once
    (fewer path parts for the kernel to walk)."""
    lstat = partial(os.lstat, dir_fd=top)
    folders, files = output.folders, output.files
    try:
        stamped = _packed(lambda: map(_FOLDER_STAMP, map(lstat, folders)))
        shared = child.count if child is not None else 0
        try:
            mine = array("q", chain.from_iterable(map(_FILE_STAMP, map(lstat, islice(files, shared, None)))))
            theirs = child.take() if child is not None else b""
            if theirs is None:
                theirs = array("q", chain.from_iterable(map(_FILE_STAMP, map(lstat, islice(files, shared))))).tobytes()
            packed = b"q" + theirs + mine.tobytes()
        except OverflowError:
            packed = _packed(lambda: map(_FILE_STAMP, map(lstat, files)))
        if _output_digest(output.taken_ns, output.unproven, stamped, packed) != output.digest:
            return False
        if not output.unproven:
            return True
        names = _names_in(output, {folders[i] for i in output.unproven})
        return all(_holds(top, folders[i], names[folders[i]]) for i in output.unproven)
    except OSError:
        return False


def _names_in(output: Output, wanted: set[str]) -> dict[str, set[str]]:
    """The names the record gives each of the ``wanted`` folders: its files and subfolders."""
    names: dict[str, set[str]] = {folder: set() for folder in wanted}
    for rel in chain(output.files, islice(output.folders, 1, None)):
        parent, _, name = rel.rpartition("/")
        held = names.get(parent or ".")
        if held is not None:
            held.add(name)
    return names


def _holds(top: int, path: str, names: set[str]) -> bool:
    """A folder read after all (see ``Output``): it holds ``names`` and nothing else but
    empty folders (which serve nothing, and a build leaves them)."""
    return all(_empty(top, f"{path}/{name}") for name in set(_names(top, path)) - names)


def _empty(top: int, path: str) -> bool:
    """A real folder holding no file and no link, however deep."""
    if not S_ISDIR(os.lstat(path, dir_fd=top).st_mode):
        return False
    return all(_empty(top, f"{path}/{name}") for name in _names(top, path))


def _names(top: int, path: str) -> list[str]:
    fd = os.open(path, _FOLDER, dir_fd=top)
    try:
        return os.listdir(fd)
    finally:
        os.close(fd)


_FOLDER = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def options_key(
    drafts: bool, future: bool, base_url: str | None, search: bool, out: Path, overridden: bool = False
) -> tuple[object, ...]:
    """The options that change what is built (not --jobs, which never changes a byte), and
    whether ``out`` came from ``--output`` rather than site.yaml (``quick``)."""
    return (drafts, future, base_url, search, str(out), overridden)


def now_for(now: datetime | None) -> datetime:
    """"Now" for scheduled posts: ``now`` if given (tests), else SOURCE_DATE_EPOCH, else the clock."""
    if now is not None:
        return now
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not epoch:  # unset or empty: the clock, as the reproducible-builds spec allows
        return datetime.now(UTC)
    # The spec: a malformed value must fail the build, not be ignored (a silently ignored one
    # makes a build that looks reproducible and is not).
    fix = "set it to whole seconds since 1970-01-01 UTC, e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)"
    if not re.fullmatch(r"[0-9]+", epoch):
        raise ConfigError([Problem("SOURCE_DATE_EPOCH", None, f"{epoch[:40]!r} is not a whole number of seconds", fix)])
    try:
        return datetime.fromtimestamp(int(epoch), UTC)
    except (ValueError, OverflowError, OSError):
        raise ConfigError(
            [Problem("SOURCE_DATE_EPOCH", None, f"{epoch[:40]} is after the year 9999, which qsite cannot date", fix)]
        ) from None


def configure(root: Path, base_url: str | None, output: Path | None) -> SiteConfig:
    """site.yaml with the command line's overrides applied (ConfigError, exit 2, if bad)."""
    from qsite.config import load_config  # YAML and the schema: not for ``quick``

    overrides: dict[str, object] = {}
    if base_url:
        overrides["base_url"] = base_url
    if output:
        overrides["output_dir"] = output
    return load_config(root, overrides)


def quick(
    root: Path, *, drafts: bool, future: bool, base_url: str | None, output: Path | None, search: bool,
    notes: list[str] | None = None,
) -> tuple[Record, Path] | None:
    """For ``qsite build``, before it imports the rest of qsite: the last build's record and the
    output folder if nothing changed since (the build is then done), else None. An unreadable
    record is named in ``notes`` (see ``cachefiles.note``).

    It does not read site.yaml either (YAML and the schema cost more than the rest of the
    check): the output folder is the one the record names, which is the one site.yaml and
    the command line give as long as site.yaml is unchanged (``unchanged`` compares its stamp
    with the other sources'), the site's folder is the same, and ``--output`` is given as it
    was (the same folder) or not at all, as it was not. Anything else is left to the build.
    When the check fails, the build that follows takes its walk of the sources as its
    snapshot (``snapshot_sources``)."""
    root = root.resolve()
    last, out, walk = _quick(root, drafts, future, base_url, output, search, notes)
    _walked[:] = [str(root), walk] if last is None and walk is not None else []
    return (last, out) if last is not None else None


def _quick(
    root: Path, drafts: bool, future: bool, base_url: str | None, output: Path | None, search: bool,
    notes: list[str] | None,
) -> tuple[Record | None, Path, SourceWalk | None]:
    last = load_record(root, notes)
    if last is None or last.root != str(root):
        return None, root, None
    out = Path(str(last.options[4]))
    if output is not None and (Path.cwd() / output).resolve() != out:
        return None, out, None
    try:
        out = check_output_dir(out, root)
    except ConfigError:
        return None, out, None  # site.yaml may name another folder now: the build checks the one it names
    recover(out)  # what a killed build left goes even when nothing changed
    key = options_key(drafts, future, base_url, search, out, output is not None)
    found, walk = _unchanged(root, out, key, now_for(None), last)
    return found, out, walk


def record(root: Path, record: Record) -> None:
    try:
        folder = root / FOLDER
        if folder.is_symlink():
            return  # never write through a link to who knows where
        folder.mkdir(exist_ok=True)
        data, texts = encode_record(dataclasses.replace(record, root=str(root)))
        cachefiles.dump(folder / RECORD, data, texts)
    except (OSError, ValueError, TypeError):
        pass  # no record: the next build is a full one


def forget(root: Path) -> None:
    """Drop the record (before a build that may fail half-way, or with --no-cache)."""
    with contextlib.suppress(OSError):
        os.unlink(root / FOLDER / RECORD)


def load_record(root: Path, notes: list[str] | None = None) -> Record | None:
    """The last build's record; None if missing, unreadable (named in ``notes``: one of an older
    format among them) or from another qsite."""
    folder = root / FOLDER
    if folder.is_symlink():
        return None
    return cachefiles.load_texts(folder / RECORD, decode_record, notes if notes is not None else [])


def unchanged(
    root: Path, out: Path, options: tuple[object, ...], now: datetime, notes: list[str] | None = None
) -> Record | None:
    """The last build's record if a build with ``options`` (``options_key``) at ``now`` would
    change nothing, else None."""
    last = load_record(root, notes)
    return None if last is None else _unchanged(root, out, options, now, last)[0]


def _unchanged(
    root: Path, out: Path, options: tuple[object, ...], now: datetime, last: Record
) -> tuple[Record | None, SourceWalk | None]:
    """``unchanged``, given the record, and the walk of the sources if it got that far. A
    child process stats a share of the output's files while this one walks the sources and
    stats the rest (``_Child``); a source found changed ends it early."""
    if last.options != options or last.root != str(root):
        return None, None
    if now < last.now or (last.valid_until is not None and now >= last.valid_until):
        return None, None
    try:
        top = os.open(out, _FOLDER)
    except OSError:
        return None, None
    child = None
    try:
        lstat = partial(os.lstat, dir_fd=top)
        child = _Child.start(lstat, last.output.files, _child_share(last.output, last.posts + last.pages))
        walk = walk_sources(root)
        if walk is None or walk.digest != last.sources:
            return None, walk
        try:
            if any(_sha(root / rel) != digest for rel, digest in last.racy.items()):
                return None, walk
        except OSError:
            return None, walk
        return (last if _same_output(top, last.output, child) else None), walk
    finally:
        if child is not None:
            child.end()
        os.close(top)
