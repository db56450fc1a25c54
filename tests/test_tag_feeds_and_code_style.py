"""Issue 14, with the production templates: an Atom feed per tag (valid, and linked from the tag
page and its <head>), and ``pygments.css`` linked only by pages holding highlighted code."""

from __future__ import annotations

import feedparser

from conftest import BASE, post

CODE = "Some code:\n\n```python\nprint('hello')\n```\n"
PYGMENTS = 'href="/static/pygments.css"'


def test_each_tag_has_a_valid_feed_linked_from_its_page_and_head(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("Alpha", "2020-04-02", tags="[Huddles, night shifts]"),
            "content/posts/b.md": post("Bravo", "2020-04-09", tags="[huddles]"),
            "content/posts/c.md": post("Charlie", "2020-04-10"),
        }
    )
    feed = feedparser.parse(site.read("tags/huddles/feed.xml"))
    assert not feed.bozo, feed.get("bozo_exception")
    assert feed.feed.title == "Test Site: posts tagged “Huddles”"
    assert [e.title for e in feed.entries] == ["Bravo", "Alpha"]  # newest first, Charlie untagged
    assert [e.title for e in feedparser.parse(site.read("tags/night-shifts/feed.xml")).entries] == ["Alpha"]
    page = site.read("tags/huddles/index.html")
    head = page.split("</head>")[0]
    assert '<link rel="alternate" type="application/atom+xml" title="Test Site: posts tagged “Huddles”" href="/tags/huddles/feed.xml">' in head
    assert '<a href="/tags/huddles/feed.xml">Subscribe to this tag (Atom feed)</a>' in page


def test_pygments_css_only_on_pages_with_highlighted_code(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/code.md": post("With code", "2020-04-02", body=CODE),
            "content/posts/plain.md": post("Plain", "2020-04-03", body="Just `inline` words."),
            "content/pages/help.md": "---\ntitle: Help\n---\n" + CODE,
            "content/pages/about.md": "---\ntitle: About\n---\nWords.\n",
        }
    )
    assert PYGMENTS in site.read("posts/code/index.html")
    assert PYGMENTS in site.read("help/index.html")
    for page in ("posts/plain/index.html", "about/index.html", "index.html", "tags/index.html", "search/index.html"):
        assert PYGMENTS not in site.read(page), page
    assert ".highlight" in site.read("static/pygments.css")  # still published, for the pages that use it
