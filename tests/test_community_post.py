"""Issue 11: gaps found while writing the community post of its "Done when" as qsite content,
each with the test that fails without its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite import cli, markup

from conftest import BASE, TINY_BASE, BuildSite, post, write_files

HEAD = "---\nname: Grace Adeyemi\nrole: Head of Q\norganisation: The Improvement Network\n---\nGrace leads Q.\n"


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
