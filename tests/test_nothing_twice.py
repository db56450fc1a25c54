"""Nothing shown twice (issue 14): a digest edition shows each post in full once — a pick among
the picks, any other post under the first of its own themes — and as one line ("also in …")
under its other themes, on the web and in the email; the home page's "Latest posts" shows the
editor's picks it has just shown in full as one line each.

Where a post is shown in full is decided in qsite/digest.py; the tiny-template tests print that
data, the production-template tests count what a reader sees (each summary once)."""

from __future__ import annotations

import html
import re

from conftest import BASE, TINY_BASE, edition_file, post

# One line per theme section: the posts in full, then the one-line ones with where they are.
SECTIONS = (
    "picks|{% for p in edition.picks %}{{ p.slug }}|{% endfor +%}\n"
    "{% for s in edition.sections %}section|{{ s.theme.slug }}|{{ s.count }}|"
    "full={% for p in s.posts %}{{ p.slug }},{% endfor %}|"
    "also={% for a in s.also %}{{ a.post.slug }}>{{ a.anchor }}>{{ a.shown_in }},{% endfor +%}|\n{% endfor %}"
)
POSTS = {
    # two themes, not picked: in full under space-to-learn (its first), one line under health-inequalities
    "content/posts/a.md": post("Alpha", "2020-04-02", "[space-to-learn, health-inequalities]"),
    # picked, two themes: in full among the picks only
    "content/posts/b.md": post("Bravo", "2020-04-10", "[staff-wellbeing, space-to-learn]"),
    "content/posts/c.md": post("Charlie", "2020-04-20", "[staff-wellbeing]"),
    "content/digests/2020-04.md": edition_file("b"),
}


def test_edition_shows_each_post_in_full_once_and_one_line_under_its_other_themes(build_site):
    site = build_site({**TINY_BASE, **POSTS, "templates/digest.html": SECTIONS})
    lines = site.read("digest/2020-04/index.html").splitlines()
    assert lines == [
        "picks|b|",
        "section|health-inequalities|1|full=|also=a>theme-space-to-learn>Space and support to learn,|",
        "section|staff-wellbeing|2|full=c,|also=b>picks-2020-04>Editor&#39;s picks,|",
        "section|space-to-learn|2|full=a,|also=b>picks-2020-04>Editor&#39;s picks,|",
    ]


def test_post_page_links_to_where_its_edition_shows_it_in_full(build_site):
    site = build_site(
        {**TINY_BASE, **POSTS, "templates/post.html": "{{ post_edition.url }}#{{ post_edition.anchor }}|\n"}
    )
    assert site.read("posts/a/index.html") == "/digest/2020-04/#theme-space-to-learn|\n"
    assert site.read("posts/b/index.html") == "/digest/2020-04/#picks-2020-04|\n"


def test_home_latest_posts_knows_which_posts_the_picks_above_show(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "site.yaml": TINY_BASE["site.yaml"].replace("posts_per_page: 10", "posts_per_page: 1"),
            "templates/index.html": "{{ pager.number }}|{{ digest.shown_above | sort | join(',') }}|\n",
            "content/posts/a.md": post("Alpha", "2020-04-02", featured="true"),
            "content/posts/b.md": post("Bravo", "2020-04-03"),
        }
    )
    assert site.read("index.html") == "1|a|\n"
    assert site.read("page/2/index.html") == "2||\n"  # no picks above the later pages


# --- what readers see, with the production templates ----------------------------------------


def _summaries(text: str, *titles: str) -> dict[str, int]:
    return {t: text.count(f"Summary of {t}.") for t in titles}


def _with_summaries(files: dict[str, str]) -> dict[str, str]:
    """Each post with a summary naming it, so a page's copies of that summary can be counted."""
    out = {}
    for path, text in files.items():
        if path.startswith("content/posts/"):
            title = text.split("title: ")[1].split("\n")[0]
            text = text.replace("---\nBody", f"summary: Summary of {title}.\n---\nBody")
        out[path] = text
    return out


def test_edition_page_and_email_show_each_summary_exactly_once(build_site):
    site = build_site({**BASE, **_with_summaries(POSTS)})
    for name in ("index.html", "email.html", "email.txt"):
        text = html.unescape(re.sub(r"<[^>]+>", "", site.read(f"digest/2020-04/{name}")))
        assert _summaries(text, "Alpha", "Bravo", "Charlie") == {"Alpha": 1, "Bravo": 1, "Charlie": 1}, name
        assert "also in Space and support to learn" in text, name
        assert "also in Editor's picks" in text, name
    page = site.read("digest/2020-04/index.html")
    assert 'href="/digest/2020-04/#theme-space-to-learn">Space and support to learn</a>' in page


def test_home_shows_a_featured_post_in_full_once(build_site):
    files = {
        **BASE,
        "content/posts/a.md": post("Alpha", "2020-04-02", featured="true"),
        "content/posts/b.md": post("Bravo", "2020-04-03"),
    }
    site = build_site(_with_summaries(files))
    home = site.read("index.html")
    assert _summaries(home, "Alpha", "Bravo") == {"Alpha": 1, "Bravo": 1}
    assert '<li class="post-card post-card-compact"><a href="/posts/a/">Alpha</a>' in home
