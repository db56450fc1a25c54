"""The one schema for every editor-written YAML file: typed values, every problem at once at its
line, did-you-mean, text that YAML reads as something else, slug lengths, base URLs, and the
README's field tables generated from the declarations."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from qsite import reference, strict_yaml
from qsite.cli import main
from qsite.config import check_base_url, parse_config, with_base_url
from qsite.problems import ConfigError, Problems
from qsite.schema import (
    Bool,
    Context,
    Date,
    Field,
    Int,
    ListOf,
    Schema,
    Section,
    Slug,
    Text,
    load,
    markdown_table,
)

from conftest import SITE_YAML, TINY_BASE, post

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Inner:
    size: int = 3


@dataclass(frozen=True)
class Record:
    source: str = ""
    line: int = 0
    name: str = ""
    count: int = 1
    on: bool = False
    words: tuple[str, ...] = ()
    inner: Inner = Inner()
    slug: str | None = None


INNER = Schema("inner", (Field("size", Int(minimum=1, maximum=9), "How big.", 3),), Inner)
RECORD = Schema(
    "a record",
    (
        Field("name", Text(), "Its name.", "", required=True),
        Field("count", Int(minimum=1), "How many.", 1),
        Field("on", Bool(), "Whether it is on.", False),
        Field("words", ListOf(Text("each word should be text"), one_ok=True), "Some words.", ()),
        Field("inner", Section(INNER), "A nested section."),
        Field("slug", Slug(), "A URL name."),
    ),
    Record,
)


def load_text(text: str, offset: int = 0) -> tuple[Record | None, list[str]]:
    doc = strict_yaml.load(text, line_offset=offset)
    problems = Problems()
    record = load(RECORD, doc.value, "file.yaml", doc, problems, Context())
    return record, [p.format() for p in problems.items]


def test_a_mapping_becomes_a_frozen_dataclass_with_its_file_line_and_defaults():
    record, problems = load_text("name: Ward 7\nwords: one\ninner:\n  size: 4\n", offset=2)
    assert problems == []
    assert record == Record(source="file.yaml", line=3, name="Ward 7", words=("one",), inner=Inner(4))
    with pytest.raises(FrozenInstanceError):
        record.name = "other"  # type: ignore[misc]


def test_every_problem_is_reported_at_once_each_at_its_own_line():
    text = "nme: A\ncount: 0\non: yes\nwords:\n  - fine\n  - 12\ninner:\n  sise: 2\n"
    record, problems = load_text(text)
    assert record is None
    assert problems == [
        "file.yaml:1: error: unknown setting 'nme'\n    fix: did you mean 'name'?",
        "file.yaml:1: error: 'name' is required\n    fix: add a line 'name: …'",
        "file.yaml:2: error: count must be at least 1",
        "file.yaml:3: error: on should be true or false, not 'yes'\n    fix: on: true",
        "file.yaml:6: error: 'words' is read as the number 12, not as text\n"
        "    fix: put it in quotes so it stays as you typed it: words: \"…\"",
        "file.yaml:8: error: unknown setting 'inner.sise'\n    fix: did you mean 'size'?",
    ]


def test_a_slug_longer_than_the_limit_is_refused_with_a_shorter_one():
    long = "-".join(["word"] * 30)  # 149 characters
    _record, problems = load_text(f"name: A\nslug: {long}\n")
    (problem,) = problems
    assert problem.startswith("file.yaml:2: error: slug word-word-word-word-… is 149 characters long")
    fix = problem.split("fix: slug: ")[1]
    assert len(fix) <= 100 and long.startswith(fix) and not fix.endswith("-")


@dataclass(frozen=True)
class When:
    when: datetime | None = None


def test_dates_are_read_in_the_context_timezone():
    schema = Schema("d", (Field("when", Date(), "When."),), When)
    doc = strict_yaml.load("when: 2020-03-31\n")
    value = load(schema, doc.value, "f", doc, Problems(), Context(ZoneInfo("Europe/London")))
    assert value.when.isoformat() == "2020-03-31T00:00:00+01:00"


def test_a_field_its_dataclass_cannot_hold_is_refused_when_declared():
    with pytest.raises(TypeError, match="Inner has no field for colour of the inner schema"):
        Schema("inner", (Field("colour", Text(), "A colour."),), Inner)
    with pytest.raises(TypeError, match="declares a field twice"):
        Schema("inner", (Field("size", Int(), "Size."), Field("size", Int(), "Again.")), Inner)


# --- issue 9, item 10: text that YAML reads as a number, null or true/false -------------------


def test_a_title_yaml_reads_as_a_number_is_reported_at_its_line_not_published_as_1_1(build_site):
    site = build_site({**TINY_BASE, "content/posts/a.md": "---\ndate: 2020-04-01\ntitle: 1.10\nthemes: [staff-wellbeing]\n---\n"},
                      expect_ok=False)
    assert site.messages() == [
        "content/posts/a.md:3: error: 'title' is read as the number 1.1, not as text\n"
        "    fix: put it in quotes so it stays as you typed it: title: \"…\""
    ]


def test_a_quoted_number_title_is_published_as_typed(build_site):
    site = build_site({**TINY_BASE, "content/posts/a.md": post('"1.10"', "2020-04-01")})
    site.assert_lines("posts/a/index.html", "post|/posts/a/|1.10|")


def test_a_null_title_is_reported_at_its_own_line_not_line_1(build_site):
    site = build_site({**TINY_BASE, "content/posts/a.md": "---\ndate: 2020-04-01\nthemes: [staff-wellbeing]\ntitle: null\n---\n"},
                      expect_ok=False)
    (message,) = site.messages()
    assert message.startswith("content/posts/a.md:4: error: 'title' has no value")
    assert 'fix: put it in quotes so it stays as you typed it: title: "…"' in message


@pytest.mark.parametrize(
    ("field", "value", "read_as"),
    [("summary", "true", "is read as true"), ("author", "2020", "is read as the number 2020")],
)
def test_other_text_fields_are_never_silently_converted(build_site, field, value, read_as):
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01", **{field: value})}, expect_ok=False)
    (message,) = site.messages()
    assert message.startswith(f"content/posts/a.md:5: error: '{field}' {read_as}, not as text")


def test_an_edition_editor_and_a_comment_author_get_the_same_rule(build_site):
    site = build_site(
        {
            **TINY_BASE,
            "content/posts/2020-04-01-a.md": post("A", "2020-04-01"),
            "content/digests/2020-04.md": "---\neditor: 2020\n---\nIntro.\n",
            "content/comments/a/one.md": "---\ndate: 2020-04-02\nauthor:\n---\nHello.\n",
        },
        expect_ok=False,
    )
    text = "\n".join(site.messages())
    assert "content/digests/2020-04.md:2: error: 'editor' is read as the number 2020, not as text" in text
    assert "content/comments/a/one.md:3: error: 'author' has no value" in text


# --- issue 9, item 11: slug length -------------------------------------------------------------


def test_a_long_slug_line_names_the_file_and_line(build_site):
    long = "a" * 329
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01", slug=long)}, expect_ok=False)
    (message,) = site.messages()
    assert message.startswith("content/posts/a.md:5: error: slug aaaaaaaaaaaaaaaaaaaa… is 329 characters long; "
                              "a URL name can have at most 100")


def test_a_long_file_name_is_refused_before_it_becomes_a_folder(build_site):
    name = "2020-04-01-" + "-".join(["huddle"] * 30) + ".md"  # a 209-character slug
    site = build_site({**TINY_BASE, f"content/posts/{name}": post("A", "2020-04-01")}, expect_ok=False)
    (message,) = site.messages()
    assert message.startswith(f"content/posts/{name}:1: error: the URL name made from the file name is 209 characters")
    assert "or add a line 'slug: huddle-huddle" in message


def test_a_long_tag_is_refused(build_site):
    site = build_site({**TINY_BASE, "content/posts/a.md": post("A", "2020-04-01", tags=f"[ok, {'x' * 150}]")},
                      expect_ok=False)
    (message,) = site.messages()
    assert message.startswith("content/posts/a.md:5: error: tag xxxxxxxxxxxxxxxxxxxx… is 150 characters long")


def test_qsite_new_never_writes_a_post_whose_slug_the_build_refuses():
    from qsite.content import parse_document
    from qsite.model import read_meta
    from qsite.new import NewPost, plan_post

    config = parse_config(SITE_YAML, Path("/site"))
    title = " ".join(f"lesson{i}" for i in range(30))  # a 239-character slug
    rel, text = plan_post(NewPost(title, ("staff-wellbeing",)), config, date(2021, 12, 1))
    assert len(rel.stem) - len("2021-12-01-") <= 100 and rel.stem.endswith("-lesson11")
    problems = Problems()
    doc = parse_document(rel.as_posix(), "post", text)
    assert read_meta(doc, config, problems) is not None, [p.format() for p in problems.items]
    with pytest.raises(ConfigError) as info:
        plan_post(NewPost("A", ("staff-wellbeing",), slug="a" * 101), config, date(2021, 12, 1))
    assert info.value.problems[0].message.endswith("is 101 characters long; a URL name can have at most 100")


# --- site.yaml sections are typed values, not an untyped dict ------------------------------------


def test_site_yaml_sections_are_typed():
    text = SITE_YAML + "digest:\n  period: week\naccessibility:\n  reviewed: 2024-03-01\n  known_issues: [Old PDFs]\n"
    config = parse_config(text, Path("/site"))
    assert config.digest.period == "week"
    assert config.accessibility.reviewed == date(2024, 3, 1)
    assert config.accessibility.known_issues == ("Old PDFs",)
    assert config.comments.submit_url == ""
    assert not hasattr(config, "extra")
    assert config.themes[1].line == 9


def test_section_problems_are_reported_together_with_top_level_ones():
    text = SITE_YAML + "posts_per_page: 0\ncomments:\n  submit_url: ftp://x\n  moderaton: x\n"
    text = text.replace("posts_per_page: 10\n", "")
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/site"))
    assert [p.format() for p in info.value.problems] == [
        "site.yaml:17: error: posts_per_page must be at least 1",
        "site.yaml:19: error: comments.submit_url should be an http(s) or mailto: link, not 'ftp://x'\n"
        "    fix: for example: submit_url: mailto:editors@example.org",
        "site.yaml:20: error: unknown setting 'comments.moderaton'\n    fix: did you mean 'moderation'?",
    ]


# --- one base URL check for site.yaml, --base-url and serve --------------------------------------


@pytest.mark.parametrize("url", ["/blog/", "ftp://example.org/", "https://example.org/?preview=1", "https://example.org/#top"])
def test_base_url_option_gets_the_site_yaml_check(url):
    with pytest.raises(ConfigError) as info:
        check_base_url(url)
    (problem,) = info.value.problems
    assert problem.path == "--base-url"
    with pytest.raises(ConfigError) as from_yaml:
        parse_config(SITE_YAML.replace("https://example.org/", url), Path("/site"))
    assert [p.message for p in from_yaml.value.problems] == [problem.message]


def test_base_url_option_adds_the_trailing_slash_and_serve_uses_the_same_check():
    assert check_base_url("https://example.org/q-blog") == "https://example.org/q-blog/"
    config = parse_config(SITE_YAML, Path("/site"))
    assert with_base_url(config, "http://127.0.0.1:8000/", "qsite serve").base_url == "http://127.0.0.1:8000/"
    with pytest.raises(ConfigError) as info:
        with_base_url(config, "http://127.0.0.1:8000/?x", "qsite serve")
    assert info.value.problems[0].path == "qsite serve"


def test_a_base_url_option_with_a_query_exits_2(tmp_path, capsys):
    (tmp_path / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    code = main(["build", "--source", str(tmp_path), "--base-url", "https://example.org/?preview=1", "-q"])
    assert code == 2
    err = capsys.readouterr().err
    assert "--base-url: error: base_url cannot have a query or #fragment" in err
    assert not (tmp_path / "output").exists()


# --- the README's tables come from the schemas -------------------------------------------------


def test_markdown_table_lists_nested_fields_defaults_and_help():
    assert markdown_table(RECORD) == (
        "| key | default | what it is |\n| --- | --- | --- |\n"
        "| `name` | required | Its name. |\n"
        "| `count` | `1` | How many. |\n"
        "| `on` | `false` | Whether it is on. |\n"
        "| `words` | none | Some words. |\n"
        "| `inner` | none | A nested section. |\n"
        "| `inner.size` | `3` | How big. |\n"
        "| `slug` | none | A URL name. |\n"
    )


def test_readme_tables_are_exactly_what_the_schemas_generate():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert reference.blocks(readme) == reference.tables()
    assert reference.rewrite(readme) == readme


# --- warm builds equal cold builds after edits to every kind of file the schema covers ----------


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


SECTIONS = "digest:\n  period: month\naccessibility:\n  reviewed: 2021-01-01\ncomments:\n  submit_url: mailto:a@example.org\n"


@pytest.mark.parametrize(
    ("path", "old", "new"),
    [
        ("site.yaml", "reviewed: 2021-01-01", "reviewed: 2021-06-30"),
        ("site.yaml", "submit_url: mailto:a@example.org", "submit_url: https://example.org/form"),
        ("site.yaml", "reviewed: 2021-01-01", "reviewed: 2021-01-01\n  known_issues: [Old PDFs]"),
        ("content/comments/a/one.md", "author: Sam", "author: Sam Okafor"),
        ("content/comments/a/one.md", "date: 2020-04-02", "date: 2020-04-03 09:30"),
        ("content/digests/2020-04.md", "editor: Digest Group", "editor: The Digest Group"),
        ("content/digests/2020-04.md", "picks: [a]", "picks: [a, b]"),
    ],
)
def test_warm_build_equals_cold_build_after_an_edit_of_a_schema_file(tmp_path, path, old, new):
    from qsite.build import Options, build

    from conftest import NOW, copy_templates, write_files

    root = tmp_path / "site"
    write_files(root, {
        "site.yaml": SITE_YAML + SECTIONS,
        "content/posts/2020-04-01-a.md": post("A", "2020-04-01"),
        "content/posts/2020-04-08-b.md": post("B", "2020-04-08", "[space-to-learn]"),
        "content/comments/a/one.md": "---\nauthor: Sam\ndate: 2020-04-02\n---\nThank you.\n",
        "content/digests/2020-04.md": "---\neditor: Digest Group\npicks: [a]\n---\nOur intro.\n",
    })
    copy_templates(root)  # the production templates: they show every field the edits change
    warm, cold = tmp_path / "warm", tmp_path / "cold"
    build(root, Options(now=NOW, output=warm, search=False))
    before = _tree(warm)
    file = root / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")
    build(root, Options(now=NOW, output=warm, search=False))
    build(root, Options(now=NOW, output=cold, search=False, cache=False))
    assert _tree(warm) == _tree(cold)
    assert _tree(warm) != before, "the edit should show somewhere in the site"
