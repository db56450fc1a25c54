"""Imported sites build (issue 12): the WordPress and Jekyll fixtures imported into a fresh
site, then ``qsite build`` and ``qsite check`` run on it with the package's own theme.

The fields issue 11 adds (``aliases``, comments' ``reply_to`` and ``author_id``, and
``content/authors/``) are written by the importer whether or not this qsite reads them yet.
``I11_FIELDS`` names them: ``without_i11`` takes them out, so the rest of every written file
is proven against today's schema and templates."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from test_import_jekyll import FIXTURE as JEKYLL
from test_import_wordpress import FIXTURE as WXR

from qsite.cli import main

from conftest import SITE_YAML

I11_FIELDS = ("aliases", "reply_to", "author_id")
WP_OPTIONS = ["--theme-map", "Wellbeing=staff-wellbeing", "--theme-map", "Access & Equity=health-inequalities",
              "--default-theme", "space-to-learn"]


def imported(site: Path, kind: str, source: Path, *options: str) -> Path:
    site.mkdir(exist_ok=True)
    (site / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    assert main(["import", kind, str(source), "--source", str(site), *options]) == 0
    return site


def without_i11(site: Path) -> None:
    shutil.rmtree(site / "content" / "authors", ignore_errors=True)
    field = re.compile(rf"^(?:{'|'.join(I11_FIELDS)}):.*\n", re.M)
    for path in (site / "content").rglob("*.md"):
        path.write_text(field.sub("", path.read_text(encoding="utf-8")), encoding="utf-8")


def read(site: Path, rel: str) -> str:
    return (site / "output" / rel).read_text(encoding="utf-8")


def test_an_imported_wordpress_site_builds_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS)
    without_i11(site)
    assert main(["build", "--source", str(site), "-q"]) == 0
    huddles = read(site, "posts/huddles/index.html")
    assert "Ten-minute huddles that stuck" in huddles
    assert "<figcaption>Our huddle board, week one</figcaption>" in huddles
    assert "<h2" in huddles and "What we asked" in huddles
    assert "Did the night team join too?" in huddles and "Thanks – we will try it." in huddles
    assert "alert(" not in huddles
    assert "Café conversations &amp; “walk-in” clinics" in read(site, "posts/cafe-conversations/index.html")
    assert (site / "output/posts/update-2/index.html").is_file()  # the second "update"
    assert (site / "output/about-us/index.html").is_file()
    assert not (site / "output/posts/rota").exists()  # private → draft
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err


def test_an_imported_jekyll_site_builds_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "jekyll", JEKYLL, "--theme-map", "Wellbeing=staff-wellbeing",
                    "--theme-map", "Access=health-inequalities", "--default-theme", "space-to-learn")
    without_i11(site)
    (site / "content/images").mkdir()
    (site / "content/images/board.jpg").write_bytes(b"\xff\xd8\xff\xd9")  # the editor copies the image in …
    post = site / "content/posts/2020-04-02-huddles-that-stuck.md"  # … and changes its address, as reported
    post.write_text(post.read_text(encoding="utf-8").replace("/assets/board.jpg", "/images/board.jpg"),
                    encoding="utf-8")
    assert main(["build", "--source", str(site), "-q"]) == 0
    page = read(site, "posts/huddles-that-stuck/index.html")
    assert 'href="/posts/cafe/"' in page and 'href="/posts/cafe-2/"' in page  # {% link %} and {% post_url %}
    assert "Café – santé: a walk-in clinic" in read(site, "posts/cafe/index.html")
    assert (site / "output/team/index.html").is_file()
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err
