"""Issue 11, author profiles: ``content/authors/<id>.md`` gives an author a page, a feed, a
linked byline with their role and a schema.org type of their own, while free-text names keep
working as before. Behaviour is printed by the tiny templates; the production byline and
JSON-LD are checked on the real templates (``BASE``)."""

from __future__ import annotations

import json
import re

from conftest import BASE, TINY_BASE, post

PENNY = "---\nname: Penny Pereira\nrole: Head of Q\norganisation: The Health Foundation\nurl: https://example.com/penny\n---\nPenny leads *Q*.\n"
HUB = "---\nname: Quality Improvement Hub\ntype: organisation\n---\nA small team.\n"


def _ld(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1))


def test_a_profile_gets_a_page_with_its_posts_and_free_text_names_get_none(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/authors/penny.md": PENNY,
            "content/posts/a.md": post("A", "2020-04-01", author="penny"),
            "content/posts/b.md": post("B", "2020-04-02", authors="[Penny Pereira, Sam Free]"),
            "content/posts/c.md": post("C", "2020-04-03", author="Sam Free"),
        }
    )
    site.assert_lines(
        "authors/penny/index.html",
        """
        author|/authors/penny/|Penny Pereira|Head of Q|The Health Foundation|2|/authors/penny/feed.xml|
        <p>Penny leads <em>Q</em>.</p>
        /posts/b/|B|
        /posts/a/|A|
        ! /posts/c/
        """,
    )
    assert site.read("authors/index.html") == "/authors/penny/|Penny Pereira|Head of Q|2|\n"
    assert not site.exists("authors/sam-free/index.html")
    site.assert_lines("sitemap.xml", "https://example.org/authors/\nhttps://example.org/authors/penny/")
    # without profiles there are no author pages (a site's own templates need none), and the
    # id is then just a name
    (site.root / "content/authors/penny.md").unlink()
    site = build_site({"templates/post.html": "{{ post.authors | join(',') }}|\n"})
    assert not site.exists("authors/index.html") and not site.exists("authors/penny/index.html")
    assert "authors" not in site.read("sitemap.xml")
    assert site.read("posts/a/index.html") == "penny|\n"


def test_author_pages_are_paginated_and_have_a_feed(build_site):
    files = {
        **TINY_BASE,
        "site.yaml": TINY_BASE["site.yaml"].replace("posts_per_page: 10", "posts_per_page: 2"),
        "content/authors/penny.md": PENNY,
    }
    for day in range(1, 6):
        files[f"content/posts/p{day}.md"] = post(f"P{day}", f"2020-04-0{day}", author="penny")
    site = build_site(files)
    site.assert_lines("authors/penny/index.html", "/posts/p5/|P5|\n/posts/p4/|P4|\npager|1/3|prev=|next=/authors/penny/page/2/|")
    site.assert_lines("authors/penny/page/3/index.html", "/posts/p1/|P1|\npager|3/3|prev=/authors/penny/page/2/|next=|")
    site.assert_lines("authors/penny/feed.xml", "feed|Test Site: Penny Pereira|2020-04-05T00:00:00+01:00|\nhttps://example.org/posts/p5/|P5|")


def test_byline_links_the_profile_with_its_role_and_json_ld_takes_its_type(build_site):
    site = build_site(
        {
            **BASE,
            "content/authors/penny.md": PENNY,
            "content/authors/hub.md": HUB,
            "content/posts/a.md": post("A", "2020-04-01", authors="[penny, hub, Ward 7 Team, Sam Free]"),
        }
    )
    html = site.read("posts/a/index.html")
    assert (
        'by <a class="author-link" href="/authors/penny/">Penny Pereira</a> <span class="author-role">(Head of Q)</span>, '
        '<a class="author-link" href="/authors/hub/">Quality Improvement Hub</a>, Ward 7 Team and Sam Free'
    ) in html
    assert _ld(html)["author"] == [
        {"@type": "Person", "name": "Penny Pereira", "url": "https://example.com/penny"},
        {"@type": "Organization", "name": "Quality Improvement Hub", "url": "https://example.org/authors/hub/"},
        {"@type": "Organization", "name": "Ward 7 Team"},  # free text: still guessed from its words
        {"@type": "Person", "name": "Sam Free"},
    ]
    # the profile's type wins over the words of its name ("Hub" would otherwise be guessed too)
    site2 = build_site(
        {**BASE, "content/authors/hub.md": "---\nname: Team Hub Person\ntype: person\n---\n",
         "content/posts/a.md": post("A", "2020-04-01", author="hub")}
    )
    assert _ld(site2.read("posts/a/index.html"))["author"][0]["@type"] == "Person"


