"""Page keys only for the pages whose inputs changed (issue 10, bench/PROFILE.md §6 item 2).

After an edit that changes only some posts' bodies, the engine computes the keys of the pages
whose context held those posts and reuses every other page's recorded key
(``Engine.pages``). Each test here makes one kind of edit to a site built with the production
templates (which show related posts, neighbours, comments, the digest, series and takeaways),
rebuilds it warm and cold, and compares them file for file: an input the engine's record
missed shows as a page kept stale. The first tests check that the shortcut is really taken.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from qsite.build import Options, build
from qsite.grouping import group
from qsite.incremental.cache import Cache, Fingerprints, decode_plan, encode_plan
from qsite.incremental.cachefiles import Unreadable
from qsite.incremental.engine import Engine
from qsite.markup import Rendered

from conftest import NOW, SITE_YAML, copy_templates, edition_file, post, tree, write_files

# Two posts a page, so lists have several pages and a date can move a post across them.
YAML = SITE_YAML.replace("posts_per_page: 10", "posts_per_page: 2")
DAYS = [f"2021-0{1 + n % 9}-1{n % 10}" for n in range(10)]


def start_site(root: Path) -> None:
    files: dict[str, str | bytes] = {"site.yaml": YAML}
    for n, day in enumerate(DAYS):
        themes = "[staff-wellbeing]" if n % 2 else "[staff-wellbeing, space-to-learn]"
        tags = "[huddles, run charts]" if n % 3 == 0 else "[huddles]"
        extra = {"takeaways": f"[Lesson {n}]"} if n % 4 == 0 else {}
        # no summary: lists, feeds and related cards show the first paragraph of the body
        files[f"content/posts/p{n}.md"] = post(f"Post {n}", day, themes, f"Opening paragraph {n}.\n\nMore {n}.",
                                               tags=tags, **extra)
    files["content/posts/soon.md"] = post("Soon", "2021-12-03", "[space-to-learn]", "Soon body.", takeaways="[Due]")
    files["content/comments/p3/c0.md"] = "---\nauthor: Sam\ndate: 2023-04-02\n---\nThanks.\n"
    files["content/digests/2021-05.md"] = edition_file("p4", body="Our May intro.")
    files["content/pages/about.md"] = "---\ntitle: About\n---\nAbout us.\n"
    write_files(root, files)
    copy_templates(root)


def warm_and_cold(root: Path, tmp_path: Path, now: object = NOW) -> Engine:
    """Build warm (cache and last output) and cold; both must be equal. Returns the warm engine."""
    engine = Engine.on_disk(root)
    build(root, Options(now=now, output=tmp_path / "warm", search=False), engine)
    build(root, Options(now=now, output=tmp_path / "cold", search=False, cache=False))
    assert tree(tmp_path / "warm") == tree(tmp_path / "cold")
    return engine


def rewrite(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text()
    assert old in text, (rel, old)
    path.write_text(text.replace(old, new, 1))


@pytest.fixture
def site(tmp_path: Path) -> Path:
    root = tmp_path / "site"
    start_site(root)
    warm_and_cold(root, tmp_path)
    return root


def test_a_body_edit_keys_only_the_pages_that_show_the_post(site: Path, tmp_path: Path) -> None:
    rewrite(site, "content/posts/p4.md", "Opening paragraph 4.", "A new opening for four.")
    engine = warm_and_cold(site, tmp_path)
    assert "A new opening for four." in (tmp_path / "warm/feed.xml").read_text()  # on a list, via the summary
    run = engine.last_run
    assert run is not None and run.record is not None
    assert 0 < run.keyed < len(run.jobs) // 3, (run.keyed, len(run.jobs))
    assert run.carried  # decided in bulk: the same jobs as last time, file for file
    # an unchanged rebuild (no quick shortcut) keys nothing at all
    engine = Engine.on_disk(site)
    build(site, Options(now=NOW, output=tmp_path / "warm", search=False), engine)
    assert engine.last_run is not None and engine.last_run.keyed == 0 and engine.last_run.carried


def test_a_new_page_is_decided_page_by_page(site: Path, tmp_path: Path) -> None:
    """Jobs that are not the last build's, file for file, are not carried over in bulk."""
    write_files(site, {"content/pages/more.md": "---\ntitle: More\n---\nMore.\n"})
    engine = warm_and_cold(site, tmp_path)
    assert engine.last_run is not None and not engine.last_run.carried


def test_the_record_survives_the_cache_files(site: Path, tmp_path: Path) -> None:
    """plan.json is read back as it was written, and a damaged one is only a slower build."""
    cache = Cache.open(site)
    assert cache.plan is not None and len(cache.plan.files) > 20
    assert "content/posts/p4.md" in cache.plan.sources and any(cache.plan.trails)
    (site / ".qsite-cache/plan.json").write_text('{"format": 1, "data": {"files": ["x"], "prefix_of": [99]}}')
    rewrite(site, "content/posts/p4.md", "Opening paragraph 4.", "Damaged record, four.")
    engine = warm_and_cold(site, tmp_path)
    assert engine.last_run is not None and engine.last_run.keyed == len(engine.last_run.jobs)


