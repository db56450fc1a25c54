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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime
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
    as_input_stamp,
    as_int,
    as_ints,
    as_list,
    as_stamp,
    as_str,
    from_datetime,
    optional,
    stamp,
)
from qsite.problems import ConfigError, Problem
from qsite.write import MARKER, check_output_dir, recover

if TYPE_CHECKING:
    from qsite.config import SiteConfig

RECORD = "last-build.json"


# The stamps a record keeps, grouped by folder: ``{folder: [name, *stamp, name, *stamp, ...]}``,
# names sorted, "" for the site's (or output's) own folder. Built the same way from a walk and
# from a build's own stamps, so the check compares the present with the record as two plain
# values, in one comparison per folder, without decoding (or trusting) each stamp on the way:
# whatever a damaged or forged record holds, it can only equal what is on disk now, or not.
Folders = dict[str, list[Any]]


@dataclass(frozen=True)
class Output:
    """The output folder as the last build left it: the stamp of each folder in it, (mtime,
    ctime, inode, link count), then its files' ``Stamp``s, as ``Folders``; taken at ``taken_ns``.

    A file added to, removed from or renamed in a folder changes the folder's mtime and ctime
    (POSIX), and a subfolder added also its link count, so a folder whose stamp is unchanged
    holds the same entries as when it was stamped: the check stats each folder and each file
    by its path, instead of reading every folder (an open, reads and a close each). Two
    exceptions are read after all: a folder changed within ``RACY_NS`` of ``taken_ns`` (a later
    change within the clock's granularity could keep its stamp), and one whose link count
    does not prove it has no other subfolders (an empty folder; a file system that counts
    no links). What each folder holds is the build's own list of what it wrote and kept, the
    search index's files among them (``qsite/write.py`` assembles exactly those files)."""

    taken_ns: int
    folders: Folders


@dataclass(frozen=True)
class Record:
    """What the last successful build used and made; see the module docstring."""

    options: tuple[object, ...]
    now: datetime
    valid_until: datetime | None  # first instant at which "now" changes the output
    started_ns: int  # when the sources were stat'ed, before any was read
    sources: dict[str, InputStamp]
    racy: dict[str, str]  # source → sha256 of its bytes when stat'ed, for those too recent to trust
    output: Output
    posts: int
    pages: int  # site pages (content/pages), for the summary line
    planned: int  # output pages planned
    warnings: tuple[Problem, ...]
    files: int  # files the build wrote or kept
    root: str = ""  # the site's folder (``record`` sets it): a site moved elsewhere is built again


def _folders(stamps: dict[str, Any]) -> Folders:
    """``{rel: stamp}`` grouped as ``Folders``."""
    groups: dict[str, list[tuple[str, Any]]] = {}
    for rel, seen in stamps.items():
        folder, _, name = rel.rpartition("/")
        groups.setdefault(folder, []).append((name, seen))
    found: Folders = {}
    for folder, files in groups.items():
        flat: list[Any] = []
        for name, seen in sorted(files):
            flat.append(name)
            flat += seen
        found[folder] = flat
    return found


def _stamps(folders: object, size: int, decode: Callable[[object], Any]) -> dict[str, Any]:
    """``Folders`` back to ``{rel: stamp}``, every value checked (``decode_record``)."""
    found: dict[str, Any] = {}
    for folder, flat in as_dict(folders).items():
        items = as_list(flat)
        if len(items) % (size + 1):
            raise Unreadable("expected a name and a stamp for each file")
        for i in range(0, len(items), size + 1):
            name = as_str(items[i])
            found[f"{folder}/{name}" if folder else name] = decode(items[i + 1 : i + size + 1])
    return found


def encode_record(record: Record) -> dict[str, Any]:
    """The record as plain JSON data; ``decode_record`` checks every field on the way back."""
    return {
        "options": list(record.options),
        "now": from_datetime(record.now),
        "valid_until": None if record.valid_until is None else from_datetime(record.valid_until),
        "started_ns": record.started_ns,
        "sources": _folders(record.sources),
        "racy": record.racy,
        "output": {"taken_ns": record.output.taken_ns, "folders": record.output.folders},
        "posts": record.posts,
        "pages": record.pages,
        "planned": record.planned,
        "warnings": [[p.path, p.line, p.message, p.fix, p.severity] for p in record.warnings],
        "files": record.files,
        "root": record.root,
    }


