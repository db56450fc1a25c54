"""The no-change rebuild: prove from file stats alone that a build would change nothing, and
then do nothing.

A build's output is a function of its inputs: the files under ``content/`` and ``templates/``,
``site.yaml``, qsite itself and the libraries it renders with (``cache.ENGINE``), the options
that change output (drafts, future, base URL, output folder, search), and "now", which decides
whether a scheduled post is published yet and whether a digest edition is complete. After each
full build, ``record`` keeps all of these, plus the stamp (size, mtime, inode) of every file
then in the output folder. ``unchanged`` compares them with the present:

* every source file has the same size, mtime, ctime and inode, and no file was added or
  removed. A file modified within two seconds of the recorded build's start is "racy", as git
  calls it: a second edit within the clock's granularity could keep its stat, so its bytes were
  hashed when the build started and are hashed again and compared;
* the output folder holds exactly the files recorded, with the same stamps (a hand-edited or
  deleted output file, or a stray new one, means a full build, which repairs it);
* now is not earlier than the recorded build's now, nor past the first moment at which a
  scheduled post becomes due or an edition in progress ends (``valid_until``).

Anything unexpected (a symlink among the sources, an unreadable folder, a missing record)
means "not proven", and the full build runs. ``qsite build`` calls ``quick`` before importing the
rest of qsite (Jinja, Markdown, Pygments cost more than the check), so this module imports only
the configuration, the output folder's checks and the cache's file format. The full build
re-renders only what changed anyway; this path saves planning and checking every page when
nothing at all did.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from qsite import cachefiles
from qsite.cachefiles import FOLDER, _dump, _load
from qsite.config import SiteConfig, load_config
from qsite.problems import Problem
from qsite.write import MARKER, check_output_dir, recover

RECORD = "last-build.pickle"

Stat = tuple[int, int, int, int]  # size, mtime_ns, ctime_ns, inode


@dataclass(frozen=True)
class Record:
    """What the last successful build used and made; see the module docstring."""

    options: tuple[object, ...]
    now: datetime
    valid_until: datetime | None  # first instant at which "now" changes the output
    started_ns: int  # when the sources were stat'ed, before any was read
    sources: dict[str, Stat]
    racy: dict[str, str]  # source → sha256 of its bytes when stat'ed, for those too recent to trust
    output: dict[str, tuple[int, int, int]]
    posts: int
    pages: int  # site pages (content/pages), for the summary line
    planned: int  # output pages planned
    warnings: tuple[Problem, ...]
    files: int  # files the build wrote or kept


@dataclass(frozen=True)
class Sources:
    started_ns: int
    stats: dict[str, Stat]
    racy: dict[str, str]


def snapshot_sources(root: Path) -> Sources | None:
    """The stat of every input file (and the hash of those too recent to trust their stat), or
    None if the sources cannot be vouched for."""
    started = time.time_ns()
    found: dict[str, Stat] = {}
    try:
        st = os.stat(root / "site.yaml")
        found["site.yaml"] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
        for folder in ("content", "templates"):
            if not _walk(root / folder, folder, found):
                return None
        racy = {rel: _sha(root / rel) for rel, stat in found.items() if _is_racy(stat, started)}
    except OSError:
        return None
    return Sources(started, found, racy)


def _is_racy(stat: Stat, started_ns: int) -> bool:
    return max(stat[1], stat[2]) >= started_ns - cachefiles.RACY_NS


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _walk(folder: Path, rel: str, found: dict[str, Stat]) -> bool:
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return True  # no templates/ folder: nothing to stat (site.yaml's stat covers the choice)
    for entry in entries:
        if entry.is_symlink():
            return False  # its target may change without its own stat changing
        path = f"{rel}/{entry.name}"
        if entry.is_dir():
            if not _walk(Path(entry.path), path, found):
                return False
        else:
            st = entry.stat()
            found[path] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return True


def snapshot_output(out: Path) -> dict[str, tuple[int, int, int]] | None:
    found: dict[str, tuple[int, int, int]] = {}
    prefix = len(str(out)) + 1
    try:
        for folder, _dirs, names in os.walk(out):
            for name in names:
                path = os.path.join(folder, name)
                st = os.lstat(path)
                found[path[prefix:]] = (st.st_size, st.st_mtime_ns, st.st_ino)
    except OSError:
        return None
    return found


def output_after(out: Path, stamps: dict[str, tuple[int, int, int] | None], generated: str | None) -> (
    dict[str, tuple[int, int, int]] | None
):
    """``snapshot_output`` from what the build itself wrote and kept (their stamps survive the
    renames and hard links that put them in place), without walking every folder again; only
    the marker and ``generated/`` (the search index) are read from disk. Should a stamp be wrong
    after all, the next check finds a mismatch and builds: never a wrong skip."""
    if any(stamp is None for stamp in stamps.values()):
        return None
    found = dict(stamps)
    try:
        st = os.lstat(out / MARKER)
    except OSError:
        return None
    found[MARKER] = (st.st_size, st.st_mtime_ns, st.st_ino)
    if generated and (out / generated).is_dir():
        inner = snapshot_output(out / generated)
        if inner is None:
            return None
        found.update({f"{generated}/{rel}": stamp for rel, stamp in inner.items()})
    return found  # type: ignore[return-value]


def options_key(drafts: bool, future: bool, base_url: str | None, search: bool, out: Path) -> tuple[object, ...]:
    """The options that change what is built (not --jobs, which never changes a byte)."""
    return (drafts, future, base_url, search, str(out))


def now_for(now: datetime | None) -> datetime:
    """"Now" for scheduled posts: ``now`` if given (tests), else SOURCE_DATE_EPOCH, else the clock."""
    if now is not None:
        return now
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def configure(root: Path, base_url: str | None, output: Path | None) -> SiteConfig:
    """site.yaml with the command line's overrides applied (ConfigError, exit 2, if bad)."""
    overrides: dict[str, object] = {}
    if base_url:
        overrides["base_url"] = base_url
    if output:
        overrides["output_dir"] = output
    return load_config(root, overrides)


