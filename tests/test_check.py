"""`qsite check` (issue 4): every broken internal link, anchor, image and missing alt text in
the rendered site, at the line of the file to fix, without writing anything.

The sites use tiny templates (conftest.TINY, and LISTS below): the links checked are those the
test writes, in Markdown or in a one-line template. Three tests keep the production templates on
purpose, each saying why: a clean site (the real templates' own links must all resolve) and the
two that blame a link on ``templates/base.html``, the layout every production page extends."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qsite import cli
from qsite.build import Options
from qsite.check import (
    ADDRESS_FIX,
    ANCHOR_FIX,
    IMAGE_FIX,
    Report,
    check_site,
    scan_html,
)

import conftest
from conftest import NOW, copy_templates, post, write_files

# With a contact for the accessibility statement: without one `check --strict` warns (issue 13,
# tests/test_statement.py), and these sites are about links.
SITE_YAML = conftest.SITE_YAML + "accessibility:\n  contact: accessibility@example.org\n"
BASE = {**conftest.BASE, "site.yaml": SITE_YAML}
TINY_BASE = {**conftest.TINY_BASE, "site.yaml": SITE_YAML}

SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'

# Lists that repeat each post's first paragraph, as the production home, theme and tag pages do.
_SUMMARIES = "{% for p in pager.items %}{{ p.url }}|{{ p.summary_html | safe }}|\n{% endfor %}"
LISTS = {
    **TINY_BASE,
    "templates/index.html": _SUMMARIES,
    "templates/theme.html": _SUMMARIES,
    "templates/tag.html": _SUMMARIES,
}


def make_site(root: Path, files: dict[str, str]) -> Path:
    write_files(root, files)
    copy_templates(root)
    return root


def check(root: Path, files: dict[str, str], **options: object) -> Report:
    make_site(root, files)
    return check_site(root, Options(now=NOW, **options))  # type: ignore[arg-type]


def messages(report: Report) -> list[str]:
    return sorted(p.format() for p in report.problems)


def test_a_clean_site_has_no_problems(tmp_path: Path) -> None:
    # The production templates: every link they print on every page must resolve too.
    report = check(
        tmp_path,
        {
            **BASE,
            "content/images/board.svg": SVG,
            "content/posts/a.md": post(
                "A",
                "2020-04-01",
                body="Intro.\n\n## What we did\n\n"
                "See [B](/posts/b/), [its notes](/posts/b/#notes), [below](#what-we-did),\n"
                "[the board](../../images/board.svg), [outside](https://nhs.uk/x),\n"
                "[mail](mailto:a@b.c).\n\n"
                "![A huddle board with four columns](/images/board.svg)\n",
            ),
            "content/posts/b.md": post("B", "2020-04-02", body="## Notes\n\nText."),
        },
    )
    assert report.rendered
    assert messages(report) == []
    assert report.pages > 10 and report.links > 50


def test_broken_links_anchors_and_images_are_errors_at_their_line(tmp_path: Path) -> None:
    body = (
        "Intro paragraph.\n"  # line 6 of the file: front matter is lines 1-5
        "\n"
        "A [missing post](/posts/nope/) here.\n"
        "A [typo](/posts/bee/) here.\n"
        "An [anchor](/posts/b/#nowhere) and [another](#nor-here).\n"
        "![A chart](/images/missing.png)\n"
        "A [relative one](../c/).\n"
        "An [absolute own link](https://example.org/tags/nothing/).\n"
    )
    report = check(
        tmp_path,
        {
            **TINY_BASE,
            "content/posts/a.md": post("A", "2020-04-01", body=body),
            "content/posts/bee-keeping.md": post("Bees", "2020-04-03"),
            "content/posts/b.md": post("B", "2020-04-02", body="## Notes\n\nText."),
        },
    )
    assert messages(report) == sorted(
        [
            "content/posts/a.md:8: error: the page or file /posts/nope/ does not exist\n    fix: " + ADDRESS_FIX,
            "content/posts/a.md:9: error: the page or file /posts/bee/ does not exist\n"
            "    fix: did you mean /posts/bee-keeping/?",
            "content/posts/a.md:10: error: there is no #nowhere on /posts/b/\n    fix: " + ANCHOR_FIX,
            "content/posts/a.md:10: error: there is no #nor-here on this page\n    fix: " + ANCHOR_FIX,
            "content/posts/a.md:11: error: the image /images/missing.png does not exist\n    fix: " + IMAGE_FIX,
            "content/posts/a.md:12: error: the page or file ../c/ does not exist\n    fix: " + ADDRESS_FIX,
            "content/posts/a.md:13: error: the page or file https://example.org/tags/nothing/"
            " does not exist\n"
            "    fix: " + ADDRESS_FIX,
        ]
    )


def test_images_need_alt_text(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        {
            **TINY_BASE,
            "content/images/a.svg": SVG,
            "content/posts/a.md": post(
                "A",
                "2020-04-01",
                body='Intro.\n\n![](/images/a.svg)\n\n<img src="/images/a.svg">\n',
            ),
        },
    )
    assert [(p.severity, p.line, p.message) for p in sorted(report.problems, key=lambda p: p.line or 0)] == [
        (
            "warning",
            8,
            "the image /images/a.svg has empty alt text, so screen readers say nothing",
        ),
        ("error", 10, "the image /images/a.svg has no alt text"),
    ]


def test_a_broken_link_in_a_first_paragraph_is_reported_once_at_the_post(tmp_path: Path) -> None:
    """The first paragraph is repeated on the home, theme and tag pages; the fix is in the post."""
    report = check(
        tmp_path,
        {
            **LISTS,
            "content/posts/a.md": post("A", "2020-04-01", body="See [this](/posts/gone/).", tags="[x]"),
        },
    )
    assert [p.format().splitlines()[0] for p in report.problems] == [
        "content/posts/a.md:7: error: the page or file /posts/gone/ does not exist"
    ]


def test_relative_links_in_a_first_paragraph_work_on_list_pages(tmp_path: Path) -> None:
    """`[below](#notes)` works on the post, and the home page, which repeats the paragraph,
    gets it resolved against the post's URL, so it works there too."""
    report = check(
        tmp_path,
        {
            **LISTS,
            "content/posts/a.md": post("A", "2020-04-01", body="See [below](#notes).\n\n## Notes\n\nText."),
        },
    )
    assert report.problems == []


