"""Editor ergonomics found while writing real content (issue 11): ``qsite new --date``,
``qsite new digest``, a file name's date that disagrees with ``date:``, the placeholder text that
``qsite check --strict`` refuses, and one error (at its cause) for a post rejected for its own
front matter."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite import cli

from conftest import NOW, TINY_BASE, BuildSite, edition_file, post, write_files

WEEKLY = TINY_BASE["site.yaml"] + "digest:\n  period: week\n"


@pytest.fixture
def today_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def _new(root: Path, *argv: str) -> int:
    return cli.main(["new", *argv, "--source", str(root)])


# -- qsite new --date ---------------------------------------------------------------------------


def test_new_with_a_date_names_and_dates_the_post_alike(
    build_site: BuildSite, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    site = build_site(TINY_BASE)
    assert _new(site.root, "Huddles", "--theme", "staff-wellbeing", "--date", "2020-04-09") == 0
    assert capsys.readouterr().out.strip() == "content/posts/2020-04-09-huddles.md"
    text = (site.root / "content/posts/2020-04-09-huddles.md").read_text()
    assert "\ndate: 2020-04-09\n" in text
    built = build_site({})
    built.assert_lines("posts/huddles/index.html", "post|/posts/huddles/|Huddles|2020-04-09T00:00:00+01:00|")
    assert built.problems == []


def test_new_with_an_impossible_date_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_files(tmp_path, TINY_BASE)
    assert _new(tmp_path, "Huddles", "--theme", "staff-wellbeing", "--date", "2020-02-30") == 2
    assert "argument --date: '2020-02-30' is not a date written YYYY-MM-DD" in capsys.readouterr().err
    assert not (tmp_path / "content").exists()


def test_new_post_names_its_kind_and_takes_an_unquoted_title(
    tmp_path: Path, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, TINY_BASE)
    assert _new(tmp_path, "post", "Digest", "of", "huddles", "--theme", "staff-wellbeing") == 0
    assert capsys.readouterr().out.strip() == "content/posts/2021-12-01-digest-of-huddles.md"


# -- the file name's date and date: ------------------------------------------------------------


def test_a_file_name_date_that_disagrees_with_date_is_a_warning_at_the_date_line(build_site: BuildSite) -> None:
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-10"),
            "content/posts/2020-04-11-same.md": post("Same", "2020-04-11 09:30"),
        }
    )
    assert site.messages() == [
        "content/posts/2020-04-09-huddles.md:3: warning: the file name says 2020-04-09 but 'date:' says 2020-04-10"
        "\n    fix: rename the file to 2020-04-10-huddles.md, or correct the date"
    ]
    site.assert_lines("posts/huddles/index.html", "post|/posts/huddles/|Huddles|2020-04-10T00:00:00+01:00|")


# -- qsite new digest ---------------------------------------------------------------------------


def test_new_digest_writes_an_edition_file_that_builds(
    build_site: BuildSite, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        **TINY_BASE,
        "content/posts/2020-04-09-huddles.md": post("Huddles", "2020-04-09"),
        "templates/digest.html": "edition|{{ edition.url }}|{{ edition.editor }}|\n{{ edition.intro_html | safe }}\n",
    }
    site = build_site(files)
    assert _new(site.root, "digest", "2020-4", "--author", "Digest Group") == 0
    assert capsys.readouterr().out.strip() == "content/digests/2020-04.md"
    built = build_site({})
    assert built.problems == []
    built.assert_lines(
        "digest/2020-04/index.html",
        """
        edition|/digest/2020-04/|Digest Group|
        <p>Introduce this edition in a sentence or two
        """,
    )
    # Its commented-out title and summary are valid once uncommented.
    path = site.root / "content/digests/2020-04.md"
    path.write_text(path.read_text().replace("# title:", "title:").replace("# summary:", "summary:"))
    built = build_site({})
    assert built.problems == []
    built.assert_lines("digest/2020-04/index.html", "edition|/digest/2020-04/|Digest Group|")
    assert "title: \"April 2020: what we learned\"" in path.read_text()
    # A second edition for the same month is refused, and the first one is kept.
    before = (site.root / "content/digests/2020-04.md").read_text()
    assert _new(site.root, "digest", "2020-04") == 1
    assert "content/digests/2020-04.md: error: this edition already exists" in capsys.readouterr().err
    assert (site.root / "content/digests/2020-04.md").read_text() == before


def test_new_digest_follows_the_site_period_and_refuses_another(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, {**TINY_BASE, "site.yaml": WEEKLY})
    assert _new(tmp_path, "digest", "2020-w16") == 0
    assert capsys.readouterr().out.strip() == "content/digests/2020-W16.md"
    assert _new(tmp_path, "digest", "2020-04") == 2
    assert "qsite new digest: error:" in capsys.readouterr().err
    assert _new(tmp_path, "digest") == 2
    err = capsys.readouterr().err
    assert "qsite new digest: error: which period is the edition for?" in err
    assert "fix: qsite new digest 2020-04" in err


# -- qsite check --strict and the placeholder text ---------------------------------------------


def test_check_strict_fails_while_the_placeholder_text_of_new_is_left(
    tmp_path: Path, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, TINY_BASE)
    assert _new(tmp_path, "Huddles", "--theme", "staff-wellbeing") == 0
    assert _new(tmp_path, "digest", "2021-12") == 0
    capsys.readouterr()
    check = ["check", "--strict", "--source", str(tmp_path)]
    assert cli.main(["check", "--source", str(tmp_path)]) == 0, "a plain check only warns"
    assert cli.main(check) == 1
    err = capsys.readouterr().err
    assert "content/posts/2021-12-01-huddles.md:9: warning: this is still the placeholder text that 'qsite new' wrote" in err
    assert "content/digests/2021-12.md:8: warning: this is still the placeholder text that 'qsite new' wrote" in err
    for rel, first in (("content/posts/2021-12-01-huddles.md", "Start with"), ("content/digests/2021-12.md", "Introduce")):
        path = tmp_path / rel
        lines = path.read_text().splitlines(keepends=True)
        start = next(i for i, line in enumerate(lines) if line.startswith(first))
        lines[start : start + 2] = ["We met every morning for ten minutes.\n"]
        path.write_text("".join(lines))
    assert cli.main(check) == 0, capsys.readouterr().err


# -- one error, at its cause ----------------------------------------------------------------------


COMMENT = "---\nauthor: Priya\ndate: 2020-04-12\n---\nThanks!\n"


@pytest.mark.parametrize(
    "broken",
    [
        post("Huddles", "2020-04-09", themes="[staff-welbeing]"),  # the schema rejects it
        "---\ntitle: Huddles\ndate: 2020-04-09\nthemes: [staff-wellbeing\n---\nBody\n",  # YAML does
    ],
    ids=["front-matter", "yaml"],
)
def test_a_rejected_post_is_one_error_not_one_more_per_comment_and_pick(build_site: BuildSite, broken: str) -> None:
    """The comment and the pick of the broken post say nothing more; those naming no post at
    all (``nobody``) are still errors."""
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/2020-04-09-huddles.md": broken,
            "content/posts/2020-04-10-other.md": post("Other", "2020-04-10"),
            "content/comments/huddles/2020-04-12-priya.md": COMMENT,
            "content/comments/nobody/2020-04-12-priya.md": COMMENT,
            "content/digests/2020-04.md": edition_file("huddles", "other", "nobody"),
        },
        expect_ok=False,
    )
    assert sorted((p.path, p.line) for p in site.problems) == [
        ("content/comments/nobody/2020-04-12-priya.md", 1),
        ("content/digests/2020-04.md", 6),
        ("content/posts/2020-04-09-huddles.md", 4),
    ], site.messages()
