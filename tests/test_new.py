"""`qsite new` (issue 4): the skeleton it writes must survive any title an editor types, build
cleanly, and never overwrite or escape content/posts/."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from qsite import cli
from qsite.config import parse_config
from qsite.content import parse_document
from qsite.model import read_meta
from qsite.new import NewPost, plan_post, yaml_quote
from qsite.problems import ConfigError, Problems
from qsite.theme_prompt import ask_themes

from conftest import BASE, NOW, TINY_BASE, BuildSite, write_files

CONFIG = parse_config(BASE["site.yaml"], Path("/site"))
DAY = date(2021, 12, 1)

ODD_TITLES = [
    'Huddles: what "we" learned',
    "It's a 'quoted' title",
    "Café au lait — naïve Zoë’s “smart” quotes",
    "- starts like a list item",
    "[starts like a list]",
    "{starts like a mapping}",
    "# looks like a comment",
    "ends with a colon:",
    "yes",
    "no",
    "null",
    "~ tilde",
    "true",
    "123",
    "1.5",
    "2020-04-01",
    "@at & ampersand * star ! bang % percent | pipe > gt",
    "back\\slash and \\n not a newline",
    "emoji 🙂 and 中文 and עברית",
    "   padded   with    spaces   ",
    "&anchor *alias",
    "!!python/object:os.system",
    "a\u2028line separator",
]


@pytest.mark.parametrize("title", ODD_TITLES)
def test_odd_titles_read_back_exactly_through_strict_yaml(title: str) -> None:
    rel, text = plan_post(NewPost(title, ("staff-wellbeing",)), CONFIG, DAY)
    doc = parse_document(rel.as_posix(), "post", text)
    assert not isinstance(doc, Exception) and hasattr(doc, "meta"), doc
    expected = " ".join(title.split())
    assert doc.meta["title"] == expected
    problems = Problems()
    meta = read_meta(doc, CONFIG, problems)
    assert not problems.items, [p.format() for p in problems.items]
    assert meta is not None and meta.title == expected
    assert meta.themes == ("staff-wellbeing",)
    assert meta.date is not None and meta.date.date() == DAY
    assert rel.parent.as_posix() == "content/posts"
    assert rel.name.startswith("2021-12-01-") and rel.suffix == ".md"


def test_yaml_quote_escapes_what_yaml_cannot_hold_raw() -> None:
    assert yaml_quote('a "b" \\c') == '"a \\"b\\" \\\\c"'
    assert yaml_quote("bell\x07") == '"bell\\u0007"'
    assert yaml_quote("bom\ufeff") == '"bom\\ufeff"'


def test_tags_authors_and_draft_round_trip() -> None:
    post = NewPost(
        "Huddles",
        ("staff-wellbeing", "space-to-learn"),
        ("remote: care", "Café"),
        ("Dr A. O'Neil", "Ward 7, team"),
        True,
    )
    rel, text = plan_post(post, CONFIG, DAY)
    doc = parse_document(rel.as_posix(), "post", text)
    problems = Problems()
    meta = read_meta(doc, CONFIG, problems)  # type: ignore[arg-type]
    assert not problems.items
    assert meta is not None
    assert [t.name for t in meta.tags] == ["remote: care", "Café"]
    assert meta.authors == ("Dr A. O'Neil", "Ward 7, team")
    assert meta.draft is True
    assert meta.themes == ("staff-wellbeing", "space-to-learn")


@pytest.fixture
def today_is_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """`qsite new` dates posts "today" (SOURCE_DATE_EPOCH when set): pin it to the suite's NOW."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(NOW.timestamp())))


