"""Issue 5, without a browser: comments, the accessibility statement, search indexing and the
metadata other sites read. The browser half is in tests/browser/.

Most tests here build with the production templates on purpose (``BASE``, no templates/ in
the files): what they check is the markup readers, screen readers, search engines and Pagefind
get from the real templates (comment sections, JSON-LD, Open Graph cards, the statement's
wording, ``data-pagefind-*`` attributes). Tests of which comments a post gets, and of mistakes
reported before anything renders, use the tiny templates (``TINY_BASE``)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from qsite import cli
from qsite.comments import render_comment
from qsite.sharing import first_image, json_ld

from conftest import BASE, SITE_YAML, TINY_BASE, post
from search_index import theme_filter, urls_by_shard

ACCESS = "accessibility:\n  contact: access@example.org\n  reviewed: 2021-11-01\n"
HUDDLES = post("Huddles", "2020-04-09", "[staff-wellbeing]", body="Body.")


def comment(author: str = "Sam", date: str = "2020-04-10", body: str = "Thanks!") -> str:
    return f"---\nauthor: {author}\ndate: {date}\n---\n{body}\n"


# ---- Comments ----


def test_comments_are_attached_to_their_post_oldest_first(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "templates/post.html": (
                "{% for c in comments %}{{ c.anchor }}|{{ c.author }}|{{ c.date | iso }}|{{ c.html | safe }}|\n{% endfor %}"
            ),
            "content/posts/huddles.md": HUDDLES,
            "content/posts/other.md": post("Other", "2020-04-10"),
            "content/comments/huddles/b.md": comment("Second Person", "2020-04-12", "Later *thoughts*."),
            "content/comments/huddles/a.md": comment("First Person", "2020-04-10 08:15", "First!"),
        }
    )
    assert site.read("posts/huddles/index.html") == (
        "comment-a|First Person|2020-04-10T08:15:00+01:00|<p>First!</p>|\n"
        "comment-b|Second Person|2020-04-12T00:00:00+01:00|<p>Later <em>thoughts</em>.</p>|\n"
    )
    assert site.read("posts/other/index.html") == ""


def test_post_page_shows_comments_oldest_first_with_a_count(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/huddles.md": HUDDLES,
            "content/comments/huddles/b.md": comment(
                "Second Person", "2020-04-12", "Later *thoughts*."
            ),
            "content/comments/huddles/a.md": comment("First Person", "2020-04-10 08:15", "First!"),
        }
    )
    html = site.read("posts/huddles/index.html")
    assert html.index("First Person") < html.index("Second Person")
    site.assert_lines(
        "posts/huddles/index.html",
        """
        <a href="#comments">2 comments</a>
        <h2 id="comments-heading">Comments <span class="count">(2)</span></h2>
        <li class="comment" id="comment-a">
        <time datetime="2020-04-10T08:15:00+01:00">10 April 2020</time>
        <p>Later <em>thoughts</em>.</p>
        "commentCount":2
        """,
    )


def test_a_post_without_comments_or_a_submit_url_shows_no_comments_section(build_site):
    site = build_site({**BASE, "content/posts/huddles.md": HUDDLES})
    site.assert_lines(
        "posts/huddles/index.html",
        """
        ! id="comments"
        ! comments</a>
        ! Leave a comment
        """,
    )


def test_submit_url_adds_a_leave_a_comment_link_and_how_moderation_works(build_site):
    site = build_site(
        {
            "site.yaml": SITE_YAML + "comments:\n  submit_url: https://forms.example.org/comment\n",
            "content/posts/huddles.md": HUDDLES,
        }
    )
    site.assert_lines(
        "posts/huddles/index.html",
        """
        <a href="#comments">0 comments</a>
        <p>No comments yet.</p>
        <a class="button" href="https://forms.example.org/comment">Leave a comment
        An editor reads every comment before it is published
        """,
    )


def test_comment_bodies_cannot_carry_script_handlers_or_javascript_links(build_site):
    hostile = (
        "<script>alert('x')</script>\n\n"
        '<img src="x" onerror="alert(1)">\n\n'
        '[md link](javascript:alert(2)) and <a href="javascript:alert(3)">raw</a>\n\n'
        "[good link](https://example.org/page)\n"
    )
    site = build_site(
        {
            **BASE,
            "content/posts/huddles.md": HUDDLES,
            "content/comments/huddles/x.md": comment(
                '<b onmouseover="alert(4)">Mallory</b>', body=hostile
            ),
        }
    )
    html = site.read("posts/huddles/index.html")
    section = html[html.index('id="comments"') : html.index('class="post-neighbours"')]
    tags = _tags(section)
    assert {t for t, _ in tags} <= {
        "section",
        "h2",
        "span",
        "ol",
        "li",
        "p",
        "strong",
        "time",
        "div",
        "a",
    }
    for tag, attrs in tags:
        for name, value in attrs:
            assert not name.startswith("on"), f"<{tag} {name}> survived"
            assert not (value or "").lower().startswith("javascript:"), (
                f"<{tag} {name}={value}> survived"
            )
    assert "&lt;script&gt;alert(" in section  # shown to readers as text
    assert (
        '<a href="https://example.org/page" rel="nofollow ugc noopener noreferrer">good link</a>'
        in section
    )


def _tags(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    from html.parser import HTMLParser

    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collect().feed(html)
    return found


def test_render_comment_allow_list():
    assert render_comment("# Heading\n\ntext") == "Heading\n<p>text</p>"
    assert render_comment("![pic](https://tracker.example/x.png)") == "<p></p>"
    assert "<blockquote>" in render_comment("> quoted")
    assert render_comment('<a href="mailto:a@b.org">m</a>').startswith("<p>&lt;a href=")


def test_a_comment_for_a_missing_post_names_the_file_and_line(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/huddles.md": HUDDLES,
            "content/comments/hudles/note.md": "\n" + comment(),
        },
        expect_ok=False,
    )
    assert site.error is not None and site.error.exit_code == 1
    assert site.messages() == [
        "content/comments/hudles/note.md:2: error: "
        "this comment is for a post 'hudles' that does not exist\n"
        "    fix: did you mean 'huddles'? move the file to content/comments/huddles/"
    ]


def test_comment_mistakes_are_reported_at_their_lines(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/huddles.md": HUDDLES,
            "content/comments/huddles/a.md": "---\nauthr: Sam\ndate: 2020-02-30\n---\nHi\n",
            "content/comments/stray.md": comment(),
        },
        expect_ok=False,
    )
    text = "\n".join(site.messages())
    assert (
        "content/comments/huddles/a.md:2: error: unknown front-matter field 'authr' in a comment"
        in text
    )
    assert "fix: did you mean 'author'?" in text
    assert "content/comments/huddles/a.md:1: error: this comment has no author" in text
    assert "content/comments/huddles/a.md:3: error: '2020-02-30' is not a real date" in text
    assert (
        "content/comments/stray.md: error: a comment must be in a folder named after its post"
        in text
    )


def test_comments_on_a_draft_post_are_not_an_error_and_not_shown(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/huddles.md": post("Huddles", "2020-04-09", draft="true"),
            "content/comments/huddles/a.md": comment(),
        }
    )
    assert not site.exists("posts/huddles/index.html")


# ---- Sharing and metadata ----


def test_json_ld_cannot_break_out_of_its_script_element(build_site):
    title = "Ending </script><script>alert(1)</script> & more"
    site = build_site(
        {**BASE, "content/posts/x.md": post(json.dumps(title), "2020-04-09", tags="[a&b]")}
    )
    html = site.read("posts/x/index.html")
    start = html.index('<script type="application/ld+json">') + len(
        '<script type="application/ld+json">'
    )
    end = html.index("</script>", start)
    data = json.loads(html[start:end])
    assert data["headline"] == title
    assert data["@type"] == "BlogPosting"
    assert data["datePublished"] == "2020-04-09T00:00:00+01:00"
    assert data["keywords"] == ["Staff wellbeing and system resilience", "a&b"]
    assert data["url"] == "https://example.org/posts/x/"
    assert "<script>alert" not in html


def test_json_ld_escapes():
    assert json_ld({"t": "</script><!--&"}) == '{"t":"\\u003c/script\\u003e\\u003c!--\\u0026"}'


def test_twitter_card_and_absolute_og_image(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/pic.md": post("Pic", "2020-04-09", body="![A board](/images/board.png)"),
            "content/images/board.png": b"\x89PNG fake",
            "content/posts/plain.md": post("Plain", "2020-04-10"),
        }
    )
    site.assert_lines(
        "posts/pic/index.html",
        """
        <meta property="og:image" content="https://example.org/images/board.png">
        <meta name="twitter:card" content="summary_large_image">
        <meta name="twitter:image" content="https://example.org/images/board.png">
        "image":"https://example.org/images/board.png"
        """,
    )
    site.assert_lines(
        "posts/plain/index.html",
        """
        <meta name="twitter:card" content="summary_large_image">
        <meta name="twitter:title" content="Plain">
        <meta property="og:image" content="https://example.org/posts/plain/card.png">
        """,  # no image of its own: its preview card (issue 14)
    )


def test_first_image_ignores_svg_and_resolves_relative_urls():
    assert (
        first_image('<img alt="" src="/a.svg"><img src="b.jpg">', "https://e.org/posts/x/")
        == "https://e.org/posts/x/b.jpg"
    )
    assert first_image("<p>none</p>", "https://e.org/") is None


# ---- Accessibility statement ----


def test_accessibility_statement_from_site_yaml(build_site):
    site = build_site(
        {
            "site.yaml": SITE_YAML + ACCESS + "  known_issues:\n    - Some older PDFs are not tagged.\n",
            "content/posts/a.md": post("A", "2020-04-09"),
        }
    )
    site.assert_lines(
        "accessibility/index.html",
        """
        <h1>Accessibility statement for Test Site</h1>
        <a href="mailto:access@example.org">access@example.org</a>
        last reviewed on <time datetime="2021-11-01">1 November 2021</time>
        <li>Some older PDFs are not tagged.</li>
        partially compliant
        """,
    )
    site.assert_lines("index.html", '<a href="/accessibility/">Accessibility statement</a>')
    assert "<loc>https://example.org/accessibility/</loc>" in site.read("sitemap.xml")
    assert site.problems == []


def test_a_statement_without_contact_or_review_date_still_renders(build_site):
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-09")})
    site.assert_lines(
        "accessibility/index.html",
        """
        please tell the team that runs it.
        ! mailto:
        ! last reviewed
        """,
    )


def test_a_bad_review_date_is_a_config_error_at_its_line(build_site):
    yaml = (SITE_YAML + ACCESS).replace("reviewed: 2021-11-01", "reviewed: 1 Nov 2021")
    site = build_site(
        {"site.yaml": yaml, "content/posts/a.md": post("A", "2020-04-09")}, expect_ok=False
    )
    assert site.error is not None and site.error.exit_code == 2
    line = yaml.splitlines().index("  reviewed: 1 Nov 2021") + 1
    assert site.messages() == [
        f"site.yaml:{line}: error: accessibility.reviewed should be a date, not '1 Nov 2021'\n"
        "    fix: for example: reviewed: 2024-03-01"
    ]


def test_a_page_cannot_take_the_accessibility_url(build_site):
    site = build_site(
        {**TINY_BASE, "content/pages/accessibility.md": "---\ntitle: Access\n---\nHi\n"}, expect_ok=False
    )
    assert "the page URL /accessibility/ is reserved" in "\n".join(site.messages())


# ---- Search ----


def test_search_index_covers_post_and_page_bodies_with_a_theme_filter(build_site):
    site = build_site(
        {
            **BASE,
            "content/posts/a.md": post("A", "2020-04-09", "[staff-wellbeing, space-to-learn]"),
            "content/posts/b.md": post("B", "2020-04-10", "[space-to-learn]"),
            "content/pages/about.md": "---\ntitle: About\n---\nWho we are.\n",
        }
    )
    assert site.exists("pagefind/pagefind-ui.js")  # where the search page loads it from
    assert site.exists("pagefind/pages/pagefind.js")  # the primary index carries the engine
    assert not site.exists("pagefind/posts-2020/pagefind.js")  # merged ones use the primary's
    assert urls_by_shard(site.out) == {"pages": {"/about/"}, "posts-2020": {"/posts/a/", "/posts/b/"}}
    assert theme_filter(site.out, "/posts/a/") == ["Space and support to learn", "Staff wellbeing and system resilience"]
    assert site.result is not None and site.result.search_pages == 3
    assert "search" in site.result.timings
    site.assert_lines(
        "posts/a/index.html",
        """
        <article class="post" data-pagefind-body data-pagefind-filter="Type:Posts">
        data-pagefind-filter="Theme">Staff wellbeing and system resilience</a>
        """,
    )
    # Related posts' chips must not add their themes to this post's filter values.
    related = site.read("posts/a/index.html").split('class="related"')[1]
    assert "data-pagefind-filter" not in related
    site.assert_lines("about/index.html", '<article class="page" data-pagefind-body data-pagefind-filter="Type:Pages">')
    for listing in ("index.html", "themes/space-to-learn/index.html", "archive/index.html"):
        site.assert_lines(listing, "! data-pagefind-body")
    site.assert_lines(
        "search/index.html",
        """
        <div id="search" class="search-ui" data-base-url="/"></div>
        <noscript>
        Search needs JavaScript
        <li><a href="/themes/staff-wellbeing/">Staff wellbeing and system resilience</a></li>
        <script src="/pagefind/pagefind-ui.js"></script>
        """,
    )
    site.assert_lines("index.html", '<a href="/search/">')


def test_search_results_link_under_a_sub_path_base_url(build_site):
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-09")}, base_url="https://example.org/q-blog/")
    site.assert_lines(
        "search/index.html",
        """
        data-base-url="/q-blog/"
        <script src="/q-blog/pagefind/pagefind-ui.js"></script>
        <link rel="stylesheet" href="/q-blog/pagefind/pagefind-ui.css">
        """,
    )


def test_no_search_builds_without_an_index_and_says_so_on_the_search_page(build_site):
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-09")}, search=False)
    assert not site.exists("pagefind")
    assert site.result is not None and site.result.search_pages is None
    site.assert_lines(
        "search/index.html",
        """
        Search is not available on this copy of the site.
        ! pagefind-ui.js
        """,
    )


def test_a_failed_index_leaves_the_previous_site_in_place(build_site, tmp_path, monkeypatch):
    files = {**BASE, "content/posts/a.md": post("A", "2020-04-09")}
    first = build_site(files)
    before = first.read("posts/a/index.html")
    broken = tmp_path / "pagefind-broken"
    broken.write_text("#!/bin/sh\necho 'Error: something broke' >&2\nexit 3\n")
    broken.chmod(broken.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(broken))
    files["content/posts/a.md"] = post("A changed", "2020-04-09")
    second = build_site(files, expect_ok=False)
    assert second.error is not None and second.error.exit_code == 2
    assert "search indexing failed (exit 3): Error: something broke" in second.messages()[0]
    assert second.read("posts/a/index.html") == before
    assert second.exists("pagefind/pages/pagefind.js") or second.exists("pagefind/posts-2020/pagefind.js")
    assert urls_by_shard(second.out) == {"posts-2020": {"/posts/a/"}}
    leftovers = [p.name for p in second.out.parent.iterdir() if ".staging-" in p.name]
    assert leftovers == []


def test_cli_build_reports_indexing_time_and_no_search(tmp_path: Path, capsys, monkeypatch):
    from conftest import copy_templates, write_files

    write_files(tmp_path, {**BASE, "content/posts/a.md": post("A", "2020-04-09")})
    copy_templates(tmp_path)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1638360000")
    assert cli.main(["build", "--source", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert re.search(r"search \d+ ms[,)]", out)
    assert re.search(r"Search: indexed 1 pages in 1 shards; re-indexed 1 in \d+ ms\.", out)
    (tmp_path / "content/pages").mkdir(exist_ok=True)
    (tmp_path / "content/pages/about.md").write_text("---\ntitle: About\n---\nAbout us.\n")
    assert cli.main(["build", "--source", str(tmp_path)]) == 0  # a new page: a new shard, which becomes the primary
    assert re.search(r"Search: indexed 2 pages in 2 shards; re-indexed 2 in \d+ ms\.", capsys.readouterr().out)
    assert cli.main(["build", "--source", str(tmp_path)]) == 0  # nothing changed: the quick path
    assert "Search: no page changed, so the index was kept." in capsys.readouterr().out
    assert cli.main(["build", "--source", str(tmp_path), "--no-search"]) == 0
    assert "Search: not indexed (--no-search)." in capsys.readouterr().out
    assert not (tmp_path / "output" / "pagefind").exists()


@pytest.mark.skipif(os.name != "posix", reason="uses a shell script as a fake binary")
def test_a_missing_pagefind_binary_says_how_to_install_it(build_site, tmp_path, monkeypatch):
    monkeypatch.setenv("PAGEFIND_BINARY_PATH", str(tmp_path / "nowhere" / "pagefind"))
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-09")}, expect_ok=False)
    assert site.messages() == [
        "pagefind: error: the Pagefind binary was not found\n"
        "    fix: install it with: pip install 'pagefind[bin]' (or build with --no-search)"
    ]


def test_check_accepts_the_search_page_before_the_index_exists(tmp_path: Path):
    """``qsite check`` renders in memory, where Pagefind's bundle is not written yet."""
    from qsite.check import check_site

    from conftest import copy_templates, write_files

    write_files(tmp_path, {**BASE, "content/posts/a.md": post("A", "2020-04-09")})
    copy_templates(tmp_path)
    report = check_site(tmp_path)
    assert [p.format() for p in report.errors] == []
