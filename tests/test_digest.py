"""The learning digest (issue 3), as whole sites: editions grouped by period and theme, edition
files and their mistakes, the digest feed, the email edition and `qsite digest`.

Behaviour tests build with tiny templates (conftest.TINY, and DIGEST below) that print exactly
the edition values under test. The email edition tests keep the production templates on
purpose: they check what qsite/email.py makes of the real email template (inlined CSS, absolute
links, wrapped text). The production digest pages' markup is tested in tests/test_templates.py."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from qsite import cli
from qsite.build import Options, build

from conftest import BASE, REPO, SITE_YAML, TINY, TINY_BASE, edition_file, post

# (qsite's Jinja drops the newline after a block tag: ``+%}`` keeps it.)
# An edition page and the list of editions, one value per line: the edition, its intro, its
# picks in order, each theme section's posts in order, and its neighbours.
EDITION = (
    "edition|{{ edition.url }}|{{ edition.title }}|{{ edition.date_range }}|{{ edition.count }}|"
    "complete={{ edition.complete }}|editor={{ edition.editor or '' }}|\n"
    "intro|{{ edition.intro_html | safe }}|\n"
    "picks|{% for p in edition.picks %}{{ p.title }}|{% endfor +%}\n"
    "{% for s in edition.sections %}section|{{ s.theme.slug }}|{% for p in s.posts %}{{ p.title }}|{% endfor %}"
    "{% for a in s.also %}also:{{ a.post.title }}|{% endfor +%}\n{% endfor %}"
    "older={{ older.url if older else '' }}|{{ older.label if older else '' }}|"
    "newer={{ newer.url if newer else '' }}|{{ newer.label if newer else '' }}|\n"
)
EDITIONS = (
    "{% for e in digest.editions %}{{ e.url }}|{{ e.title }}|{{ e.count }}|"
    "{{ e.themes | map(attribute='slug') | join(',') }}|\n{% endfor %}"
)
DIGEST = {**TINY_BASE, "templates/digest.html": EDITION, "templates/digests.html": EDITIONS}
WEEKLY = {**DIGEST, "site.yaml": SITE_YAML + "digest:\n  period: week\n"}


def section(html: str, anchor: str) -> str:
    """The HTML of one theme section of an edition page."""
    match = re.search(rf'<section class="digest-theme[^"]*" id="{anchor}".*?</section>', html, re.S)
    assert match, f"no section {anchor}"
    return match.group(0)


# --- grouping -------------------------------------------------------------------------------


def test_edition_groups_posts_under_themes_in_site_order_counting_each_post_once(build_site):
    site = build_site(
        {
            **DIGEST,
            "content/posts/a.md": post("Alpha", "2020-04-02", "[space-to-learn, health-inequalities]"),
            "content/posts/b.md": post("Bravo", "2020-04-20", "[staff-wellbeing]"),
            "content/posts/c.md": post("Charlie", "2020-05-01", "[staff-wellbeing]"),
        }
    )
    page = site.read("digest/2020-04/index.html")
    site.assert_lines("digest/2020-04/index.html", "edition|/digest/2020-04/|April 2020|1–30 April 2020|2|\n! Charlie")
    # sections follow site.yaml's theme order; a post with two themes is in both, counted once,
    # in full under its first theme only (issue 14, tests/test_nothing_twice.py)
    sections = [line for line in page.splitlines() if line.startswith("section|")]
    assert sections == ["section|health-inequalities|also:Alpha|", "section|staff-wellbeing|Bravo|", "section|space-to-learn|Alpha|"]
    # newest first
    assert site.read("digest/index.html") == (
        "/digest/2020-05/|May 2020|1|staff-wellbeing|\n"
        "/digest/2020-04/|April 2020|2|health-inequalities,staff-wellbeing,space-to-learn|\n"
    )


def test_periods_without_posts_have_no_edition_and_neighbours_skip_them(build_site):
    site = build_site(
        {
            **DIGEST,
            "content/posts/a.md": post("Alpha", "2020-04-02"),
            "content/posts/c.md": post("Charlie", "2020-06-01"),
        }
    )
    assert not site.exists("digest/2020-05/index.html")
    site.assert_lines("digest/2020-04/index.html", "older=||newer=/digest/2020-06/|June 2020|")
    site.assert_lines("digest/2020-06/index.html", "older=/digest/2020-04/|April 2020|newer=||")


def test_month_boundary_is_in_the_site_timezone(build_site):
    # 23:30 on 31 March in London is March; 23:30 UTC that day is 00:30 on 1 April in London (BST).
    site = build_site(
        {
            **DIGEST,
            "content/posts/late.md": post("Late in London", "2020-03-31 23:30"),
            "content/posts/utc.md": post("Late in UTC", "2020-03-31T23:30:00Z"),
        }
    )
    site.assert_lines("digest/2020-03/index.html", "section|staff-wellbeing|Late in London|\n! Late in UTC")
    site.assert_lines("digest/2020-04/index.html", "section|staff-wellbeing|Late in UTC|\n! Late in London")


def test_weekly_digest_uses_iso_weeks_in_the_site_timezone(build_site):
    site = build_site(
        {
            **WEEKLY,
            "content/posts/sun.md": post("Sunday night", "2020-04-19 23:30"),
            "content/posts/mon.md": post("Monday morning", "2020-04-19T23:30:00Z"),
            "content/posts/new-year.md": post("New Year", "2021-01-02"),
        }
    )
    site.assert_lines(
        "digest/2020-W16/index.html",
        """
        edition|/digest/2020-W16/|Week 16, 2020|13–19 April 2020|1|
        section|staff-wellbeing|Sunday night|
        """,
    )
    site.assert_lines("digest/2020-W17/index.html", "|20–26 April 2020|1|\nsection|staff-wellbeing|Monday morning|")
    # 2 January 2021 is a Saturday in the last ISO week of 2020, which spans two years.
    site.assert_lines("digest/2020-W53/index.html", "|28 December 2020 – 3 January 2021|1|\nsection|staff-wellbeing|New Year|")
    assert not site.exists("digest/2020-04/index.html")


def test_drafts_and_future_posts_stay_out_of_editions_unless_asked_for(build_site):
    files = {
        **DIGEST,
        "content/posts/a.md": post("Published", "2020-04-02"),
        "content/posts/d.md": post("Still a draft", "2020-04-03", draft="true"),
        "content/posts/f.md": post("Scheduled", "2022-01-05"),  # NOW is 1 December 2021
    }
    site = build_site(files)
    site.assert_lines("digest/2020-04/index.html", "section|staff-wellbeing|Published|\n! Still a draft")
    assert not site.exists("digest/2022-01/index.html")
    site = build_site(files, drafts=True, future=True)
    site.assert_lines("digest/2020-04/index.html", "section|staff-wellbeing|Published|Still a draft|")
    site.assert_lines("digest/2022-01/index.html", "section|staff-wellbeing|Scheduled|")


# --- curated editions -------------------------------------------------------------------------


def test_curated_edition_has_title_editor_intro_and_picks_in_the_editors_order(build_site):
    site = build_site(
        {
            **DIGEST,
            "content/posts/a.md": post("Alpha", "2020-04-02"),
            "content/posts/b.md": post("Bravo", "2020-04-09"),
            "content/posts/c.md": post("Charlie", "2020-04-16"),
            "content/digests/2020-04.md": edition_file(
                "c", "a", title='"April: in a hurry"', body="We learned *fast*."
            ),
        }
    )
    site.assert_lines(
        "digest/2020-04/index.html",
        """
        edition|/digest/2020-04/|April: in a hurry|1–30 April 2020|3|complete=True|editor=Digest Group|
        intro|<p>We learned <em>fast</em>.</p>|
        picks|Charlie|Alpha|
        """,
    )


def _problem_site(build_site, edition: str, **more: str):
    return build_site(
        {
            **DIGEST,
            "content/posts/2020-04-02-alpha.md": post("Alpha", "2020-04-02"),
            "content/posts/2020-05-02-may-post.md": post("May post", "2020-05-02"),
            "content/posts/2020-04-03-drafty.md": post("Drafty", "2020-04-03", draft="true"),
            "content/digests/2020-04.md": edition,
            **more,
        },
        expect_ok=False,
    )


def test_pick_that_does_not_exist_is_an_error_at_its_line_with_a_suggestion(build_site):
    site = _problem_site(build_site, edition_file("alpha", "alpah"))
    assert site.error is not None and site.error.exit_code == 1
    assert site.messages() == [
        "content/digests/2020-04.md:5: error: there is no post 'alpah' to pick\n    fix: did you mean 'alpha'?"
    ]


def test_pick_from_another_period_is_an_error_naming_where_it_belongs(build_site):
    site = _problem_site(build_site, edition_file("may-post"))
    assert site.messages() == [
        "content/digests/2020-04.md:4: error: 'may-post' was published in May 2020, not in April 2020\n"
        "    fix: pick posts published in April 2020 only, or move this pick to content/digests/2020-05.md"
    ]


def test_pick_that_is_a_draft_is_a_warning_and_left_out(build_site):
    site = _problem_site(build_site, edition_file("drafty", "alpha"))
    assert site.error is None
    assert site.messages() == [
        "content/digests/2020-04.md:4: warning: 'drafty' is a draft, so it is left out of this "
        "edition's picks until it is published"
    ]
    site.assert_lines("digest/2020-04/index.html", "picks|Alpha|\n! Drafty")


def test_edition_file_mistakes_are_reported_together(build_site):
    site = _problem_site(
        build_site,
        "---\ntitle: April\npiks: [alpha]\n---\nIntro\n",
        **{"content/digests/2020-4-extra.md": edition_file(), "content/digests/2020-W20.md": edition_file()},
    )
    assert site.messages() == [
        "content/digests/2020-04.md:1: error: this edition does not say who edited it\n"
        "    fix: add a line 'editor: Digest Editorial Group' to the front matter",
        "content/digests/2020-04.md:3: error: unknown front-matter field 'piks'\n    fix: did you mean 'picks'?",
        "content/digests/2020-4-extra.md: error: the file name does not name a period: "
        "'2020-4-extra' is not a month; write it as YYYY-MM, e.g. 2020-04\n"
        "    fix: name the file after the month it covers, e.g. content/digests/2020-04.md",
        "content/digests/2020-W20.md: error: the file name does not name a period: '2020-W20' is a week, "
        "but this site's digest is monthly (digest.period: month); write the month, e.g. 2020-04\n"
        "    fix: name the file after the month it covers, e.g. content/digests/2020-04.md",
    ]


def test_edition_file_for_a_period_without_posts_is_a_warning(build_site):
    site = _problem_site(build_site, edition_file(), **{"content/digests/2020-07.md": edition_file()})
    assert site.messages() == [
        "content/digests/2020-07.md: warning: no posts are published in July 2020, so this edition "
        "is not built\n    fix: check the file name's period, or publish a post dated in it"
    ]
    assert not site.exists("digest/2020-07/index.html")


def test_unknown_digest_period_setting_is_a_config_error(build_site):
    site = build_site({"site.yaml": SITE_YAML + "digest:\n  period: weekly\n"}, expect_ok=False)
    assert site.error is not None and site.error.exit_code == 2
    assert site.messages() == [
        "site.yaml:19: error: 'digest.period' should be one of month, week, not 'weekly'\n"
        "    fix: did you mean 'week'?"
    ]


# --- home, theme and post pages ---------------------------------------------------------------


def test_home_shows_latest_finished_edition_and_featured_posts(build_site):
    site = build_site(
        {
            **DIGEST,
            "templates/index.html": (
                "latest|{{ digest.latest.url if digest.latest else '' }}|{{ digest.latest.title if digest.latest else '' }}|\n"
                "featured|{% for p in digest.featured %}{{ p.url }}|{% endfor +%}\n"
            ),
            "content/posts/a.md": post("Alpha", "2020-04-02", featured="true"),
            "content/posts/b.md": post("Bravo", "2021-10-09"),
            "content/posts/c.md": post("Charlie", "2021-12-01 09:00"),  # December is not over
            "content/digests/2021-10.md": edition_file(title="October learning"),
        }
    )
    site.assert_lines("index.html", "latest|/digest/2021-10/|October learning|\nfeatured|/posts/a/|")
    site.assert_lines("digest/2021-12/index.html", "edition|/digest/2021-12/|December 2021|1–31 December 2021|1|complete=False|")


def test_theme_page_shows_its_most_recent_takeaways(build_site):
    site = build_site(
        {
            **DIGEST,
            "templates/theme.html": (
                "{% for p in digest.takeaways[theme.slug] %}{{ p.url }}|{{ p.takeaways | join('|') }}|\n{% endfor %}"
            ),
            "content/posts/a.md": post("Alpha", "2020-04-02", takeaways="[Old lesson]"),
            "content/posts/b.md": post("Bravo", "2020-05-02", takeaways="[Ask reception first, Keep it short]"),
            "content/posts/c.md": post("Charlie", "2020-06-02", "[space-to-learn]", takeaways="[Elsewhere]"),
        }
    )
    # newest first, only this theme's
    assert site.read("themes/staff-wellbeing/index.html") == "/posts/b/|Ask reception first|Keep it short|\n/posts/a/|Old lesson|\n"


def test_post_links_back_to_its_edition(build_site):
    site = build_site(
        {
            **DIGEST,
            "templates/post.html": "{{ post_edition.url }}|{{ post_edition.label }}|",
            "content/posts/a.md": post("Alpha", "2020-04-02", "[space-to-learn]"),
        }
    )
    site.assert_lines("posts/a/index.html", "/digest/2020-04/|April 2020|")


def test_the_digest_maps_each_post_to_its_edition_without_hashing_the_map_in_page_keys(build_site):
    """``Digest.by_post`` is made from the editions, not kept as a field: a page key hashes a
    dataclass's fields, and the digests index (whose context holds the whole digest) is keyed
    again after every post edit. Templates still read it."""
    from dataclasses import fields

    from qsite.digest import Digest

    assert "by_post" not in {f.name for f in fields(Digest)}
    site = build_site({
        **DIGEST,
        "templates/digests.html": "{% for key, e in digest.by_post | dictsort %}{{ key }}={{ e.url }}|{% endfor %}",
        "content/posts/a.md": post("Alpha", "2020-04-02"),
        "content/posts/b.md": post("Bravo", "2020-05-02"),
    })
    assert site.read("digest/index.html").count("=/digest/2020-0") == 2
    assert "=/digest/2020-04/|" in site.read("digest/index.html") and "=/digest/2020-05/|" in site.read("digest/index.html")


def test_digest_pages_are_in_the_sitemap(build_site):
    site = build_site({**DIGEST, "content/posts/a.md": post("Alpha", "2020-04-02")})
    site.assert_lines(
        "sitemap.xml",
        """
        https://example.org/digest/|
        https://example.org/digest/2020-04/|
        https://example.org/posts/a/|
        """,
    )


# --- the digest feed ----------------------------------------------------------------------------


def test_digest_feed_has_one_entry_per_finished_edition(build_site):
    site = build_site(
        {
            **DIGEST,
            "content/posts/a.md": post("Alpha", "2020-04-02"),
            "content/posts/b.md": post("Bravo", "2020-06-02", "[health-inequalities, space-to-learn]"),
            "content/posts/c.md": post("Charlie", "2021-12-01 09:00"),  # December 2021 is not over
            "content/digests/2020-06.md": edition_file("b", title='"June: reflecting"'),
        }
    )
    # newest first; updated is when the newest finished edition last changed, not the clock
    assert site.read("digest/feed.xml") == (
        "digest feed|2020-07-01T00:00:00+01:00|\n"
        "https://example.org/digest/2020-06/|June: reflecting|\n"
        "https://example.org/digest/2020-04/|April 2020|\n"
    )


# --- the email edition ---------------------------------------------------------------------------

# The production email templates, on purpose: these tests check what qsite/email.py makes of
# the real email edition (inlined CSS, absolute links, text wrapped at 72 columns).
EMAIL_SITE = {
    **BASE,
    "content/posts/a.md": post(
        "Alpha & the ward",
        "2020-04-02",
        "[staff-wellbeing, space-to-learn]",
        summary="A summary with a [link](/posts/b/).",
        takeaways="[First lesson, Second lesson]",
    ),
    "content/posts/b.md": post("Bravo", "2020-04-09", "[health-inequalities]", body="![Board](/images/board.png)"),
    "content/posts/c.md": post("Charlie", "2020-04-20", "[collaborative-improvement]"),
    "content/digests/2020-04.md": edition_file(
        "b",
        title='"April: in a hurry"',
        body=(
            "Read [our about page](/about/) and [Charlie](../../posts/c/).\n\n"
            '<script>alert("no")</script>\n\n'
            '<p style="color: red">Styled</p>\n\n'
            "![A huddle board](/images/board.png)\n\n- one\n- two\n"
        ),
    ),
}


def test_email_edition_is_self_contained_with_inlined_css_and_absolute_links(build_site):
    site = build_site(EMAIL_SITE)
    html = site.read("digest/2020-04/email.html")
    assert "<style" not in html.lower()
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    urls = re.findall(r"""\s(?:href|src)\s*=\s*["']([^"']*)["']""", html)
    assert len(urls) > 10
    bad = [u for u in urls if not re.match(r"https?://example\.org/", u)]
    assert bad == []
    assert "https://example.org/posts/c/" in urls  # a relative link, resolved against the edition
    assert 'src="https://example.org/images/board.png"' in html
    assert 'color: red">Styled</p>' in html  # the editor's own inline style survives
    # The CSS rules now sit in style attributes.
    assert re.search(r'<body style="[^"]*font-family: Arial', html)
    assert re.search(r'<table class="container"[^>]*width="600"[^>]*style="[^"]*max-width: 600px', html)
    widths = [int(w) for w in re.findall(r'\swidth="(\d+)"', html)]
    widths += [int(w) for w in re.findall(r"width:\s*(\d+)px", html)]
    assert widths and max(widths) <= 600
    # The preheader comes first in the body and is hidden.
    body = html[html.index("<body") :]
    assert re.match(r'<body[^>]*>\s*<div class="preheader" style="display: none;', body)
    assert "3 posts from April 2020: Bravo" in body
    # Every post, linked by its permanent address, and the takeaways.
    for slug in ("a", "b", "c"):
        assert f'href="https://example.org/posts/{slug}/"' in html
    assert "Alpha &amp; the ward" in html
    assert "<li>First lesson</li>" in html


def test_text_edition_has_every_post_title_and_url_and_the_intro_links_in_full(build_site):
    site = build_site(EMAIL_SITE)
    text = site.read("digest/2020-04/email.txt")
    for title, slug in (("Alpha & the ward", "a"), ("Bravo", "b"), ("Charlie", "c")):
        assert f"* {title}\n  https://example.org/posts/{slug}/\n" in text
    assert text.startswith("April: in a hurry\n=================\n")
    assert "https://example.org/digest/2020-04/" in text
    assert "Read our about page (https://example.org/about/) and Charlie\n(https://example.org/posts/c/)." in text
    assert "[Image: A huddle board] (https://example.org/images/board.png)" in text
    assert "- one\n- two" in text
    assert "  - First lesson\n  - Second lesson\n" in text
    assert "<" not in text and "&amp;" not in text
    assert 'alert("no")' not in text
    assert "STAFF WELLBEING AND SYSTEM RESILIENCE\n" in text
    for line in text.splitlines():
        if len(line) > 72:
            assert "://" in line or line.lstrip("* ") in ("Alpha & the ward",), line


# --- qsite digest --------------------------------------------------------------------------------


@pytest.fixture
def digest_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from conftest import write_files

    root = tmp_path / "site"
    # The command's output and the files it names do not depend on the templates: tiny ones.
    write_files(root, EMAIL_SITE | TINY | {"content/posts/d.md": post("Delta", "2020-06-05")})
    monkeypatch.chdir(tmp_path)
    # "now" for the command: 10 July 2020, so June 2020 is the latest month that has ended.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2020, 7, 10, tzinfo=UTC).timestamp())))
    return root


def test_qsite_digest_prints_the_files_of_the_latest_ended_period(digest_site, capsys):
    assert cli.main(["digest", "--source", str(digest_site)]) == 0
    out = capsys.readouterr().out
    assert "The June 2020 edition: 1 post" in out
    assert f"{digest_site / 'output' / 'digest/2020-06/email.html'}" in out
    assert (digest_site / "output" / "digest" / "2020-06" / "email.txt").is_file()


def test_qsite_digest_print_writes_exactly_the_email_file(digest_site, capsysbinary):
    build(digest_site, Options())
    for form, name in (("html", "email.html"), ("text", "email.txt")):
        assert cli.main(["digest", "2020-04", "--print", form, "--source", str(digest_site)]) == 0
        printed = capsysbinary.readouterr().out
        assert printed == (digest_site / "output" / "digest" / "2020-04" / name).read_bytes()


def test_qsite_digest_with_an_empty_or_unknown_period_names_the_nearest_editions(digest_site, capsys):
    assert cli.main(["digest", "2020-05", "--print", "html", "--source", str(digest_site)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        "qsite digest: error: there is no edition for May 2020: no posts were published then\n"
        "    fix: the nearest editions are 2020-04 (April 2020, 3 posts) and 2020-06 (June 2020, 1 post): "
        "run 'qsite digest 2020-04'"
    ) in captured.err
    assert cli.main(["digest", "2020-W20", "--source", str(digest_site)]) == 2
    assert "'2020-W20' is a week, but this site's digest is monthly" in capsys.readouterr().err


def test_qsite_digest_without_period_when_last_month_was_empty_is_an_error(digest_site, capsys, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(datetime(2020, 8, 3, tzinfo=UTC).timestamp())))
    assert cli.main(["digest", "--print", "text", "--source", str(digest_site)]) == 2
    err = capsys.readouterr().err
    assert "the latest month that has ended is July 2020, and it has no edition" in err
    assert "the nearest edition is 2020-06 (June 2020, 1 post)" in err


# --- the example site ------------------------------------------------------------------------------


def test_example_site_has_an_edition_for_every_month_with_posts(tmp_path: Path):
    result = build(REPO, Options(output=tmp_path / "out", now=datetime(2022, 1, 1, tzinfo=UTC)))
    assert result.digest is not None
    months = {p.date.astimezone(result.config.tz).strftime("%Y-%m") for p in result.site.posts}
    assert {e.key for e in result.digest.editions} == months
    curated = [e for e in result.digest.editions if e.source]
    assert len(curated) >= 2
    assert all(e.picks for e in curated)
    assert not [w for w in result.warnings if "digests" in w.path]
    for key in months:
        for name in ("index.html", "email.html", "email.txt"):
            assert (tmp_path / "out" / "digest" / key / name).is_file()


def test_reader_goes_home_to_latest_digest_to_a_theme_section_to_a_post_and_back(tmp_path: Path):
    """The issue's walk through the example site, following only links printed on each page."""
    out = tmp_path / "out"
    build(REPO, Options(output=out, now=datetime(2022, 1, 1, tzinfo=UTC)))

    def page(url: str) -> str:
        path = url.split("#")[0].lstrip("/")
        return (out / path / "index.html").read_text(encoding="utf-8")

    home = page("/")
    latest = re.search(r'<section class="digest-latest".*?<a href="(/digest/[^"]+/)">', home, re.S)
    assert latest, "the home page links to the latest edition"
    edition = page(latest.group(1))
    toc = re.search(r'<nav class="digest-contents".*?<a href="#(theme-[a-z-]+)">', edition, re.S)
    assert toc, "the edition lists its theme sections"
    anchor = toc.group(1)
    post_url = re.search(r'<a href="(/posts/[^"]+/)">', section(edition, anchor)).group(1)
    back = re.search(r'<p class="in-digest">.*?<a href="([^"]+)">', page(post_url), re.S).group(1)
    assert back.split("#")[0] == latest.group(1)
    assert f'id="{back.split("#")[1]}"' in edition


def test_site_without_posts_has_an_empty_digest(build_site):
    site = build_site({**DIGEST, "templates/index.html": "latest|{{ digest.latest.url if digest.latest else '' }}|"})
    assert site.read("digest/index.html") == ""
    assert site.read("digest/feed.xml") == "digest feed|1970-01-01T00:00:00+00:00|\n"
    assert site.read("index.html") == "latest||"
    assert not [f for f in site.files() if f.startswith("digest/") and f.count("/") > 1]
