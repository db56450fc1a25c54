"""The repository's own site: it builds cleanly, has what the launch needs, and no link dangles."""

from __future__ import annotations

import shutil
from pathlib import Path

import feedparser
import pytest

from qsite.build import Options, build

from conftest import NOW, REPO
from crawl import dangling_links
from search_index import comparable


@pytest.fixture(scope="module", params=["https://example.org/", "https://example.org/q-blog/"])
def example(request, tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("example") / "output"
    result = build(REPO, Options(output=out, base_url=request.param, now=NOW))
    assert not result.warnings, result.warnings
    return out, request.param


def test_no_dangling_links(example):
    out, base_url = example
    base_path = "/" + base_url.split("/", 3)[3]
    assert dangling_links(out, "https://example.org", base_path) == []


def test_launch_content(example):
    out, _ = example
    posts = [p for p in (out / "posts").iterdir() if (p / "index.html").exists()]
    assert len(posts) >= 12
    for theme in ("health-inequalities", "staff-wellbeing", "space-to-learn", "collaborative-improvement"):
        assert (out / "themes" / theme / "index.html").exists()
        assert feedparser.parse((out / "themes" / theme / "feed.xml").read_text()).entries
    html = "".join((p / "index.html").read_text() for p in posts)
    assert "<table>" in html and 'class="highlight"' in html and "<img alt=" in html
    assert (out / "about/index.html").exists()
    assert (out / "404.html").exists()
    feed = feedparser.parse((out / "feed.xml").read_text())
    assert not feed.bozo and len(feed.entries) >= 12


def test_example_site_is_reproducible(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    build(REPO, Options(output=one, now=NOW))
    build(REPO, Options(output=two, now=NOW))
    # Pagefind's bundle is left out: it writes its filter map in hash-map order, so the filter
    # file's name and bytes (and the two files naming it) change from run to run even over one
    # unchanged folder. Everything qsite itself writes must be byte-identical.
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file() and "pagefind" not in p.parts)
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file() and "pagefind" not in p.parts)
    for rel in files:
        assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
    # Its pages, their text and filters, the index chunks and the engine are the same, though.
    assert comparable(one) == comparable(two)
    shutil.rmtree(one)