def _edit_title(root: Path) -> None:  # shown on lists, feeds, neighbours' links and related cards
    rewrite(root, "content/posts/p5.md", "title: Post 5", "title: Renamed five")


def _edit_body_in_digest(root: Path) -> None:  # p4 is the May pick: its summary is in the emails
    rewrite(root, "content/posts/p4.md", "Opening paragraph 4.", "Picked, and rewritten.")


def _edit_body_related(root: Path) -> None:  # p6's card is on its related posts' pages
    rewrite(root, "content/posts/p6.md", "Opening paragraph 6.", "Related, and rewritten.")


def _updated(root: Path) -> None:  # copied by the plan itself into the sitemap and the feeds' dates
    rewrite(root, "content/posts/p2.md", "title: Post 2", "updated: 2021-11-20\ntitle: Post 2")


def _remove_tag(root: Path) -> None:
    rewrite(root, "content/posts/p3.md", "tags: [huddles, run charts]", "tags: [huddles]")


def _move_date(root: Path) -> None:  # from the last page of the lists to the first
    rewrite(root, "content/posts/p0.md", "date: 2021-01-10", "date: 2021-11-30")


def _edition(root: Path) -> None:
    write_files(root, {"content/digests/2021-05.md": edition_file("p4", body="A rewritten intro.")})


def _new_edition(root: Path) -> None:
    write_files(root, {"content/digests/2021-06.md": edition_file("p5", body="June.")})


def _comment(root: Path) -> None:
    write_files(root, {"content/comments/p3/c0.md": "---\nauthor: Sam\ndate: 2023-04-02\n---\nThanks again.\n"})


def _new_comment(root: Path) -> None:
    write_files(root, {"content/comments/p7/c0.md": "---\nauthor: Kim\ndate: 2023-04-03\n---\nFirst!\n"})


def _section(root: Path) -> None:
    rewrite(root, "site.yaml", "description: Looking after the people who care.", "description: Rewritten.")


def _template(root: Path) -> None:
    rewrite(root, "templates/base.html", "{% block main %}", "{% block main %}<!-- edited -->")


def _page(root: Path) -> None:
    rewrite(root, "content/pages/about.md", "About us.", "About us, rewritten.")


EDITS: dict[str, Callable[[Path], None]] = {
    "title": _edit_title, "body in digest": _edit_body_in_digest, "body related": _edit_body_related,
    "updated date": _updated, "tag removed": _remove_tag, "date across pages": _move_date, "edition file": _edition,
    "new edition": _new_edition, "comment": _comment, "new comment": _new_comment,
    "site.yaml section": _section, "template": _template, "page body": _page,
}


@pytest.mark.parametrize("name", list(EDITS))
def test_each_kind_of_edit_then_a_body_edit_gives_the_cold_output(site: Path, tmp_path: Path, name: str) -> None:
    EDITS[name](site)
    warm_and_cold(site, tmp_path)
    # and a body edit right after, keyed from the record this edit's build made
    rewrite(site, "content/posts/p8.md", "Opening paragraph 8.", "Then eight.")
    engine = warm_and_cold(site, tmp_path)
    assert engine.last_run is not None and engine.last_run.keyed < len(engine.last_run.jobs)


def test_the_clock_passing_a_scheduled_post_gives_the_cold_output(site: Path, tmp_path: Path) -> None:
    later = NOW + timedelta(days=3)
    warm_and_cold(site, tmp_path, later)
    assert (tmp_path / "warm/posts/soon/index.html").exists()
    rewrite(site, "content/posts/p8.md", "Opening paragraph 8.", "Then eight.")
    warm_and_cold(site, tmp_path, later)


def test_a_front_matter_edit_changes_the_plan_inputs_though_its_post_stands_for_its_file(
    site: Path, tmp_path: Path
) -> None:
    """A post stands in the plan's inputs for its front matter: the plan copies some of it into
    values of their own (a sitemap entry's date), which no page's tags would name."""

    def site_key() -> bytes:
        engine = Engine.on_disk(site)
        result = build(site, Options(now=NOW, output=tmp_path / "warm", search=False), engine)
        return engine.shapes.of(result.site)

    before = site_key()
    rewrite(site, "content/posts/p2.md", "Opening paragraph 2.", "A body edit only.")
    assert site_key() == before
    rewrite(site, "content/posts/p2.md", "title: Post 2", "updated: 2021-11-20\ntitle: Post 2")
    assert site_key() != before


