"""What a build holds in memory while it renders (issue 10: peak memory at 20,000 posts).

A build's peak is its parent process or one of the render step's forked workers, which count
every page of the parent they share: whatever the parent still holds when the render step
forks is paid for twice. ``python -m bench.memory`` measures it step by step; these tests pin
the changes that made it smaller, each with the build's output unchanged.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest

from qsite import build as pipeline
from qsite.build import Options, build
from qsite.incremental.cache import Cache
from qsite.incremental.engine import Engine
from qsite.model import Meta

from conftest import NOW, TINY_BASE, post, tree, write_files


def _site(root: Path, count: int = 6) -> None:
    posts = {f"content/posts/p{i}.md": post(f"P{i}", f"2021-01-{1 + i:02}", body=f"Body {i}.") for i in range(count)}
    write_files(root, {**TINY_BASE, **posts})


def _twelve_posts_in_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Engine]:
    """A 12-post site whose render step goes to worker processes (with ``jobs`` > 1) however
    small, and its engine on disk."""
    monkeypatch.setattr(pipeline.parallel, "MIN_PARALLEL", 1)
    root = tmp_path / "site"
    _site(root, 12)
    return root, Engine.on_disk(root)


def test_the_content_steps_cache_is_on_disk_and_out_of_memory_before_rendering(tmp_path, monkeypatch) -> None:
    # Parsed files (each with its whole text), validated front matter and rendered Markdown
    # were held by the cache until the build's end: the render step's workers inherited them
    root = tmp_path / "site"
    _site(root)
    engine = Engine.on_disk(root)
    seen: dict[str, Any] = {}
    real_render = pipeline.render

    def render(*args: Any, **kwargs: Any) -> int:
        stores = (engine.cache.docs, engine.cache.validated, engine.cache.checks, engine.cache.markdown)
        seen["held"] = sum(len(s.objects) + sum(len(shard) for shard in s.shards) for s in stores)
        seen["texts"] = [meta.body for meta in gc.get_objects() if isinstance(meta, Meta)]
        seen["on disk"] = sorted(p.name.split("-")[0] for p in (root / ".qsite-cache").glob("*-*.json"))
        return real_render(*args, **kwargs)

    monkeypatch.setattr(pipeline, "render", render)
    build(root, Options(now=NOW, search=False), engine)
    assert seen["held"] == 0
    assert len(seen["texts"]) >= 6 and set(seen["texts"]) == {""}  # every file's Markdown text let go
    assert {"sources", "metas", "markdown"} <= set(seen["on disk"])
    # … and the next build finds all of it there
    reopened = Cache.open(root)
    for shard in sorted(reopened.docs.unread):  # the parsed files' store is read shard by shard, when asked
        reopened.docs._read(shard)
    assert sum(len(shard) for shard in reopened.docs.shards) == len(list((root / "content").rglob("*.md")))
    cold = tree(root / "output")
    engine = Engine.on_disk(root)
    build(root, Options(now=NOW, search=False), engine)
    assert tree(root / "output") == cold
    assert engine.last_run is not None and engine.last_run.keyed == 0


def test_an_in_memory_engine_keeps_its_cache(tmp_path) -> None:
    # qsite serve's engine has no other copy: nothing is let go
    root = tmp_path / "site"
    _site(root)
    engine = Engine.in_memory()
    config = pipeline.configure(root)
    pipeline.render_site(config, Options(now=NOW, search=False), engine)
    held = len(engine.cache.docs.objects)
    engine.content_read()
    assert held > 0 and len(engine.cache.docs.objects) == held


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_cold_builds_page_record_keeps_trails_not_the_files_each_page_held(tmp_path, monkeypatch, jobs) -> None:
    # A cold build keys its pages in the render workers, and each key came back with the set
    # of content files its page held: new texts in every page's pickle, held until the
    # render step ended (~80 MiB at 20,000 posts). Each is now made into its trail (numbers)
    # as it arrives; the record is the one the next build needs (test_cache_keys.py).
    root, engine = _twelve_posts_in_workers(tmp_path, monkeypatch)
    build(root, Options(now=NOW, search=False, jobs=jobs), engine)
    run = engine.last_run
    assert run is not None and run.traces is not None and run.record is not None
    assert all(isinstance(trace, tuple) and all(isinstance(part, str) for part in trace) for trace in run.traces)
    assert run.record.trails == [trace[1] for trace in run.traces if trace is not None]
    numbered = {n for trail in run.record.trails for n in trail.split(",") if n}
    assert {run.record.sources[int(n)] for n in numbered} >= {f"content/posts/p{i}.md" for i in range(12)}


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_pages_jobs_and_contexts_are_let_go_before_the_build_finishes(tmp_path, monkeypatch, jobs) -> None:
    # Engine.finish and Engine.record (the cache and the no-change record written) are the
    # parent's largest moment at 20,000 posts; the jobs, with every page's context, were
    # still held then (by build() and by the engine's record of the render step)
    import gc

    from qsite.render import Job, Renderer

    root, engine = _twelve_posts_in_workers(tmp_path, monkeypatch)
    alive: dict[str, int] = {}
    real_finish = Engine.finish

    def finish(self: Engine, *args: Any, **kwargs: Any) -> None:
        objects = gc.get_objects()
        alive["jobs"] = sum(isinstance(o, Job) for o in objects)
        alive["renderers"] = sum(isinstance(o, Renderer) for o in objects)
        real_finish(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "finish", finish)
    result = build(root, Options(now=NOW, search=False, jobs=jobs), engine)
    assert alive == {"jobs": 0, "renderers": 0}
    run = engine.last_run
    assert run is not None and result.pages > 12 and len(run.jobs) == run.keyed == result.pages
    # the next build keys no page again: the record the engine took is whole
    cold = tree(root / "output")
    engine = Engine.on_disk(root)
    build(root, Options(now=NOW, search=False, jobs=jobs), engine)
    assert tree(root / "output") == cold
    assert engine.last_run is not None and engine.last_run.keyed == 0


def test_a_jobs_output_file_is_made_once_and_shared_by_the_records_keeping_it(tmp_path) -> None:
    # the stage's, the engine's and the search digests' records each kept a text of their own
    # for every page's file (Job.file was made again at each use: ~8 a page)
    from qsite.render import Job

    job = Job("post.html", "posts/a/", {})
    assert job.file == "posts/a/index.html" and job.file is job.file
    root = tmp_path / "site"
    _site(root)
    engine = Engine.on_disk(root)
    build(root, Options(now=NOW, search=False, jobs=1), engine)
    tokens = engine.cache.pages
    record = engine.last_run.record if engine.last_run is not None else None
    assert record is not None and len(record.files) > 6
    assert all(any(f is t for t in tokens) for f in record.files)  # one text, kept by both


_LOOKUPS = ("_doc_keys", "_markdown_keys", "_doc_key_memo", "_meta_keys", "_body_keys", "_derived_now")


def test_an_on_disk_engine_lets_go_of_its_lookups_once_the_model_is_made(tmp_path, monkeypatch) -> None:
    # Each document's, meta's and body's key by id, and the memo of derived keys, served only
    # the content step and make_site, yet were held to the build's end and inherited by every
    # render worker (~40 MiB at 20,000 posts)
    root = tmp_path / "site"
    _site(root)
    engine = Engine.on_disk(root)
    held: dict[str, int] = {}
    real_render = pipeline.render

    def render(*args: Any, **kwargs: Any) -> int:
        held.update({name: len(getattr(engine, name)) for name in _LOOKUPS})
        held["metas"] = len(engine.cache.metas)
        return real_render(*args, **kwargs)

    monkeypatch.setattr(pipeline, "render", render)
    result = build(root, Options(now=NOW, search=False), engine)
    assert held == dict.fromkeys([*_LOOKUPS, "metas"], 0)
    # a post is seeded with the one-file tag set its body has, not an equal set of its own
    assert result.site is not None and len(result.site.posts) == 6
    for made in result.site.posts:
        tags = engine.fingerprints.tags(made)
        assert tags == {made.source} and tags is engine.fingerprints.tags(made.body)
    # what follows still finds all it needs: an edit renders as a cold build of the edited site does
    monkeypatch.setattr(pipeline, "render", real_render)
    (root / "content/posts/p3.md").write_text(post("P3", "2021-01-04", body="Edited."), encoding="utf-8")
    engine = Engine.on_disk(root)
    build(root, Options(now=NOW, search=False), engine)
    assert engine.last_run is not None and 0 < len(engine.last_run.todo) < result.pages
    fresh = tmp_path / "fresh"
    _site(fresh)
    (fresh / "content/posts/p3.md").write_text(post("P3", "2021-01-04", body="Edited."), encoding="utf-8")
    build(fresh, Options(now=NOW, search=False))
    assert tree(root / "output") == tree(fresh / "output")


def test_qsite_serves_engine_keeps_its_lookups_for_the_next_rebuild(tmp_path) -> None:
    # in memory (qsite serve) the lookups are what makes the next rebuild cheap: kept
    root = tmp_path / "site"
    _site(root)
    engine = Engine.in_memory()
    pipeline.render_site(pipeline.configure(root), Options(now=NOW, search=False), engine)
    assert all(len(getattr(engine, name)) > 0 for name in ("_meta_keys", "_body_keys", "_derived_now"))
    assert len(engine.cache.metas) >= 6


def test_the_search_manifest_is_saved_without_its_whole_text_in_memory(tmp_path) -> None:
    # 5.7 MB of JSON at 20,000 posts, made whole (text, then its bytes) when the build was
    # at its largest (Engine.finish): now written a few hundred entries at a time
    import json
    import tracemalloc

    from qsite.search import Indexed

    root = tmp_path / "site"
    _site(root)
    engine = Engine.on_disk(root)
    engine.cache = Cache.open(root)
    pages = {f"posts/post-{n:05d}/index.html": [f"{n:064x}", [n, n * 7, 1_700_000_000 + n]] for n in range(20_000)}
    manifest = {"format": 3, "engine": "e", "out": str(root / "output"), "pages": pages, "shards": {"a": {"inputs": "x"}}}
    text = json.dumps(manifest, separators=(",", ":"))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        engine._save_manifest(Indexed(len(pages), 0.0, ("a",), ("a",), manifest))
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    saved = (root / ".qsite-cache" / "search-index.json").read_text(encoding="utf-8")
    assert saved == text and json.loads(saved) == manifest  # the same file, byte for byte
    assert peak < len(text) / 4, (peak, len(text))  # the old way: twice the text at least


@pytest.mark.parametrize("entries", [0, 1, 511, 512, 513, 1024, 1025, 3000])
def test_write_pieces_writes_what_one_json_dumps_would(entries) -> None:
    import io
    import json

    from qsite.incremental.cachefiles import write_pieces

    value = {
        "format": 3, "out": "/site/output ü", "pages": {f"p{n}/index.html": [f"{n:x}", [n, 2, 3]] for n in range(entries)},
        "shards": {"a": {"files": {str(n): [n] for n in range(entries)}}}, "none": None, "empty": {},
    }
    f = io.StringIO()
    write_pieces(f, value)
    assert f.getvalue() == json.dumps(value, ensure_ascii=False, separators=(",", ":"))
