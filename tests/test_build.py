"""Whole-site tests: a small site inline, built into a temp folder, asserted on its files."""

from __future__ import annotations

import feedparser

from conftest import BASE, post
from crawl import dangling_links


def test_post_listed_under_its_theme_and_nowhere_else(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("A", "2020-04-01", "[staff-wellbeing]"),
            "content/posts/b.md": post("B", "2020-04-02", "[space-to-learn]"),
        }
    )
    site.assert_lines(
        "themes/staff-wellbeing/index.html",
        """
        <h1>Staff wellbeing and system resilience</h1>
        Looking after the people who care.
        href="/posts/a/">A</a>
        ! href="/posts/b/"
        href="/themes/staff-wellbeing/feed.xml"
        """,
    )


def test_post_page_shows_everything_a_reader_needs(build_site):
    body = "First paragraph.\n\n## A heading\n\nMore words here."
    site = build_site(
        {
            **BASE,
            "site.yaml": BASE["site.yaml"] + "author: Site Team\n",
            "content/posts/2020-04-14-huddles.md": post(
                "Huddles", "2020-04-14", "[staff-wellbeing, space-to-learn]", body, authors="[Ward 7, Ward 8]", tags="[Mental Health]"
            ),
        }
    )
    site.assert_lines(
        "posts/huddles/index.html",
        """
        <h1>Huddles</h1>
        <time datetime="2020-04-14T00:00:00+01:00">14 April 2020</time>
        by Ward 7 and Ward 8
        1 min read
        href="/themes/staff-wellbeing/">Staff wellbeing and system resilience</a>
        href="/themes/space-to-learn/">Space and support to learn</a>
        href="/tags/mental-health/">Mental Health</a>
        <h2 id="a-heading">A heading<a class="heading-anchor" href="#a-heading"
        <link rel="canonical" href="https://example.org/posts/huddles/">
        <meta property="og:title" content="Huddles">
        <meta property="og:type" content="article">
        <meta name="description" content="First paragraph.">
        """,
    )


def test_site_author_is_the_default(build_site):
    site = build_site({**BASE, "site.yaml": BASE["site.yaml"] + "author: Site Team\n", "content/posts/a.md": post("A", "2020-04-01")})
    site.assert_lines("posts/a/index.html", "by Site Team")


def test_file_name_gives_date_and_slug(build_site):
    site = build_site({**BASE, "content/posts/2020-05-06-café-huddles.md": "---\ntitle: X\nthemes: [staff-wellbeing]\n---\n"})
    site.assert_lines("posts/cafe-huddles/index.html", '<time datetime="2020-05-06T00:00:00+01:00">6 May 2020</time>')


def test_previous_and_next_within_each_theme(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("Oldest", "2020-01-01", "[staff-wellbeing]"),
            "content/posts/b.md": post("Middle", "2020-02-01", "[staff-wellbeing, space-to-learn]"),
            "content/posts/c.md": post("Other theme", "2020-02-15", "[space-to-learn]"),
            "content/posts/d.md": post("Newest", "2020-03-01", "[staff-wellbeing]"),
        }
    )
    site.assert_lines(
        "posts/b/index.html",
        """
        Previous: <a rel="prev" href="/posts/a/">Oldest</a>
        Next: <a rel="next" href="/posts/d/">Newest</a>
        Next: <a rel="next" href="/posts/c/">Other theme</a>
        """,
    )


def test_related_posts_by_shared_themes_and_tags_newest_first_on_ties(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/p.md": post("P", "2020-01-01", "[staff-wellbeing]", tags="[huddles]"),
            "content/posts/best.md": post("Best", "2019-01-01", "[staff-wellbeing]", tags="[huddles]"),
            "content/posts/old.md": post("Old tie", "2020-02-01", "[staff-wellbeing]"),
            "content/posts/new.md": post("New tie", "2020-03-01", "[staff-wellbeing]"),
            "content/posts/newer.md": post("Newer tie", "2020-04-01", "[staff-wellbeing]"),
            "content/posts/none.md": post("Unrelated", "2020-05-01", "[space-to-learn]"),
        }
    )
    html = site.read("posts/p/index.html")
    related = html.split('id="related-heading"')[1]
    titles = [t for t in ("Best", "Newer tie", "New tie", "Old tie", "Unrelated") if f">{t}</a>" in related]
    assert titles == ["Best", "Newer tie", "New tie"]
    assert related.index(">Best<") < related.index(">Newer tie<") < related.index(">New tie<")


