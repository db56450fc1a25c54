"""The production templates (templates/): what they show a reader, their markup, escaping,
links and feeds. These tests build with the repository's own templates on purpose (the files
hold no templates/, so conftest copies them in), and their expected strings are the HTML the site
really ships. Behaviour (which posts are listed, order, URLs, pagination) is tested with tiny
templates in tests/test_build.py and the other behaviour modules, so an edit to a template
breaks only the tests here."""

from __future__ import annotations

import re

import feedparser

from conftest import BASE, edition_file, post
from crawl import dangling_links


def section(html: str, anchor: str) -> str:
    """The HTML of one theme section of an edition page."""
    match = re.search(rf'<section class="digest-theme[^"]*" id="{anchor}".*?</section>', html, re.S)
    assert match, f"no section {anchor}"
    return match.group(0)


def test_theme_page_shows_its_title_description_posts_and_feed(build_site):
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


def test_post_page_links_previous_and_next_in_each_theme(build_site):
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


def test_home_page_shows_theme_counts_and_page_links(build_site):
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


def test_themes_tags_and_archive_pages_link_and_anchor(build_site):
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


def test_page_and_404_markup(build_site):
    site = build_site({**BASE, "content/pages/about.md": "---\ntitle: About us\nsummary: Who we are.\n---\nWe are a community.\n"})
    site.assert_lines("about/index.html", "<h1>About us</h1>\n<p>We are a community.</p>\n<meta name=\"description\" content=\"Who we are.\">")
    site.assert_lines("404.html", "Page not found\nhref=\"/\"")


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


def test_sitemap_parses_and_robots_points_to_it(build_site):
    import xml.etree.ElementTree as ET

    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01", tags="[t]"), "content/pages/about.md": "---\ntitle: About\n---\n"})
    ns = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [e.text for e in ET.fromstring(site.read("sitemap.xml")).findall("s:url/s:loc", ns)]
    for expected in ("https://example.org/", "https://example.org/posts/a/", "https://example.org/about/", "https://example.org/themes/staff-wellbeing/", "https://example.org/tags/t/", "https://example.org/archive/"):
        assert expected in locs
    assert "Sitemap: https://example.org/sitemap.xml" in site.read("robots.txt")


def test_sub_path_base_url_leaves_no_dangling_link(build_site):
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


# --- the learning digest ---------------------------------------------------------------------


def test_home_page_shows_the_latest_edition_and_editors_picks(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("Alpha", "2020-04-02", featured="true"),
            "content/posts/b.md": post("Bravo", "2021-10-09"),
            "content/posts/c.md": post("Charlie", "2021-12-01 09:00"),  # December is not over
            "content/digests/2021-10.md": edition_file(title="October learning"),
        }
    )
    site.assert_lines(
        "index.html",
        """
        <h2 id="digest-heading">Latest learning digest</h2>
        <a href="/digest/2021-10/">October learning</a>
        <h2 id="picks-heading">Editor's picks</h2>
        ! /digest/2021-12/
        """,
    )
    home = site.read("index.html")
    picks = home[home.index("picks-heading") : home.index("themes-heading")]
    assert "/posts/a/" in picks and "/posts/b/" not in picks
    site.assert_lines("digest/2021-12/index.html", "In progress")


def test_theme_page_shows_recent_takeaways_under_a_heading(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("Alpha", "2020-04-02", takeaways="[Old lesson]"),
            "content/posts/b.md": post("Bravo", "2020-05-02", takeaways="[Ask reception first, Keep it short]"),
            "content/posts/c.md": post("Charlie", "2020-06-02", "[space-to-learn]", takeaways="[Elsewhere]"),
        }
    )
    site.assert_lines(
        "themes/staff-wellbeing/index.html",
        """
        <h2 id="recent-takeaways-heading">Recent takeaways</h2>
        <li>Ask reception first</li>
        <li>Keep it short</li>
        <li>Old lesson</li>
        ! Elsewhere
        """,
    )
    page = site.read("themes/staff-wellbeing/index.html")
    assert page.index("Ask reception first") < page.index("Old lesson"), "newest first"


def test_post_links_back_to_its_edition_section(build_site):
    site = build_site({**BASE, "content/posts/a.md": post("Alpha", "2020-04-02", "[space-to-learn]")})
    site.assert_lines(
        "posts/a/index.html",
        '<a href="/digest/2020-04/#theme-space-to-learn">April 2020 learning digest</a>',
    )


def test_digest_feed_parses_with_absolute_links_authors_and_themes(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("Alpha", "2020-04-02", body="See [Bravo](/posts/b/)."),
            "content/posts/b.md": post("Bravo", "2020-06-02", "[health-inequalities, space-to-learn]"),
            "content/posts/c.md": post("Charlie", "2021-12-01 09:00"),  # December 2021 is not over
            "content/digests/2020-06.md": edition_file("b", title='"June: reflecting"', body="An [intro](/about/)."),
        }
    )
    feed = feedparser.parse(site.read("digest/feed.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Test Site: learning digest"
    assert [e.title for e in feed.entries] == ["June: reflecting", "April 2020"]
    june = feed.entries[0]
    assert june.link == "https://example.org/digest/2020-06/"
    assert june.id == "https://example.org/digest/2020-06/"
    assert june.author == "Digest Group"
    assert {t.term for t in june.tags} == {"health-inequalities", "space-to-learn"}
    assert june.published.startswith("2020-07-01T00:00:00+01:00")
    content = june.content[0].value
    assert 'href="https://example.org/about/"' in content
    assert 'href="https://example.org/posts/b/"' in content
    assert "Editor's picks" in content
    assert feed.entries[1].author == "Test Site"
    site.assert_lines("digest/index.html", '<link rel="alternate" type="application/atom+xml" title="Test Site: learning digest" href="/digest/feed.xml">')


def test_site_without_posts_says_the_digest_is_empty_and_has_a_valid_feed(build_site):
    site = build_site(BASE)
    site.assert_lines("digest/index.html", "No editions yet: an edition is made for every month with a published post.")
    feed = feedparser.parse(site.read("digest/feed.xml"))
    assert not feed.bozo and feed.entries == []
    site.assert_lines("index.html", "! digest-heading\n! picks-heading")
