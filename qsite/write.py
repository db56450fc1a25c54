"""Step 6: put the rendered files on disk, all or nothing.

The next site is staged as a complete tree in a folder beside the output folder: new and
changed files are written there, unchanged ones hard-linked from the previous output (so they
keep their inode and mtime: rsync and CDN uploads stay small, and the build cache's stamps stay
true). That tree starts from the spare (``.output.spare``), the site the last build replaced,
so a one-post rebuild fixes up a few entries instead of making and deleting every folder. The
two folders are then swapped in one atomic step (Linux ``renameat2`` with
``RENAME_EXCHANGE``, macOS ``renamex_np`` with ``RENAME_SWAP``), so at every instant, even
under ``kill -9``, the output folder is wholly the old site or wholly the new one. Where the
kernel or filesystem cannot exchange, two renames do it, with a window of a few microseconds in
which the output folder is missing; the next build puts the old one back if it was killed there.

Where no swap is possible, because the output folder is a mount point (a Docker volume) or its
parent folder is read-only, the changed files are staged *inside* the output folder and moved
into place one by one under a journal (``plan.json``): every replaced or deleted file is kept
until the end, so a failure part-way undoes what was done, and a build killed part-way is
finished (or undone) by the next build or ``qsite clean`` before anything else.

Every folder qsite stages in carries the marker file, locked (``flock``) while its build runs,
so a later build removes what a killed one left behind, and never a folder that is in use or
that qsite did not make.

Safety first: the output folder is deleted and replaced on every build, so ``check_output_dir``
refuses any folder whose loss would hurt (the site itself, its sources, a folder of someone's
files that qsite did not make). Nothing is ever written through a symlink found inside the
output folder: a linked folder is replaced by a real one, the folder it points to left alone.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import json
import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from qsite.problems import ConfigError, ContentError, Problem

if TYPE_CHECKING:  # not at run time: the no-change shortcut checks the output folder without Jinja
    from qsite.render import Output

MARKER = ".qsite-output"  # in every output folder: proof that qsite may replace it
MARKER_TEXT = b"This folder is made by qsite build and replaced on every build.\n"
STAGING = ".staging-"  # beside the output folder: ``.output.staging-XXXX``, the next site
OLD = ".old-"  # beside the output folder: ``.output.old-XXXX``, the previous site being swapped out
SPARE = ".spare"  # beside the output folder: ``.output.spare``, the site before last, reused as the next tree
INNER = ".qsite-staging-"  # inside the output folder, where it cannot be swapped: changed files and the journal
PLAN = "plan.json"  # in an inner staging folder: written once everything is staged; the commit point
ROLLING_BACK = "rolling-back"  # in an inner staging folder: the plan is being undone, not finished
# Output folders qsite fills itself: no content or template file may land there.
RESERVED_FOLDERS: dict[str, str] = {"pagefind": "qsite writes the search index there"}
FILE_MODE = 0o644
DIR_MODE = 0o755


@dataclass(frozen=True)
class WriteResult:
    written: int
    unchanged: int


def _refuse(out: Path, why: str, fix: str = "choose another output folder with --output or output_dir") -> ConfigError:
    return ConfigError([Problem(str(out), None, f"refusing to use this output folder: {why}", fix)])


def check_output_dir(out: Path, root: Path) -> Path:
    """The resolved output folder, or ConfigError (exit 2) if building there could lose data.

    Paths are compared after resolving symlinks, part by part, so ``docs`` is not mistaken for
    ``docs-site``.
    """
    root = root.resolve()
    resolved = out.resolve()
    if resolved == root:
        raise _refuse(out, "it is the site's own folder")
    if root.is_relative_to(resolved):
        raise _refuse(out, "it contains the site's own folder")
    for source in ("content", "templates"):
        if resolved.is_relative_to(root / source):
            raise _refuse(out, f"it is inside {source}/")
    if resolved.exists() and not resolved.is_dir():
        raise _refuse(out, "it is an existing file, not a folder")
    if resolved.is_dir():
        for name in ("site.yaml", "content", "templates"):
            if (resolved / name).exists():
                raise _refuse(out, f"it holds {name}, so it looks like a site's sources")
        entries = os.listdir(resolved)
        if entries and MARKER not in entries:
            raise _refuse(
                out,
                "it is not empty and qsite did not make it, so replacing it could delete files",
                "empty or delete it yourself, or choose another output folder",
            )
    return resolved


def check_unique(outputs: Iterable[Output]) -> None:
    """Two outputs for one path would silently overwrite each other (Pelican's Writer refuses
    it too); a path leaving the output folder is a bug we must never act on."""
    check_paths(output.path for output in outputs)


def check_paths(paths: Iterable[str], origins: Mapping[str, str] | None = None) -> None:
    """``check_unique`` for paths known before their files are rendered. ``origins`` maps an
    output path to the source file it is copied from (``content/pagefind/x.js``), so the
    problem names the file the editor has to move. The folders qsite fills itself after
    rendering (the search index) are reserved: a file copied there would silently replace,
    or be replaced by, what qsite generates."""
    origins = origins or {}
    seen: set[str] = set()
    problems: list[Problem] = []
    for path in paths:
        if not path or path[0] in "./" or path[-1] == "/" or "/." in path or "//" in path:
            parts = PurePosixPath(path).parts  # the rare path a split could misread
            if path.startswith("/") or ".." in parts or not parts:
                raise AssertionError(f"output path escapes the output folder: {path!r}")
            first = parts[0]
        else:  # "posts/a/index.html": its parts are what split finds (one call, not a PurePosixPath)
            first = path.partition("/")[0]
        name = origins.get(path, path)
        if first in RESERVED_FOLDERS or path == MARKER:
            why = RESERVED_FOLDERS.get(first, "qsite marks its output folder with this file")
            problems.append(
                Problem(name, None, f"{first}/ in the output is qsite's own: {why}" if first != MARKER
                        else f"{MARKER} in the output is qsite's own: {why}",
                        f"move or rename it (its output path would be {path})")
            )
        elif path in seen:
            problems.append(Problem(name, None, "two things would be written to this path", "rename one of them"))
        seen.add(path)
    if problems:
        raise ContentError(problems)


Stamp = tuple[int, int, int]  # (size, mtime_ns, inode): what a file looked like when last seen


def stamp_of(path: Path) -> Stamp | None:
    """The stamp of the file at ``path`` itself (a symlink's own, never its target's)."""
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


# Why an exchange of the two folders failed although the staged tree is fine: the output folder
# cannot be moved (a mount point: EBUSY; across mounts: EXDEV; its parent read-only or not ours:
# EACCES, EPERM, EROFS). Then the files are moved in one by one under a journal instead.
_NO_SWAP = frozenset({errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM, errno.EROFS})
# The kernel or the filesystem has no atomic exchange: two renames do it instead.
_NO_EXCHANGE = frozenset({errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP})


class Stage:
    """The next ``out``, filled one file at a time and put in place by ``commit``.

    Files arrive as they are rendered, so a big site never has to be held in memory at once.
    Only new and changed files are written; a file whose bytes equal the previous output's, or
    that ``keep`` vouches for unread because the build cache knows it is unchanged, stays the
    very same file (same inode, same mtime). Nothing in ``out`` changes until ``commit``, and
    ``commit`` changes it all at once (see the module docstring), so a failed or killed build
    leaves it exactly as it was.

    ``path`` is where this build's written files are (``search`` reads them there before the
    commit); ``in_place`` is True when ``out`` cannot be swapped and is changed under a journal.
    """

    def __init__(self, out: Path):
        self.out = out
        self.written = self.unchanged = 0
        self.files: dict[str, bool] = {}  # path → True if staged, False if the previous file stays
        self.stamps: dict[str, Stamp | None] = {}  # path → its stamp once committed (renames and links keep it)
        self._real: dict[str, bool] = {"": True}  # folder of out → a real folder, no symlink on the way
        self._listed: set[str] = set()  # folders of out whose entries are in ``_real``
        self._scratch: list[Path] = []
        self._lock: int | None = None
        self._journaled = False
        self._done = True  # until the staging folder exists: nothing to clean up
        self._seed: str | None = None  # where ``write`` links each file it writes, for the next spare
        self.in_place = False
        self._made: set[str] = set()
        self._top = os.path.join(out, "")  # ``out`` and a slash: + a relative path is its file

    def __enter__(self) -> Stage:
        """Make this build's staging folder (``with Stage(out) as stage``).

        Here and not in ``__init__``: Ctrl-C or SIGTERM (``qsite/interrupt.py``) can land at any
        bytecode, and between the constructor's return and the start of the ``with`` block
        nothing would remove a folder the constructor made (the occasional leftover
        ``.output.staging-*`` of tests/test_cli.py's interrupted build). A signal landing in
        here is cleaned up here; after the last statement of the ``try`` below, Python checks
        for signals again only inside the ``with`` block, whose ``__exit__`` cleans up."""
        out = self.out
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_create(out, exc) from None
        self.in_place = _is_mount(out)
        self._done = False
        try:
            if not self.in_place:
                try:
                    self._new_home(out.parent, f".{out.name}{STAGING}")
                except OSError as exc:
                    if exc.errno not in _NO_SWAP or not _is_real_dir(out):
                        raise _cannot_create(out, exc) from None
                    self.in_place = True  # a writable output folder in a read-only parent: no swap
            with self._errors():
                if self.in_place:
                    self._new_home(out, INNER)
                try:
                    self._lock = _claim_new(self.home)
                except FileNotFoundError:  # another build's recover took it for a killed build's
                    self._new_home(self.home.parent, INNER if self.in_place else f".{out.name}{STAGING}")
                    self._lock = _claim_new(self.home)
                home = self.home
                self.path = home / "new"  # this build's written files; the rest is linked at commit
                os.mkdir(self.path)
                os.chmod(home, DIR_MODE)
                if not self.in_place and not os.path.lexists(out):  # a first build: see ``_seed_spare``
                    self._seed = str(home / "spare")
                    os.mkdir(self._seed, DIR_MODE)
                    os.chmod(self._seed, DIR_MODE)
                self._made = {str(self.path)} | ({self._seed} if self._seed else set())
        except BaseException:  # Ctrl-C or SIGTERM too: the caller's ``with`` has not begun
            if not self._done:
                self._done = True
                if hasattr(self, "home"):
                    _remove_tree(self.home)
                self._release()
            raise
        return self

    def _new_home(self, parent: Path, prefix: str) -> None:
        """Make this build's own folder, as ``tempfile.mkdtemp`` would (a random name, mode
        0o700), but named in ``self.home`` before it is made: a signal landing just after the
        ``mkdir`` (inside ``mkdtemp``, or before its result is stored) would leave it behind."""
        import secrets  # here, not at the top: a no-change build never writes (issue 10)

        for _ in range(100):
            folder = parent / f"{prefix}{secrets.token_hex(5)}"
            if os.path.lexists(folder):
                continue
            self.home = folder  # removed on failure (``_remove_tree``: nothing there is no error)
            try:
                os.mkdir(folder, 0o700)
            except FileExistsError:  # made a moment ago by someone else: not ours to remove
                del self.home
                continue
            return
        raise FileExistsError(errno.EEXIST, "no free name for a staging folder", str(parent))

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            self._abandon()

    def _abandon(self) -> None:
        """Remove this build's staging, unless a journal in it is still needed to finish or undo
        a half-applied commit (the next build does that)."""
        self._done = True
        if not self._journaled:
            self._spare_back()
            _remove_tree(self.home)
        self._release()

    def _spare_back(self) -> None:
        """A commit stopped (Ctrl-C, a failure) once the spare had become this build's tree
        (``_assemble``), or once the swap had left the old site there: that tree goes back
        beside the output as the spare, as ``_keep_spare`` would have put it, instead of being
        deleted (the next build would make every folder again). Whatever it holds, the next
        ``_assemble`` sets it right; one without its marker is not qsite's spare, and goes."""
        tree = self.home / "tree"
        if self.in_place or _marker_inode(tree) is None or not _is_real_dir(tree):
            return
        with contextlib.suppress(OSError):  # a spare there already (a concurrent build's): this one goes
            os.rename(tree, self.out.parent / f".{self.out.name}{SPARE}")

    def _release(self) -> None:
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            if hasattr(self, "home"):
                self._abandon()
            self._done = True
            raise ConfigError(
                [
                    Problem(
                        str(self.out),
                        None,
                        f"cannot write the site: {exc.strerror or exc}",
                        "check the folder's permissions and free disk space",
                    )
                ]
            ) from None

    def scratch(self, prefix: str) -> Path:
        """A new empty folder on the same filesystem as the staged files (so they can be
        hard-linked there), removed by ``commit`` at the latest: for the search indexer."""
        with self._errors():
            import tempfile  # here, not at the top: a no-change build never writes (issue 10)
            folder = Path(tempfile.mkdtemp(prefix=prefix, dir=self.home))
        self._scratch.append(folder)
        return folder

    def _previous(self, rel: str) -> os.stat_result | None:
        """The previous output's regular file at ``rel``, never one reached through a symlink."""
        folder, _, _ = rel.rpartition("/")
        if not self._real_folder(folder):
            return None
        try:
            st = os.lstat(os.path.join(self.out, rel))  # not Path: called for every unchanged page
        except OSError:
            return None
        return st if stat.S_ISREG(st.st_mode) else None

    def _real_folder(self, folder: str) -> bool:
        """Whether ``out/folder`` is a real folder, with no symlink on the way. Told by one
        ``scandir`` of its parent, which tells it for every folder there (the directory entry's
        type, as ``lstat`` would: ``DirEntry.is_dir`` falls back to ``lstat`` where the file
        system does not give it), not by one ``lstat`` per folder: a 5,000-post site keeps
        pages in 5,000 folders of ``posts/``."""
        known = self._real.get(folder)
        if known is None:
            parent, _, _ = folder.rpartition("/")
            known = False
            if self._real_folder(parent) and parent not in self._listed:
                self._listed.add(parent)
                prefix = parent + "/" if parent else ""
                with contextlib.suppress(OSError), os.scandir(os.path.join(self.out, parent)) as entries:
                    for entry in entries:
                        self._real.setdefault(prefix + entry.name, entry.is_dir(follow_symlinks=False))
                known = self._real.get(folder, False)
            self._real[folder] = known
        return known

    def _claim_path(self, rel: str) -> None:
        if rel in self.files:  # two writers of one path: the later would silently win
            raise ContentError([Problem(rel, None, "two things would be written to this path", "rename one of them")])

    def put(self, rel: str, data: bytes) -> Stamp | None:
        """Stage one file. Returns the stamp it will have in ``out`` (renames keep stamps)."""
        with self._errors():
            staged, stamp = self.write(rel, data)
        return self.record(rel, staged, stamp)

    def write(self, rel: str, data: bytes) -> tuple[bool, Stamp]:
        """The file-system half of ``put``, and nothing else: whether ``rel`` was written (False:
        the previous output's file has these very bytes and stays), and its stamp. It touches
        none of this stage's bookkeeping, so a forked render worker can call it on its copy of
        the stage: the pages are written where they are rendered, in parallel, and only these
        few bytes go back to the parent, which passes them to ``record`` (qsite/build.py).
        Raises OSError as it comes (a worker cannot clean up the stage: the parent does)."""
        st = self._previous(rel)
        if st is not None and _same_bytes(os.path.join(self.out, rel), st, data):
            return False, (st.st_size, st.st_mtime_ns, st.st_ino)
        target = os.path.join(self.path, rel)
        _mkdirs(os.path.dirname(target), self._made)
        with open(target, "wb") as f:
            f.write(data)
            f.flush()
            if 0o666 & ~_umask() != FILE_MODE:  # made 0o666 less the umask: 0o644 under the usual 022
                os.fchmod(f.fileno(), FILE_MODE)
            st = os.fstat(f.fileno())  # after the last write: closing changes no stamp
        if self._seed is not None:  # where the file is written, in parallel: not all at the end
            seeded = os.path.join(self._seed, rel)
            with contextlib.suppress(OSError):  # ``_seed_spare`` links what is missing
                _mkdirs(os.path.dirname(seeded), self._made)
                os.link(target, seeded, follow_symlinks=False)
        return True, (st.st_size, st.st_mtime_ns, st.st_ino)

    def record(self, rel: str, staged: bool, stamp: Stamp) -> Stamp:
        """Count a file ``write`` staged (``staged``) or found unchanged, here or in a worker."""
        self._claim_path(rel)
        self.files[rel] = staged
        self.stamps[rel] = stamp
        if staged:
            self.written += 1
        else:
            self.unchanged += 1
        return stamp

    def adopt(self, rel: str) -> Stamp:
        """``put`` for a file another program wrote at ``path / rel`` (Pagefind writes the
        search index straight into the stage): taken in where it is, read only to compare it
        with a previous file of the same size, which is kept instead if the bytes are equal."""
        self._claim_path(rel)
        target = os.path.join(self.path, rel)
        with self._errors():
            st = os.lstat(target)
            previous = self._previous(rel)
            if previous is not None and previous.st_size == st.st_size and stat.S_ISREG(st.st_mode):
                with open(target, "rb") as f:
                    same = _same_bytes(os.path.join(self.out, rel), previous, f.read())
                if same:
                    os.unlink(target)
                    self.files[rel] = False
                    self.unchanged += 1
                    stamp = self.stamps[rel] = (previous.st_size, previous.st_mtime_ns, previous.st_ino)
                    return stamp
            if stat.S_IMODE(st.st_mode) != FILE_MODE:
                os.chmod(target, FILE_MODE)  # changes no part of the stamp
        self.files[rel] = True
        self.written += 1
        stamp = self.stamps[rel] = (st.st_size, st.st_mtime_ns, st.st_ino)
        return stamp

    def failed(self, exc: OSError) -> None:
        """A worker's ``write`` failed: abandon this stage and raise the error as a ConfigError,
        as ``put`` would have."""
        with self._errors():
            raise exc

    def keep(self, rel: str, expected: Stamp) -> bool:
        """Keep the previous output's file unread if it is still the one stamped ``expected``;
        False (and nothing recorded) if it is gone or has changed since."""
        if rel in self.files:
            self._claim_path(rel)
        # ``_previous``, inline: called for every unchanged page (7,800 at 5,000 posts)
        folder = rel.rpartition("/")[0]
        real = self._real.get(folder)
        if not (real if real is not None else self._real_folder(folder)):
            return False
        try:
            st = os.lstat(self._top + rel)
        except OSError:
            return False
        if not stat.S_ISREG(st.st_mode) or (st.st_size, st.st_mtime_ns, st.st_ino) != expected:
            return False
        self.stamps[rel] = expected
        self.files[rel] = False
        self.unchanged += 1
        return True

    def keep_each(self, files: Iterable[tuple[str, Stamp]]) -> list[bool]:
        """``keep`` for each of many files, one by one (the copied files: ``Engine.copies``; the
        pages a carried build keeps: ``Engine._carried``), without a method call per file: one
        ``lstat`` per file, one folder check per folder."""
        top = self._top
        real, claimed, stamps = self._real, self.files, self.stamps
        kept: list[bool] = []
        for rel, expected in files:
            if rel in claimed:
                self._claim_path(rel)
            folder = rel.rpartition("/")[0]
            ok = real.get(folder)
            if ok is None:
                ok = self._real_folder(folder)
            if ok:
                try:
                    st = os.lstat(top + rel)
                except OSError:
                    ok = False
                else:
                    ok = stat.S_ISREG(st.st_mode) and (st.st_size, st.st_mtime_ns, st.st_ino) == expected
            if ok:
                stamps[rel] = expected
                claimed[rel] = False
            kept.append(ok)
        self.unchanged += kept.count(True)
        return kept

    def keep_all(self, files: dict[str, Stamp]) -> bool:
        """``keep`` for a group of files that only make sense together (a search index shard):
        all of them, if every one is still as stamped, or none (and False). One ``lstat`` per
        file and one folder check per folder: an edit keeps thousands of them."""
        top = os.path.join(self.out, "")
        folders: dict[str, bool] = {}
        for rel, expected in files.items():
            self._claim_path(rel)
            folder = rel.rpartition("/")[0]
            real = folders.get(folder)
            if real is None:
                real = folders[folder] = self._real_folder(folder)
            try:
                st = os.lstat(top + rel)
            except OSError:
                return False
            if not real or not stat.S_ISREG(st.st_mode) or (st.st_size, st.st_mtime_ns, st.st_ino) != expected:
                return False
        for rel, expected in files.items():
            self.files[rel] = False
            self.stamps[rel] = expected
        self.unchanged += len(files)
        return True

    def commit(self) -> WriteResult:
        """Put the new site in place, all at once; if anything fails, ``out`` is left as it was."""
        with self._errors():
            for folder in self._scratch:
                shutil.rmtree(folder, ignore_errors=True)
            if self.written == 0 and _holds_exactly(self.out, self.files):
                _remove_tree(self.home)  # nothing changed: the previous output already is the new one
                self.in_place = False
            elif not self.in_place:
                tree = self._assemble()
                try:
                    old = _swap(tree, self.out)
                except OSError as exc:
                    if exc.errno not in _NO_SWAP:
                        raise
                    self._move_inside(tree)  # a mount point, say: change it in place, under a journal
                else:
                    if old is not None:
                        _keep_spare(old, self.out)
                    else:
                        self._seed_spare()
                    _remove_tree(self.home)
            if self.in_place:
                self._apply()
        self._done = True
        self._release()
        return WriteResult(self.written, self.unchanged)

    def _assemble(self) -> Path:
        """The complete next tree, in ``home/tree``: every file kept from the previous output
        hard-linked (same inode, same mtime; copied where links are impossible), the written
        ones moved in. The tree starts from the spare, the site before last, which the last
        build left beside the output: it already holds nearly every folder and link, so only
        what changed since is redone (making and deleting a thousand folders per build costs
        more than all the rest of a one-post rebuild). A spare that cannot be set right is
        dropped, and the tree made afresh."""
        tree = self.home / "tree"
        spare = _spare_of(self.out)
        marker = _marker_inode(self.out)
        present: set[str] = set()
        made = {str(tree)}
        if spare is not None:
            try:
                os.rename(spare, tree)
                present, made = self._clean_spare(tree, marker)
            except OSError:  # say, a folder in it the user made read-only
                present, made = set(), {str(tree)}
                if os.path.lexists(tree):
                    os.rename(tree, self.home / "dropped")
                spare = None
        moved = spare is None
        if moved:  # the written files are already a tree, in their folders: it becomes the next
            # one whole (a cold build writes every file: no rename or folder per file again)
            os.rename(self.path, tree)
            os.chmod(tree, DIR_MODE)  # the output folder itself: readable by the web server whatever the umask
        self._fill(tree, present, made, marker, moved)
        return tree

    def _seed_spare(self) -> None:
        """After a build that replaced no site (the first, or after ``qsite clean``): leave a
        spare anyway, every folder made again and every file hard-linked from the new output,
        so that the next build (most often an edit of one post) fixes up a few entries instead
        of making the whole tree (bench/PROFILE.md). Made inside this build's own locked
        folder, then moved beside the output; any failure just leaves no spare. On a first
        build ``write`` has linked each file there as it wrote it (in the render workers, in
        parallel); only what it missed is linked here."""
        seed = self.home / "spare"
        out, top = str(self.out), str(seed)
        made = {top}
        try:
            if self._seed is None:
                os.mkdir(seed, DIR_MODE)
                if _umask() & DIR_MODE:
                    os.chmod(seed, DIR_MODE)
            # the files this build put there are the output's, every one: no walk of the output;
            # those ``write`` linked already (the written ones) are left as they are
            for rel in [*self.files, MARKER]:
                target = os.path.join(top, rel)
                if self._seed is not None and rel != MARKER and self.files[rel] and os.path.lexists(target):
                    continue
                _mkdirs(os.path.dirname(target), made)
                os.link(os.path.join(out, rel), target, follow_symlinks=False)
            os.rename(seed, self.out.parent / f".{self.out.name}{SPARE}")
        except OSError:
            pass  # the next build makes its tree afresh; ``_remove_tree(self.home)`` takes what was made

    def _clean_spare(self, tree: Path, marker: int | None) -> tuple[set[str], set[str]]:
        """Delete from the spare tree every entry that is not already a kept file's very
        inode; returns the files that are, and the folders left."""
        want = {rel: stamp[2] for rel, stamp in self.stamps.items() if stamp is not None and not self.files[rel]}
        if marker is not None:
            want[MARKER] = marker
        present: set[str] = set()
        made = {str(tree)}

        def visit(folder: str, prefix: str) -> bool:
            """Clean ``folder``; whether anything in it is kept (else it is removed)."""
            kept = False
            with os.scandir(folder) as entries:
                for entry in entries:
                    rel = prefix + entry.name
                    if entry.is_dir(follow_symlinks=False):
                        if visit(entry.path, rel + "/"):
                            kept = True
                            made.add(entry.path)
                        else:  # a folder no file needs goes (one rmdir, not one per folder)
                            os.rmdir(entry.path)
                    elif want.get(rel) == entry.inode() and not entry.is_symlink():
                        present.add(rel)
                        kept = True
                    else:
                        os.unlink(entry.path)
            return kept

        visit(str(tree), "")
        return present, made

    def _fill(self, tree: Path, present: set[str], made: set[str], marker: int | None, moved: bool = False) -> None:
        """Link every kept file not ``present`` yet, and move every written file in (unless
        ``moved``: the tree is the folder they were written to)."""
        out, top = str(self.out), str(tree)
        for rel, staged in self.files.items():
            if rel in present or (staged and moved):
                continue
            target = os.path.join(top, rel)
            _mkdirs(os.path.dirname(target), made)
            if staged:
                os.rename(os.path.join(self.path, rel), target)
                continue
            source = os.path.join(out, rel)
            try:
                os.link(source, target, follow_symlinks=False)
            except OSError as exc:
                if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.ENOENT):
                    raise
                shutil.copy2(source, target, follow_symlinks=False)
        if MARKER not in present:
            if marker is not None:
                os.link(self.out / MARKER, tree / MARKER, follow_symlinks=False)
            else:
                _write_marker(tree)

    def _move_inside(self, tree: Path) -> None:
        """The swap turned out impossible: move this build's written files (now in ``tree``)
        into a staging folder inside ``out`` (copying across a mount), and go on in place."""
        import tempfile  # here, not at the top: a no-change build never writes (issue 10)
        inner = Path(tempfile.mkdtemp(prefix=INNER, dir=self.out))
        lock = _claim_new(inner)
        new = inner / "new"
        made = {str(new)}
        os.mkdir(new)
        for rel, staged in self.files.items():
            if not staged:
                continue
            source, target = os.path.join(tree, rel), os.path.join(new, rel)
            _mkdirs(os.path.dirname(target), made)
            try:
                os.rename(source, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copy2(source, target)
                self.stamps[rel] = _stamp(target)
        _remove_tree(self.home)
        self._release()
        self.home, self.path, self._lock, self.in_place = inner, new, lock, True

    def _apply(self) -> None:
        """Move the staged files into ``out`` under a journal; undo everything on failure."""
        lock = _lock_marker(self.out)
        try:
            plan = _plan(self.out, self.files)
            _write_atomically(self.home / PLAN, json.dumps(plan).encode())
            self._journaled = True
            try:
                _roll_forward(self.out, self.home, plan)
            except OSError:
                with contextlib.suppress(OSError):
                    _roll_back(self.out, self.home, plan)
                    self._journaled = False  # undone: the journal is no longer needed
                raise
            self._journaled = False
            _remove_tree(self.home)
        finally:
            os.close(lock)


def _holds_exactly(out: Path, files: Mapping[str, bool]) -> bool:
    """Whether ``out`` is made of the files ``files`` and the marker, all real, and no other
    entry (a no-change build then has nothing to swap)."""
    count = 0
    top = str(out)
    try:
        for folder, dirs, names in os.walk(top):
            prefix = folder[len(top) + 1 :] + "/" if folder != top else ""
            for name in dirs:
                if os.path.islink(os.path.join(folder, name)):
                    return False
            for name in names:
                rel = prefix + name
                if rel == MARKER:
                    continue
                if rel not in files or os.path.islink(os.path.join(folder, name)):
                    return False
                count += 1
    except OSError:
        return False
    return count == len(files)


def _cannot_create(out: Path, exc: OSError) -> ConfigError:
    return ConfigError([Problem(str(out), None, f"cannot create the output folder: {exc.strerror or exc}")])


def _is_real_dir(path: Path) -> bool:
    try:
        return stat.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False


def _is_mount(out: Path) -> bool:
    """An output folder that is a mount point (a Docker volume) cannot be renamed or swapped."""
    return _is_real_dir(out) and os.path.ismount(out)


def _stamp(path: str | Path) -> Stamp:
    st = os.lstat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _mkdirs(folder: str, made: set[str]) -> None:
    """Make ``folder`` and its parents (below a folder in ``made``) with the mode qsite uses;
    a file or symlink in the way (in a reused spare tree) is replaced by a real folder."""
    if folder in made:
        return
    _mkdirs(os.path.dirname(folder), made)
    try:
        os.mkdir(folder, DIR_MODE)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(folder).st_mode):
            os.unlink(folder)
            os.mkdir(folder, DIR_MODE)
    if _umask() & DIR_MODE:
        os.chmod(folder, DIR_MODE)
    made.add(folder)


