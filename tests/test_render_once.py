"""Each post's card rendered once per build (issue 10, C6): ``once`` in qsite/render.py, used by
the production templates' ``post_list``. The bytes are proved unchanged by ``make proof``; these
tests pin down when a card is reused and that page keys do not notice the reuse."""

from __future__ import annotations

import os
import pickle
from dataclasses import dataclass

from qsite.render import Once

from conftest import SITE_YAML, post


@dataclass(frozen=True)
class Item:
    title: str


def test_once_renders_each_item_and_arguments_once() -> None:
    calls: list[tuple[str, int]] = []

    def card(item: Item, level: int) -> str:
        calls.append((item.title, level))
        return f"<h{level}>{item.title}</h{level}>"

    once = Once()
    a, b = Item("A"), Item("B")
    assert [once(card, a, 2), once(card, a, 2), once(card, a, 3), once(card, b, 2), once(card, a, 2)] == [
        "<h2>A</h2>", "<h2>A</h2>", "<h3>A</h3>", "<h2>B</h2>", "<h2>A</h2>"
    ]
    assert calls == [("A", 2), ("A", 3), ("B", 2)]


def test_once_tells_items_apart_by_identity_not_equality() -> None:
    """Equal-looking items from another model (serve keeps one Renderer per rebuild, but
    nothing should depend on that) are rendered anew."""
    calls: list[Item] = []

    def card(item: Item) -> str:
        calls.append(item)
        return item.title

    once = Once()
    first, same_value = Item("A"), Item("A")
    once(card, first)
    once(card, same_value)
    assert len(calls) == 2 and calls[0] is first and calls[1] is same_value


def test_once_has_one_fingerprint_however_much_it_holds() -> None:
    """Page keys pickle the globals a template uses (qsite/incremental/cache.py, page_prefix): a Once filled
    by rendering must not change the key of the pages that use it."""
    empty, used = Once(), Once()
    used(lambda item: str(item), Item("A"))
    assert pickle.dumps(empty) == pickle.dumps(used)


def test_pages_listing_posts_keep_their_cache_keys_across_builds(build_site) -> None:
    """With the production templates, whose lists go through ``once``: a rebuild after a save
    that changed no byte plans every page again and takes every one from the cache."""
    files = {
        "site.yaml": SITE_YAML,
        "content/posts/a.md": post("A", "2020-04-01", tags="[huddles]"),
        "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]"),
    }
    site = build_site(files)
    home = site.read("index.html")
    assert home.count('class="post-card"') == 2
    saved = site.root / "content/posts/b.md"
    stat = saved.stat()
    os.utime(saved, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = build_site({})
    assert again.result is not None and not again.result.quick
    assert again.result.cache_hits == again.result.pages
    assert site.read("index.html") == home


def test_each_posts_feed_entry_is_rendered_once_however_many_feeds_list_it(build_site, monkeypatch) -> None:
    """A post is an entry of the site's feed and of its themes', tags' and authors' feeds: the
    production feed.xml renders its <entry> once per build (``once``), so its content's links are
    made absolute once, not once per feed, and every feed shows the same bytes for it."""
    from qsite import render

    made_absolute: list[str] = []
    original = render.absolute_links

    def counting(html: str, origin: str) -> str:
        if "Second paragraph of A." in html:  # A's whole body: only feeds show it (lists, its summary)
            made_absolute.append(html)
        return original(html, origin)

    monkeypatch.setattr(render, "absolute_links", counting)
    site = build_site(
        {
            "site.yaml": SITE_YAML,
            "content/posts/a.md": post(
                "A", "2020-04-01", "[space-to-learn, staff-wellbeing]", "Only in A.\n\nSecond paragraph of A.",
                tags="[huddles]",
            ),
            "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]"),
        },
        jobs=1,  # render in this process, where the filter is counted
    )
    feeds = ["feed.xml", "themes/space-to-learn/feed.xml", "themes/staff-wellbeing/feed.xml", "tags/huddles/feed.xml"]
    entries = {
        name: next(e for e in site.read(name).split("<entry>")[1:] if "Only in A." in e) for name in feeds
    }
    assert len(set(entries.values())) == 1  # the same entry in all four feeds
    assert len(made_absolute) == 1


def test_a_sites_own_feed_entry_partial_wins(build_site) -> None:
    """The entry lives in partials/feed_entry.xml, which a site overrides like any template."""
    site = build_site({
        "site.yaml": SITE_YAML,
        "content/posts/a.md": post("A", "2020-04-01"),
        "templates/partials/feed_entry.xml": (
            "{% macro feed_entry(post) %}<entry><title>ours: {{ post.title }}</title></entry>\n{% endmacro %}\n"
        ),
    })
    assert "<entry><title>ours: A</title></entry>" in site.read("feed.xml")
    assert "<entry><title>ours: A</title></entry>" in site.read("themes/staff-wellbeing/feed.xml")