_RECORD_FIELDS = (
    "options", "now", "valid_until", "started_ns", "sources", "racy", "output", "posts", "pages", "planned",
    "warnings", "files", "root",
)
_PROBLEM_FIELDS = ("path", "line", "message", "fix", "severity")
_optional_str = optional(as_str)
_optional_int = optional(as_int)


def _problem(value: object) -> Problem:
    path, line, message, fix, severity = as_list(value, 5)
    return Problem(as_str(path), _optional_int(line), as_str(message), _optional_str(fix), as_str(severity))


def _output(value: object) -> Output:
    data = as_dict(value)
    if tuple(data) != ("taken_ns", "folders"):
        raise Unreadable("not a record of the output folder")
    folders = as_dict(data["folders"])
    for flat in folders.values():
        stamp_of_folder = as_list(flat)[:4]
        as_ints(stamp_of_folder, 4)
        _stamps({"": flat[4:]}, 3, as_stamp)
    return Output(as_int(data["taken_ns"]), folders)


def decode_record(value: object, stamps: bool = True) -> Record:
    """The record in ``value``, every field checked. Without ``stamps`` (for ``unchanged``,
    which compares them as they are), its sources and output are left out: empty."""
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
        sources=_stamps(data["sources"], 4, as_input_stamp) if stamps else {},
        racy={rel: as_str(digest) for rel, digest in as_dict(data["racy"]).items()},
        output=_output(data["output"]) if stamps else Output(0, {}),
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
        and tuple(f.name for f in fields(Output)) == ("taken_ns", "folders")
    )


@dataclass(frozen=True)
class Sources:
    started_ns: int
    stats: dict[str, InputStamp]
    racy: dict[str, str]


def snapshot_sources(root: Path) -> Sources | None:
    """The stat of every input file (and the hash of those too recent to trust their stat), or
    None if the sources cannot be vouched for. Right after ``quick`` found a change, its walk
    is taken as this one (``_walked``): an edit's build need not stat every source twice."""
    walked, _walked[:] = _walked[:], []
    if walked and walked[0] == str(root.resolve()) and time.time_ns() - walked[1] < _REUSE_NS:
        started, folders = walked[1], walked[2]
    else:
        started = time.time_ns()
        folders = source_folders(root)
    if folders is None:
        return None
    found = _stamps(folders, 4, tuple)
    try:
        racy = {rel: _sha(root / rel) for rel, seen in found.items() if cachefiles.is_racy(seen, started)}
    except OSError:
        return None
    return Sources(started, found, racy)


# ``quick``'s walk of the sources, when it found a change: (site folder, when the walk began,
# its ``Folders``), for the build that follows in the same process (``snapshot_sources``).
# Taking it there is taking the snapshot a moment earlier, still before any source is read:
# a file changed since has another stamp than the one recorded, and the next check builds.
_walked: list[Any] = []
# Older than this, it is not the build that follows: walk again (the build's imports and the
# check come between: ~1 s at 5,000 posts on a busy machine, more at 20,000).
_REUSE_NS = 5_000_000_000


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_folders(root: Path) -> Folders | None:
    """The ``InputStamp`` of each input file as ``Folders``, or None if a symlink is among them
    (its target may change without its own stat changing) or a folder cannot be read."""
    found: Folders = {}
    try:
        st = os.stat(os.path.join(root, "site.yaml"))
        found[""] = ["site.yaml", st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns]
        for folder in ("content", "templates"):
            if not _walk(os.path.join(root, folder), folder, found):
                return None
    except OSError:
        return None
    return found


def _walk(path: str, rel: str, found: Folders) -> bool:
    try:
        names = sorted(os.listdir(path))
    except FileNotFoundError:
        return True  # no templates/ folder: nothing to stat (site.yaml's stat covers the choice)
    flat: list[Any] = []
    lstat = os.lstat  # one call per entry tells its kind too (a third less than scandir's entries here)
    for name in names:
        st = lstat(f"{path}/{name}")
        if S_ISLNK(st.st_mode):
            return False
        if S_ISDIR(st.st_mode):
            if not _walk(f"{path}/{name}", f"{rel}/{name}", found):
                return False
        else:
            flat += (name, st.st_size, st.st_mtime_ns, st.st_ino, st.st_ctime_ns)
    if flat:
        found[rel] = flat
    return True