def test_a_broken_anchor_in_a_first_paragraph_is_reported_once(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        {**LISTS, "content/posts/a.md": post("A", "2020-04-01", body="See [below](#nowhere).\n\nText.")},
    )
    assert [p.format().splitlines()[0] for p in report.problems] == [
        "content/posts/a.md:6: error: there is no #nowhere on this page"
    ]


def test_a_broken_link_in_a_template_is_reported_once_at_the_template_line(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        {
            **TINY_BASE,
            "templates/post.html": "{{ post.title }}\n<a href=\"/contact-us/\">Contact</a>\n",
            "content/posts/a.md": post("A", "2020-04-01"),
            "content/posts/b.md": post("B", "2020-04-02"),
        },
    )
    [problem] = report.problems
    assert problem.path == "templates/post.html"
    assert problem.line == 2
    assert problem.message.startswith("the page or file /contact-us/ does not exist (on ")


def test_links_on_a_sub_path_site(tmp_path: Path) -> None:
    """On a site published at /q-blog/, editors still write /posts/b/ (the base path is added
    when rendering); a link outside the base path cannot work once published."""
    report = check(
        tmp_path,
        {
            **TINY_BASE,
            "site.yaml": SITE_YAML.replace("https://example.org/", "https://example.org/q-blog/"),
            "content/posts/a.md": post(
                "A",
                "2020-04-01",
                body='[B](/posts/b/), [nope](/posts/c/)\n\n<a href="/elsewhere/">x</a>',
            ),
            "content/posts/b.md": post("B", "2020-04-02"),
        },
    )
    assert sorted(p.format().splitlines()[0] for p in report.problems) == [
        "content/posts/a.md:6: error: the page or file /q-blog/posts/c/ does not exist",
        "content/posts/a.md:8: error: the link /elsewhere/ points outside the site's folder /q-blog/",
    ]