def test_home_paginates_and_shows_theme_counts(build_site):
    posts = {f"content/posts/p{i:02}.md": post(f"Post {i:02}", f"2020-01-{i:02}") for i in range(1, 24)}
    site = build_site({**BASE, **posts, "content/posts/x.md": post("X", "2020-02-01", "[space-to-learn]")})
    site.assert_lines(
        "index.html",
        """
        href="/themes/staff-wellbeing/">Staff wellbeing and system resilience</a>
        23 posts
        1 post
        0 posts
        >X</a>
        >Post 23</a>
        >Post 15</a>
        ! >Post 14</a>
        <a rel="next" href="/page/2/">
        Page 1 of 3
        """,
    )
    site.assert_lines("page/2/index.html", ">Post 14</a>\n>Post 05</a>\n! >Post 04</a>\n<a rel=\"prev\" href=\"/\">")
    site.assert_lines("page/3/index.html", ">Post 01</a>\nPage 3 of 3")
    assert not site.exists("page/4/index.html")
    assert not site.exists("page/1/index.html")
    site.assert_lines("themes/staff-wellbeing/page/3/index.html", ">Post 03</a>")


def test_themes_index_tags_and_archive(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("A", "2020-04-01", tags="[Mental Health]"),
            "content/posts/b.md": post("B", "2021-06-02", tags="[mental-health, Huddles]"),
        }
    )
    site.assert_lines(
        "themes/index.html",
        """
        href="/themes/health-inequalities/">Health inequalities and meeting the needs of vulnerable groups</a>
        Reaching people the system misses.
        2 posts
        """,
    )
    # one tag page for two spellings
    site.assert_lines("tags/mental-health/index.html", ">A</a>\n>B</a>")
    assert not site.exists("tags/mental-health-2/index.html")
    site.assert_lines("tags/index.html", 'href="/tags/huddles/">Huddles</a>\nhref="/tags/mental-health/"')
    site.assert_lines(
        "archive/index.html",
        """
        <h2 id="year-2021">2021
        <h3 id="2021-06">June 2021</h3>
        <h3 id="2020-04">April 2020</h3>
        """,
    )
    archive = site.read("archive/index.html")
    assert archive.index("2021") < archive.index("April 2020")


def test_dates_with_an_offset_show_in_the_site_timezone(build_site):
    """23:30 UTC on 31 March 2020 is 00:30 on 1 April in London: the post is April's everywhere."""
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-03-31T23:30:00Z")})
    site.assert_lines("posts/a/index.html", '<time datetime="2020-04-01T00:30:00+01:00">1 April 2020</time>')
    site.assert_lines("archive/index.html", "<h3 id=\"2020-04\">April 2020</h3>\n! March 2020")


def test_pages_render_at_their_slug_and_404_exists(build_site):
    site = build_site({**BASE, "content/pages/about.md": "---\ntitle: About us\nsummary: Who we are.\n---\nWe are a community.\n"})
    site.assert_lines("about/index.html", "<h1>About us</h1>\n<p>We are a community.</p>\n<meta name=\"description\" content=\"Who we are.\">")
    site.assert_lines("404.html", "Page not found\nhref=\"/\"")


def test_drafts_and_future_posts_leak_nowhere(build_site):
    files = {
        **BASE,
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
    with_drafts.assert_lines("posts/draft/index.html", "Draft")
    with_drafts.assert_lines("posts/future/index.html", "Scheduled")
    with_drafts.assert_lines("feed.xml", "Secret draft")


def test_scheduled_post_appears_once_its_date_comes(build_site):
    from datetime import UTC, datetime

    files = {**BASE, "content/posts/a.md": post("Soon", "2022-01-01 09:00")}
    assert not build_site(files, now=datetime(2022, 1, 1, 8, 59, tzinfo=UTC)).exists("posts/a/index.html")
    assert build_site(files, now=datetime(2022, 1, 1, 9, 0, tzinfo=UTC)).exists("posts/a/index.html")


def test_summary_field_more_marker_and_first_paragraph(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("A", "2020-04-03", body="Intro A.\n\nSecond A.", summary="Given summary."),
            "content/posts/b.md": post("B", "2020-04-02", body="Para one.\n\nPara two.\n\n<!-- more -->\n\nHidden."),
            "content/posts/c.md": post("C", "2020-04-01", body="Only the first.\n\nNot this."),
        }
    )
    site.assert_lines(
        "index.html",
        """
        <p>Given summary.</p>
        ! Intro A.
        <p>Para one.</p>
        <p>Para two.</p>
        ! Hidden.
        <p>Only the first.</p>
        ! Not this.
        """,
    )


