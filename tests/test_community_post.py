"""Issue 11's "Done when", end to end: the community post this project was made for (a byline
that is a role, three pull-quotes, a key finding, commenters with affiliations and the author's
reply to one of them) written as qsite content and rendered faithfully, on the web page, in the
lists and in the month's email edition. The site below reproduces the example site's
``content/posts/2021-09-15-what-a-year-of-member-led-learning-taught-us.md`` in miniature, on the
production theme; then the gaps found while writing that post, each with its own test."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from qsite import cli, markup

from conftest import BASE, TINY_BASE, BuildSite, edition_file, post, write_files

SLUG = "a-year-of-member-led-learning"
HEAD = "---\nname: Grace Adeyemi\nrole: Head of Q\norganisation: The Improvement Network\n---\nGrace leads Q.\n"

# (name, role) of each pull-quote, in the order the post gives them.
VOICES = [
    ("Rhian Morgan", "Q member and community physiotherapist"),
    ("Kofi Mensah", "ward sister and first-time session lead"),
    ("Siobhan Kerr", "improvement adviser, primary care"),
]


def _pullquote(name: str, role: str, words: str) -> str:
    return f'!!! quote "{name}, {role}"\n    {words}\n\n'


BODY = (
    '!!! finding "In short"\n'
    "    Members learned most when a session began with a real problem.\n\n"
    "A year ago we asked our members what would help them learn from each other.\n\n"
    "## Start with a problem\n\nThe best sessions began with what went wrong.\n\n"
    + _pullquote(*VOICES[0], "Nobody learns much from a success story told backwards.")
    + "## Let the people who did the work lead\n\nAttendance rose when they did.\n\n"
    + _pullquote(*VOICES[1], "Having someone go through it with me beforehand made all the difference.")
    + "## End with a commitment\n\nWho will try this by next month?\n\n"
    + _pullquote(*VOICES[2], "People came back with stories instead of slides.")
)
SUMMARY = "A year ago we asked our members what would help them learn from each other."
INTRO = "Three members' words from this month's post stayed with us.\n\n" + "".join(
    _pullquote(name, role, f"Words of {name}.") for name, role in VOICES
)


def _comment(author: str, date: str, **extra: str) -> str:
    lines = [f"author: {author}", f"date: {date}", *(f"{k}: {v}" for k, v in extra.items())]
    return "---\n" + "\n".join(lines) + f"\n---\nWords of {author}.\n"


COMMENTS = f"content/comments/{SLUG}/"
COMMUNITY_POST = {
    **BASE,
    # a contact for the accessibility statement: without one `check --strict` warns (issue 13)
    "site.yaml": BASE["site.yaml"] + "accessibility:\n  contact: accessibility@example.org\n",
    "content/authors/grace.md": HEAD,
    f"content/posts/2021-09-15-{SLUG}.md": post(
        "Learning from each other", "2021-09-15", "[collaborative-improvement]", body=BODY, author="grace"
    ),
    COMMENTS + "2021-09-16-owen.md": _comment(
        "Owen Pritchard", "2021-09-16", role="Q member, seconded to an acute trust"
    ),
    COMMENTS + "2021-09-17-grace.md": _comment(
        "Grace Adeyemi", "2021-09-17", author_id="grace", reply_to="2021-09-16-owen"
    ),
    COMMENTS + "2021-09-20-lucy.md": _comment(
        "Lucy Tan", "2021-09-20", role="Q member, improvement facilitator in community mental health"
    ),
    "content/digests/2021-09.md": edition_file(SLUG, body=INTRO),
}


class _Comments(HTMLParser):
    """Each comment of a page (``li.comment``) with the comment it is nested in, read by an HTML
    parser: a regular expression could not tell a reply from the comment listed after it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []  # the id of each open <li> that is a comment, else None
        self.parents: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "li":
            return
        found = dict(attrs)
        is_comment = "comment" in (found.get("class") or "").split()
        if is_comment:
            self.parents[found["id"] or ""] = next((c for c in reversed(self.stack) if c), None)
        self.stack.append(found["id"] if is_comment else None)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li":
            self.stack.pop()


