"""Hostile and odd input (issue 9): control characters, deep nesting, dates at the edges of
the calendar, the C locale, pathological Markdown, tags that slug alike. Each must give a
problem naming the file and line, or be handled, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BASE, TINY_BASE, copy_templates, post, write_files


def make_site(root: Path, files: dict[str, str | bytes]) -> Path:
    """The production templates unless ``files`` brings its own (conftest.TINY): the C-locale
    test needs the pages the production templates mark for Pagefind."""
    write_files(root, {**BASE, **files})
    copy_templates(root)
    return root


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "qsite", *args],
        cwd=cwd, capture_output=True, text=True, encoding="utf-8", timeout=120, env=env,
    )


# --- control characters in YAML ----------------------------------------------------------


def test_a_control_character_in_front_matter_is_a_problem_at_its_line(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"content/posts/a.md": post("A", "2020-04-01", summary="Line one\x0bline two")},
    )
    result = run("build", "--no-search", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "content/posts/a.md:5: error: this line contains an invisible control character (U+000B)" in result.stderr
    assert "fix: retype the line" in result.stderr


def test_a_control_character_in_a_comment_is_a_problem_at_its_line(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {
            "content/posts/a.md": post("A", "2020-04-01"),
            "content/comments/a/1.md": "---\nauthor: Sam\x07 Okafor\ndate: 2020-04-02\n---\nThanks.\n",
        },
    )
    result = run("build", "--no-search", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "content/comments/a/1.md:2: error: this line contains an invisible control character (U+0007)" in result.stderr


def test_a_control_character_in_site_yaml_is_a_usage_error(tmp_path: Path) -> None:
    root = make_site(tmp_path / "site", {"site.yaml": BASE["site.yaml"].replace("A site for", "A\x0b site for")})
    result = run("build", "--no-search", cwd=root)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "site.yaml:2: error: this line contains an invisible control character (U+000B)" in result.stderr


# --- deep nesting ------------------------------------------------------------------------


def test_a_markdown_list_nested_hundreds_deep_is_a_problem_naming_the_post(tmp_path: Path) -> None:
    deep = "- " * 1000 + "x\n"  # a list in a list in a list…, on one line
    root = make_site(
        tmp_path / "site",
        {"content/posts/a.md": post("A", "2020-04-01", body=deep), "content/posts/b.md": post("B", "2020-04-02")},
    )
    result = run("build", "--no-search", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "content/posts/a.md:6: error: the text is nested too deeply" in result.stderr


def test_front_matter_nested_hundreds_deep_is_a_problem_naming_the_file(tmp_path: Path) -> None:
    deep = "tags:\n" + "".join("  " * i + "-\n" for i in range(1, 400))
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01").replace("---\nBody", deep + "---\nBody")})
    result = run("build", "--no-search", cwd=root)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "content/posts/a.md:" in result.stderr and "nested more than 20 levels deep" in result.stderr


# --- bounded work ------------------------------------------------------------------------

BRACKETS = "[" * 20_000  # 55 s to convert before the budget
TINY_BUDGET = BASE["site.yaml"] + "markdown_time_limit: 0.5\n"  # 20 KB of [ takes 55 s


def test_a_post_over_the_markdown_time_budget_is_an_error_naming_it(build_site) -> None:
    built = build_site(
        {"site.yaml": TINY_BUDGET, "content/posts/a.md": post("A", "2020-04-01", body=BRACKETS)},
        expect_ok=False, search=False,
    )
    assert built.messages()[0].startswith(
        "content/posts/a.md:6: error: the text took more than 0.5 seconds to convert from Markdown"
    )
    assert "raise markdown_time_limit in site.yaml" in built.messages()[0]


def test_the_markdown_budget_holds_in_worker_processes(build_site, monkeypatch) -> None:
    from qsite import parallel

    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)
    files: dict[str, str | bytes] = {f"content/posts/p{i}.md": post(f"P{i}", "2020-04-01") for i in range(6)}
    files["content/posts/slow.md"] = post("Slow", "2020-04-01", body="x " + BRACKETS)
    built = build_site({"site.yaml": TINY_BUDGET, **files}, expect_ok=False, search=False, jobs=2)
    assert built.error is not None
    assert [m.splitlines()[0] for m in built.messages()] == [
        "content/posts/slow.md:6: error: the text took more than 0.5 seconds to convert from Markdown, so it was stopped"
    ]


def test_the_markdown_budget_holds_outside_the_main_thread() -> None:
    """qsite serve rebuilds in its watcher thread, where no signal can reach."""
    import threading

    from qsite import markup

    outcome: list[BaseException | markup.Rendered] = []

    def convert() -> None:
        try:
            outcome.append(markup.render_markdown(BRACKETS, "/", 0.5))
        except BaseException as exc:  # what escaped is the assertion
            outcome.append(exc)

    thread = threading.Thread(target=convert)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert isinstance(outcome[0], markup.MarkdownError), outcome
    assert markup.render_markdown("*fine*", "/", 5.0).html == "<p><em>fine</em></p>"


def test_a_comment_over_the_budget_is_an_error_naming_it(build_site) -> None:
    built = build_site(
        {
            "site.yaml": TINY_BUDGET,
            "content/posts/a.md": post("A", "2020-04-01"),
            "content/comments/a/1.md": "---\nauthor: Sam\ndate: 2020-04-02\n---\n" + BRACKETS + "\n",
        },
        expect_ok=False, search=False,
    )
    assert built.messages()[0].startswith(
        "content/comments/a/1.md:5: error: the text took more than 0.5 seconds to convert from Markdown"
    )


def test_an_unchanged_comment_is_not_converted_again(build_site, monkeypatch) -> None:
    from qsite import comments

    calls: list[str] = []
    real = comments.render_comment

    def counting(text: str, *args: object) -> str:
        calls.append(text)
        return real(text, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(comments, "render_comment", counting)
    files: dict[str, str | bytes] = {
        **TINY_BASE,
        "templates/post.html": "{% for c in comments %}{{ c.html | safe }}\n{% endfor %}",
        "content/posts/a.md": post("A", "2020-04-01"),
        "content/comments/a/1.md": "---\nauthor: Sam\ndate: 2020-04-02\n---\nThanks, *useful*.\n",
    }
    first = build_site(files, search=False)  # the cache in .qsite-cache/ is kept between the two
    assert "<p>Thanks, <em>useful</em>.</p>" in first.read("posts/a/index.html")
    assert len(calls) == 1
    second = build_site({**files, "content/posts/a.md": post("A", "2020-04-01", body="Edited.")}, search=False)
    assert len(calls) == 1
    assert "<p>Thanks, <em>useful</em>.</p>" in second.read("posts/a/index.html")


# --- dates at the edges ------------------------------------------------------------------

NEVER = {
    **TINY_BASE,
    "templates/digest.html": "edition|{{ edition.title }}|{{ edition.date_range }}|",
    "content/posts/now.md": post("Now", "2021-06-01"),
    "content/posts/never.md": post("Never", "9999-12-31"),  # the usual "never publish" trick
}


@pytest.mark.parametrize("period", ["month", "week"])
def test_a_post_dated_9999_12_31_builds_with_future(build_site, period: str) -> None:
    site_yaml = TINY_BASE["site.yaml"] + f"digest:\n  period: {period}\n"
    built = build_site({**NEVER, "site.yaml": site_yaml}, future=True, search=False)
    built.assert_lines("posts/never/index.html", "post|/posts/never/|Never|9999-12-31T00:00:00+00:00|")
    built.assert_lines("feed.xml", "https://example.org/posts/never/|Never|")
    digest = "digest/9999-12/index.html" if period == "month" else "digest/9999-W52/index.html"
    assert "December 9999" in built.read(digest)


def test_serve_shows_a_site_with_a_post_dated_9999_12_31(tmp_path: Path) -> None:
    from qsite.serve import build_in_memory

    root = make_site(tmp_path / "site", NEVER)
    attempt = build_in_memory(root, "http://127.0.0.1:8000")
    assert attempt.problems == [] and attempt.files is not None
    assert b"Never" in attempt.files["posts/never/index.html"]


@pytest.mark.parametrize(
    ("epoch", "message"),
    [
        ("99999999999999", "SOURCE_DATE_EPOCH: error: 99999999999999 is after the year 9999"),
        ("yesterday", "SOURCE_DATE_EPOCH: error: 'yesterday' is not a whole number of seconds"),
        ("1600000000.5", "SOURCE_DATE_EPOCH: error: '1600000000.5' is not a whole number of seconds"),
    ],
)
def test_a_bad_source_date_epoch_is_a_usage_error(tmp_path: Path, epoch: str, message: str) -> None:
    root = make_site(tmp_path / "site", {"content/posts/a.md": post("A", "2020-04-01")})
    result = run("build", "--no-search", cwd=root, env={**os.environ, "SOURCE_DATE_EPOCH": epoch})
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert not (root / "output").exists()


# --- the C locale ------------------------------------------------------------------------


def test_a_build_with_search_under_the_c_locale_reads_and_writes_utf_8(tmp_path: Path) -> None:
    root = make_site(
        tmp_path / "site",
        {"content/posts/cafe.md": post("Café – “huddles” 日本語", "2020-04-01", tags="[café]", body="Ünïcødé … 日本語 text.")},
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LC_")}
    env.update(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONIOENCODING="")
    result = run("build", cwd=root, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "Search: indexed 1 pages" in result.stdout
    page = (root / "output/posts/cafe/index.html").read_text(encoding="utf-8")
    assert "Café – “huddles” 日本語" in page and "Ünïcødé … 日本語 text." in page
    from search_index import fragments, shards

    indexed = [p for name in shards(root / "output") for p in fragments(root / "output/pagefind" / name)]
    assert any("日本語 text" in page["content"] for page in indexed)


# --- tag slugs ---------------------------------------------------------------------------


def test_c_plus_plus_c_and_c_sharp_are_three_tags(build_site) -> None:
    built = build_site(
        {
            **TINY_BASE,
            "content/posts/plus.md": post("About plus", "2020-04-01", tags='["C++"]'),
            "content/posts/plain.md": post("About plain", "2020-04-02", tags="[C]"),
            "content/posts/sharp.md": post("About sharp", "2020-04-03", tags='["C#"]'),
        },
        search=False,
    )
    for slug, title, others in [
        ("c-plus-plus", "About plus", ("About plain", "About sharp")),
        ("c", "About plain", ("About plus", "About sharp")),
        ("c-sharp", "About sharp", ("About plus", "About plain")),
    ]:
        page = built.read(f"tags/{slug}/index.html")
        assert title in page and not any(other in page for other in others), slug


def test_tags_in_other_scripts_get_slugs_of_their_own_letters(build_site) -> None:
    built = build_site(
        {
            **TINY_BASE,
            "templates/post.html": "{% for t in post.tags %}{{ t.slug }}|{{ t.name }}|\n{% endfor %}",
            "content/posts/a.md": post("Nursing notes", "2020-04-01", tags="[看護, Здоровье, Café]"),
        },
        search=False,
    )
    assert built.problems == []
    assert "Nursing notes" in built.read("tags/看護/index.html")
    assert "Nursing notes" in built.read("tags/здоровье/index.html")
    assert built.exists("tags/cafe/index.html")
    built.assert_lines("posts/a/index.html", "здоровье|Здоровье|")


# --- characters XML forbids, in feeds ----------------------------------------------------


def test_every_xml_file_is_well_formed_when_posts_hold_control_characters(build_site) -> None:
    from xml.etree import ElementTree

    body = "First line\x0bsecond line, \x0c a form feed and \x1b an escape.\n\nMore text."
    curation = "---\ntitle: November\neditor: The editors\n---\nThis month\x0b in brief.\n"
    built = build_site(
        {
            **BASE,
            "content/posts/a.md": post("Pasted from Word", "2021-11-02", body=body, tags="[huddles]"),
            "content/posts/b.md": post("Clean", "2021-11-03"),
            "content/digests/2021-11.md": curation,
        },
        search=False,
    )
    xml_files = sorted(path for path in built.files() if path.endswith(".xml"))
    assert {"feed.xml", "sitemap.xml", "digest/feed.xml", "themes/staff-wellbeing/feed.xml"} <= set(xml_files)
    for path in xml_files:
        ElementTree.fromstring((built.out / path).read_bytes())  # raises on ill-formed XML
    feed = ElementTree.fromstring((built.out / "feed.xml").read_bytes())
    contents = [e.text or "" for e in feed.iter("{http://www.w3.org/2005/Atom}content")]
    assert any("First linesecond line,  a form feed and  an escape." in text for text in contents)
    warnings = built.messages()
    assert any(
        m.startswith("content/posts/a.md:7: warning: this line contains an invisible control character (U+000B)")
        for m in warnings
    ), warnings
    assert any(m.startswith("content/digests/2021-11.md:5: warning:") for m in warnings), warnings


# --- reproducible search index -----------------------------------------------------------


def test_clean_builds_with_search_are_identical_byte_for_byte(tmp_path: Path) -> None:
    """Pagefind writes a filter's values in a random order: with four themes, three clean
    builds came out alike by chance once in several hundred runs before they were sorted."""
    import shutil

    from qsite.build import Options, build

    from conftest import NOW

    themes = "[health-inequalities, staff-wellbeing, space-to-learn, collaborative-improvement]"
    root = make_site(
        tmp_path / "site",
        {f"content/posts/p{i}.md": post(f"Post {i} on huddles", f"2021-0{i}-01", themes=themes) for i in range(1, 7)},
    )
    trees = []
    for _ in range(3):
        shutil.rmtree(root / "output", ignore_errors=True)
        shutil.rmtree(root / ".qsite-cache", ignore_errors=True)
        build(root, Options(output=root / "output", now=NOW))
        out = root / "output"
        trees.append({p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()})
    assert any(name.endswith(".pf_filter") for name in trees[0])
    for other in trees[1:]:
        assert sorted(other) == sorted(trees[0])
        assert [name for name in trees[0] if other[name] != trees[0][name]] == []
    # the renamed filter file is the one the metadata names, and the entry names the metadata
    import json

    from qsite.search import _gunzip

    shard = root / "output/pagefind/posts-2021"
    entry = json.loads((shard / "pagefind-entry.json").read_bytes())
    meta = _gunzip((shard / f"pagefind.{entry['languages']['en-gb']['hash']}.pf_meta").read_bytes())
    for filter_file in (shard / "filter").glob("*.pf_filter"):
        assert filter_file.stem.encode() in meta


def test_a_digest_intro_over_the_budget_is_an_error_naming_it(build_site) -> None:
    built = build_site(
        {
            "site.yaml": TINY_BUDGET,
            "content/posts/a.md": post("A", "2021-11-02"),
            "content/digests/2021-11.md": "---\ntitle: November\neditor: The editors\n---\n" + BRACKETS + "\n",
        },
        expect_ok=False, search=False,
    )
    assert built.messages()[0].startswith(
        "content/digests/2021-11.md:5: error: the text took more than 0.5 seconds to convert from Markdown"
    )