def test_grouping_reads_no_post_body(site: Path, tmp_path: Path) -> None:
    """The engine compares the site, not the groups, with the last build's (``Engine.planned``):
    groups made from posts whose bodies (and what is made from them) differ must be the same
    values but for the posts themselves."""
    result = build(site, Options(now=NOW, output=tmp_path / "warm", search=False))
    other = Rendered("<p>Other.</p>", "<p>Other.</p>", True, 1, ())
    rebodied = [replace(p, body=other, summary="Other.", summary_html="<p>Other.</p>", toc=()) for p in result.site.posts]
    fingerprints = Fingerprints()
    for a, b in zip(result.site.posts, rebodied, strict=True):
        fingerprints.seed(a, a.source)
        fingerprints.seed(b, b.source)
    again = group(replace(result.site, posts=tuple(rebodied)))
    assert fingerprints.of(again) == fingerprints.of(result.groups)


def test_the_record_decodes_as_encoded_and_refuses_a_forged_one(site: Path) -> None:
    record = Cache.open(site).plan
    assert record is not None
    again = decode_plan(json.loads(json.dumps(encode_plan(record))))
    assert again == record and again.numbers == record.numbers
    forged = encode_plan(record)
    forged["prefix_of"][0] = len(forged["prefixes"])
    with pytest.raises(Unreadable):
        decode_plan(forged)
    forged = encode_plan(record)
    forged["keys"] = forged["keys"][1:]
    with pytest.raises(Unreadable):
        decode_plan(forged)
    forged = encode_plan(record)
    forged["contexts"][0] = "not hex " * 8
    with pytest.raises(Unreadable):
        decode_plan(forged)


def test_a_template_edit_hashes_no_context_again(site: Path, tmp_path: Path) -> None:
    """Pages of an edited template get new keys from their recorded contexts' fingerprints."""
    rewrite(site, "templates/base.html", '<footer class="site-footer">', '<footer class="site-footer"><!-- edited -->')
    engine = warm_and_cold(site, tmp_path)
    assert "<!-- edited -->" in (tmp_path / "warm/index.html").read_text()
    assert engine.last_run is not None and engine.last_run.keyed == 0 and engine.last_run.carried


def test_a_carried_build_keeps_the_pages_in_one_call_and_still_sees_a_hand_edit(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Engine._carried`` asks the stage about every page it may keep at once
    (``Stage.keep_each``: one ``lstat`` a page, not two calls a page), and that still finds a
    hand-edited output file and renders it again."""
    from qsite.write import Stage

    def one_by_one(self: Stage, rel: str, expected: object) -> bool:
        raise AssertionError(f"kept page by page: {rel}")

    monkeypatch.setattr(Stage, "keep", one_by_one)
    page = tmp_path / "warm/posts/p2/index.html"
    good = page.read_bytes()
    page.unlink()
    page.write_bytes(good.replace(b"Post 2", b"Vandalised"))
    rewrite(site, "content/posts/p4.md", "Opening paragraph 4.", "Kept in one call, four.")
    engine = warm_and_cold(site, tmp_path)
    assert engine.last_run is not None and engine.last_run.carried
    assert b"Vandalised" not in page.read_bytes()  # and the warm tree is the cold one (``warm_and_cold``)
    assert 0 < engine.last_run.hits < len(engine.last_run.jobs)


def test_the_trails_holding_a_changed_file_are_found_whole_by_either_search() -> None:
    """``trails_holding`` finds the pages whose trail names a changed file's number, whole (``7``
    is not in ``17`` or ``70``), at the start, middle or end of a trail, in the first or last
    trail: ``str.find`` for a few numbers, one regular expression for many, the same answer."""
    import random

    from qsite.incremental import engine as engine_module

    rng = random.Random(5)
    for _ in range(300):
        trails = [",".join(sorted({str(rng.randrange(120)) for _ in range(rng.randrange(6))})) for _ in range(40)]
        numbers = sorted({str(rng.randrange(120)) for _ in range(rng.choice((1, 2, 3, 12)))})
        want = {i for i, trail in enumerate(trails) if set(trail.split(",")) & set(numbers)}
        assert engine_module.trails_holding(trails, numbers) == want, (trails, numbers)
    assert engine_module.trails_holding(["7", "17,70", "1,7", "7,8"], ["7"]) == {0, 2, 3}


def test_bodies_stand_in_the_plan_inputs_by_a_text_hashed_once(site: Path, tmp_path: Path) -> None:
    """A body's shape (what it stands for in the model key) is a text that
    ``Fingerprints.seed`` hashes, not a derived key hashed first (``_shape_text``); a title
    edit still changes the model key, and a body edit still does not."""
    from qsite.incremental.engine import _shape_text

    assert _shape_text("body of", "a", "b,c") != _shape_text("body of", "a,b", "c")
    engine = warm_and_cold(site, tmp_path)
    assert not any(parts[0] == "body of" for parts in engine._derived_now)
    model = engine.cache.plan.model if engine.cache.plan is not None else None
    rewrite(site, "content/posts/p4.md", "Opening paragraph 4.", "Only the body, four.")
    engine = warm_and_cold(site, tmp_path)
    assert engine.last_run is not None and engine.last_run.carried
    assert engine.cache.plan is not None and engine.cache.plan.model == model
    _edit_title(site)
    engine = warm_and_cold(site, tmp_path)
    assert engine.cache.plan is not None and engine.cache.plan.model != model
