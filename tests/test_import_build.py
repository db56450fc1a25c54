"""Imported sites build (issue 12): the WordPress and Jekyll fixtures imported into a fresh
site, then ``qsite build`` and ``qsite check`` run on it with the package's own theme: the
thread renders nested with its authors, and every old address redirects to its new page."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_import_jekyll import FIXTURE as JEKYLL
from test_import_wordpress import FIXTURE as WXR

from qsite.cli import main

from conftest import SITE_YAML

WP_OPTIONS = ["--theme-map", "Wellbeing=staff-wellbeing", "--theme-map", "Access & Equity=health-inequalities",
              "--default-theme", "space-to-learn"]


def imported(site: Path, kind: str, source: Path, *options: str) -> Path:
    site.mkdir(exist_ok=True)
    (site / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    assert main(["import", kind, str(source), "--source", str(site), *options]) == 0
    return site


def read(site: Path, rel: str) -> str:
    return (site / "output" / rel).read_text(encoding="utf-8")


def test_an_imported_wordpress_site_builds_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS)
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
    assert main(["build", "--source", str(site), "-q"]) == 0
    assert (site / "output/assets/board.svg").is_file()  # the old site's image, at its old address
    page = read(site, "posts/huddles-that-stuck/index.html")
    assert 'href="/posts/cafe/"' in page and 'href="/posts/cafe-2/"' in page  # {% link %} and {% post_url %}
    assert "Café – santé: a walk-in clinic" in read(site, "posts/cafe/index.html")
    assert (site / "output/team/index.html").is_file()
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err


# -- threads, authors and old addresses (the fields of issue 11) ---------------------------------


def test_the_wordpress_thread_renders_nested_with_its_authors(tmp_path: Path) -> None:
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS)
    assert main(["build", "--source", str(site), "-q"]) == 0
    page = read(site, "posts/huddles/index.html")
    first = page.index('id="comment-2020-04-03-sam-okafor-11"')
    second = page.index('id="comment-2020-04-03-rukhsana-noor-12"')
    third = page.index('id="comment-2020-04-04-sam-okafor-13"')
    assert first < second < third
    # each reply sits in a list inside its parent's item
    assert page[first:second].count('<ol class="comment-list comment-replies">') == 1
    assert page[second:third].count('<ol class="comment-list comment-replies">') == 1
    assert "In reply to Sam Okafor" in page[second:third] and "In reply to Rukhsana Noor" in page[third:]
    assert "Post author" in page[second:third]  # author_id: the post's own author
    assert 'href="/authors/rukhsana-noor/"' in page
    assert "Rukhsana Noor" in read(site, "authors/rukhsana-noor/index.html")
    assert "Tom Whitfield" in read(site, "authors/index.html")


def test_the_jekyll_staticman_thread_renders_nested(tmp_path: Path) -> None:
    site = imported(tmp_path / "site", "jekyll", JEKYLL, "--default-theme", "space-to-learn")
    assert main(["build", "--source", str(site), "-q"]) == 0
    page = read(site, "posts/huddles-that-stuck/index.html")
    first = page.index('id="comment-2020-04-03-sam-okafor-04400000"')
    second = page.index('id="comment-2020-04-03-rukhsana-noor-12500000"')
    third = page.index('id="comment-2020-04-04-sam-okafor-90800000"')
    assert first < second < third
    assert page[first:second].count('<ol class="comment-list comment-replies">') == 1
    assert page[second:third].count('<ol class="comment-list comment-replies">') == 1
    assert 'href="/authors/rnoor/"' in page and "Ward manager" in read(site, "authors/rnoor/index.html")


def redirects_to(site: Path, old: str, new: str) -> None:
    rel = old.strip("/") + ("" if old.endswith(".html") else "/index.html")
    page = read(site, rel)
    assert f'<meta http-equiv="refresh" content="0; url={new}">' in page, f"{old} should lead to {new}"


def test_old_wordpress_addresses_redirect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS)
    assert main(["build", "--source", str(site), "-q"]) == 0
    redirects_to(site, "/2020/04/huddles/", "/posts/huddles/")
    redirects_to(site, "/2020/05/cafe-conversations/", "/posts/cafe-conversations/")
    redirects_to(site, "/2020/06/update/", "/posts/update/")
    redirects_to(site, "/2021/06/update/", "/posts/update-2/")  # renamed for its slug, still found
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err


def test_old_jekyll_addresses_redirect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "jekyll", JEKYLL, "--default-theme", "space-to-learn")
    assert main(["build", "--source", str(site), "-q"]) == 0
    redirects_to(site, "/wellbeing/2020/04/02/huddles-that-stuck/", "/posts/huddles-that-stuck/")  # permalink: pretty
    redirects_to(site, "/huddles/", "/posts/huddles-that-stuck/")  # redirect_from
    redirects_to(site, "/old/huddles.html", "/posts/huddles-that-stuck/")
    redirects_to(site, "/access/2021/05/01/cafe/", "/posts/cafe-2/")
    redirects_to(site, "/night/night-notes/", "/posts/night-notes/")  # the post's own permalink


def test_check_fails_only_at_the_items_the_report_lists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --default-theme two posts have no theme: the report lists them, and they are
    all that qsite check finds."""
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS[:4], "--report", str(tmp_path / "report.md"))
    listed = (tmp_path / "report.md").read_text(encoding="utf-8").split("### No theme", 1)[1].split("###", 1)[0]
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert sorted(line.split(":")[0] for line in errors) == [
        "content/posts/2020-06-01-update.md", "content/posts/2020-12-01-thoughts.md",
    ]
    assert all("this post has no themes" in line for line in errors)
    assert all(f"`{line.split(':')[0]}`" in listed for line in errors)


def test_with_the_suggested_permalinks_the_old_addresses_are_the_pages_themselves(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "site.yaml").write_text(SITE_YAML + 'permalinks:\n  post: "/:year/:month/:slug/"\n', encoding="utf-8")
    assert main(["import", "wordpress", str(WXR), "--source", str(site), *WP_OPTIONS]) == 0
    assert main(["build", "--source", str(site), "-q"]) == 0
    page = read(site, "2020/04/huddles/index.html")
    assert "Ten-minute huddles that stuck" in page and 'http-equiv="refresh"' not in page
    redirects_to(site, "/2021/06/update/", "/2021/06/update-2/")  # renamed for its slug: still an alias


def test_an_import_into_a_site_from_qsite_init_keeps_clear_of_its_own_pages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``qsite init`` writes an About page at /about/; the Jekyll site's own about page is renamed
    (about-2) and its old address /about/, taken by the site's page, is left out of its aliases
    and listed in the report, so the site still builds and checks."""
    site = tmp_path / "site"
    assert main(["init", str(site), "--title", "T", "--base-url", "https://example.org/", "--theme", "ward=Ward"]) == 0
    report = tmp_path / "report.md"
    assert main(["import", "jekyll", str(JEKYLL), "--source", str(site), "--default-theme", "ward",
                 "--report", str(report)]) == 0
    assert (site / "content/pages/about-2.md").is_file()
    assert "/about/" in report.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["build", "--source", str(site), "-q"]) == 0, capsys.readouterr().err
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err