@functools.cache
def _umask() -> int:
    """The process's umask (read once: setting it back is the only way to read it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _marker_inode(out: Path) -> int | None:
    """The inode of ``out``'s marker if it is qsite's, to carry it over like any kept file."""
    try:
        st = os.lstat(out / MARKER)
        if stat.S_ISREG(st.st_mode) and (out / MARKER).read_bytes() == MARKER_TEXT:
            return st.st_ino
    except OSError:
        pass
    return None


def _write_marker(folder: Path) -> None:
    with open(folder / MARKER, "wb") as f:
        f.write(MARKER_TEXT)
    os.chmod(folder / MARKER, FILE_MODE)


def _spare_of(out: Path) -> Path | None:
    """The spare tree beside ``out``, if there is one qsite made."""
    spare = out.parent / f".{out.name}{SPARE}"
    return spare if _marker_inode(spare) is not None and _is_real_dir(spare) else None


def _keep_spare(old: Path, out: Path) -> None:
    """Keep the site just replaced as the spare for the next build (``Stage._assemble``); if
    a spare is there already (a concurrent build's), this one is deleted instead."""
    try:
        os.rename(old, out.parent / f".{out.name}{SPARE}")
    except OSError:
        _remove_tree(old)


def _same_bytes(path: str, st: os.stat_result, data: bytes) -> bool:
    if st.st_size != len(data):
        return False
    try:
        with open(path, "rb") as f:
            return f.read() == data
    except OSError:
        return False


# ---- Markers and locks: which folders qsite made, and which a running build still uses ----


def _claim_new(folder: Path) -> int:
    """Mark a new staging folder as qsite's and lock the marker for as long as the build runs
    (the lock dies with the process, even under ``kill -9``). The text is written only once the
    lock is held, so a marker with its text and no lock always belongs to a finished build."""
    fd = os.open(folder / MARKER, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, MARKER_TEXT)
        os.fchmod(fd, FILE_MODE)
    except OSError:
        os.close(fd)
        raise
    return fd


def _claim_left(folder: Path) -> int | None:
    """The lock on a staging folder a build left behind, or None if it is not qsite's (no
    marker, or not its text) or its build is still running. A build killed in the instant
    between making its folder and marking it leaves the folder empty, or holding only an empty
    marker: such a folder is qsite's too (its name says so, and it holds nothing)."""
    try:
        if not _is_real_dir(folder):
            return None
        fd = os.open(folder / MARKER, os.O_RDONLY | os.O_NOFOLLOW)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            os.rmdir(folder)  # only if empty; a build that made it a moment ago tries again
        return None
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        text = os.read(fd, len(MARKER_TEXT) + 1)
        if text == MARKER_TEXT or (not text and os.listdir(folder) == [MARKER]):
            return fd
    except OSError:
        pass
    os.close(fd)
    return None


def _lock_marker(out: Path) -> int:
    """Lock ``out``'s marker (creating it if need be): one in-place commit or recovery at a time."""
    marker = out / MARKER
    with contextlib.suppress(FileNotFoundError):
        if not stat.S_ISREG(os.lstat(marker).st_mode):
            os.unlink(marker)  # never write through a symlink left in the output
    fd = os.open(marker, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, FILE_MODE)
    fcntl.flock(fd, fcntl.LOCK_EX)
    if os.pread(fd, len(MARKER_TEXT) + 1, 0) != MARKER_TEXT:
        os.ftruncate(fd, 0)
        os.pwrite(fd, MARKER_TEXT, 0)
        os.fchmod(fd, FILE_MODE)
    return fd


def _remove_tree(folder: Path) -> bool:
    """Delete a staging or old folder, its marker last, so a build killed while deleting
    leaves a folder the next one still recognises as qsite's. Read-only folders inside it
    that this user owns (``chmod 555``) are made writable first. Never follows symlinks.
    True if it is gone."""

    def retry(func: object, path: str, _exc: object) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)

    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return True
    except OSError:
        return False
    for entry in entries:
        if entry.name == MARKER:
            continue
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path, onerror=retry)
        else:
            try:
                os.unlink(entry.path)
            except OSError:
                retry(os.unlink, entry.path, None)
    with contextlib.suppress(OSError):
        os.unlink(folder / MARKER)
    try:
        os.rmdir(folder)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


