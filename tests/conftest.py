"""Whole-site test helpers, after Hugo's integration tests: a test writes a small site from a
dict of path → text, builds it into a temp folder, and asserts on the output files."""

from __future__ import annotations

import signal
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qsite.build import BuildResult, Options, build
from qsite.problems import Problem, QsiteError

REPO = Path(__file__).resolve().parent.parent

# A fixed "now", so scheduled posts and anything dated stays put whatever day the suite runs.
NOW = datetime(2021, 12, 1, 12, 0, tzinfo=UTC)

SITE_YAML = """\
title: Test Site
description: A site for tests.
base_url: https://example.org/
posts_per_page: 10
themes:
  - slug: health-inequalities
    title: Health inequalities and meeting the needs of vulnerable groups
    description: Reaching people the system misses.
  - slug: staff-wellbeing
    title: Staff wellbeing and system resilience
    description: Looking after the people who care.
  - slug: space-to-learn
    title: Space and support to learn
    description: Time and habits for reflection.
  - slug: collaborative-improvement
    title: Collaborative improvement alive and strong
    description: Improving together.
"""

# The repository's own templates, so whole-site tests exercise what the site really ships.
BASE: dict[str, str] = {"site.yaml": SITE_YAML}


def post(title: str, date: str, themes: str = "[staff-wellbeing]", body: str = "Body text.", **extra: str) -> str:
    """Front matter + body for a post; ``extra`` adds raw ``key: value`` lines."""
    lines = [f"title: {title}", f"date: {date}", f"themes: {themes}"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


@dataclass
class BuiltSite:
    root: Path
    out: Path
    result: BuildResult | None = None
    error: QsiteError | None = None
    problems: list[Problem] = field(default_factory=list)

    def read(self, path: str) -> str:
        return (self.out / path).read_text(encoding="utf-8")

    def exists(self, path: str) -> bool:
        return (self.out / path).exists()

    def files(self) -> set[str]:
        return {p.relative_to(self.out).as_posix() for p in self.out.rglob("*") if p.is_file()}

    def assert_lines(self, path: str, expected: str) -> None:
        """Each non-blank line of ``expected`` must be in the file; lines starting ``! `` must not."""
        text = self.read(path)
        for line in textwrap.dedent(expected).splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("! "):
                assert line[2:] not in text, f"{path} should not contain {line[2:]!r}"
            else:
                assert line in text, f"{path} should contain {line!r}"

    def messages(self) -> list[str]:
        return [p.format() for p in self.problems]


def write_files(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")


def copy_templates(root: Path) -> None:
    import shutil

    if not (root / "templates").exists():
        shutil.copytree(REPO / "templates", root / "templates")


BuildSite = Callable[..., BuiltSite]


@pytest.fixture
def build_site(tmp_path: Path) -> BuildSite:
    """``build_site(files, **options)`` → BuiltSite; a failed build is returned, not raised,
    with its problems, so tests can assert on messages. Repository templates are used unless
    the files include their own."""

    def run(files: dict[str, str | bytes], *, expect_ok: bool = True, **options: object) -> BuiltSite:
        root = tmp_path / "site"
        root.mkdir(exist_ok=True)
        write_files(root, files)
        copy_templates(root)
        options.setdefault("now", NOW)
        out = Path(str(options.pop("output", root / "output")))
        built = BuiltSite(root, out)
        try:
            built.result = build(root, Options(output=out, **options))  # type: ignore[arg-type]
            built.problems = list(built.result.warnings)
        except QsiteError as exc:
            built.error = exc
            built.problems = list(exc.problems)
            if expect_ok:
                raise AssertionError("build failed:\n" + "\n".join(p.format() for p in exc.problems)) from None
        return built

    return run


# --- Subprocesses that tests send signals to (issue 15) ---------------------------------------
# A process inherits its signal dispositions: started from a background job of a script, under
# nohup or by some CI runners, pytest has SIGINT ignored, and so would every child it starts. A
# test that signals a child must not depend on that, so children start through this one-line
# wrapper, which sets the dispositions the test asks for and then execs the real command.
_WITH_SIGNALS = (
    "import os, signal, sys\n"
    "for s in (signal.SIGINT, signal.SIGTERM):\n"
    "    signal.signal(s, signal.SIG_IGN if str(int(s)) in sys.argv[1].split(',') else signal.SIG_DFL)\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def with_signals(argv: list[str], ignored: tuple[signal.Signals, ...] = ()) -> list[str]:
    """``argv`` started with SIGINT and SIGTERM at their defaults, as from a terminal, except
    those in ``ignored``, which it inherits as ignored (as from ``cmd &`` in a script)."""
    return [sys.executable, "-I", "-S", "-c", _WITH_SIGNALS, ",".join(str(int(s)) for s in ignored), *argv]


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, by relative path: to compare a whole output folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
