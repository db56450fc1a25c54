"""One pipeline, one render path (qsite/build.py), freshness behind one engine (qsite/incremental/engine.py).

``build`` writes to the staging tree and ``render_site`` (check, serve, digest --print) to
memory, through the same steps: they must make the same files, report template errors the
same way, and an engine kept in memory must re-render only what an edit changed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qsite.build import Options, build, configure, render_site
from qsite.check import check_site
from qsite.incremental.engine import Engine
from qsite.problems import ContentError
from qsite.write import MARKER

from conftest import NOW, SITE_YAML, copy_templates, post, tree, write_files

# A post page that prints exactly what the tests look at.
POST_TEMPLATE = "{{ post.title }}|{{ post.html | safe }}|{{ path }}\n"


def make(tmp_path: Path, post_template: str = POST_TEMPLATE) -> Path:
    root = tmp_path / "site"
    write_files(root, {
        "site.yaml": SITE_YAML,
        "content/posts/a.md": post("Huddles", "2020-04-01", body="First text."),
        "content/posts/b.md": post("Night shifts", "2020-05-01", body="Other text."),
    })
    copy_templates(root)
    (root / "templates/post.html").write_text(post_template, encoding="utf-8")
    return root


OPTIONS = Options(now=NOW, search=False, cache=False)


def test_build_and_render_site_make_the_same_files(tmp_path: Path) -> None:
    root = make(tmp_path)
    out = tmp_path / "out"
    options = Options(now=NOW, search=False, cache=False, output=out)
    build(root, options)
    in_memory = render_site(configure(root, options), options)
    on_disk = {rel: data for rel, data in tree(out).items() if rel != MARKER}
    assert {o.path: o.data for o in in_memory.outputs} == on_disk
    assert on_disk["posts/a/index.html"].startswith(b"Huddles|<p>First text.</p>|posts/a/")


def test_a_broken_template_is_reported_once_by_build_and_by_check(tmp_path: Path) -> None:
    # The error names the page, so each page's problem differs: still one report per template.
    root = make(tmp_path, "{{ {}[path] }}")
    with pytest.raises(ContentError) as built:
        build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "out"))
    report = check_site(root, OPTIONS)
    for problems in (list(built.value.problems), report.errors):
        assert len(problems) == 1, problems
        assert problems[0].path == "templates/post.html" and "has no attribute" in problems[0].message


def test_an_engine_kept_in_memory_renders_only_what_an_edit_changed(tmp_path: Path) -> None:
    root = make(tmp_path)
    config = configure(root, OPTIONS)
    engine = Engine.in_memory()
    first = render_site(config, OPTIONS, engine)
    assert first.cache_hits == 0
    again = render_site(config, OPTIONS, engine)
    assert again.cache_hits == again.pages  # nothing changed: every page kept

    source = root / "content/posts/a.md"
    source.write_text(post("Huddles", "2020-04-01", body="Second text."), encoding="utf-8")
    os.utime(source, ns=(source.stat().st_mtime_ns + 10**9,) * 2)  # a new stamp even on a coarse clock
    edited = render_site(config, OPTIONS, engine)
    assert 0 < edited.cache_hits < edited.pages
    pages = {o.path: o.data for o in edited.outputs}
    assert pages["posts/a/index.html"].startswith(b"Huddles|<p>Second text.</p>|")
    assert pages == {o.path: o.data for o in render_site(config, OPTIONS).outputs}  # as a cold render


def test_a_build_reuses_its_pages_from_the_cache_on_disk(tmp_path: Path) -> None:
    root = make(tmp_path)
    options = Options(now=NOW, search=False, output=tmp_path / "out")
    cold = build(root, options)
    warm = build(root, options)
    assert cold.cache_hits == 0 and warm.cache_hits == warm.pages == cold.pages
    assert not warm.quick  # the full pipeline ran (quick is off), and reused every page
