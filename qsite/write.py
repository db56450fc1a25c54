"""Step 6: put the rendered files on disk, all or nothing.

Files are written into a staging folder beside the output folder and swapped into place only
once every file is written, so a failed build leaves the previous site exactly as it was. A
file whose bytes have not changed is hard-linked from the previous output instead of written,
so it keeps its mtime (rsync and CDN uploads stay small).

Safety first: the output folder is deleted and replaced on every build, so ``check_output_dir``
refuses any folder whose loss would hurt (the site itself, its sources, a folder of someone's
files that qsite did not make).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from qsite.problems import ConfigError, ContentError, Problem
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
    seen: set[str] = set()
    problems: list[Problem] = []
    for output in outputs:
        parts = PurePosixPath(output.path).parts
        if output.path.startswith("/") or ".." in parts or not parts:
            raise AssertionError(f"output path escapes the output folder: {output.path!r}")
        if output.path in seen:
            problems.append(
                Problem(output.path, None, "two things would be written to this path", "rename one of them")
            )
        seen.add(output.path)
    if problems:
        raise ContentError(problems)


def write_site(outputs: list[Output], out: Path) -> WriteResult:
    """Write ``outputs`` as the complete new content of ``out`` (already checked)."""
    check_unique(outputs)
    parent = out.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.staging-", dir=parent))
    except OSError as exc:
        raise ConfigError([Problem(str(out), None, f"cannot create the output folder: {exc.strerror}")]) from None
    written = unchanged = 0
    try:
        os.chmod(stage, DIR_MODE)
        (stage / MARKER).write_bytes(b"This folder is made by qsite build and replaced on every build.\n")
        os.chmod(stage / MARKER, FILE_MODE)
        made: set[Path] = {stage}
        for output in outputs:
            target = stage / output.path
            _mkdirs(target.parent, made)
            previous = out / output.path
            if _same_bytes(previous, output.data):
                try:
                    os.link(previous, target)
                    unchanged += 1
                    continue
                except OSError:
                    pass  # another filesystem, or no hard links: write it
            with open(target, "wb") as f:
                f.write(output.data)
            os.chmod(target, FILE_MODE)
            written += 1
        _swap(stage, out)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        raise ConfigError(
            [
                Problem(
                    str(out),
                    None,
                    f"cannot write the site: {exc.strerror or exc}",
                    "check the folder's permissions and free disk space",
                )
            ]
        ) from None
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return WriteResult(written, unchanged)


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
