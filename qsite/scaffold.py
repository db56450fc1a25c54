"""Starting points written into a site folder: ``qsite theme copy`` (default templates to
customise) and ``qsite init`` (a whole new site).

Both only ever create files: every file is opened with ``O_EXCL``, so nothing an editor has is
overwritten, not even by a second command racing this one, and nothing is written through a
symlink that leads out of the site. What they would write is planned first (and, for ``init``,
``site.yaml`` is validated by the same schema a build uses), so a bad answer writes nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qsite import THEME
from qsite.problems import ConfigError, Problem, did_you_mean


@dataclass
class Written:
    """What a scaffold command did: files created, and files left alone because they exist."""

    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def create_files(root: Path, files: dict[str, str | bytes]) -> Written:
    """Create each ``root/rel`` that does not exist yet; existing ones are kept as they are."""
    written = Written()
    real_root = root.resolve()
    for rel, data in files.items():
        target = root / rel
        if not target.parent.resolve().is_relative_to(real_root):  # a symlinked folder on the way
            message = "its folder leads outside the site folder; qsite will not write there"
            raise ConfigError([Problem(rel, None, message)])
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            written.kept.append(rel)
            continue
        except OSError as exc:
            raise ConfigError([Problem(rel, None, f"cannot create the file: {exc.strerror}")]) from None
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode("utf-8") if isinstance(data, str) else data)
        written.created.append(rel)
    return written


# -- qsite theme ----------------------------------------------------------------------------


def theme_files() -> list[str]:
    """Every file of the default theme, as its path under templates/ (``partials/macros.html``)."""
    return sorted(p.relative_to(THEME).as_posix() for p in THEME.rglob("*") if p.is_file())


def choose_theme_files(names: Sequence[str]) -> list[str]:
    """``names`` (files or folders of the theme, ``post.html``, ``static``) as theme files; all
    of them if none. An unknown name is a usage error with a did-you-mean."""
    every = theme_files()
    if not names:
        return every
    chosen: list[str] = []
    problems: list[Problem] = []
    for name in names:
        clean = name.strip().removeprefix("templates/").strip("/")
        found = [f for f in every if f == clean or f.startswith(clean + "/")]
        if not found:
            guess = did_you_mean(clean, every + sorted({f.split("/")[0] for f in every if "/" in f}))
            fix = f"did you mean {guess}?" if guess else "qsite theme list names them all"
            problems.append(Problem(name, None, "the default theme has no such template or folder", fix))
        chosen += [f for f in found if f not in chosen]
    if problems:
        raise ConfigError(problems)
    return chosen


def copy_theme(root: Path, names: Sequence[str]) -> Written:
    """Copy default templates (or all) into ``root/templates/``, never over a file there."""
    if not (root / "site.yaml").is_file():
        raise ConfigError([Problem(str(root / "site.yaml"), None, "there is no site.yaml here",
                                   "run qsite in the site's folder, or pass --source DIR")])
    chosen = choose_theme_files(names)
    written = create_files(root, {f"templates/{rel}": (THEME / rel).read_bytes() for rel in chosen})
    return written


def overridden(root: Path, files: Iterable[str]) -> set[str]:
    """Which of the theme's ``files`` the site at ``root`` overrides in its templates/."""
    return {rel for rel in files if (root / "templates" / rel).is_file()}