def test_generated_posts_build_cleanly(
    build_site: BuildSite, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    site = build_site(TINY_BASE)
    titles = ['Huddles: what "we" learned', "<script>alert(1)</script> & co", "123", "Zoë’s café"]
    for title in titles:
        assert (
            cli.main(["new", title, "--theme", "staff-wellbeing", "--source", str(site.root)]) == 0
        )
    printed = capsys.readouterr().out.split()
    assert printed == [
        "content/posts/2021-12-01-huddles-what-we-learned.md",
        "content/posts/2021-12-01-script-alert-1-script-and-co.md",
        "content/posts/2021-12-01-123.md",
        "content/posts/2021-12-01-zoes-cafe.md",
    ]
    site = build_site({})
    site.assert_lines(
        "posts/huddles-what-we-learned/index.html",
        "post|/posts/huddles-what-we-learned/|Huddles: what &#34;we&#34; learned|2021-12-01T00:00:00+00:00|1 December 2021|",
    )
    site.assert_lines(
        "posts/script-alert-1-script-and-co/index.html",
        """
        post|/posts/script-alert-1-script-and-co/|&lt;script&gt;alert(1)&lt;/script&gt; &amp; co|
        ! <script>alert(1)
        """,
    )
    site.assert_lines("posts/123/index.html", "post|/posts/123/|123|")
    site.assert_lines("posts/zoes-cafe/index.html", "post|/posts/zoes-cafe/|Zoë’s café|")
    site.assert_lines("themes/staff-wellbeing/index.html", "/posts/zoes-cafe/|Zoë’s café|")


def test_draft_flag_keeps_the_post_out_of_a_normal_build(
    build_site: BuildSite, today_is_now: None
) -> None:
    site = build_site(TINY_BASE)
    assert (
        cli.main(
            ["new", "Not yet", "--theme", "space-to-learn", "--draft", "--source", str(site.root)]
        )
        == 0
    )
    assert not build_site({}).exists("posts/not-yet/index.html")
    assert build_site({}, drafts=True).exists("posts/not-yet/index.html")


def test_never_overwrites_an_existing_post(
    tmp_path: Path, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, BASE)
    post = tmp_path / "content/posts/2021-12-01-huddles.md"
    write_files(tmp_path, {"content/posts/2021-12-01-huddles.md": "my precious words"})
    code = cli.main(["new", "Huddles", "--theme", "staff-wellbeing", "--source", str(tmp_path)])
    assert code == 1
    assert post.read_text() == "my precious words"
    assert (
        "content/posts/2021-12-01-huddles.md: error: this post already exists;"
        " qsite new never overwrites a file" in capsys.readouterr().err
    )


def test_unknown_theme_is_a_usage_error_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, BASE)
    code = cli.main(["new", "Huddles", "--theme", "staff-wellbeeing", "--source", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert "--theme: error: there is no theme 'staff-wellbeeing'" in err
    assert "fix: did you mean 'staff-wellbeing'?" in err
    assert not (tmp_path / "content").exists()


def test_no_theme_without_a_terminal_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, BASE)
    monkeypatch.setattr("sys.stdin", io.StringIO("staff-wellbeing\n"))
    assert cli.main(["new", "Huddles", "--source", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--theme: error: no theme given" in err
    assert "health-inequalities, staff-wellbeing, space-to-learn, collaborative-improvement" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_theme_on_a_terminal_asks_until_the_answer_is_usable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    today_is_now: None,
) -> None:
    write_files(tmp_path, BASE)
    monkeypatch.setattr("sys.stdin", _Terminal("9\n\nstaff-wellbeing, 4\n"))
    assert cli.main(["new", "Huddles", "--source", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "  2. Staff wellbeing and system resilience (staff-wellbeing)" in out
    assert "Not a theme: 9." in out
    assert "Choose at least one theme." in out
    text = (tmp_path / "content/posts/2021-12-01-huddles.md").read_text()
    assert "themes: [staff-wellbeing, collaborative-improvement]\n" in text


def test_writes_only_inside_content_posts(
    tmp_path: Path, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    site = tmp_path / "site"
    write_files(site, BASE)
    assert (
        cli.main(
            ["new", "../../../etc/passwd", "--theme", "staff-wellbeing", "--source", str(site)]
        )
        == 0
    )
    assert (site / "content/posts/2021-12-01-etc-passwd.md").is_file()
    assert (
        cli.main(
            [
                "new",
                "Escape",
                "--slug",
                "../../x",
                "--theme",
                "staff-wellbeing",
                "--source",
                str(site),
            ]
        )
        == 2
    )
    assert "--slug: error: '../../x' can only have lower-case letters" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.rglob("*.md")) == ["2021-12-01-etc-passwd.md"]


def test_refuses_a_posts_folder_that_leads_outside_the_site(
    tmp_path: Path, today_is_now: None
) -> None:
    site = tmp_path / "site"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_files(site, BASE)
    (site / "content").mkdir()
    (site / "content/posts").symlink_to(elsewhere)
    assert cli.main(["new", "Huddles", "--theme", "staff-wellbeing", "--source", str(site)]) == 2
    assert list(elsewhere.iterdir()) == []


def test_a_title_without_latin_letters_needs_a_slug(
    tmp_path: Path, today_is_now: None, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, BASE)
    assert cli.main(["new", "改善", "--theme", "staff-wellbeing", "--source", str(tmp_path)]) == 2
    assert "add --slug" in capsys.readouterr().err
    assert (
        cli.main(
            [
                "new",
                "改善",
                "--slug",
                "kaizen",
                "--theme",
                "staff-wellbeing",
                "--source",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert 'title: "改善"\n' in (tmp_path / "content/posts/2021-12-01-kaizen.md").read_text()


def test_empty_title_is_refused() -> None:
    with pytest.raises(ConfigError, match="the title is empty"):
        plan_post(NewPost("  \n ", ("staff-wellbeing",)), CONFIG, DAY)


def test_end_of_input_at_the_theme_prompt_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write_files(tmp_path, BASE)
    monkeypatch.setattr("sys.stdin", _Terminal("9\n"))  # one unusable answer, then Ctrl-D
    assert cli.main(["new", "Huddles", "--source", str(tmp_path)]) == 2
    captured = capsys.readouterr()
    assert "Not a theme: 9." in captured.out
    assert "--theme: error: no theme chosen" in captured.err
    assert not (tmp_path / "content").exists()


def test_the_theme_prompt_asks_and_says_only_through_what_it_is_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = iter(["", "3 a"])
    said: list[str] = []
    themes = [("a", "Theme A"), ("b", "Theme B"), ("c", "Theme C")]
    assert ask_themes(themes, lambda question: next(answers), said.append) == ["c", "a"]
    assert said == [
        "Which themes is this post about?",
        "  1. Theme A (a)",
        "  2. Theme B (b)",
        "  3. Theme C (c)",
        "Choose at least one theme.",
    ]
    assert capsys.readouterr() == ("", "")  # qsite/cli.py is the only module that prints


def test_a_tag_in_another_script_is_accepted_as_the_build_accepts_it() -> None:
    """`qsite new --tag 看護` must not refuse what the build publishes at /tags/看護/ (issue 9)."""
    post = plan_post(NewPost("Huddles", ("staff-wellbeing",), ("看護", "C++", "C#"), (), False), CONFIG, DAY)
    rel, text = post
    doc = parse_document(rel.as_posix(), "post", text)
    problems = Problems()
    meta = read_meta(doc, CONFIG, problems)  # type: ignore[arg-type]
    assert not problems.items
    assert meta is not None
    assert [(t.slug, t.name) for t in meta.tags] == [("看護", "看護"), ("c-plus-plus", "C++"), ("c-sharp", "C#")]


def test_a_tag_with_no_letters_is_still_refused() -> None:
    with pytest.raises(ConfigError) as info:
        plan_post(NewPost("Huddles", ("staff-wellbeing",), ("!?!",), (), False), CONFIG, DAY)
    assert "has no letters or digits" in info.value.problems[0].message
