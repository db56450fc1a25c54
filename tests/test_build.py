"""Whole-site behaviour tests: a small site inline, built into a temp folder with tiny templates
(conftest.TINY) that print exactly the values under test, asserted on its files. The tests of
what the production templates show live in tests/test_templates.py."""

from __future__ import annotations

from conftest import TINY_BASE, post

# A list template that also prints each post's summary, for the tests of summaries.
SUMMARIES = "{% for p in pager.items %}{{ p.url }}|{{ p.title }}|{{ p.summary_html | safe }}|\n{% endfor %}"


def test_post_listed_under_its_theme_and_nowhere_else(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/a.md": post("A", "2020-04-01", "[staff-wellbeing]"),
            "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]"),
        }
    )
    site.assert_lines(
        "themes/staff-wellbeing/index.html",
        """
        theme|/themes/staff-wellbeing/|Staff wellbeing and system resilience|Looking after the people who care.|1|/themes/staff-wellbeing/feed.xml|
        /posts/a/|A|
        ! /posts/b/
        """,
    )


def test_site_author_is_the_default(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "site.yaml": TINY_BASE["site.yaml"] + "author: Site Team\n",
            "templates/post.html": "{{ post.url }}|{{ post.authors | join(',') }}|\n",
            "content/posts/a.md": post("A", "2020-04-01"),
            "content/posts/b.md": post("B", "2020-04-01", authors="[Ward 7, Ward 8]"),
        }
    )
    site.assert_lines("posts/a/index.html", "/posts/a/|Site Team|")
    site.assert_lines("posts/b/index.html", "/posts/b/|Ward 7,Ward 8|")


def test_file_name_gives_date_and_slug(build_site):
    site = build_site({**TINY_BASE, "content/posts/2020-05-06-café-huddles.md": "---\ntitle: X\nthemes: [staff-wellbeing]\n---\n"})
    site.assert_lines("posts/cafe-huddles/index.html", "post|/posts/cafe-huddles/|X|2020-05-06T00:00:00+01:00|6 May 2020|")


def test_previous_and_next_within_each_theme(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "templates/post.html": (
                "{% for n in neighbours %}{{ n.theme.slug }}|older={{ n.older.url if n.older else '' }}"
                "|{{ n.older.title if n.older else '' }}|newer={{ n.newer.url if n.newer else '' }}"
                "|{{ n.newer.title if n.newer else '' }}|\n{% endfor %}"
            ),
            "content/posts/a.md": post("Oldest", "2020-01-01", "[staff-wellbeing]"),
            "content/posts/b.md": post("Middle", "2020-02-01", "[staff-wellbeing, space-to-learn]"),
            "content/posts/c.md": post("Other theme", "2020-02-15", "[space-to-learn]"),
            "content/posts/d.md": post("Newest", "2020-03-01", "[staff-wellbeing]"),
        }
    )
    site.assert_lines(
        "posts/b/index.html",
        """
        staff-wellbeing|older=/posts/a/|Oldest|newer=/posts/d/|Newest|
        space-to-learn|older=||newer=/posts/c/|Other theme|
        """,
    )


def test_related_posts_by_shared_themes_and_tags_newest_first_on_ties(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "templates/post.html": "related|{% for p in related %}{{ p.title }}|{% endfor %}\n",
            "content/posts/p.md": post("P", "2020-01-01", "[staff-wellbeing]", tags="[huddles]"),
            "content/posts/best.md": post("Best", "2019-01-01", "[staff-wellbeing]", tags="[huddles]"),
            "content/posts/old.md": post("Old tie", "2020-02-01", "[staff-wellbeing]"),
            "content/posts/new.md": post("New tie", "2020-03-01", "[staff-wellbeing]"),
            "content/posts/newer.md": post("Newer tie", "2020-04-01", "[staff-wellbeing]"),
            "content/posts/none.md": post("Unrelated", "2020-05-01", "[space-to-learn]"),
        }
    )
    assert site.read("posts/p/index.html") == "related|Best|Newer tie|New tie|"


def test_home_paginates_and_shows_theme_counts(build_site):
    posts = {f"content/posts/p{i:02}.md": post(f"Post {i:02}", f"2020-01-{i:02}") for i in range(1, 24)}
    site = build_site(
        {
            **TINY_BASE,
            "templates/index.html": TINY_BASE["templates/index.html"]
            + "{% for t in theme_list %}{{ t.url }}|{{ t.count }}|\n{% endfor %}",
            **posts,
            "content/posts/x.md": post("X", "2020-02-01", "[space-to-learn]"),
        }
    )
    site.assert_lines(
        "index.html",
        """
        /themes/health-inequalities/|0|
        /themes/staff-wellbeing/|23|
        /themes/space-to-learn/|1|
        /posts/x/|X|
        /posts/p23/|Post 23|
        /posts/p15/|Post 15|
        ! Post 14
        pager|1/3|prev=|next=/page/2/|
        """,
    )
    site.assert_lines("page/2/index.html", "/posts/p14/|Post 14|\n/posts/p05/|Post 05|\n! Post 04\npager|2/3|prev=/|next=/page/3/|")
    site.assert_lines("page/3/index.html", "/posts/p01/|Post 01|\npager|3/3|prev=/page/2/|next=|")
    assert not site.exists("page/4/index.html")
    assert not site.exists("page/1/index.html")
    site.assert_lines("themes/staff-wellbeing/page/3/index.html", "/posts/p03/|Post 03|\npager|3/3|")