def test_front_matter_problems_are_all_reported_and_stop_the_link_check(tmp_path: Path) -> None:
    report = check(
        tmp_path,
        {
            **TINY_BASE,
            "content/posts/a.md": post("A", "2020-04-01", themes="[staf-wellbeing]", body="[x](/nope/)"),
            "content/posts/b.md": "---\ntitle: B: the sequel\n---\n",
        },
    )
    assert not report.rendered
    assert [p.format().splitlines()[0] for p in sorted(report.problems)] == [
        "content/posts/a.md:4: error: there is no theme 'staf-wellbeing'",
        "content/posts/b.md:2: error: this is not valid YAML: mapping values are not allowed here",
    ]


def test_a_hundred_problems_are_a_hundred_reports(tmp_path: Path) -> None:
    files = dict(TINY_BASE)
    for n in range(100):
        files[f"content/posts/p{n}.md"] = post(f"P{n}", "2020-04-01", body=f"Intro.\n\n[broken](/posts/missing-{n}/)")
    report = check(tmp_path, files)
    assert len(report.errors) == 100
    assert {p.path for p in report.errors} == {f"content/posts/p{n}.md" for n in range(100)}


def test_drafts_are_checked_only_when_asked(tmp_path: Path) -> None:
    files = {
        **TINY_BASE,
        "content/posts/a.md": post("A", "2020-04-01", body="[x](/posts/gone/)", draft="true"),
    }
    assert check(tmp_path, files).problems == []
    assert len(check(tmp_path, files, drafts=True).problems) == 1


def test_scan_html_sees_ids_names_srcset_and_alt() -> None:
    scan = scan_html(
        '<h2 id="a">A</h2><a name="b"></a>'
        '<img src="/x.png" srcset="/x1.png 1x, /x2.png 2x" alt="X">'
        '<img src="/y.png"><img src="/z.png" alt="  "><link rel="stylesheet" href="/s.css">'
    )
    assert scan.ids == {"a", "b"}
    assert [r.url for r in scan.refs] == [
        "/x.png",
        "/x1.png",
        "/x2.png",
        "/y.png",
        "/z.png",
        "/s.css",
    ]
    assert scan.images_without_alt == [("/y.png", True), ("/z.png", False)]


# -- the command: exit codes, annotations, the output folder ------------------------------------