# ---- The swap ----


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders in one atomic step; OSError with ENOSYS where the OS cannot."""
    import ctypes  # here: a no-change build never gets this far, and ctypes costs an import

    libc = ctypes.CDLL(None, use_errno=True)
    if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
        rename_swap = 2
        result = libc.renamex_np(os.fsencode(a), os.fsencode(b), rename_swap)
    else:
        raise OSError(errno.ENOSYS, "no atomic exchange on this system", str(b))
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(b))


def _swap(stage: Path, out: Path) -> Path | None:
    """Put the complete tree ``stage`` in place of ``out``, atomically, and delete the old site
    (which the exchange left at ``stage``). Where the system has no exchange, two renames do it;
    a build killed between them leaves ``out`` missing and ``.out.old-*`` whole, which the next
    build puts back (``recover``)."""
    if not os.path.lexists(out):
        os.rename(stage, out)
        return None
    try:
        _exchange(stage, out)
    except OSError as exc:
        if exc.errno not in _NO_EXCHANGE:
            raise
        return _two_renames(stage, out)
    return stage


def _two_renames(stage: Path, out: Path) -> Path:
    """The exchange, where there is none. Returns where the old site now is."""
    import tempfile  # here, not at the top: a no-change build never writes (issue 10)
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}{OLD}", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(old, out)
        raise
    return old


# ---- In place, under a journal ----


def _plan(out: Path, files: Mapping[str, bool]) -> dict[str, list[str]]:
    """What an in-place commit does, in order: move aside every entry of ``out`` this build
    does not make (a symlink is an entry, never followed), remove the folders no longer
    needed, then move each staged file in, keeping the one it replaces."""
    entries: set[str] = set()  # files and symlinks, relative to out
    folders: list[str] = []  # real folders, parents first
    top = str(out)

    def visit(folder: str, prefix: str) -> None:
        for entry in os.scandir(folder):
            rel = prefix + entry.name
            if not prefix and (entry.name == MARKER or entry.name.startswith(INNER)):
                continue
            if entry.is_dir(follow_symlinks=False):
                folders.append(rel)
                visit(entry.path, rel + "/")
            else:
                entries.add(rel)

    visit(top, "")
    needed: set[str] = set()
    for rel in files:
        parent = rel.rpartition("/")[0]
        while parent and parent not in needed:
            needed.add(parent)
            parent = parent.rpartition("/")[0]
    staged = [rel for rel, written in files.items() if written]
    return {
        "delete": sorted(rel for rel in entries if rel not in files),
        "remove_folders": sorted((f for f in folders if f not in needed), reverse=True),  # deepest first
        "folders_before": folders,
        "replace": [rel for rel in staged if rel in entries],
        "add": [rel for rel in staged if rel not in entries],
    }


def _write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _real_parents(out: Path, rel: str) -> None:
    """Make the folders above ``out/rel``, refusing to go through anything but real folders."""
    folder = out
    for part in rel.split("/")[:-1]:
        folder = folder / part
        try:
            mode = os.lstat(folder).st_mode
        except FileNotFoundError:
            os.mkdir(folder, DIR_MODE)
            os.chmod(folder, DIR_MODE)
            continue
        if not stat.S_ISDIR(mode):
            raise OSError(errno.ENOTDIR, "not a real folder (a symlink or a file) on the way", str(folder))


def _roll_forward(out: Path, home: Path, plan: Mapping[str, list[str]]) -> None:
    """Do (or finish doing) ``plan``. Every step can be repeated: a build killed anywhere in
    here is finished by ``recover`` running this again."""
    old, new = home / "old", home / "new"
    with contextlib.suppress(FileExistsError):
        os.mkdir(old)
    for rel in plan["delete"]:
        source, kept = out / rel, old / rel
        if os.path.lexists(source) and not os.path.lexists(kept):
            _real_parents(old, rel)
            os.rename(source, kept)  # a symlink is moved as itself: its target is never touched
    for folder in plan["remove_folders"]:
        with contextlib.suppress(OSError):
            os.rmdir(out / folder)
    for rel in plan["replace"] + plan["add"]:
        source, target, kept = new / rel, out / rel, old / rel
        if not os.path.lexists(source):
            continue  # moved in already
        _real_parents(out, rel)
        if os.path.lexists(target) and not os.path.lexists(kept) and rel in plan["replace"]:
            _real_parents(old, rel)
            os.link(target, kept, follow_symlinks=False)
        os.replace(source, target)


def _roll_back(out: Path, home: Path, plan: Mapping[str, list[str]]) -> None:
    """Undo (or finish undoing) ``plan`` from whatever point it reached; repeatable too. Goes
    on past a step that fails, undoing all it can, then raises that step's error (the journal
    stays, and the next build tries again)."""
    (home / ROLLING_BACK).touch()
    old, new = home / "old", home / "new"
    failed: list[OSError] = []

    def step(action: Callable[[], object]) -> None:
        try:
            action()
        except FileNotFoundError:
            pass
        except OSError as exc:
            failed.append(exc)

    for rel in plan["add"]:
        if not os.path.lexists(new / rel):
            step(lambda rel=rel: os.unlink(out / rel))
    for rel in plan["replace"]:
        if not os.path.lexists(new / rel) and os.path.lexists(old / rel):
            step(lambda rel=rel: os.replace(old / rel, out / rel))
    before = set(plan["folders_before"])
    made = {rel.rpartition("/")[0] for rel in plan["add"]} - before - {""}
    for folder in sorted(made, key=lambda f: -f.count("/")):
        while folder and folder not in before:
            with contextlib.suppress(OSError):
                os.rmdir(out / folder)
            folder = folder.rpartition("/")[0]
    for folder in plan["folders_before"]:
        if not os.path.lexists(out / folder):
            step(lambda folder=folder: os.mkdir(out / folder, DIR_MODE))
    for rel in plan["delete"]:
        if os.path.lexists(old / rel) and not os.path.lexists(out / rel):
            step(lambda rel=rel: os.rename(old / rel, out / rel))
    if failed:
        raise failed[0]


def remove_output(out: Path) -> None:
    """Delete the output folder (``qsite clean``); a mount point (a Docker volume) cannot be
    removed, so it is emptied instead. Symlinks inside are removed, never followed."""
    spare = _spare_of(out)
    if spare is not None:
        _remove_tree(spare)
    if not _is_mount(out):
        shutil.rmtree(out)
        return
    for entry in os.scandir(out):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


# ---- Recovery: what a killed build left ----


def recover(out: Path) -> None:
    """Finish or undo whatever a killed build left, before a build or ``qsite clean`` does
    anything else: put back an output folder caught between two renames, finish (or undo) an
    in-place commit from its journal, and delete leftover staging and old folders. Only
    folders carrying qsite's marker, whose build is no longer running, are touched; anything
    that fails is left for the next time."""
    parent = out.parent
    try:
        names = sorted(os.listdir(parent))
    except OSError:
        names = []
    prefixes = (f".{out.name}{STAGING}", f".{out.name}{OLD}")
    for name in names:
        if not name.startswith(prefixes):
            continue
        folder = parent / name
        lock = _claim_left(folder)
        if lock is None:
            continue
        try:
            if name.startswith(prefixes[1]) and not os.path.lexists(out):
                # killed between the two renames: the old site goes back (and is never deleted
                # while it is the only one there is)
                with contextlib.suppress(OSError):
                    os.rename(folder, out)
                continue
            _remove_tree(folder)
        finally:
            os.close(lock)
    if not _is_real_dir(out):
        return
    try:
        inner = sorted(name for name in os.listdir(out) if name.startswith(INNER))
    except OSError:
        return
    for name in inner:
        folder = out / name
        lock = _claim_left(folder)
        if lock is None:
            continue
        try:
            _finish(out, folder)
        finally:
            os.close(lock)


def _finish(out: Path, home: Path) -> None:
    try:
        plan = json.loads((home / PLAN).read_bytes())
    except FileNotFoundError:
        _remove_tree(home)  # killed before its commit point: out was never touched
        return
    except (OSError, ValueError):
        return  # unreadable: leave it rather than guess
    marker = _lock_marker(out)
    try:
        if not (home / ROLLING_BACK).exists():
            try:
                _roll_forward(out, home, plan)
                _remove_tree(home)
                return
            except OSError:
                pass
        with contextlib.suppress(OSError):
            _roll_back(out, home, plan)
            _remove_tree(home)
    finally:
        os.close(marker)
