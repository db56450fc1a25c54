"""The load side of a rebuild costs what changed (issue 10): one stat per source file, each
file's body checks kept while the file is unchanged, and ``qsite serve`` keeping the posts it
made. Every reuse is checked the same way: the warm result equals a cold one."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

import qsite.build as pipeline
from qsite import markup
from qsite.build import Options, build, configure, render_site
from qsite.incremental import cache as cache_module
from qsite.incremental import cachefiles
from qsite.incremental.engine import Engine

from conftest import NOW, SITE_YAML, TINY, post, tree, write_files

CALLOUT = "Text.\n\n!!! waring\n    Mind the gap.\n"
CONTROL = "A line with a \x0b vertical tab.\n"


def touch(path: Path, text: str) -> None:
    """Write ``text`` with an mtime a second later, so even a coarse clock sees the edit."""
    old = path.stat().st_mtime_ns
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(old + 10**9,) * 2)


def trust_recent_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stat is trusted however recent the file (as on a clock finer than any edit)."""
    monkeypatch.setattr(cache_module, "RACY_NS", -10**12)
    monkeypatch.setattr(cachefiles, "RACY_NS", -10**12)


def site(root: Path, **files: str) -> Path:
    write_files(root, {
        "site.yaml": SITE_YAML, **TINY,
        "content/posts/a.md": post("A", "2021-06-01", body=CALLOUT),
        "content/posts/b.md": post("B", "2021-06-02", body=CONTROL),
        "content/posts/c.md": post("C", "2021-06-03"),
        **files,
    })
    return root


def warnings(result: pipeline.BuildResult) -> list[tuple[str, int | None, str]]:
    return [(w.path, w.line, w.message) for w in result.warnings]


