"""The benchmark's helpers do what bench/PROFILE.md relies on: the Pelican project holds the
same posts, a missing Pelican is a one-line note, the profiler's step timers see the pipeline,
and the Pagefind service client indexes the same pages as the command line. No timings are
asserted: they depend on the machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import __main__ as bench_main
from bench import pagefind_api, pelican
from bench.corpus import generate

REPO = Path(__file__).resolve().parent.parent


def test_pelican_project_holds_every_post_with_its_metadata(tmp_path: Path) -> None:
    site = generate(tmp_path / "site", 5, seed=3)
    project = pelican.convert(site, tmp_path / "pelican")
    sources = sorted((site / "content" / "posts").glob("*.md"))
    converted = sorted((project / "content" / "posts").glob("*.md"))
    assert [p.name for p in converted] == [p.name for p in sources]
    text = converted[0].read_text(encoding="utf-8")
    head, _, body = text.partition("\n\n")
    keys = [line.split(":", 1)[0] for line in head.splitlines()]
    assert keys[:4] == ["Title", "Date", "Slug", "Category"]
    assert f"Slug: {sources[0].stem[11:]}" in head  # the date prefix is not in the URL
    assert body.strip() in sources[0].read_text(encoding="utf-8")
    assert (project / "content" / "pages" / "about.md").read_text(encoding="utf-8").startswith("Title: About\n")
    assert "RELATIVE_URLS = False" in (project / "pelicanconf.py").read_text(encoding="utf-8")


def test_pelican_that_cannot_be_installed_is_a_one_line_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    reason = pelican.ensure(blocker / "venv")  # a venv cannot be made under a file
    assert isinstance(reason, str)
    assert "\n" not in reason and "venv" in reason


def test_profile_step_timers_see_every_page_rendered(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "bench.profile", "cold", "--no-search", "--size", "4", "--repeat", "1",
           "--top", "3", "--work", str(tmp_path)]
    run = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True, timeout=300)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in run.stdout.splitlines() if line.startswith("| ")}
    assert "| 4 |" in rows["render one page: post.html"]  # one call per post page
    assert "build._markdown_chunk: Markdown → HTML" in rows
    assert "Top 3 functions by own time:" in run.stdout


def test_pagefind_service_indexes_the_same_pages_as_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "site" / "output"
    pages = {
        "posts/a/index.html": "<html lang='en'><body><main data-pagefind-body><h1>Huddles</h1><p>Ward huddles.</p>"
                              "</main></body></html>",
        "posts/b/index.html": "<html lang='en'><body><main data-pagefind-body><h1>Rotas</h1><p>Night rotas.</p>"
                              "</main></body></html>",
        "about/index.html": "<html lang='en'><body><main data-pagefind-body><h1>About</h1></main></body></html>",
    }
    for rel, html in pages.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(html, encoding="utf-8")
    groups = {"pages": ["about/index.html"], "posts": ["posts/a/index.html", "posts/b/index.html"]}
    binary = pagefind_api.pagefind_binary()
    found = {}
    for name, way in (("cli", pagefind_api.cli_shards), ("service", pagefind_api.service)):
        dest = tmp_path / name
        dest.mkdir()
        assert way(binary, tmp_path / "site", out, groups, dest, 2) == 3
        found[name] = pagefind_api.urls_in(dest)
    assert found["service"] == found["cli"] == {"/posts/a/", "/posts/b/", "/about/"}


def test_measured_builds_keep_their_bytecode_outside_the_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under PYTHONDONTWRITEBYTECODE each measured process would compile qsite again, which an
    installed qsite never does: the benchmark lifts it and puts the bytecode in its work folder."""
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.delenv("PYTHONPYCACHEPREFIX", raising=False)
    assert bench_main.cache_bytecode(tmp_path)
    assert "PYTHONDONTWRITEBYTECODE" not in os.environ
    subprocess.run([sys.executable, "-c", "import qsite.problems"], check=True, cwd=tmp_path)
    assert list((tmp_path / "pycache").rglob("problems.*.pyc"))
    assert not bench_main.cache_bytecode(tmp_path)  # already lifted: nothing to do
