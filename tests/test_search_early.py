"""The index step begun while the site renders (qsite/search.py, ``Early``): a posts shard
whose pages are all rendered starts its Pagefind run while the rest of the site still renders.
It must give the very index a build gives without it, and a wrong guess of a shard's pages, or
a build that fails meanwhile, must change nothing."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from qsite import build as pipeline
from qsite import search, write

from conftest import BASE, post
from search_index import comparable, urls_by_shard

SITE = {
    **BASE,
    "content/posts/old.md": post("Old", "2019-05-01", body="An old post."),
    "content/posts/a.md": post("A", "2020-04-09", body="Huddles on the ward."),
    "content/posts/b.md": post("B", "2020-06-10", body="Learning logs."),
    "content/posts/new.md": post("New", "2021-02-01", body="Tablets at a hostel."),
    "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
}
SHARDS = {
    "pages": {"/about/"},
    "posts-2019": {"/posts/old/"},
    "posts-2020": {"/posts/a/", "/posts/b/"},
    "posts-2021": {"/posts/new/"},
}


class Runs(list[str]):
    """The shard of each Pagefind run, as it starts; ``started`` is set by the first."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> Runs:
    seen = Runs()
    real = search._run_pagefind

    def run(binary: Path, site: Path, bundle: Path) -> int:
        seen.append(bundle.name.removesuffix(".bundle"))
        seen.started.set()
        return real(binary, site, bundle)

    monkeypatch.setattr(search, "_run_pagefind", run)
    return seen


def without_early(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "index_early", lambda *args: contextlib.nullcontext())


def test_a_posts_shard_is_indexed_while_the_rest_of_the_site_still_renders(
    build_site, runs: Runs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The About page renders after every post (qsite/plan.py): by then the posts shards'
    Pagefind runs have begun. Its render waits for the first to start (at most 20 s)."""
    began_before_about: list[bool] = []
    real_take = pipeline.StageSink.take

    def take(sink: pipeline.StageSink, index: int, job: pipeline.Job, written: object) -> object:
        if job.file == "about/index.html":
            began_before_about.append(runs.started.wait(timeout=20))
        return real_take(sink, index, job, written)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline.StageSink, "take", take)
    site = build_site(SITE, cache=False)
    assert began_before_about == [True]
    assert urls_by_shard(site.out) == SHARDS
    assert sorted(runs) == sorted(SHARDS)  # each shard indexed once: the early runs were taken
    without_early(monkeypatch)
    alone = tmp_path / "without-early"
    build_site({}, output=alone, cache=False)
    assert comparable(site.out) == comparable(alone)


def test_the_first_posts_shard_run_early_is_taken_as_the_primary_one(
    build_site, runs: Runs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without a ``pages`` shard the first posts shard is the primary one, whose bundle keeps
    Pagefind's scripts: the early run (which could not know) gave the same files."""
    only_posts = {k: v for k, v in SITE.items() if not k.startswith("content/pages/")}
    site = build_site(only_posts, cache=False)
    assert sorted(runs) == ["posts-2019", "posts-2020", "posts-2021"]  # none run twice
    assert (site.out / "pagefind" / "posts-2019" / "pagefind.js").is_file()
    without_early(monkeypatch)
    alone = tmp_path / "without-early"
    build_site({}, output=alone, cache=False)
    assert comparable(site.out) == comparable(alone)


def test_a_post_page_that_is_not_indexed_leaves_its_shard_to_the_index_step(
    build_site, runs: Runs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The shards are guessed from the posts before any page renders; a post template that
    leaves one post out of the index (no ``data-pagefind-body``) changes its year's shards."""
    monkeypatch.setattr(search, "SHARD_PAGES", 1)  # 2020's two posts: two shards, or one if B is out
    site = build_site(SITE, cache=False)
    assert "posts-2020" not in urls_by_shard(site.out)  # split by a hash of each page
    runs.clear()
    template = (site.root / "templates" / "post.html").read_text()
    assert template.count("data-pagefind-body") == 1
    template = template.replace("data-pagefind-body", "{% if post.title != 'B' %}data-pagefind-body{% endif %}")
    site = build_site({"templates/post.html": template}, output=tmp_path / "b-out", cache=False)
    shards = urls_by_shard(site.out)
    assert shards["posts-2020"] == {"/posts/a/"} and "posts-2020-1-of-2" not in shards
    assert runs.count("posts-2020") == 1
    without_early(monkeypatch)
    alone = tmp_path / "without-early"
    build_site({}, output=alone, cache=False)
    assert comparable(site.out) == comparable(alone)


def test_a_build_that_fails_after_a_shard_began_waits_for_its_run_and_leaves_the_last_output(
    build_site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker's failed write abandons the stage at once (``Stage.failed``): a Pagefind run
    still writing into it must be waited for first. The run here ends when the stage is gone
    or after 2 s, whichever is first; it must end first."""
    site = build_site(SITE)
    before = sorted(p.relative_to(site.out).as_posix() for p in site.out.rglob("*"))
    events: list[str] = []
    removed = threading.Event()
    real_remove, real_run, real_take = write._remove_tree, search._run_pagefind, pipeline.StageSink.take

    def remove_tree(path: Path) -> None:
        events.append("stage removed")
        removed.set()
        real_remove(path)

    def run(binary: Path, site_folder: Path, bundle: Path) -> int:
        events.append("run began")
        removed.wait(timeout=2)
        try:
            return real_run(binary, site_folder, bundle)
        finally:
            events.append("run ended")

    def take(sink: pipeline.StageSink, index: int, job: pipeline.Job, written: object) -> object:
        taken = real_take(sink, index, job, written)  # type: ignore[arg-type]
        if job.file == "posts/old/index.html":  # the last page of its shard: its run begins
            return real_take(sink, index, job, OSError(28, "No space left on device"))  # a worker's failed write
        return taken

    monkeypatch.setattr(write, "_remove_tree", remove_tree)
    monkeypatch.setattr(search, "_run_pagefind", run)
    monkeypatch.setattr(pipeline.StageSink, "take", take)
    failed = build_site({"content/posts/old.md": post("Old", "2019-05-01", body="An older post.")},
                        expect_ok=False)
    assert failed.result is None and "No space left" in str(failed.problems)
    assert events[:3] == ["run began", "run ended", "stage removed"]
    assert sorted(p.relative_to(site.out).as_posix() for p in site.out.rglob("*")) == before
    assert "An older post" not in (site.out / "posts" / "old" / "index.html").read_text()
    assert not [p.name for p in site.root.iterdir() if ".staging-" in p.name]
