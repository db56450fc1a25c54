"""Callouts, pull-quotes and a post's table of contents (issue 11): what editors type, what the
web page and the email edition show, and when a post lists its contents."""

from __future__ import annotations

import re

import pytest

from qsite import markup
from qsite.incremental.cache import Cache

from conftest import BASE, TINY_BASE, BuildSite, edition_file, post

CALLOUTS = """\
Intro paragraph.

!!! note "Before you start"
    Read the *whole* guide.

!!! tip
    Keep huddles to ten minutes.

!!! warning "Mind the gap"
    Cover is thin at night.

!!! finding
    Reception staff saw the problem first.

!!! key-finding "Trust travels with faces"
    Familiar staff got the first conversations going.

!!! quote "Sam Okafor, Head of Q"
    Improvement is a team sport.

Closing paragraph.
"""

# (kind, its title on the page) for each callout above, in order.
KINDS = [
    ("note", "Before you start"),
    ("tip", "Tip"),
    ("warning", "Mind the gap"),
    ("finding", "Key finding"),
    ("finding", "Trust travels with faces"),
]
PULLQUOTE = re.compile(
    r'<figure class="pullquote">\s*<blockquote>\s*<p>Improvement is a team sport\.</p>\s*</blockquote>\s*'
    r"<figcaption>— Sam Okafor, Head of Q</figcaption>\s*</figure>"
)


def _callouts(html: str) -> list[tuple[str, str, str, str]]:
    """(kind, title id, the id naming the callout, title) of each callout, in order."""
    return re.findall(
        r'<div aria-labelledby="([^"]+)" class="callout callout-([a-z-]+)" role="note">\s*'
        r'<p class="callout-title" id="([^"]+)">([^<]*)</p>',
        html,
    )


def test_each_callout_kind_is_a_named_note_and_the_pull_quote_a_captioned_figure():
    html = markup.render_markdown(CALLOUTS).html
    found = _callouts(html)
    assert [(kind, title) for _named_by, kind, _id, title in found] == KINDS
    for named_by, _kind, anchor, _title in found:
        assert named_by == anchor, "the title is the callout's accessible name"
    assert len({anchor for _n, _k, anchor, _t in found}) == len(KINDS), "ids are unique"
    assert PULLQUOTE.search(html), html
    assert "!!!" not in html and "admonition" not in html


def test_a_callout_without_a_title_is_named_by_its_kind_and_an_unknown_kind_still_renders():
    html = markup.render_markdown('!!! finding ""\n    Text.\n\n!!! danger\n    Odd.\n').html
    assert '<div aria-label="Key finding" class="callout callout-finding" role="note">' in html
    assert '<p class="callout-title" id="' in html and ">Danger</p>" in html
    assert "callout callout-danger" in html


def test_a_pull_quote_without_attribution_has_no_empty_caption():
    html = markup.render_markdown("!!! quote\n    Words.\n").html
    assert '<figure class="pullquote">' in html and "<figcaption" not in html


def test_the_markdown_cache_key_holds_the_converter_settings(monkeypatch: pytest.MonkeyPatch):
    """HTML cached before callouts existed must not be reused: the settings are in the key."""
    from qsite.incremental import cache

    before = Cache.markdown_key("!!! note\n    x", "/")
    monkeypatch.setattr(cache, "MARKDOWN_SETTINGS", markup.SETTINGS + "changed")
    assert Cache.markdown_key("!!! note\n    x", "/") != before
    assert "admonition" in markup.SETTINGS


def test_callouts_and_pull_quote_on_the_post_page(build_site: BuildSite):
    site = build_site({**BASE, "content/posts/2020-04-01-a.md": post("A", "2020-04-01", body=CALLOUTS)})
    page = site.read("posts/a/index.html")
    assert [(kind, title) for _n, kind, _i, title in _callouts(page)] == KINDS
    assert PULLQUOTE.search(page)
    css = site.read("static/site.css")
    for kind in ("note", "tip", "warning", "finding"):
        assert f".callout-{kind} {{" in css
    assert ".pullquote blockquote" in css


def _styles(html: str, tag: str, attr: str) -> list[str]:
    """The inline style of each ``<tag …>`` whose attributes include ``attr`` (in any order)."""
    found = []
    for start in re.findall(rf"<{tag}\b[^>]*>", html):
        if attr in start:
            style = re.search(r'style="([^"]*)"', start)
            assert style, f"no inline style on {start}"
            found.append(style.group(1))
    assert found, f"no <{tag}> with {attr}"
    return found


def test_callouts_and_pull_quote_in_the_email_edition_carry_inline_styles(build_site: BuildSite):
    """Mail clients drop <style>: each callout and the pull-quote must be styled in style="…"."""
    files = {
        **BASE,
        "content/posts/2020-04-01-a.md": post("A", "2020-04-01"),
        "content/digests/2020-04.md": edition_file(body=CALLOUTS),
    }
    site = build_site(files)
    email = site.read("digest/2020-04/email.html")
    assert "<style" not in email
    borders = set()
    for kind in ("note", "tip", "warning", "finding"):
        for style in _styles(email, "div", f'class="callout callout-{kind}"'):
            assert "border-left" in style and "background-color" in style
            borders.add(style)
    assert len(borders) == 4, "each kind has its own colour"
    titles = _styles(email, "p", 'class="callout-title"')
    assert len(titles) == len(KINDS) and all("font-weight: bold" in t and "color: #" in t for t in titles)
    assert "border-top" in _styles(email, "figure", 'class="pullquote"')[0]
    assert "font-size: 20px" in _styles(email, "blockquote", "style=")[0]
    assert "color: #4a4f57" in _styles(email, "figcaption", "style=")[0]
    text = site.read("digest/2020-04/email.txt")
    assert "Key finding" in text and "— Sam Okafor, Head of Q" in text