def test_a_template_is_read_once_per_build_not_checked_again_at_each_page(build_site, monkeypatch) -> None:
    # issue 10: Jinja's auto_reload stat-ed each template's file again at every page using it
    # (~5 a post page: the page, its base and partials); a Renderer lives for one build only
    from qsite.plan import plan
    from qsite.render import Renderer

    site = build_site({"site.yaml": SITE_YAML, **{f"content/posts/p{n}.md": post(f"P{n}", f"2020-04-0{n}") for n in range(1, 6)}})
    result = site.result
    assert result is not None and result.site is not None and result.groups is not None
    renderer = Renderer(result.site, result.groups, site.root / "templates")
    jobs = [job for job in plan(result.site, result.groups, result.digest) if job.template == "post.html"]
    assert len(jobs) == 5
    renderer.render(jobs[0])  # reads and compiles the templates
    checked: list[str] = []
    real = os.path.getmtime
    monkeypatch.setattr(os.path, "getmtime", lambda path: checked.append(path) or real(path))
    for job in jobs:
        renderer.render(job)
    assert checked == []
    # a template edited since is read by the next build's Renderer (qsite serve makes one a rebuild)
    (site.root / "templates").mkdir(exist_ok=True)
    (site.root / "templates" / "post.html").write_text("edited {{ post.title }}\n", encoding="utf-8")
    monkeypatch.undo()
    edited = Renderer(result.site, result.groups, site.root / "templates").render(jobs[0]).data
    assert edited == f"edited {jobs[0].context['post'].title}\n".encode()


def test_once_keeps_at_most_its_limit_and_lets_go_of_the_least_recently_used() -> None:
    """A forked render worker's Once held every card and feed entry it rendered (a third of a
    worker's own memory at 20,000 posts, bench/memory.py): it keeps at most ``limit``
    characters now, the most recently used, and renders anything else again, the same."""
    calls: list[str] = []

    def card(item: Item) -> str:
        calls.append(item.title)
        return item.title * 10

    once = Once(limit=30)
    a, b, c, d = Item("A"), Item("B"), Item("C"), Item("D")
    for item in (a, b, c):
        once(card, item)
    assert once.held == 30 and calls == ["A", "B", "C"]
    once(card, a)  # used again: now the most recent, so B goes first
    once(card, d)
    assert once.held <= 30 and len(once._done) == 3
    assert once(card, a) == "A" * 10 and once(card, c) == "C" * 10 and once(card, d) == "D" * 10
    assert calls == ["A", "B", "C", "D"]
    assert once(card, b) == "B" * 10  # let go of: rendered again, the same text
    assert calls == ["A", "B", "C", "D", "B"] and once.held <= 30


def test_once_lets_go_of_the_items_whose_output_it_no_longer_keeps() -> None:
    import gc
    import weakref

    once = Once(limit=5)
    item = Item("A")
    gone = weakref.ref(item)
    once(lambda i: "x" * 5, item)
    del item
    once(lambda i: "y" * 5, Item("B"))
    gc.collect()
    assert gone() is None  # held only while its output is


def test_a_build_whose_once_keeps_little_makes_the_same_site(tmp_path, monkeypatch) -> None:
    # the production templates, cards and feed entries let go of almost at once and rendered again
    from qsite import render
    from qsite.build import Options, build

    from conftest import NOW, copy_templates, tree, write_files

    files = {
        "site.yaml": SITE_YAML,
        **{
            f"content/posts/p{n}.md": post(f"P{n}", f"2020-04-{n:02}", "[space-to-learn, staff-wellbeing]", tags="[huddles]")
            for n in range(1, 13)
        },
    }
    built = {}
    onces: list[Once] = []
    real = render.Once.__init__

    def init(self: Once, limit: int | None = None) -> None:
        real(self, limit)
        onces.append(self)

    monkeypatch.setattr(render.Once, "__init__", init)
    for limit in (render.ONCE_LIMIT, 1500):
        root = tmp_path / str(limit)
        root.mkdir()
        write_files(root, files)
        copy_templates(root)
        monkeypatch.setattr(render, "ONCE_LIMIT", limit)
        onces.clear()
        build(root, Options(now=NOW, search=False, jobs=1))
        assert onces and all(o.limit == limit and 0 < o.held <= limit for o in onces)
        built[limit] = tree(root / "output")
        if limit != 1500:
            assert max(o.held for o in onces) > 3 * 1500  # so the small one let go of some, and rendered them again
    assert built[1500] == built[render.ONCE_LIMIT]