def _thread(html: str) -> dict[str, str | None]:
    parser = _Comments()
    parser.feed(html)
    return parser.parents


def _ld(html: str) -> dict:
    return json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html).group(1))


def _figures(html: str) -> list[tuple[str, str, str, str]]:
    """(figure's attributes, blockquote's, the quoted words, figcaption's attributes + caption)
    of each pull-quote: a figure holding a blockquote and then its caption, nothing else."""
    return re.findall(
        r"<figure([^>]*)>\s*<blockquote([^>]*)>\s*<p[^>]*>([^<]*)</p>\s*</blockquote>\s*"
        r"(<figcaption[^>]*>[^<]*</figcaption>)\s*</figure>",
        html,
    )


def test_the_community_post_renders_faithfully_on_the_web_in_lists_and_in_the_email(build_site: BuildSite):
    site = build_site(COMMUNITY_POST)
    assert site.problems == []
    html = site.read(f"posts/{SLUG}/index.html")

    # The byline: the name linked to the profile, the role, and a count that includes the reply.
    site.assert_lines(
        f"posts/{SLUG}/index.html",
        """
        by <a class="author-link" href="/authors/grace/">Grace Adeyemi</a> <span class="author-role">(Head of Q)</span>
        <a href="#comments">3 comments</a>
        <h2 id="comments-heading">Comments <span class="count">(3)</span></h2>
        """,
    )
    ld = _ld(html)
    assert ld["author"] == [{"@type": "Person", "name": "Grace Adeyemi", "url": "https://example.org/authors/grace/"}]
    assert ld["commentCount"] == 3

    # The key finding first, then the three pull-quotes, each a captioned figure, in order.
    assert html.index('class="callout callout-finding" role="note"') < html.index("<figure")
    figures = _figures(html)
    assert [(f[0], f[3]) for f in figures] == [
        (' class="pullquote"', f"<figcaption>— {name}, {role}</figcaption>") for name, role in VOICES
    ]
    assert html.count("<figure") == 3 and "!!!" not in html
    assert html.count('<li><a href="#') == 3, "three sections: the list of contents is shown"

    # The thread: the author's reply nested under the comment it answers, named for screen
    # readers, with the badge; the other commenter's comment stays at the top level.
    assert _thread(html) == {
        "comment-2021-09-16-owen": None,
        "comment-2021-09-17-grace": "comment-2021-09-16-owen",
        "comment-2021-09-20-lucy": None,
    }
    reply = html[html.index('id="comment-2021-09-17-grace"'):html.index('id="comment-2021-09-20-lucy"')]
    assert '<span class="visually-hidden">In reply to Owen Pritchard: </span>' in reply
    assert '<strong class="badge badge-author">Post author</strong>' in reply
    assert '<a href="/authors/grace/">Grace Adeyemi</a></strong>, <span class="comment-role">Head of Q</span>' in reply
    for name, role in [("Owen Pritchard", "Q member, seconded to an acute trust"),
                       ("Lucy Tan", "Q member, improvement facilitator in community mental health")]:
        assert f'{name}</strong>, <span class="comment-role">{role}</span>' in html
    assert html.count("badge-author") == 1

    # Lists and link previews summarise the post by its first ordinary paragraph, not its callout.
    assert f'<meta name="description" content="{SUMMARY}">' in html
    assert f"<p>{SUMMARY}</p>" in site.read("index.html")
    assert "began with a real problem" not in site.read("index.html")

    # The email edition: the three pull-quotes inline-styled, the post summarised as on the web.
    email = site.read("digest/2021-09/email.html")
    assert "<style" not in email and "began with a real problem" not in email
    quoted = _figures(email)
    assert [f[3].split(">", 1)[1] for f in quoted] == [f"— {name}, {role}</figcaption>" for name, role in VOICES]
    for figure, blockquote, _words, caption in quoted:
        assert 'style="' in figure and "border-top" in figure
        assert "font-size: 20px" in blockquote
        assert "<figcaption style=" in caption
    assert f"{SUMMARY}</p>" in email
    text = site.read("digest/2021-09/email.txt")
    assert all(f"— {name}, {role}" in text for name, role in VOICES)

    # The author is found from every page, and by search engines.
    assert '<a href="/authors/">Authors</a>' in site.read("index.html")
    site.assert_lines("sitemap.xml", "https://example.org/authors/\nhttps://example.org/authors/grace/")
    site.assert_lines("authors/index.html", '<a href="/authors/grace/">Grace Adeyemi</a>')


