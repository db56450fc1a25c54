"""Whole-site test helpers, after Hugo's integration tests: a test writes a small site from a
dict of path → text, builds it into a temp folder, and asserts on the output files."""

from __future__ import annotations

import signal
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qsite import THEME
from qsite.build import BuildResult, Options, build
from qsite.problems import Problem, QsiteError
from qsite.serve import Attempt

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

# A site without a templates/ folder gets the repository's own templates (``copy_templates``):
# for the tests of those templates (tests/test_templates.py and the markup, escaping and
# accessibility tests elsewhere), which assert on the HTML the site really ships.
BASE: dict[str, str] = {"site.yaml": SITE_YAML}

# Tiny templates, after Hugo's integration tests: each prints exactly the values behaviour tests
# assert on, one ``|``-delimited line per item, so an expectation reads like a table and an edit
# to the production templates cannot break a test of grouping, URLs or the digest. qsite renders
# every template below (a missing one is a build error), so each has a one-line default; a test
# overrides the ones it needs inline: ``{**TINY_BASE, "templates/post.html": "..."}``.
_PAGER = (
    "{% for p in pager.items %}{{ p.url }}|{{ p.title }}|\n{% endfor %}"
    "pager|{{ pager.number }}/{{ pager.total }}"
    "|prev={{ '' if pager.prev_path is none else url(pager.prev_path) }}"
    "|next={{ '' if pager.next_path is none else url(pager.next_path) }}|\n"
)
TINY: dict[str, str] = {
    "templates/index.html": "home|{{ path }}|\n" + _PAGER,
    "templates/post.html": "post|{{ post.url }}|{{ post.title }}|{{ post.date | iso }}|{{ post.date | date_long }}|\n{{ post.html | safe }}\n",
    "templates/page.html": "page|{{ page.url }}|{{ page.title }}|\n{{ page.html | safe }}\n",
    "templates/themes.html": "{% for t in theme_list %}{{ t.url }}|{{ t.title }}|{{ t.count }}|\n{% endfor %}",
    "templates/theme.html": "theme|{{ theme.url }}|{{ theme.title }}|{{ theme.description }}|{{ theme.count }}|{{ theme.feed_url }}|\n" + _PAGER,
    "templates/tags.html": "{% for t in tag_list %}{{ t.url }}|{{ t.name }}|{{ t.count }}|\n{% endfor %}",
    "templates/tag.html": "tag|{{ tag.url }}|{{ tag.name }}|{{ tag.count }}|\n" + _PAGER,
    "templates/authors.html": "{% for a in author_list %}{{ a.url }}|{{ a.name }}|{{ a.role }}|{{ a.count }}|\n{% endfor %}",
    "templates/author.html": (
        "author|{{ author.url }}|{{ author.name }}|{{ author.role }}|{{ author.organisation }}|{{ count }}|"
        "{{ author.feed_url }}|\n{{ author.bio_html | safe }}\n" + _PAGER
    ),
    "templates/archive.html": (
        "{% for y in archive %}{% for m in y.months %}{% for p in m.posts %}"
        "{{ y.year }}-{{ '%02d' | format(m.month) }}|{{ m.name }}|{{ p.url }}|{{ p.title }}|\n"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "templates/404.html": "not found|\n",
    "templates/search.html": "search|\n",
    "templates/accessibility.html": "accessibility|\n",
    "templates/feed.xml": (
        "feed|{{ feed_title }}|{{ feed_updated | iso }}|\n"
        "{% for p in feed_posts %}{{ p.permalink }}|{{ p.title }}|\n{% endfor %}"
    ),
    "templates/sitemap.xml": "{% for entry_path, _ in entries %}{{ absolute(entry_path) }}|\n{% endfor %}",
    "templates/robots.txt": "Sitemap: {{ absolute('sitemap.xml') }}\n",
    "templates/digests.html": "{% for e in digest.editions %}{{ e.url }}|{{ e.title }}|{{ e.count }}|\n{% endfor %}",
    "templates/digest.html": (
        "edition|{{ edition.url }}|{{ edition.title }}|{{ edition.count }}|\n"
        "{% for s in edition.sections %}{% for p in s.posts %}{{ s.theme.slug }}|{{ p.url }}|{{ p.title }}|\n"
        "{% endfor %}{% endfor %}"
    ),
    "templates/email.html": "<html><body><p>email|{{ edition.permalink }}|{{ edition.title }}|</p></body></html>\n",
    "templates/email.txt": "email|{{ edition.permalink }}|{{ edition.title }}|\n",
    "templates/digest-feed.xml": (
        "digest feed|{{ feed_updated | iso }}|\n"
        "{% for e in feed_editions %}{{ e.permalink }}|{{ e.title }}|\n{% endfor %}"
    ),
    # issue 11: redirect pages (aliases) and series
    "templates/redirect.html": (
        '<meta http-equiv="refresh" content="0; url={{ target.url }}">\n'
        "redirect|{{ path }}|{{ target.url }}|{{ target.permalink }}|{{ target.title }}|\n"
    ),
    "templates/series.html": (
        "series|{{ series.url }}|{{ series.title }}|{{ series.count }}|{{ series.summary }}|\n"
        "{% for p in series.parts %}{{ p.number }}|{{ p.url }}|{{ p.title }}|\n{% endfor %}"
    ),
    "templates/series_list.html": "{% for s in series_list %}{{ s.url }}|{{ s.title }}|{{ s.count }}|\n{% endfor %}",
}
TINY_BASE: dict[str, str] = {"site.yaml": SITE_YAML, **TINY}


def post(title: str, date: str, themes: str = "[staff-wellbeing]", body: str = "Body text.", **extra: str) -> str:
    """Front matter + body for a post; ``extra`` adds raw ``key: value`` lines."""
    lines = [f"title: {title}", f"date: {date}", f"themes: {themes}"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"


def edition_file(*picks: str, editor: str = "Digest Group", body: str = "Our intro.", **extra: str) -> str:
    """A digest edition file: front matter (editor, picks, ``extra`` lines) and an intro."""
    lines = [f"editor: {editor}"]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    if picks:
        lines.append("picks:")
        lines += [f"  - {p}" for p in picks]
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
        shutil.copytree(THEME, root / "templates")


@pytest.fixture(scope="session", autouse=True)
def _template_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compiled templates are kept in a per-user folder (qsite/incremental/cache.py,
    CompiledTemplates): the suite's builds, in this process and in the ones it starts, use a
    folder of their own, never the real home's."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("QSITE_TEMPLATE_CACHE", str(tmp_path_factory.mktemp("template-cache") / "templates"))
        patch.delenv("QSITE_NO_TEMPLATE_CACHE", raising=False)
        yield


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



def same_served(warm: Attempt, cold: Attempt) -> None:
    """A serve rebuild equals a fresh one: problems, then every file."""
    assert (warm.files is None) == (cold.files is None), (warm.problems, cold.problems)
    assert sorted(map(str, warm.problems)) == sorted(map(str, cold.problems))
    if cold.files is not None:
        assert warm.files is not None
        assert sorted(warm.files) == sorted(cold.files)
        for name, data in cold.files.items():
            assert warm.files[name] == data, name

def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder``, by relative path: to compare a whole output folder."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
