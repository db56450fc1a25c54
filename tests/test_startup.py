"""What starting qsite costs (issue 10): modules a build may not need are imported when needed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import SITE_YAML, post

TESTS = Path(__file__).resolve().parent


def test_a_rebuild_finishing_no_email_edition_never_imports_css_inline(build_site) -> None:
    """css_inline (a compiled extension, ~0.04 s to import) is only needed to finish an email
    edition; a rebuild after an edit that no email shows, like most edits, does without it."""
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    assert site.exists("digest/2020-04/email.html")
    (site.root / "content/pages/about.md").parent.mkdir(parents=True)
    (site.root / "content/pages/about.md").write_text("---\ntitle: About\n---\nAbout us.\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qsite.build import Options, build\n"
        "from conftest import NOW\n"
        f"result = build(Path({str(site.root)!r}), Options(output=Path({str(site.out)!r}), now=NOW))\n"
        "assert 0 < result.cache_hits < result.pages, (result.cache_hits, result.pages)\n"
        "print('css_inline' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS, check=False)
    assert proc.returncode == 0, proc.stderr
    assert site.exists("about/")
    assert proc.stdout.strip() == "False"


def _modules_a_no_change_build_imports(build_site, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a ``qsite build`` that finds nothing changed has imported (a
    process of its own: the first build makes the record, the second takes the shortcut)."""
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    for path in site.root.rglob("*"):  # written long ago: the shortcut trusts their stamps
        os.utime(path, (1_600_000_000, 1_600_000_000))
    script = (
        "import json, sys\n"
        "from qsite.cli import main\n"
        f"assert main(['build', '--source', {str(site.root)!r}, '--output', {str(site.out)!r}, '--no-search']) == 0\n"
        f"print(json.dumps(sorted(m for m in {modules!r} if m in sys.modules)))\n"
    )
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS, check=False)
            for _ in range(2)]  # the first builds without search, the second finds nothing changed
    assert runs[1].returncode == 0, runs[1].stderr
    assert "nothing changed" in runs[1].stdout
    return json.loads(runs[1].stdout.strip().splitlines()[-1])


def test_a_build_with_nothing_changed_imports_neither_importlib_metadata_nor_email(build_site) -> None:
    """Every process computes the cache's ENGINE: the libraries' versions come from their
    dist-info folders' names and an address is parsed with email.utils only when site.yaml is
    read and has one, so the shortcut does without importlib.metadata and email (with zipfile,
    csv, socket, calendar…: ~25 ms of a ~130 ms start)."""
    assert _modules_a_no_change_build_imports(build_site, ("importlib.metadata", "email", "jinja2")) == []


def test_the_engine_knows_the_version_of_every_library_qsite_requires() -> None:
    """The versions read from folder names are the ones importlib.metadata gives."""
    import importlib.metadata

    from qsite.incremental import cachefiles

    expected = {}
    for requirement in importlib.metadata.requires("qsite") or []:
        if "extra ==" not in requirement:
            name = requirement.split(">")[0].split("=")[0].split("<")[0].split("[")[0].strip()
            expected[name] = importlib.metadata.version(name)
    assert dict(cachefiles._dependencies()) == expected


def test_converting_markdown_does_not_read_every_packages_entry_points() -> None:
    """Python-Markdown looks an extension given by name up among all installed packages' entry
    points (importing importlib.metadata and reading each package's metadata): qsite hands it
    the extensions themselves, and the HTML is the same (``make proof``)."""
    script = (
        "import sys\n"
        "from qsite import markup\n"
        "html = markup.render_markdown('## A\\n\\n```python\\nx = 1\\n```\\n\\n| a |\\n|---|\\n| 1 |\\n').html\n"
        "assert '<table>' in html and 'class=\"highlight\"' in html and 'heading-anchor' in html, html\n"
        "print('importlib.metadata' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_a_build_with_nothing_changed_reads_no_yaml(build_site) -> None:
    """The no-change shortcut takes the output folder from its record while site.yaml is
    unchanged (qsite/incremental/fastpath.py ``quick``), so it imports neither the
    configuration nor YAML (~25 ms of a ~150 ms start)."""
    assert _modules_a_no_change_build_imports(build_site, ("yaml", "qsite.config", "qsite.schema")) == []