def test_the_community_post_passes_the_strict_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    write_files(tmp_path, COMMUNITY_POST)
    assert cli.main(["check", "--strict", "--source", str(tmp_path)]) == 0
    assert "no problems" in capsys.readouterr().out


# -- gaps found while writing the post ---------------------------------------------------------

@pytest.mark.parametrize("opening", ['!!! finding "In short"\n    The finding.\n', '!!! quote "Sam, Head of Q"\n    Words.\n'])
def test_a_post_opening_with_a_callout_is_summarised_by_its_first_ordinary_paragraph(opening: str):
    rendered = markup.render_markdown(opening + "\nThe first paragraph.\n\nThe second.\n")
    assert rendered.summary_html == "<p>The first paragraph.</p>"
    # With no ordinary paragraph at all, the callout's words are better than an empty summary.
    assert markup.render_markdown(opening).summary_html.endswith("</p>")
    assert markup.render_markdown(opening).summary_html != ""


def test_toc_true_lists_third_level_headings_when_there_are_no_second_level_ones(build_site: BuildSite):
    tiny = {
        **TINY_BASE,
        "templates/post.html": "{% for e in post.toc %}toc|{{ e.anchor }}|{{ e.text }}|{{ e.children | length }}|\n{% endfor %}",
    }
    body = "Intro.\n\n### First step\n\nA.\n\n### Second step\n\nB.\n\n### Third step\n\nC.\n"
    site = build_site({**tiny, "content/posts/a.md": post("A", "2020-04-01", body=body, toc="true")})
    assert site.read("posts/a/index.html") == (
        "toc|first-step|First step|0|\ntoc|second-step|Second step|0|\ntoc|third-step|Third step|0|\n"
    )
    # Without toc: true, third-level headings alone never make a list of contents: the
    # threshold counts sections (second-level headings).
    site = build_site({"content/posts/a.md": post("A", "2020-04-01", body=body)})
    assert site.read("posts/a/index.html") == ""


@pytest.mark.parametrize(
    "option", [["--theme", "staff-wellbeing"], ["--tag", "huddles"], ["--draft"], ["--slug", "x"], ["--date", "2020-04-01"]]
)
def test_new_digest_refuses_options_only_a_post_has(tmp_path: Path, capsys: pytest.CaptureFixture[str], option: list[str]):
    write_files(tmp_path, TINY_BASE)
    assert cli.main(["new", "digest", "2020-04", *option, "--source", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"qsite new digest: error: {option[0]} is for posts, not digest editions" in err
    assert not (tmp_path / "content").exists()


def test_new_digest_takes_one_editor(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    write_files(tmp_path, TINY_BASE)
    argv = ["new", "digest", "2020-04", "--author", "Digest Group", "--author", "Sam", "--source", str(tmp_path)]
    assert cli.main(argv) == 2
    assert "qsite new digest: error: an edition has one editor: give --author once" in capsys.readouterr().err
    assert not (tmp_path / "content").exists()


def test_the_footer_links_the_list_of_authors_only_when_there_is_one(build_site: BuildSite):
    site = build_site({**BASE, "content/posts/a.md": post("A", "2020-04-01", author="Ward 7 Team")})
    assert "/authors/" not in site.read("index.html") and not site.exists("authors/index.html")
    site = build_site({"content/authors/grace.md": HEAD})
    for page in ("index.html", "posts/a/index.html", "authors/grace/index.html"):
        assert '<li><a href="/authors/">Authors</a></li>' in site.read(page), page
