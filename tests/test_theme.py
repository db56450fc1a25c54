"""The default theme inside the package (issue 13): a site without templates/ builds with
``qsite/theme/``; a site's own templates/ overrides it file by file, static files too; and the
incremental build notices an override added and removed again."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qsite import THEME, render
from qsite.build import Options, build
from qsite.cli import main
from qsite.problems import ContentError
from qsite.scaffold import theme_files

from conftest import NOW, SITE_YAML, post, tree, write_files


def _site(root: Path) -> Path:
    write_files(root, {
        "site.yaml": SITE_YAML,
        "content/posts/a.md": post("Alpha", "2020-04-01"),
        "content/posts/b.md": post("Beta", "2020-04-02", themes="[space-to-learn]"),
        "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
    })
    return root


def _build(root: Path) -> dict[str, bytes]:
    build(root, Options(now=NOW, search=False))
    return tree(root / "output")


def test_a_site_without_templates_builds_with_the_default_theme(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    out = _build(root)
    assert not (root / "templates").exists()
    assert out["static/site.css"] == (THEME / "static/site.css").read_bytes()
    assert out["static/search.js"] == (THEME / "static/search.js").read_bytes()
    page = out["posts/a/index.html"].decode()
    assert "<h1" in page and "Alpha" in page and 'href="/static/site.css' in page


def test_an_override_replaces_one_template_and_one_static_file_and_its_removal_restores_them(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    before = _build(root)
    write_files(root, {
        "templates/post.html": "overridden|{{ post.title }}|\n",
        "templates/static/site.css": "body { color: black }\n",
        "templates/static/extra.js": "// the site's own\n",
    })
    during = _build(root)  # the same cache and no-change record as the first build
    assert during["posts/a/index.html"] == b"overridden|Alpha|\n"
    assert during["static/site.css"] == b"body { color: black }\n"
    assert during["static/extra.js"] == b"// the site's own\n"
    assert during["about/index.html"] == before["about/index.html"]  # page.html: still the theme's
    assert during["static/search.js"] == before["static/search.js"]
    for name in ("post.html", "static/site.css", "static/extra.js"):
        (root / "templates" / name).unlink()
    assert _build(root) == before


def test_a_partial_override_reaches_the_theme_templates_that_include_it(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    before = _build(root)
    macros = (THEME / "partials/macros.html").read_text(encoding="utf-8")
    write_files(root, {"templates/partials/macros.html": macros + "\n{# the site's copy #}\n"})
    assert _build(root) == before  # a comment changes nothing, but the copy is read, not skipped
    write_files(root, {"templates/partials/macros.html": macros + "{% if %}\n"})
    with pytest.raises(ContentError) as info:
        build(root, Options(now=NOW, search=False))
    assert {p.path for p in info.value.problems} == {"templates/partials/macros.html"}  # the site's copy


# -- "template not found": the fix fits who asked for the template ---------------------------


def test_a_missing_partial_of_a_site_template_names_the_site_file_and_how_to_fix_it(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    write_files(root, {"templates/post.html": '{% extends "base.html" %}\n{% block main %}\n{% include "partials/nope.html" %}\n{% endblock %}\n'})
    with pytest.raises(ContentError) as info:
        build(root, Options(now=NOW, search=False))
    [problem] = info.value.problems
    assert (problem.path, problem.line, problem.message) == ("templates/post.html", 3, "template not found: partials/nope.html")
    assert problem.fix is not None and "create templates/partials/nope.html" in problem.fix
    assert "git" not in problem.fix


def test_a_template_missing_from_the_default_theme_says_to_reinstall_qsite(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # an incomplete installation of qsite: its theme lacks the partial post.html imports
    broken = tmp_path / "theme"
    shutil.copytree(THEME, broken)
    (broken / "partials/macros.html").unlink()
    monkeypatch.setattr(render, "THEME", broken)
    root = _site(tmp_path / "site")
    with pytest.raises(ContentError) as info:
        build(root, Options(now=NOW, search=False, jobs=1))
    paths = {p.path for p in info.value.problems}
    assert "qsite/theme/post.html" in paths and not any(p.startswith("templates/") for p in paths)
    for problem in info.value.problems:
        assert problem.message == "template not found: partials/macros.html"
        assert problem.fix is not None and "reinstall qsite" in problem.fix and "git" not in problem.fix


# -- qsite theme copy / list -------------------------------------------------------------------


def test_theme_copy_copies_the_named_templates_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _site(tmp_path / "site")
    write_files(root, {"templates/post.html": "mine|{{ post.title }}|\n"})
    assert main(["theme", "copy", "post.html", "partials", "--source", str(root)]) == 0
    out, err = capsys.readouterr()
    assert (root / "templates/post.html").read_text() == "mine|{{ post.title }}|\n"  # kept
    assert "Kept templates/post.html" in err
    assert (root / "templates/partials/macros.html").read_bytes() == (THEME / "partials/macros.html").read_bytes()
    assert "Copied templates/partials/macros.html" in out
    assert not (root / "templates/base.html").exists()  # only what was asked for
    assert main(["theme", "list", "--source", str(root)]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert "post.html  (overridden by templates/post.html)" in listed and "base.html" in listed


def test_theme_copy_of_everything_changes_no_byte_of_the_site(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    before = _build(root)
    assert main(["theme", "copy", "--source", str(root)]) == 0
    assert sorted(p.relative_to(root / "templates").as_posix() for p in (root / "templates").rglob("*") if p.is_file()) == theme_files()
    assert _build(root) == before


def test_theme_copy_of_an_unknown_name_is_a_usage_error_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _site(tmp_path / "site")
    assert main(["theme", "copy", "posts.html", "--source", str(root)]) == 2
    assert "did you mean post.html?" in capsys.readouterr().err
    assert not (root / "templates").exists()
