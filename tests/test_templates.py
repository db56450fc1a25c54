"""The production templates (templates/): what they show a reader, their markup, escaping,
links and feeds. These tests build with the repository's own templates on purpose (the files
hold no templates/, so conftest copies them in), and their expected strings are the HTML the site
really ships. Behaviour (which posts are listed, order, URLs, pagination) is tested with tiny
templates in tests/test_build.py and the other behaviour modules, so an edit to a template
breaks only the tests here."""

from __future__ import annotations

import feedparser

from conftest import BASE, post
from crawl import dangling_links


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