def test_author_page_and_list_on_the_real_templates(build_site):
    site = build_site(
        {**BASE, "content/authors/penny.md": PENNY, "content/posts/a.md": post("A", "2020-04-01", author="penny")}
    )
    site.assert_lines(
        "authors/penny/index.html",
        """
        <h1>Penny Pereira</h1>
        Head of Q
        The Health Foundation
        <p>Penny leads <em>Q</em>.</p>
        <link rel="alternate" type="application/atom+xml" title="Test Site: Penny Pereira" href="/authors/penny/feed.xml">
        href="/posts/a/"
        """,
    )
    site.assert_lines("authors/index.html", '<a href="/authors/penny/">Penny Pereira</a>')
    assert "<title>Test Site: Penny Pereira</title>" in site.read("authors/penny/feed.xml")


def test_a_name_one_letter_from_a_profile_is_a_warning_with_did_you_mean(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/authors/penny.md": PENNY,
            "content/posts/a.md": post("A", "2020-04-01", authors="\n  - Sam Free\n  - Penny Pereria"),
            "content/posts/b.md": post("B", "2020-04-02", author="pennyy"),
        }
    )
    messages = site.messages()
    assert (
        "content/posts/a.md:7: warning: the author 'Penny Pereria' has no profile, but is very like "
        "'Penny Pereira' (content/authors/penny.md)\n"
        "    fix: did you mean 'penny'? write the profile's id or exact name to link the byline to it"
    ) in messages
    assert any(m.startswith("content/posts/b.md:5: warning: the author 'pennyy'") for m in messages)
    assert not any("Sam Free" in m for m in messages)
    assert site.exists("posts/a/index.html")


def test_profile_mistakes_are_errors_at_their_lines(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/authors/penny.md": "---\nrole: Head of Q\nimage: /images/p.jpg\ntype: robot\nurl: example.com\n---\n",
            "content/authors/Bad_Name.md": "---\nname: Bad\n---\n",
        },
        expect_ok=False,
    )
    text = "\n".join(site.messages())
    assert "content/authors/penny.md:1: error: this profile has no name" in text
    assert "content/authors/penny.md:3: error: 'image_alt' is required when 'image' is given" in text
    assert "content/authors/penny.md:4: error: 'type' should be one of person, organisation, not 'robot'" in text
    assert "content/authors/penny.md:5: error: url should be an absolute http(s) URL" in text
    assert "content/authors/Bad_Name.md: error: the profile id 'Bad_Name' (its file name) is not a URL name" in text


def test_editing_a_profile_rebuilds_the_bylines_that_show_it(build_site):
    """Posts are cached by their own file: the profile they name is part of their key."""
    files = {
        **TINY_BASE,
        "templates/post.html": "{{ post | byline_names }}|\n",
        "content/authors/penny.md": PENNY,
        "content/posts/a.md": post("A", "2020-04-01", author="penny"),
    }
    site = build_site(files)
    assert "(Head of Q)" in site.read("posts/a/index.html")
    site = build_site({**files, "content/authors/penny.md": PENNY.replace("Head of Q", "Director")})
    assert "(Director)" in site.read("posts/a/index.html")


def test_a_profile_picture_is_shown_with_its_alt_text_and_must_be_on_the_site(build_site):
    picture = "image: /images/penny.png\nimage_alt: Penny at a whiteboard\n"
    site = build_site(
        {
            **BASE,
            "content/images/penny.png": b"\x89PNG\r\n\x1a\n",
            "content/authors/penny.md": PENNY.replace("---\nname:", "---\n" + picture + "name:"),
        }
    )
    site.assert_lines(
        "authors/penny/index.html",
        '<img class="author-image" src="/images/penny.png" alt="Penny at a whiteboard" width="96" height="96">',
    )
    failed = build_site(
        {**TINY_BASE, "content/authors/penny.md": "---\nname: Penny\nimage: https://cdn.example.com/p.png\nimage_alt: P\n---\n"},
        expect_ok=False,
    )
    assert (
        "content/authors/penny.md:3: error: image should be a path on this site starting with '/', "
        "not 'https://cdn.example.com/p.png'"
    ) in "\n".join(failed.messages())