BROKEN = {
    **TINY_BASE,
    "content/posts/a.md": post('"A: colon, comma"', "2020-04-01", body="Intro.\n\n[broken](/posts/gone/)"),
}


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    clean = make_site(tmp_path / "clean", {**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01")})
    assert cli.main(["check", "--strict", "--source", str(clean)]) == 0
    assert "no problems" in capsys.readouterr().out

    warned = make_site(
        tmp_path / "warned",
        {
            **TINY_BASE,
            "content/images/a.svg": SVG,
            "content/posts/a.md": post("A", "2020-04-01", body="Intro.\n\n![](/images/a.svg)"),
        },
    )
    assert cli.main(["check", "--source", str(warned)]) == 0
    assert cli.main(["check", "--strict", "--source", str(warned)]) == 1
    err = capsys.readouterr().err
    assert "content/posts/a.md:8: warning: the image /images/a.svg has empty alt text" in err
    assert "Failing because of --strict" in err

    broken = make_site(tmp_path / "broken", BROKEN)
    assert cli.main(["check", "--source", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "content/posts/a.md:8: error: the page or file /posts/gone/ does not exist" in err
    assert "Found 1 error." in err

    bad_config = make_site(tmp_path / "config", {**TINY_BASE, "site.yaml": SITE_YAML + "post_per_page: 3\n"})
    assert cli.main(["check", "--source", str(bad_config)]) == 2
    assert "site.yaml:20: error: unknown setting 'post_per_page'" in capsys.readouterr().err


def test_github_annotations(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    site = make_site(tmp_path / "site", BROKEN)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    assert cli.main(["check", "--source", str(site)]) == 1
    assert "::error" not in capsys.readouterr().out

    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_WORKSPACE", str(tmp_path))
    assert cli.main(["check", "--source", str(site)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == (
        "::error file=site/content/posts/a.md,line=8::the page or file /posts/gone/ does not exist"
        "%0AFix: " + ADDRESS_FIX
    )

    write_files(site, {"content/posts/a.md": post("A", "2020-04-01", themes="[staf-wellbeing]")})
    assert cli.main(["check", "--source", str(site)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        "::error file=site/content/posts/a.md,line=4::there is no theme 'staf-wellbeing'"
        "%0AFix: did you mean 'staff-wellbeing'?"
    )


def test_annotation_escapes_properties_and_data(tmp_path: Path) -> None:
    from qsite.annotations import annotation
    from qsite.problems import Problem

    write_files(tmp_path, {"content/posts/a,b:c.md": "x"})
    line = annotation(Problem("content/posts/a,b:c.md", 3, "100% wrong\nreally", "do this"), tmp_path)
    assert line.startswith("::error file=")
    assert line.endswith("content/posts/a%2Cb%3Ac.md,line=3::100%25 wrong%0Areally%0AFix: do this")
    assert annotation(Problem("--base-url", None, "bad", severity="warning"), tmp_path) == "::warning::--base-url: bad"


def test_check_never_touches_the_output_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    site = make_site(tmp_path, {**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01")})
    assert cli.main(["check", "--source", str(site)]) == 0
    assert not (site / "output").exists()

    write_files(site, {"output/.qsite-output": "", "output/index.html": "old site"})
    before = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (site / "output").rglob("*")}
    assert cli.main(["check", "--source", str(site)]) == 0
    write_files(site, {"content/posts/a.md": post("A", "2020-04-01", body="[x](/gone/)")})
    assert cli.main(["check", "--source", str(site)]) == 1
    after = {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in (site / "output").rglob("*")}
    assert after == before
    assert sorted(os.listdir(site)) == ["content", "output", "site.yaml", "templates"]


def test_the_example_site_passes_the_strict_check_ci_runs() -> None:
    from conftest import REPO

    report = check_site(REPO, Options(now=NOW))
    assert report.rendered
    assert [p.format() for p in report.problems] == []
    assert report.links > 1000


def test_a_broken_nav_link_is_reported_at_its_line_in_site_yaml(tmp_path: Path) -> None:
    site_yaml = SITE_YAML + "nav:\n  - title: About us\n    url: /about-us/\n"
    nav = "{% for link in site.nav %}<a href=\"{{ url(link.url) }}\">{{ link.title }}</a>{% endfor %}"
    files = {
        **TINY_BASE,
        "site.yaml": site_yaml,
        "templates/index.html": nav,  # the nav on more than one page, as in every production page
        "templates/post.html": nav,
        "content/posts/a.md": post("A", "2020-04-01"),
    }
    report = check(tmp_path, files)
    [problem] = report.problems
    assert (problem.path, problem.line) == ("site.yaml", 22)
    assert problem.message.startswith("the page or file /about-us/ does not exist (on ")


def test_a_link_made_by_a_template_expression_on_every_page_is_blamed_on_base_html(
    tmp_path: Path,
) -> None:
    # The production templates: the link is in the layout every page extends.
    make_site(tmp_path, {**BASE, "content/posts/a.md": post("A", "2020-04-01")})
    base = tmp_path / "templates/base.html"
    base.write_text(base.read_text().replace("</footer>", "<a href=\"{{ url('help/') }}\">Help</a></footer>"))
    [problem] = check_site(tmp_path, Options(now=NOW)).problems
    assert (problem.path, problem.line) == ("templates/base.html", None)
    assert problem.message.startswith("the page or file /help/ does not exist (on ")


def test_a_broken_link_in_an_edition_file_is_reported_at_its_line(tmp_path: Path) -> None:
    """An editor's introduction is shown by the edition's page and its email edition (there with
    absolute links): the job that made both names the edition file, so the link is reported
    once, at its line there, not blamed on a template."""
    report = check(
        tmp_path,
        {
            **TINY_BASE,
            "templates/digest.html": "{{ edition.intro_html | safe }}",
            "templates/email.html": "<html><body>{{ edition.intro_html | safe }}</body></html>",
            "content/posts/a.md": post("A", "2020-04-01"),
            "content/digests/2020-04.md": "---\neditor: Digest group\n---\nThis month, see [the notes](/notes/).\n",
        },
    )
    assert [p.format().splitlines()[0] for p in report.problems] == [
        "content/digests/2020-04.md:4: error: the page or file /notes/ does not exist"
    ]