@pytest.fixture
def scanned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bodies the build scanned for callouts (the real ``unknown_callouts``, counted)."""
    seen: list[str] = []
    real = markup.unknown_callouts

    def unknown_callouts(text: str) -> list[tuple[int, str, str | None]]:
        seen.append(text)
        return real(text)

    monkeypatch.setattr(markup, "unknown_callouts", unknown_callouts)
    return seen


def test_a_rebuild_checks_only_the_edited_files_body_and_warns_as_a_cold_build(
    tmp_path: Path, scanned: list[str]
) -> None:
    root = site(tmp_path / "site")
    options = Options(now=NOW, search=False)
    first = build(root, options)
    assert len(scanned) == 3
    scanned.clear()
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Edited."))
    warm = build(root, options)
    assert scanned == ["Edited.\n"]  # a and b: their warnings come from .qsite-cache/
    cold = build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    assert warnings(warm) == warnings(cold) == warnings(first)
    assert {w[0] for w in warnings(warm)} == {"content/posts/a.md", "content/posts/b.md"}

    touch(root / "content/posts/a.md", post("A", "2021-06-01", body="Fixed.\n\n!!! warning\n    Mind it.\n"))
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body=CONTROL))
    warm = build(root, options)
    cold = build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    assert warnings(warm) == warnings(cold)
    assert {w[0] for w in warnings(warm)} == {"content/posts/b.md", "content/posts/c.md"}
    assert tree(root / "output") == tree(tmp_path / "cold")


def test_an_engine_used_for_a_second_build_stats_the_sources_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Engine.on_disk stats every source for the no-change record, and the parse cache trusts
    # that stat: on a second build with the same engine it is stale and must not be used.
    trust_recent_stats(monkeypatch)  # else the edit, being recent, is hashed whatever its stat
    root = site(tmp_path / "site")
    options = Options(now=NOW, search=False)
    engine = Engine.on_disk(root)
    build(root, options, engine)
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Second text."))
    build(root, options, engine)
    assert "Second text." in (root / "output/posts/c/index.html").read_text()
    cold = build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    assert tree(root / "output") == tree(tmp_path / "cold")
    assert cold.post_count == 3


def test_a_file_edited_after_the_sources_were_stated_is_built_next_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trust_recent_stats(monkeypatch)
    root = site(tmp_path / "site")
    options = Options(now=NOW, search=False)
    build(root, options)
    engine = Engine.on_disk(root)  # the sources' stat: before the edit
    touch(root / "content/posts/c.md", post("C", "2021-06-03", body="Late edit."))
    build(root, options, engine)
    again = build(root, options)  # the record holds c's old stat: not "unchanged"
    assert "Late edit." in (root / "output/posts/c/index.html").read_text()
    build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    assert tree(root / "output") == tree(tmp_path / "cold")
    assert not again.quick


SERVED = Options(now=NOW, drafts=True, future=True, serve=True, search=False)
POST_PAGE = {"templates/post.html": "post|{{ post.title }}|{{ post.future }}|{{ post.authors | join(',') }}|{{ post.summary }}|\n"}


@pytest.fixture
def made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The posts the pipeline made (the real ``make_post``, counted)."""
    seen: list[str] = []
    real = pipeline.make_post

    def make_post(meta, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(meta.source)
        return real(meta, *args, **kwargs)

    monkeypatch.setattr(pipeline, "make_post", make_post)
    return seen


def served(root: Path, engine: Engine, options: Options = SERVED) -> dict[str, bytes]:
    result = render_site(configure(root, options), options, engine)
    return {o.path: o.data for o in result.outputs}


def cold_served(root: Path, options: Options = SERVED) -> dict[str, bytes]:
    return served(root, Engine.throwaway(), options)


def test_serve_makes_again_only_the_posts_an_edit_changed(tmp_path: Path, made: list[str]) -> None:
    root = site(tmp_path / "site", **POST_PAGE)
    engine = Engine.in_memory()
    served(root, engine)
    assert len(made) == 3
    made.clear()
    touch(root / "content/posts/b.md", post("B, retitled", "2021-06-02", body=CONTROL, summary="New summary."))
    warm = served(root, engine)
    assert made == ["content/posts/b.md"]
    assert b"post|B, retitled|False||New summary.|" in warm["posts/b/index.html"]
    assert warm == cold_served(root)


def test_serve_remakes_a_post_whose_date_is_reached_or_whose_byline_profile_changed(tmp_path: Path) -> None:
    root = site(
        tmp_path / "site", **POST_PAGE,
        **{"content/posts/d.md": post("D", "2021-12-02", authors="[ann]"),
           "content/authors/ann.md": "---\nname: Ann Lee\n---\nAnn's bio.\n"},
    )
    engine = Engine.in_memory()
    assert b"post|D|True|Ann Lee|" in served(root, engine)["posts/d/index.html"]
    later = Options(now=NOW + timedelta(days=2), drafts=True, future=True, serve=True, search=False)
    warm = served(root, engine, later)  # no file changed: "now" passed the post's date
    assert b"post|D|False|Ann Lee|" in warm["posts/d/index.html"]
    assert warm == cold_served(root, later)
    touch(root / "content/authors/ann.md", "---\nname: Ann Leigh\n---\nAnn's bio.\n")
    warm = served(root, engine, later)
    assert b"post|D|False|Ann Leigh|" in warm["posts/d/index.html"]
    assert warm == cold_served(root, later)


@pytest.fixture
def hashed_bodies(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The bodies whose Markdown key was computed (hashing the whole text), counted."""
    seen: list[str] = []
    real = cache_module.Cache.markdown_key

    def markdown_key(body: str, base_path: str) -> str:
        seen.append(body)
        return real(body, base_path)

    monkeypatch.setattr(cache_module.Cache, "markdown_key", staticmethod(markdown_key))
    return seen


def test_a_rebuild_hashes_only_the_edited_files_body_to_find_its_html(
    tmp_path: Path, hashed_bodies: list[str]
) -> None:
    root = site(tmp_path / "site")
    options = Options(now=NOW, search=False)
    build(root, options)
    hashed_bodies.clear()
    touch(root / "content/posts/c.md", post("C, retitled", "2021-06-03"))  # front matter only
    build(root, options)
    assert hashed_bodies == ["Body text.\n"]  # c's: its rendered HTML is found, not rendered again
    touch(root / "site.yaml", SITE_YAML.replace("base_url: https://example.org/", "base_url: https://example.org/blog/"))
    build(root, options)
    build(root, Options(now=NOW, search=False, cache=False, output=tmp_path / "cold"))
    assert tree(root / "output") == tree(tmp_path / "cold")
    assert "/blog/posts/" in (root / "output/posts/c/index.html").read_text()


def test_serve_after_a_rename_a_deletion_and_a_site_yaml_change_renders_as_cold(tmp_path: Path) -> None:
    root = site(tmp_path / "site", **POST_PAGE)
    engine = Engine.in_memory()
    served(root, engine)
    (root / "content/posts/a.md").rename(root / "content/posts/a-renamed.md")
    warm = served(root, engine)
    assert "posts/a-renamed/index.html" in warm and "posts/a/index.html" not in warm
    assert warm == cold_served(root)
    (root / "content/posts/b.md").unlink()
    warm = served(root, engine)
    assert "posts/b/index.html" not in warm
    assert warm == cold_served(root)
    touch(root / "site.yaml", SITE_YAML.replace("title: Test Site", "title: Renamed Site")
          .replace("base_url: https://example.org/", "base_url: https://example.org/sub/"))
    warm = served(root, engine)
    assert warm == cold_served(root)
    assert b"/sub/posts/c/|C|" in warm["index.html"]  # every post made again for the new base path


def test_a_seeded_value_stands_for_its_key_in_every_fingerprint() -> None:
    """A seed's key (a hash already) is used as the value's digest, not hashed again: two
    builds seeding equal keys give equal fingerprints, different keys different ones, and a
    key that is not 64 hex digits (or has spaces ``bytes.fromhex`` would skip) is hashed."""
    from qsite.incremental.cache import Fingerprints

    def fingerprint(key: str) -> bytes:
        fps = Fingerprints()
        value = markup.Rendered("<p>x</p>", "", False, 1, ())
        fps.seed(value, key)
        return fps.of({"body": value})

    key = "ab" * 32
    assert fingerprint(key) == fingerprint(key)
    others = {fingerprint(k) for k in ("cd" * 32, "ab" * 31 + "a b", "not a hash", "AB" * 32)}
    assert len(others) == 4 and fingerprint(key) not in others