def test_themes_index_tags_and_archive(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/a.md": post("A", "2020-04-01", tags="[Mental Health]"),
            "content/posts/b.md": post("B", "2021-06-02", tags="[mental-health, Huddles]"),
        }
    )
    site.assert_lines(
        "themes/index.html",
        """
        /themes/health-inequalities/|Health inequalities and meeting the needs of vulnerable groups|0|
        /themes/staff-wellbeing/|Staff wellbeing and system resilience|2|
        """,
    )
    site.assert_lines("themes/health-inequalities/index.html", "|Reaching people the system misses.|")
    # one tag page for two spellings
    site.assert_lines("tags/mental-health/index.html", "/posts/a/|A|\n/posts/b/|B|")
    assert not site.exists("tags/mental-health-2/index.html")
    assert site.read("tags/index.html") == "/tags/huddles/|Huddles|1|\n/tags/mental-health/|Mental Health|2|\n"
    # newest month first, by year
    assert site.read("archive/index.html") == "2021-06|June|/posts/b/|B|\n2020-04|April|/posts/a/|A|\n"


def test_dates_with_an_offset_show_in_the_site_timezone(build_site):
    """23:30 UTC on 31 March 2020 is 00:30 on 1 April in London: the post is April's everywhere."""
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-03-31T23:30:00Z")})
    site.assert_lines("posts/a/index.html", "post|/posts/a/|A|2020-04-01T00:30:00+01:00|1 April 2020|")
    site.assert_lines("archive/index.html", "2020-04|April|/posts/a/|A|\n! 2020-03")


def test_pages_render_at_their_slug_and_404_exists(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "templates/page.html": "page|{{ page.url }}|{{ page.title }}|{{ page.summary }}|\n{{ page.html | safe }}\n",
            "content/pages/about.md": "---\ntitle: About us\nsummary: Who we are.\n---\nWe are a community.\n",
        }
    )
    site.assert_lines("about/index.html", "page|/about/|About us|Who we are.|\n<p>We are a community.</p>")
    site.assert_lines("404.html", "not found|")


def test_drafts_and_future_posts_leak_nowhere(build_site):
    files = {
        **TINY_BASE,
        "templates/post.html": "post|{{ post.url }}|{{ post.title }}|draft={{ post.draft }}|future={{ post.future }}|\n",
        "content/posts/pub.md": post("Published", "2021-01-01", tags="[t]"),
        "content/posts/draft.md": post("Secret draft", "2021-01-02", tags="[t]", draft="true"),
        "content/posts/future.md": post("Scheduled", "2030-01-01", tags="[t]"),
    }
    site = build_site(files)
    everything = "".join((site.out / f).read_text() for f in site.files() if f.endswith((".html", ".xml")))
    assert "Published" in everything
    assert "Secret draft" not in everything and "/posts/draft/" not in everything
    assert "Scheduled" not in everything and "/posts/future/" not in everything
    assert not site.exists("posts/draft/index.html")

    with_drafts = build_site(files, drafts=True, future=True)
    with_drafts.assert_lines("posts/draft/index.html", "post|/posts/draft/|Secret draft|draft=True|future=False|")
    with_drafts.assert_lines("posts/future/index.html", "post|/posts/future/|Scheduled|draft=False|future=True|")
    with_drafts.assert_lines("feed.xml", "https://example.org/posts/draft/|Secret draft|")


def test_scheduled_post_appears_once_its_date_comes(build_site):
    from datetime import UTC, datetime

    files = {**TINY_BASE, "content/posts/a.md": post("Soon", "2022-01-01 09:00")}
    assert not build_site(files, now=datetime(2022, 1, 1, 8, 59, tzinfo=UTC)).exists("posts/a/index.html")
    assert build_site(files, now=datetime(2022, 1, 1, 9, 0, tzinfo=UTC)).exists("posts/a/index.html")


def test_summary_field_more_marker_and_first_paragraph(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "templates/index.html": SUMMARIES,
            "content/posts/a.md": post("A", "2020-04-03", body="Intro A.\n\nSecond A.", summary="Given summary."),
            "content/posts/b.md": post("B", "2020-04-02", body="Para one.\n\nPara two.\n\n<!-- more -->\n\nHidden."),
            "content/posts/c.md": post("C", "2020-04-01", body="Only the first.\n\nNot this."),
        }
    )
    site.assert_lines(
        "index.html",
        """
        /posts/a/|A|<p>Given summary.</p>|
        ! Intro A.
        /posts/b/|B|<p>Para one.</p>
        <p>Para two.</p>|
        ! Hidden.
        /posts/c/|C|<p>Only the first.</p>|
        ! Not this.
        """,
    )


