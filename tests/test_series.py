"""Series (issue 11): ``content/series/<id>.md`` declares one; posts join with ``series:`` and
``series_order:``. Whole sites with tiny templates: the post template prints its place in its
series, ``series.html`` (conftest) prints the parts in order."""

from __future__ import annotations

import shutil

from conftest import BASE, TINY_BASE, BuildSite, post

NIGHTS = "---\ntitle: Learning from night shifts\n---\nThree teams on **nights**.\n\nMore detail.\n"

POST_PLACE = (
    "post|{{ post.url }}|\n"
    "{% if series %}part {{ series.number }} of {{ series.series.count }}: {{ series.series.title }}|\n"
    "{% for p in series.series.parts %}{{ p.number }}|{{ p.url }}|{{ 'current' if p.path == series.current else '' }}|\n"
    "{% endfor %}previous={{ series.previous.url if series.previous else '' }}|"
    "next={{ series.next.url if series.next else '' }}|{% else %}no series|{% endif %}\n"
)


def nights(**posts: str) -> dict[str, str]:
    return {**TINY_BASE, "templates/post.html": POST_PLACE, "content/series/nights.md": NIGHTS, **posts}


# Three parts whose numbers do not follow their dates, and one post outside the series.
THREE = nights(**{
    "content/posts/2021-03-04-breaks.md": post("Breaks", "2021-03-04", series="nights", series_order="1"),
    "content/posts/2021-01-10-handover.md": post("Handover", "2021-01-10", series="nights", series_order="3"),
    "content/posts/2021-02-01-rest.md": post("Rest", "2021-02-01", series="nights", series_order="2"),
    "content/posts/2021-02-02-other.md": post("Other", "2021-02-02"),
})


def test_a_series_of_three_in_series_order_with_previous_and_next(build_site: BuildSite) -> None:
    site = build_site(THREE)
    site.assert_lines("posts/rest/index.html", """
        part 2 of 3: Learning from night shifts|
        1|/posts/breaks/||
        2|/posts/rest/|current|
        3|/posts/handover/||
        previous=/posts/breaks/|next=/posts/handover/|
    """)
    site.assert_lines("posts/breaks/index.html", "part 1 of 3: Learning from night shifts|\nprevious=|next=/posts/rest/|")
    site.assert_lines("posts/handover/index.html", "part 3 of 3: Learning from night shifts|\nprevious=/posts/rest/|next=|")
    site.assert_lines("posts/other/index.html", "no series|")


def test_the_series_page_lists_its_parts_in_order_and_the_list_names_it(build_site: BuildSite) -> None:
    site = build_site(THREE)
    assert site.read("series/nights/index.html") == (
        "series|/series/nights/|Learning from night shifts|3|Three teams on nights.|\n"
        "1|/posts/breaks/|Breaks|\n2|/posts/rest/|Rest|\n3|/posts/handover/|Handover|\n"
    )
    assert site.read("series/index.html") == "/series/nights/|Learning from night shifts|3|\n"
    site.assert_lines("sitemap.xml", "https://example.org/series/\nhttps://example.org/series/nights/")
    # a site without series has no empty list of them
    shutil.rmtree(site.root / "content")
    plain = build_site({**TINY_BASE, "content/posts/2021-03-04-breaks.md": post("Breaks", "2021-03-04")})
    assert not plain.exists("series/index.html")
    assert "series" not in plain.read("sitemap.xml")


def test_unnumbered_parts_follow_the_numbered_ones_by_date(build_site: BuildSite) -> None:
    site = build_site(nights(**{
        "content/posts/2021-05-01-late.md": post("Late", "2021-05-01", series="nights"),
        "content/posts/2021-04-01-early.md": post("Early", "2021-04-01", series="nights"),
        "content/posts/2021-06-01-first.md": post("First", "2021-06-01", series="nights", series_order="1"),
    }))
    site.assert_lines("series/nights/index.html", "1|/posts/first/|First|\n2|/posts/early/|Early|\n3|/posts/late/|Late|")


def test_drafts_are_not_parts_until_published(build_site: BuildSite) -> None:
    files = nights(**{
        "content/posts/2021-03-04-breaks.md": post("Breaks", "2021-03-04", series="nights"),
        "content/posts/2021-03-05-notes.md": post("Notes", "2021-03-05", series="nights", draft="true"),
    })
    assert "part 1 of 1:" in build_site(files).read("posts/breaks/index.html")
    assert "part 1 of 2:" in build_site(files, drafts=True).read("posts/breaks/index.html")