# -- the table of contents --------------------------------------------------------------------

TOC_TINY = {
    **TINY_BASE,
    "templates/post.html": (
        "post|{{ post.url }}|\n{% for e in post.toc %}toc|{{ e.anchor }}|{{ e.text }}|"
        "{% for c in e.children %}sub|{{ c.anchor }}|{{ c.text }}|{% endfor %}\n{% endfor %}"
    ),
}


def _body(sections: int) -> str:
    return "Intro.\n\n" + "".join(f"## Part {n}\n\nText.\n\n### Detail {n}\n\nMore.\n\n" for n in range(1, sections + 1))


def test_contents_from_three_second_level_headings(build_site: BuildSite):
    site = build_site(
        {
            **TOC_TINY,
            "content/posts/2020-04-01-two.md": post("Two", "2020-04-01", body=_body(2)),
            "content/posts/2020-04-02-three.md": post("Three", "2020-04-02", body=_body(3)),
        }
    )
    assert "toc|" not in site.read("posts/two/index.html")
    site.assert_lines(
        "posts/three/index.html",
        """
        toc|part-1|Part 1|sub|detail-1|Detail 1|
        toc|part-2|Part 2|sub|detail-2|Detail 2|
        toc|part-3|Part 3|sub|detail-3|Detail 3|
        """,
    )


def test_front_matter_toc_overrides_the_count(build_site: BuildSite):
    site = build_site(
        {
            **TOC_TINY,
            "content/posts/2020-04-01-short.md": post("Short", "2020-04-01", body=_body(1), toc="true"),
            "content/posts/2020-04-02-long.md": post("Long", "2020-04-02", body=_body(4), toc="false"),
        }
    )
    site.assert_lines("posts/short/index.html", "toc|part-1|Part 1|sub|detail-1|Detail 1|")
    assert "toc|" not in site.read("posts/long/index.html")


def test_toc_must_be_true_or_false(build_site: BuildSite):
    site = build_site(
        {**TOC_TINY, "content/posts/2020-04-01-a.md": post("A", "2020-04-01", toc="sometimes")}, expect_ok=False
    )
    assert site.messages() == [
        "content/posts/2020-04-01-a.md:5: error: toc should be true or false, not 'sometimes'\n    fix: toc: true"
    ]


def test_the_production_post_page_has_a_contents_nav_linking_to_its_headings(build_site: BuildSite):
    site = build_site({**BASE, "content/posts/2020-04-01-a.md": post("A", "2020-04-01", body=_body(3))})
    page = site.read("posts/a/index.html")
    nav = re.search(r'<nav class="toc" aria-label="Contents"[^>]*>(.*?)</nav>', page, re.S)
    assert nav, "a post with three sections lists them"
    links = re.findall(r'href="#([^"]+)"', nav.group(1))
    assert links == ["part-1", "detail-1", "part-2", "detail-2", "part-3", "detail-3"]
    for anchor in links:
        assert f'id="{anchor}"' in page, f"#{anchor} is a heading's own anchor"
    assert ".toc {" in site.read("static/site.css")


def test_many_identical_callouts_cost_no_more_than_as_many_different_ones():
    """Each title's id is unique in its document: finding the next free one must not rescan
    the ones before (5,000 identical callouts once took over the 5-second budget)."""
    import time

    def seconds(text: str) -> float:
        start = time.perf_counter()
        markup.render_markdown(text, time_limit=None)
        return time.perf_counter() - start

    same = '!!! note "Same"\n    Same words.\n\n' * 3000
    different = "".join(f'!!! note "Title {n}"\n    Words {n}.\n\n' for n in range(3000))
    same_time = min(seconds(same) for _ in range(2))
    different_time = min(seconds(different) for _ in range(2))
    assert same_time < 1.5 * different_time + 0.1, (same_time, different_time)
    html = markup.render_markdown(same).html
    assert html.count('id="callout-') == len(set(re.findall(r'id="(callout-[^"]+)"', html))) == 3000


def test_an_unknown_callout_kind_is_a_warning_at_its_line_with_did_you_mean(build_site: BuildSite):
    body = "Intro.\n\n!!! waring \"Careful\"\n    Text.\n\n```\n!!! not-a-callout-in-code\n```\n\n!!! zebra\n    Odd.\n"
    site = build_site({**TINY_BASE, "content/posts/2020-04-01-a.md": post("A", "2020-04-01", body=body)})
    assert site.messages() == [
        "content/posts/2020-04-01-a.md:8: warning: '!!! waring' is not a kind of callout, so it is shown plainly"
        "\n    fix: did you mean '!!! warning'?",
        "content/posts/2020-04-01-a.md:15: warning: '!!! zebra' is not a kind of callout, so it is shown plainly"
        "\n    fix: use one of: note, tip, warning, finding, quote",
    ]
    assert 'class="callout callout-waring"' in site.read("posts/a/index.html")