def test_summary_links_work_away_from_the_post(build_site):
    body = "See [the notes](#notes), [a sibling](../b/) and a footnote[^1].\n\n## Notes\n\n[^1]: Here."
    site = build_site(
        {
            **TINY_BASE,
            "templates/index.html": SUMMARIES,
            "content/posts/a.md": post("A", "2020-04-01", body=body),
            "content/posts/b.md": post("B", "2020-03-01"),
        }
    )
    site.assert_lines(
        "index.html",
        """
        href="/posts/a/#notes"
        href="/posts/b/"
        href="/posts/a/#fn:1"
        """,
    )
    site.assert_lines("posts/a/index.html", 'href="#notes"')


def test_markdown_features(build_site):
    body = (
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```python\nprint('hi')\n```\n\n"
        "Note[^1].\n\n[^1]: The footnote.\n\n"
        "Styled paragraph.\n{: .callout }\n\n"
        "![A huddle board](/images/board.png)\n"
    )
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01", body=body), "content/images/board.png": b"\x89PNG"})
    site.assert_lines(
        "posts/a/index.html",
        """
        <table>
        <div class="highlight"><pre>
        <span class="nb">print</span>
        class="footnote-ref"
        <p class="callout">Styled paragraph.</p>
        <img alt="A huddle board" src="/images/board.png">
        """,
    )
    assert site.exists("images/board.png")
    assert ".highlight" in site.read("static/pygments.css")


def test_feeds_list_the_newest_posts_with_their_permalinks(build_site):
    """Which entries each feed holds, newest first, and its ``updated`` (the newest change, not the
    clock); tests/test_templates.py checks that the production feed parses as Atom."""
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/a.md": post("First", "2020-04-01", "[staff-wellbeing]"),
            "content/posts/b.md": post("Second", "2020-04-02", "[space-to-learn]", updated="2020-05-01"),
        }
    )
    assert site.read("feed.xml") == (
        "feed|Test Site|2020-05-01T00:00:00+01:00|\n"
        "https://example.org/posts/b/|Second|\n"
        "https://example.org/posts/a/|First|\n"
    )
    assert site.read("themes/space-to-learn/feed.xml") == (
        "feed|Test Site: Space and support to learn|2020-05-01T00:00:00+01:00|\n"
        "https://example.org/posts/b/|Second|\n"
    )


def test_sitemap_lists_every_page_a_reader_can_reach(build_site):
    site = build_site(
        {**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01", tags="[t]"), "content/pages/about.md": "---\ntitle: About\n---\n"}
    )
    site.assert_lines(
        "sitemap.xml",
        """
        https://example.org/|
        https://example.org/posts/a/|
        https://example.org/about/|
        https://example.org/themes/staff-wellbeing/|
        https://example.org/tags/t/|
        https://example.org/archive/|
        """,
    )


def test_sub_path_base_url_everywhere(build_site):
    files = {
        **TINY_BASE,
        "site.yaml": TINY_BASE["site.yaml"].replace("https://example.org/", "https://example.org/q-blog/"),
        "templates/post.html": "{{ post.url }}|{{ canonical }}|{{ url('static/site.css') }}|\n{{ post.html | safe }}\n",
        "content/posts/a.md": post("A", "2020-04-01", body="Link to [B](/posts/b/#part) and ![pic](/images/p.png)", tags="[t]"),
        "content/posts/b.md": post("B", "2020-04-02", body="## Part\n\nText"),
        "content/images/p.png": b"\x89PNG",
        "content/pages/about.md": "---\ntitle: About\n---\n",
    }
    site = build_site(files)
    site.assert_lines(
        "posts/a/index.html",
        """
        /q-blog/posts/a/|https://example.org/q-blog/posts/a/|/q-blog/static/site.css|
        href="/q-blog/posts/b/#part"
        src="/q-blog/images/p.png"
        """,
    )
    site.assert_lines("index.html", "/q-blog/posts/b/|B|\npager|1/1|")
    site.assert_lines("tags/t/index.html", "tag|/q-blog/tags/t/|")
    site.assert_lines("sitemap.xml", "https://example.org/q-blog/posts/a/|\nhttps://example.org/q-blog/about/|")
    assert site.exists("images/p.png")


def test_base_url_from_the_command_line(build_site):
    site = build_site(
        {**TINY_BASE, "templates/post.html": "{{ canonical }}|{{ url('static/site.css') }}|\n", "content/posts/a.md": post("A", "2020-04-01")},
        base_url="https://pages.example/site",
    )
    site.assert_lines("posts/a/index.html", "https://pages.example/site/posts/a/|/site/static/site.css|")


def test_builds_are_reproducible_and_world_readable(build_site, tmp_path):
    # The production templates (no templates/ in the files): every byte the real site ships
    # must come out the same twice.
    from conftest import BASE

    files = {**BASE, "content/posts/a.md": post("A", "2020-04-01", tags="[x]")}
    first = build_site(files, output=tmp_path / "one")
    second = build_site(files, output=tmp_path / "two")
    assert first.files() == second.files()
    for rel in first.files():
        assert (first.out / rel).read_bytes() == (second.out / rel).read_bytes(), rel
        assert (first.out / rel).stat().st_mode & 0o004, f"{rel} is not world-readable"