def test_an_unknown_series_is_an_error_with_a_did_you_mean_at_its_line(build_site: BuildSite) -> None:
    site = build_site(nights(**{
        "content/posts/2021-03-04-breaks.md": post("Breaks", "2021-03-04", series="night"),
        "content/posts/2021-03-05-rest.md": post("Rest", "2021-03-05", series="winter-pressures"),
    }), expect_ok=False)
    assert [p.format() for p in site.problems] == [
        "content/posts/2021-03-04-breaks.md:5: error: there is no series 'night'\n    fix: did you mean 'nights'?",
        "content/posts/2021-03-05-rest.md:5: error: there is no series 'winter-pressures'\n"
        "    fix: declare it in content/series/winter-pressures.md with a 'title:', or use one of: nights",
    ]


def test_two_parts_with_one_number_are_an_error_naming_both(build_site: BuildSite) -> None:
    site = build_site(nights(**{
        "content/posts/2021-03-04-breaks.md": post("Breaks", "2021-03-04", series="nights", series_order="2"),
        "content/posts/2021-03-05-rest.md": post("Rest", "2021-03-05", series="nights", series_order="2"),
    }), expect_ok=False)
    assert [p.format() for p in site.problems] == [
        "content/posts/2021-03-05-rest.md:6: error: series_order 2 of series 'nights' is also given to "
        "content/posts/2021-03-04-breaks.md:6\n    fix: give each part of a series its own number"
    ]


def test_series_field_mistakes_are_errors_at_their_lines(build_site: BuildSite) -> None:
    site = build_site(nights(**{
        "content/posts/2021-03-04-breaks.md": post("Breaks", "2021-03-04", series="nights", series_order="first"),
        "content/posts/2021-03-05-rest.md": post("Rest", "2021-03-05", series_order="2"),
        "content/series/Winter Pressures.md": "---\ntitle: Winter\n---\n",
        "content/series/untitled.md": "---\nsummary: no title\n---\n",
    }), expect_ok=False)
    assert sorted(p.location() + ": " + p.message for p in site.problems) == [
        "content/posts/2021-03-04-breaks.md:6: 'series_order' should be a whole number, not 'first'",
        "content/posts/2021-03-05-rest.md:5: series_order is set but the post names no series",
        "content/series/Winter Pressures.md: a series file's name is its id: lower-case letters, digits and "
        "single hyphens",
        "content/series/untitled.md:1: this series has no title",
        "content/series/untitled.md:2: unknown front-matter field 'summary'",
    ]


def test_the_production_post_page_shows_its_place_and_the_series_page_its_parts(build_site: BuildSite) -> None:
    files = {**BASE, **{k: v for k, v in THREE.items() if k.startswith("content/")}}
    site = build_site(files)
    page = site.read("posts/rest/index.html")
    assert '<h2 id="series-heading">Part 2 of 3: <a href="/series/nights/">Learning from night shifts</a></h2>' in page
    assert '<a href="/posts/rest/" aria-current="page">Rest</a>' in page
    assert '<span class="neighbour-label">Previous part</span> <a href="/posts/breaks/">Breaks</a>' in page
    assert '<span class="neighbour-label">Next part</span> <a href="/posts/handover/">Handover</a>' in page
    series_page = site.read("series/nights/index.html")
    assert "<h1>Learning from night shifts</h1>" in series_page
    assert "<p>Three teams on <strong>nights</strong>.</p>" in series_page
    order = [series_page.index(f'<a href="/posts/{slug}/">') for slug in ("breaks", "rest", "handover")]
    assert order == sorted(order)
    assert '<a href="/series/nights/">Learning from night shifts</a>' in site.read("series/index.html")
    assert "series-box" not in site.read("posts/other/index.html")


def test_renaming_one_part_updates_the_other_parts_pages_on_a_cached_rebuild(build_site: BuildSite) -> None:
    # The build cache re-renders a page only when what it shows changes: a part's page shows the
    # other parts' titles, so it must be rendered again when one of them is retitled.
    first = build_site(THREE)
    assert first.result is not None and first.result.cache_hits == 0
    renamed = {**THREE, "content/posts/2021-02-01-rest.md": post("Sleep", "2021-02-01", series="nights", series_order="2")}
    again = build_site(renamed)
    assert again.result is not None and again.result.cache_hits > 0  # the cache was used
    assert "2|/posts/rest/|Sleep|" in again.read("series/nights/index.html")
    assert "previous=/posts/breaks/|next=/posts/handover/|" in again.read("posts/rest/index.html")
    breaks = build_site({**renamed, "templates/post.html": POST_PLACE.replace("{{ p.url }}|", "{{ p.url }}|{{ p.title }}|")})
    assert "2|/posts/rest/|Sleep||" in breaks.read("posts/breaks/index.html")
