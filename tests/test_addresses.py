"""Addresses (issue 11): the permalink scheme of posts and redirect pages for old addresses.

Whole sites, written inline and built with the tiny templates of conftest (``redirect.html``
prints ``redirect|<its path>|<target url>|<target permalink>|<target title>|``), except the
tests of what the production redirect page says, which use the repository's templates."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from qsite import cli
from qsite.search import what_pagefind_reads

from conftest import BASE, REPO, SITE_YAML, TINY_BASE, BuildSite, post, write_files

DATED = SITE_YAML + "permalinks:\n  post: /:year/:month/:day/:slug/\n"

# Each post page prints its theme neighbours and its related posts: with two posts sharing a
# slug, a table keyed by slug would give both the same ones.
POST_WITH_LINKS = (
    "post|{{ post.url }}|{{ post.title }}|\n"
    "{% for n in neighbours %}older={{ n.older.url if n.older else '' }}|newer={{ n.newer.url if n.newer else '' }}|\n"
    "{% endfor %}{% for r in related %}related={{ r.url }}|\n{% endfor %}"
)


def award(year: int, title: str) -> str:
    return post(title, f"{year}-03-05", tags="[awards]")


# -- Permalinks ------------------------------------------------------------------------------


def test_a_dated_scheme_publishes_two_posts_of_different_years_sharing_a_slug(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "site.yaml": DATED,
        "templates/post.html": POST_WITH_LINKS,
        "content/posts/2019-03-05-andrew-hyder-award.md": award(2019, "Award 2019"),
        "content/posts/2021-03-05-andrew-hyder-award.md": award(2021, "Award 2021"),
    })
    site.assert_lines("2019/03/05/andrew-hyder-award/index.html", """
        post|/2019/03/05/andrew-hyder-award/|Award 2019|
        older=|newer=/2021/03/05/andrew-hyder-award/|
        related=/2021/03/05/andrew-hyder-award/|
    """)
    site.assert_lines("2021/03/05/andrew-hyder-award/index.html", """
        post|/2021/03/05/andrew-hyder-award/|Award 2021|
        older=/2019/03/05/andrew-hyder-award/|newer=|
        related=/2019/03/05/andrew-hyder-award/|
    """)
    site.assert_lines("index.html", """
        /2021/03/05/andrew-hyder-award/|Award 2021|
        /2019/03/05/andrew-hyder-award/|Award 2019|
    """)
    site.assert_lines("feed.xml", """
        https://example.org/2021/03/05/andrew-hyder-award/|Award 2021|
        https://example.org/2019/03/05/andrew-hyder-award/|Award 2019|
    """)
    site.assert_lines("sitemap.xml", """
        https://example.org/2019/03/05/andrew-hyder-award/|
        https://example.org/2021/03/05/andrew-hyder-award/|
    """)
    assert not site.exists("posts/andrew-hyder-award/index.html")


def test_year_and_month_come_from_the_date_in_the_sites_timezone(build_site: BuildSite) -> None:
    # 23:30 in London on 31 December is already 1 January in UTC: the London date is the one shown
    site = build_site({
        **TINY_BASE,
        "site.yaml": SITE_YAML + "permalinks:\n  post: /:year/:month/:slug/\n",
        "content/posts/new-year.md": post("New year", '"2020-12-31T23:30:00+00:00"'),
    })
    site.assert_lines("2020/12/new-year/index.html", "post|/2020/12/new-year/|New year|")


def test_the_default_scheme_still_reports_two_posts_sharing_a_slug(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "content/posts/2019-03-05-andrew-hyder-award.md": award(2019, "Award 2019"),
        "content/posts/2021-03-05-andrew-hyder-award.md": award(2021, "Award 2021"),
    }, expect_ok=False)
    assert site.messages() == [
        "content/posts/2021-03-05-andrew-hyder-award.md: error: this and "
        "content/posts/2019-03-05-andrew-hyder-award.md would both be published at /posts/andrew-hyder-award/\n"
        "    fix: give one of them a different 'slug:' or file name, or put the date in every post's address: "
        "permalinks: {post: /:year/:month/:day/:slug/} in site.yaml"
    ]


def test_a_scheme_without_a_folder_collides_a_post_with_a_page(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "site.yaml": SITE_YAML + "permalinks:\n  post: /:slug/\n",
        "content/pages/about.md": "---\ntitle: About\n---\nUs.\n",
        "content/posts/2020-01-01-about.md": post("About our year", "2020-01-01"),
    }, expect_ok=False)
    assert [p.message for p in site.problems] == [
        "this and content/pages/about.md would both be published at /about/"
    ]


def test_a_scheme_without_slug_is_a_config_error_at_its_line(tmp_path: Path, capsys) -> None:
    root = tmp_path / "site"
    write_files(root, {**TINY_BASE, "site.yaml": SITE_YAML + "permalinks:\n  post: /:year/:month/\n"})
    assert cli.main(["build", "--source", str(root)]) == 2
    err = capsys.readouterr().err
    line = SITE_YAML.count("\n") + 2
    assert f"site.yaml:{line}: error: the post address '/:year/:month/' has no :slug" in err
    assert "fix: put :slug in it, for example: post: /:year/:slug/" in err


def test_a_mistyped_part_of_the_scheme_gets_a_did_you_mean(tmp_path: Path, capsys) -> None:
    root = tmp_path / "site"
    write_files(root, {**TINY_BASE, "site.yaml": SITE_YAML + "permalinks:\n  post: /:yaer/:slug/\n  page: /x/\n"})
    assert cli.main(["build", "--source", str(root)]) == 2
    err = capsys.readouterr().err
    line = SITE_YAML.count("\n") + 2
    assert f"site.yaml:{line}: error: the post address has an unknown part ':yaer'\n    fix: did you mean ':year'?" in err
    assert f"site.yaml:{line + 1}: error: unknown setting 'permalinks.page'" in err


def test_comments_and_picks_naming_a_shared_slug_are_errors_naming_both_posts(build_site: BuildSite) -> None:
    # A comment folder or a digest pick names a post by its slug: with two posts of that slug,
    # qsite says so at the comment and the pick instead of guessing which one is meant.
    site = build_site({
        **TINY_BASE,
        "site.yaml": DATED,
        "content/posts/2019-03-05-andrew-hyder-award.md": award(2019, "Award 2019"),
        "content/posts/2021-03-05-andrew-hyder-award.md": award(2021, "Award 2021"),
        "content/comments/andrew-hyder-award/ann.md": "---\nauthor: Ann\ndate: 2021-03-06\n---\nWell done.\n",
        "content/digests/2021-03.md": "---\neditor: Digest Group\npicks:\n  - andrew-hyder-award\n---\nIntro.\n",
    }, expect_ok=False)
    both = "content/posts/2019-03-05-andrew-hyder-award.md and content/posts/2021-03-05-andrew-hyder-award.md"
    assert sorted(p.location() + ": " + p.message for p in site.problems) == [
        f"content/comments/andrew-hyder-award/ann.md: this comment's folder 'andrew-hyder-award' is the slug of {both}",
        f"content/digests/2021-03.md:4: the pick 'andrew-hyder-award' is the slug of {both}",
    ]
    assert all("aliases:" in (p.fix or "") for p in site.problems)


# -- Aliases ---------------------------------------------------------------------------------

RENAMED = post(
    "Running virtual huddles", "2020-04-09",
    aliases="\n  - /posts/virtual-huddles/\n  - /2020/04/huddles\n  - /huddles.html",
)


def test_each_alias_publishes_a_redirect_page_to_the_post(build_site: BuildSite) -> None:
    site = build_site({**TINY_BASE, "content/posts/2020-04-09-running-virtual-huddles.md": RENAMED})
    target = "/posts/running-virtual-huddles/|https://example.org/posts/running-virtual-huddles/|Running virtual huddles|"
    site.assert_lines("posts/virtual-huddles/index.html", f"redirect|posts/virtual-huddles/|{target}")
    site.assert_lines("2020/04/huddles/index.html", f"redirect|2020/04/huddles/|{target}")  # a folder: ends in /
    site.assert_lines("huddles.html", f"redirect|huddles.html|{target}")  # a file path stays one


def test_a_page_can_have_aliases_too(build_site: BuildSite) -> None:
    site = build_site({**TINY_BASE, "content/pages/about.md": "---\ntitle: About\naliases: [/about-us/]\n---\nUs.\n"})
    site.assert_lines("about-us/index.html", "redirect|about-us/|/about/|https://example.org/about/|About|")


def test_the_redirect_page_refreshes_names_the_canonical_address_and_is_not_indexed(build_site: BuildSite) -> None:
    site = build_site({**BASE, "content/posts/2020-04-09-running-virtual-huddles.md": RENAMED})
    page = site.read("posts/virtual-huddles/index.html")
    assert '<meta http-equiv="refresh" content="0; url=/posts/running-virtual-huddles/">' in page
    assert '<link rel="canonical" href="https://example.org/posts/running-virtual-huddles/">' in page
    assert '<meta name="robots" content="noindex">' in page
    assert '<a href="/posts/running-virtual-huddles/">Running virtual huddles</a>' in page  # for people
    assert what_pagefind_reads(page.encode()) is None  # no data-pagefind-body: not in the search index


def test_aliases_stay_out_of_the_sitemap_and_feeds(build_site: BuildSite) -> None:
    site = build_site({**BASE, "content/posts/2020-04-09-running-virtual-huddles.md": RENAMED})
    for name in ("sitemap.xml", "feed.xml", "themes/staff-wellbeing/feed.xml"):
        text = site.read(name)
        assert "posts/running-virtual-huddles/" in text
        assert "virtual-huddles/" not in text.replace("running-virtual-huddles/", "")
        assert "huddles.html" not in text and "2020/04/huddles" not in text


def test_an_alias_on_a_sub_path_site_redirects_within_it(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "site.yaml": SITE_YAML.replace("https://example.org/", "https://example.org/q-blog/"),
        "content/posts/2020-04-09-running-virtual-huddles.md": RENAMED,
    })
    site.assert_lines(
        "posts/virtual-huddles/index.html",
        '<meta http-equiv="refresh" content="0; url=/q-blog/posts/running-virtual-huddles/">',
    )


def test_bad_aliases_are_errors_at_their_lines(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "content/posts/2020-04-09-huddles.md": post(
            "Huddles", "2020-04-09",
            aliases="\n  - old/huddles/\n  - /a/../b/\n  - /huddles.php\n  - /x?y=1\n  - /same/\n  - /same\n  - /same/index.html",
        ),
    }, expect_ok=False)
    assert [p.location() + ": " + p.message for p in site.problems] == [
        "content/posts/2020-04-09-huddles.md:6: the alias 'old/huddles/' must start with / "
        "(an address on this site, from its root)",
        "content/posts/2020-04-09-huddles.md:7: the alias '/a/../b/' has an empty, . or .. part",
        "content/posts/2020-04-09-huddles.md:8: the alias '/huddles.php' names a file a redirect page cannot be: "
        "only a folder (/old/) or an .html file",
        "content/posts/2020-04-09-huddles.md:9: the alias '/x?y=1' can only be a path: no spaces, ?, # or \\",
        "content/posts/2020-04-09-huddles.md:11: the alias /same is listed twice",
        "content/posts/2020-04-09-huddles.md:12: the alias /same/index.html is listed twice",
    ]


def test_an_alias_taking_a_pages_address_is_an_error_naming_both_files(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "content/pages/about.md": "---\ntitle: About\n---\nUs.\n",
        "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-09", aliases="[/about/]"),
    }, expect_ok=False)
    assert [p.format() for p in site.problems] == [
        "content/posts/2020-04-09-huddles.md:5: error: the alias /about/ is the address of content/pages/about.md\n"
        "    fix: remove the alias, or change one of the two addresses"
    ]


def test_two_aliases_at_one_address_are_an_error_naming_both_files(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-09", aliases="[/old/]"),
        "content/posts/2020-04-10-rounds.md": post("Rounds", "2020-04-10", aliases="\n  - /other/\n  - /old"),
    }, expect_ok=False)
    assert [p.location() + ": " + p.message for p in site.problems] == [
        "content/posts/2020-04-09-huddles.md:5: the alias /old/ is also an alias in content/posts/2020-04-10-rounds.md:7"
    ]


def test_an_alias_taking_qsites_own_or_its_own_address_is_an_error(build_site: BuildSite) -> None:
    site = build_site({
        **TINY_BASE,
        "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-09", aliases="[/tags/, /posts/huddles/]"),
    }, expect_ok=False)
    assert [p.location() + ": " + p.message for p in site.problems] == [
        "content/posts/2020-04-09-huddles.md:5: the alias /posts/huddles/ is this page's own address",
        "content/posts/2020-04-09-huddles.md:5: the alias /tags/ is the address of qsite's own page /tags/",
    ]


def test_an_alias_of_a_draft_is_published_with_it(build_site: BuildSite) -> None:
    files = {**TINY_BASE, "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-09", aliases="[/old/]",
                                                                       draft="true")}
    assert not build_site(files).exists("old/index.html")
    assert build_site(files, drafts=True).exists("old/index.html")


# -- qsite check and qsite serve follow aliases ----------------------------------------------


def checked_site(root: Path, body: str, **more: str) -> Path:
    write_files(root, {
        **TINY_BASE,
        "content/posts/2020-04-09-running-virtual-huddles.md": RENAMED.replace(
            "Body text.", "## What we learned\n\nText.\n"
        ),
        "content/posts/2020-05-01-links.md": post("Links", "2020-05-01", body=body),
        **more,
    })
    return root


def test_check_accepts_a_link_to_an_alias_and_follows_it_to_its_anchor(tmp_path: Path, capsys) -> None:
    root = checked_site(tmp_path / "site", "See [the old address](/posts/virtual-huddles/#what-we-learned).")
    assert cli.main(["check", "--source", str(root)]) == 0
    assert "error" not in capsys.readouterr().err


def test_check_reports_an_anchor_missing_where_an_alias_leads(tmp_path: Path, capsys) -> None:
    root = checked_site(tmp_path / "site", "Intro.\n\nSee [the old address](/2020/04/huddles/#what-we-found).")
    assert cli.main(["check", "--source", str(root)]) == 1
    err = capsys.readouterr().err
    assert (
        "content/posts/2020-05-01-links.md:8: error: there is no #what-we-found on /posts/running-virtual-huddles/ "
        "(where /2020/04/huddles/ leads)\n    fix: did you mean #what-we-learned?"
    ) in err


def test_check_reports_a_redirect_page_whose_target_is_gone(tmp_path: Path, capsys) -> None:
    # a redirect page written by hand (an old site's) is checked like the ones qsite writes
    moved = '<!DOCTYPE html>\n<html><head>\n<meta http-equiv="refresh" content="0; url=/posts/gone/">\n</head></html>\n'
    root = checked_site(tmp_path / "site", "See [the old page](/moved.html).", **{"content/moved.html": moved})
    assert cli.main(["check", "--source", str(root)]) == 1
    err = capsys.readouterr().err
    assert "content/moved.html:3: error: the page or file /posts/gone/ does not exist" in err
    assert "links.md" not in err  # the link to the redirect page itself is fine


def test_serve_answers_an_alias_with_its_redirect_page(tmp_path: Path) -> None:
    from test_serve import Server

    root = checked_site(tmp_path / "site", "Text.")
    proc = subprocess.Popen(
        [sys.executable, "-m", "qsite", "serve", "--port", "0", "--source", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, cwd=REPO,
    )
    try:
        server = Server(proc, tmp_path)
        status, body, _ = server.get("/posts/virtual-huddles/")
        assert status == 200
        assert '<meta http-equiv="refresh" content="0; url=/posts/running-virtual-huddles/">' in body
        assert server.get("/2020/04/huddles")[0] == 200  # a folder alias without its slash, as on GitHub Pages
        assert "redirect|huddles.html|" in server.get("/huddles.html")[1]
    finally:
        proc.kill()
        proc.wait()