def output_after(out: Path, stamps: dict[str, Stamp | None]) -> Output | None:
    """The ``Output`` of the folder the build just put in place, from what it wrote and kept
    (their stamps survive the renames and hard links that put them in place), without reading
    any folder again: the output holds exactly those files and the marker (``qsite/write.py``
    assembles the tree from that list and nothing else, the search index included, which
    ``Stage.adopt`` and ``Stage.keep_all`` took in), so only the marker and each folder are
    stat'ed. Should a stamp be wrong after all, the next check finds a mismatch and builds:
    never a wrong skip."""
    if any(stamp is None for stamp in stamps.values()):
        return None
    found = dict(stamps)
    taken = time.time_ns()
    try:
        found[MARKER] = stamp(os.lstat(out / MARKER))
    except OSError:
        return None
    files: Folders = {}  # in any order: the check stats each folder's files in the order kept here
    for rel, seen in found.items():
        folder, _, name = rel.rpartition("/")
        flat = files.get(folder)
        if flat is None:
            flat = files[folder] = []
        flat.append(name)
        flat += seen  # type: ignore[arg-type]
    folders: Folders = {}
    for folder in list(files):  # with every folder above one holding files
        while folder not in folders:
            folders[folder] = []
            if not folder:
                break
            folder = folder.rpartition("/")[0]
    try:
        top = os.open(out, _FOLDER)
    except OSError:
        return None
    try:
        for folder in folders:
            st = os.lstat(folder or ".", dir_fd=top)
            if not S_ISDIR(st.st_mode):
                return None
            folders[folder] = [st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_nlink, *files.get(folder, ())]
    except OSError:
        return None
    finally:
        os.close(top)
    return Output(taken, folders)


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


def same_output(out: Path, last: object) -> bool:
    """Whether ``out`` is as the record's ``Output`` (as JSON data: ``encode_record``) says:
    the same folders and files with the same stamps, nothing more (see ``Output``). Paths
    are looked up from the output folder, opened once (fewer path parts for the kernel to walk)."""
    try:
        data = as_dict(last)
        taken = as_int(data["taken_ns"])
        folders = as_dict(data["folders"])
        if "" not in folders:
            return False
        subfolders: dict[str, list[str]] = {folder: [] for folder in folders}
        for folder in folders:
            if folder:
                parent, _, name = folder.rpartition("/")
                plain = name not in ("", ".", "..") and folder == (f"{parent}/{name}" if parent else name)
                if parent not in subfolders or not plain:
                    return False  # not a tree of plain names from the top: not what a build records
                subfolders[parent].append(name)
        top = os.open(out, _FOLDER)
    except (OSError, Unreadable, KeyError, TypeError, ValueError):
        return False
    trusted = taken - cachefiles.RACY_NS
    items = list(folders.items())
    try:
        if len(items) < _SHARED:
            return _same_folders(top, items, subfolders, trusted, [])
        # Two threads share the stats: the kernel's part of each (most of their cost) runs
        # without the GIL, so where a second core is free the check ends sooner (its CPU
        # time stays about the same). A difference either finds stops both.
        half = len(items) // 2
        stop: list[bool] = []
        other: list[bool] = []
        helper = threading.Thread(
            target=lambda: other.append(_same_folders(top, items[half:], subfolders, trusted, stop)), daemon=True
        )
        helper.start()
        try:
            same = _same_folders(top, items[:half], subfolders, trusted, stop)
        finally:
            helper.join()
        return same and other == [True]
    finally:
        os.close(top)


_SHARED = 2000  # folders from which a second thread pays for starting


