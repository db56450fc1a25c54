"""Step 6: put the rendered files on disk, all or nothing.

Files are written into a staging folder beside the output folder and swapped into place only
once every file is written, so a failed build leaves the previous site exactly as it was. A
file whose bytes have not changed is hard-linked from the previous output instead of written,
so it keeps its mtime (rsync and CDN uploads stay small); ``Stage`` takes files one by one as
they are rendered, so the whole site is never held in memory.

Safety first: the output folder is deleted and replaced on every build, so ``check_output_dir``
refuses any folder whose loss would hurt (the site itself, its sources, a folder of someone's
files that qsite did not make).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from qsite.problems import ConfigError, ContentError, Problem

if TYPE_CHECKING:  # not at run time: the no-change shortcut checks the output folder without Jinja
    from qsite.render import Output

MARKER = ".qsite-output"  # in every output folder: proof that qsite may replace it
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


def check_paths(paths: Iterable[str]) -> None:
    """``check_unique`` for paths known before their files are rendered."""
    seen: set[str] = set()
    problems: list[Problem] = []
    for path in paths:
        parts = PurePosixPath(path).parts
        if path.startswith("/") or ".." in parts or not parts:
            raise AssertionError(f"output path escapes the output folder: {path!r}")
        if path in seen:
            problems.append(Problem(path, None, "two things would be written to this path", "rename one of them"))
        seen.add(path)
    if problems:
        raise ContentError(problems)


Stamp = tuple[int, int, int]  # (size, mtime_ns, inode): what a file looked like when last seen


def stamp_of(path: Path) -> Stamp | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


IN_PLACE_MAX = 0.5  # commit in place when at most this share of the files changed


class Stage:
    """The next ``out``, filled one file at a time and put in place by ``commit``.

    Files arrive as they are rendered, so a big site never has to be held in memory at once.
    Only new and changed files are written (into a staging folder beside ``out``); a file whose
    bytes equal the previous output's, or that ``keep`` vouches for unread because the build
    cache knows it is unchanged, stays the very same file (same inode, same mtime).

    Nothing in ``out`` changes until ``commit``, so a failed build leaves it exactly as it was.
    ``commit`` then either renames each changed file into ``out`` and deletes files no longer
    built (when few changed: a rebuild after one edit costs a few renames, not a new tree of
    thousands of folders), or builds the complete new tree, hard-linking unchanged files, and
    swaps it in with two renames (a first build, or when most files changed).
    """

    def __init__(self, out: Path):
        self.out = out
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.path = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=out.parent))
        except OSError as exc:
            raise ConfigError([Problem(str(out), None, f"cannot create the output folder: {exc.strerror}")]) from None
        self.written = self.unchanged = 0
        self.files: dict[str, bool] = {}  # path → True if staged, False if the previous file stays
        self.stamps: dict[str, Stamp | None] = {}  # path → its stamp once committed (renames and links keep it)
        self._made: set[Path] = {self.path}
        self._done = False
        with self._errors():
            os.chmod(self.path, DIR_MODE)

    def __enter__(self) -> Stage:
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._done:
            shutil.rmtree(self.path, ignore_errors=True)

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            shutil.rmtree(self.path, ignore_errors=True)
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

    def put(self, rel: str, data: bytes) -> Stamp | None:
        """Stage one file. Returns the stamp it will have in ``out`` (renames keep stamps)."""
        previous = self.out / rel
        if _same_bytes(previous, data):
            self.files[rel] = False
            self.unchanged += 1
            stamp = self.stamps[rel] = stamp_of(previous)
            return stamp
        target = self.path / rel
        with self._errors():
            _mkdirs(target.parent, self._made)
            with open(target, "wb") as f:
                f.write(data)
            os.chmod(target, FILE_MODE)
        self.files[rel] = True
        self.written += 1
        stamp = self.stamps[rel] = _stamp(target)
        return stamp

    def keep(self, rel: str, expected: Stamp) -> bool:
        """Keep the previous output's file unread if it is still the one stamped ``expected``;
        False (and nothing recorded) if it is gone or has changed since."""
        try:
            st = os.stat(os.path.join(self.out, rel))  # not Path: called for every unchanged page
        except OSError:
            return False
        if (st.st_size, st.st_mtime_ns, st.st_ino) != expected:
            return False
        self.stamps[rel] = expected
        self.files[rel] = False
        self.unchanged += 1
        return True

    def keep_all(self, files: dict[str, Stamp]) -> bool:
        """``keep`` for a group of files that only make sense together (a search index shard):
        all of them, if every one is still as stamped, or none (and False)."""
        if any(stamp_of(self.out / rel) != stamp for rel, stamp in files.items()):
            return False
        for rel, stamp in files.items():
            self.files[rel] = False
            self.stamps[rel] = stamp
        self.unchanged += len(files)
        return True

    def commit(self) -> WriteResult:
        """Put the new site in place: renaming the changed files into ``out`` when few changed,
        else swapping in a complete staging tree. If anything fails, ``out`` is left as it was."""
        with self._errors():
            if self.out.is_dir() and self.written <= IN_PLACE_MAX * len(self.files) and self._fits():
                self._in_place()
            else:
                self._swap()
        self._done = True
        return WriteResult(self.written, self.unchanged)

    def _fits(self) -> bool:
        """False if a changed file would land where ``out`` has a folder, or under a file."""
        for rel, staged in self.files.items():
            if not staged:
                continue
            if (self.out / rel).is_dir():
                return False
            parent = (self.out / rel).parent
            while parent != self.out:
                if parent.exists() and not parent.is_dir():
                    return False
                parent = parent.parent
        return True

    def _in_place(self) -> None:
        made: set[Path] = {self.out}
        for rel, staged in self.files.items():
            if staged:
                target = self.out / rel
                _mkdirs(target.parent, made)
                os.replace(self.path / rel, target)
        # One walk, deepest folders first: files this build does not make go, and so does each
        # folder left empty (strings, not Paths: this visits every file of a big site).
        out = str(self.out)
        removed: set[str] = set()
        for folder, dirs, names in os.walk(out, topdown=False):
            prefix = folder[len(out) + 1 :] + "/" if folder != out else ""
            left = 0
            for name in names:
                rel = prefix + name
                if rel in self.files or rel == MARKER:
                    left += 1
                else:
                    os.unlink(os.path.join(folder, name))
            if folder != out and not left and all(os.path.join(folder, d) in removed for d in dirs):
                with contextlib.suppress(OSError):
                    os.rmdir(folder)
                    removed.add(folder)
        _write_marker(self.out)
        shutil.rmtree(self.path, ignore_errors=True)

    def _swap(self) -> None:
        _write_marker(self.path)
        for rel, staged in self.files.items():
            if staged:
                continue
            target = self.path / rel
            _mkdirs(target.parent, self._made)
            try:
                os.link(self.out / rel, target)
            except OSError:  # no hard links here: copy, keeping the mtime
                shutil.copy2(self.out / rel, target)
        _swap(self.path, self.out)


def _write_marker(folder: Path) -> None:
    marker = folder / MARKER
    text = b"This folder is made by qsite build and replaced on every build.\n"
    if not marker.exists() or marker.read_bytes() != text:
        marker.write_bytes(text)
        os.chmod(marker, FILE_MODE)


def _stamp(path: Path) -> Stamp:
    st = path.stat()
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _mkdirs(folder: Path, made: set[Path]) -> None:
    if folder in made:
        return
    _mkdirs(folder.parent, made)
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=DIR_MODE)
    os.chmod(folder, DIR_MODE)
    made.add(folder)


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        if path.stat().st_size != len(data):
            return False
        return path.read_bytes() == data
    except OSError:
        return False


def _swap(stage: Path, out: Path) -> None:
    """Two renames on one filesystem: the old site is moved aside, the new one moved in, and
    the old one deleted only after that. If the second rename fails the old one is put back."""
    if not out.exists():
        os.rename(stage, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
    os.rmdir(old)
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except OSError:
        os.rename(old, out)
        raise
    shutil.rmtree(old, ignore_errors=True)