def test_summary_links_work_away_from_the_post(build_site):
    body = "See [the notes](#notes), [a sibling](../b/) and a footnote[^1].\n\n## Notes\n\n[^1]: Here."
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01", body=body), "content/posts/b.md": post("B", "2020-03-01")})
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
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01", body=body), "content/images/board.png": b"\x89PNG"})
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


def test_titles_are_escaped_everywhere(build_site):
    title = '"<script>alert(1)</script> & more"'
    site = build_site({**BASE, "content/posts/a.md": post(title, "2020-04-01", tags='["<b>bold</b>"]')})
    for path in ("posts/a/index.html", "index.html", "feed.xml", "tags/b-bold-b/index.html"):
        text = site.read(path)
        assert "<script>alert" not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path
    assert '<meta property="og:title" content="&lt;script&gt;alert(1)&lt;/script&gt; &amp; more">' in site.read(
        "posts/a/index.html"
    )


def test_feeds_parse_with_absolute_urls_and_full_content(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("First", "2020-04-01", "[staff-wellbeing]", "See [the other](/posts/b/).", authors="[Ward 7]"),
            "content/posts/b.md": post("Second", "2020-04-02", "[space-to-learn]", "Body of B.", updated="2020-05-01"),
        }
    )
    feed = feedparser.parse(site.read("feed.xml"))
    assert not feed.bozo, feed.bozo_exception
    assert feed.feed.title == "Test Site"
    assert [e.title for e in feed.entries] == ["Second", "First"]
    first = feed.entries[1]
    assert first.link == "https://example.org/posts/a/"
    assert first.author == "Ward 7"
    assert 'href="https://example.org/posts/b/"' in first.content[0].value
    assert feed.feed.updated.startswith("2020-05-01")
    theme_feed = feedparser.parse(site.read("themes/space-to-learn/feed.xml"))
    assert not theme_feed.bozo
    assert [e.title for e in theme_feed.entries] == ["Second"]


def test_sitemap_and_robots(build_site):
    import xml.etree.ElementTree as ET

    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01", tags="[t]"), "content/pages/about.md": "---\ntitle: About\n---\n"})
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(site.read("sitemap.xml")).findall("s:url/s:loc", ns)]
    for expected in ("https://example.org/", "https://example.org/posts/a/", "https://example.org/about/", "https://example.org/themes/staff-wellbeing/", "https://example.org/tags/t/", "https://example.org/archive/"):
        assert expected in locs
    assert "Sitemap: https://example.org/sitemap.xml" in site.read("robots.txt")


def test_sub_path_base_url_everywhere(build_site):
    files = {
        **BASE,
        "site.yaml": BASE["site.yaml"].replace("https://example.org/", "https://example.org/q-blog/"),
        "content/posts/a.md": post("A", "2020-04-01", body="Link to [B](/posts/b/#part) and ![pic](/images/p.png)", tags="[t]"),
        "content/posts/b.md": post("B", "2020-04-02", body="## Part\n\nText"),
        "content/images/p.png": b"\x89PNG",
        "content/pages/about.md": "---\ntitle: About\n---\n",
    }
    site = build_site(files)
    site.assert_lines(
        "posts/a/index.html",
        """
        href="/q-blog/posts/b/#part"
        src="/q-blog/images/p.png"
        href="/q-blog/static/site.css"
        <link rel="canonical" href="https://example.org/q-blog/posts/a/">
        """,
    )
    assert "https://example.org/q-blog/posts/a/" in site.read("sitemap.xml")
    assert dangling_links(site.out, "https://example.org", "/q-blog/") == []


def test_base_url_from_the_command_line(build_site):
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01")}, base_url="https://pages.example/site")
    site.assert_lines("posts/a/index.html", 'href="https://pages.example/site/posts/a/"\nhref="/site/static/site.css"')


def test_builds_are_reproducible_and_world_readable(build_site, tmp_path):
    files = {**BASE, "content/posts/a.md": post("A", "2020-04-01", tags="[x]")}
    first = build_site(files, output=tmp_path / "one")
    second = build_site(files, output=tmp_path / "two")
    assert first.files() == second.files()
    for rel in first.files():
        assert (first.out / rel).read_bytes() == (second.out / rel).read_bytes(), rel
        assert (first.out / rel).stat().st_mode & 0o004, f"{rel} is not world-readable"