def _same_folders(
    top: int, items: list[tuple[str, Any]], subfolders: dict[str, list[str]], trusted: int, stop: list[bool]
) -> bool:
    """``same_output`` for some of the record's folders; appends to ``stop`` on a difference,
    and gives up once it holds one from the other thread."""
    try:
        lstat = os.lstat
        for folder, want in items:
            if stop:
                return False
            path = folder or "."
            st = lstat(path, dir_fd=top)
            now: list[Any] = [st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_nlink]
            if not S_ISDIR(st.st_mode) or now != want[:4]:
                break
            names = want[4::4]
            unproven = max(now[0], now[1]) >= trusted or now[3] != 2 + len(subfolders[folder])
            if unproven and not _holds(top, path, {*names, *subfolders[folder]}):
                break
            for name in names:
                if type(name) is not str or "/" in name or name in ("", ".", ".."):
                    break
                st = lstat(f"{path}/{name}", dir_fd=top)
                now += (name, st.st_size, st.st_mtime_ns, st.st_ino)
            if now != want:
                break
        else:
            return True
    except (OSError, Unreadable, KeyError, TypeError, ValueError):
        pass
    stop.append(True)
    return False


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

    The sources are walked in a second thread while the record is read (its JSON: 64 ms at
    20,000 posts, holding the interpreter; the walk is mostly the kernel's ``lstat``s, which
    do not), so where a second core is free the check ends sooner; when the check fails, the
    build that follows takes that walk as its snapshot (``snapshot_sources``)."""
    root = root.resolve()
    walk: list[Any] = []

    def walk_sources() -> None:
        started = time.time_ns()
        walk[:] = [started, source_folders(root)]

    walker = threading.Thread(target=walk_sources, daemon=True)
    walker.start()

    def walked() -> tuple[int, Folders | None]:
        walker.join()
        return (walk[0], walk[1]) if walk else (time.time_ns(), None)

    last: Record | None = None
    try:
        last, out = _quick(root, drafts, future, base_url, output, search, notes, walked)
    finally:
        started, folders = walked()
        _walked[:] = [str(root), started, folders] if last is None and folders is not None else []
    return (last, out) if last is not None else None


def _quick(
    root: Path, drafts: bool, future: bool, base_url: str | None, output: Path | None, search: bool,
    notes: list[str] | None, walked: Callable[[], tuple[int, Folders | None]],
) -> tuple[Record | None, Path]:
    """``quick``, given the walk of the sources it started."""
    loaded = _load(root, notes)
    if loaded is None or loaded[0].root != str(root):
        return None, root
    out = Path(str(loaded[0].options[4]))
    if output is not None and (Path.cwd() / output).resolve() != out:
        return None, out
    try:
        out = check_output_dir(out, root)
    except ConfigError:
        return None, out  # site.yaml may name another folder now: the build checks the one it names
    recover(out)  # what a killed build left goes even when nothing changed
    key = options_key(drafts, future, base_url, search, out, output is not None)
    return unchanged(root, out, key, now_for(None), notes, loaded, walked), out


def record(root: Path, record: Record) -> None:
    try:
        folder = root / FOLDER
        if folder.is_symlink():
            return  # never write through a link to who knows where
        folder.mkdir(exist_ok=True)
        cachefiles.dump(folder / RECORD, encode_record(dataclasses.replace(record, root=str(root))))
    except (OSError, ValueError, TypeError):
        pass  # no record: the next build is a full one


def forget(root: Path) -> None:
    """Drop the record (before a build that may fail half-way, or with --no-cache)."""
    with contextlib.suppress(OSError):
        os.unlink(root / FOLDER / RECORD)


def load_record(root: Path, notes: list[str] | None = None) -> Record | None:
    """The last build's record; None if missing, unreadable (named in ``notes``) or from another qsite."""
    folder = root / FOLDER
    if folder.is_symlink():
        return None
    return cachefiles.load(folder / RECORD, decode_record, notes if notes is not None else [])


def _head(value: object) -> tuple[Record, dict[str, Any]]:
    return decode_record(value, stamps=False), as_dict(value)


def _load(root: Path, notes: list[str] | None) -> tuple[Record, dict[str, Any]] | None:
    """The record without its stamps, and as it was read (``unchanged`` compares its stamps as they are)."""
    folder = root / FOLDER
    if folder.is_symlink():
        return None
    return cachefiles.load(folder / RECORD, _head, notes if notes is not None else [])


def unchanged(
    root: Path, out: Path, options: tuple[object, ...], now: datetime, notes: list[str] | None = None,
    loaded: tuple[Record, dict[str, Any]] | None = None,
    walked: Callable[[], tuple[int, Folders | None]] | None = None,
) -> Record | None:
    """The last build's record (without its stamps, compared as they are kept) if a build
    with ``options`` (``options_key``) at ``now`` would change nothing, else None. ``loaded``:
    the record, if read already (``_load``); ``walked``: the walk of the sources (when it
    began, its ``Folders``), if one is under way (``quick``)."""
    found = loaded or _load(root, notes)
    if found is None:
        return None
    last, data = found
    if last.options != options or last.root != str(root):
        return None
    if now < last.now or (last.valid_until is not None and now >= last.valid_until):
        return None
    folders = source_folders(root) if walked is None else walked()[1]
    if folders is None or folders != data["sources"]:
        return None
    try:
        if any(_sha(root / rel) != digest for rel, digest in last.racy.items()):
            return None
    except OSError:
        return None
    if not same_output(out, data["output"]):
        return None
    return last