def quick(
    root: Path, *, drafts: bool, future: bool, base_url: str | None, output: Path | None, search: bool
) -> tuple[Record, Path] | None:
    """For ``qsite build``, before it imports the rest of qsite: the last build's record and the
    output folder if nothing changed since (the build is then done), else None."""
    config = configure(root, base_url, output)
    out = check_output_dir(config.output_dir, config.root)  # the same checks, and errors, as a build
    recover(out)  # what a killed build left goes even when nothing changed
    last = unchanged(config.root, out, options_key(drafts, future, base_url, search, out), now_for(None))
    return (last, out) if last is not None else None


def record(root: Path, record: Record) -> None:
    try:
        (root / FOLDER).mkdir(exist_ok=True)
        _dump(root / FOLDER / RECORD, record)
    except OSError:
        pass  # no record: the next build is a full one


def forget(root: Path) -> None:
    """Drop the record (before a build that may fail half-way, or with --no-cache)."""
    with contextlib.suppress(OSError):
        os.unlink(root / FOLDER / RECORD)


def unchanged(root: Path, out: Path, options: tuple[object, ...], now: datetime) -> Record | None:
    """The last build's record if a build with ``options`` (``options_key``) at ``now`` would
    change nothing, else None."""
    last = _load(root / FOLDER / RECORD)  # None if missing, damaged or from another qsite
    if not isinstance(last, Record) or last.options != options:
        return None
    if now < last.now or (last.valid_until is not None and now >= last.valid_until):
        return None
    try:
        snap = snapshot_sources(root)
        if snap is None or snap.stats != last.sources:
            return None
        if any(_sha(root / rel) != digest for rel, digest in last.racy.items()):
            return None
    except OSError:
        return None
    if snapshot_output(out) != last.output:
        return None
    return last
