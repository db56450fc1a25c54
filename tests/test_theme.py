"""The default theme inside the package (issue 13): a site without templates/ builds with
``qsite/theme/``; a site's own templates/ overrides it file by file, static files too; and the
incremental build notices an override added and removed again."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite import THEME
from qsite.build import Options, build
from qsite.problems import ContentError

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
