"""Imported sites build (issue 12): the WordPress and Jekyll fixtures imported into a fresh
site, then ``qsite build`` and ``qsite check`` run on it with the package's own theme.

The fields issue 11 adds (``aliases``, comments' ``reply_to`` and ``author_id``, and
``content/authors/``) are written by the importer whether or not this qsite reads them yet.
``I11_FIELDS`` names those this qsite cannot read yet: ``without_i11`` takes them out, so the
rest of every written file is proven against today's schema and templates; once issue 11 is
merged nothing is taken out and the whole imported site must build and check."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from test_import_jekyll import FIXTURE as JEKYLL
from test_import_wordpress import FIXTURE as WXR

from qsite.cli import main
from qsite.content import KINDS
from qsite.model import POST

from conftest import SITE_YAML

HAS_PROFILES = "authors" in KINDS  # issue 11: profiles, reply_to, author_id (branch i11-people)
HAS_ALIASES = "aliases" in {f.name for f in POST.fields}  # issue 11: aliases (branch i11-addresses)
# The issue-11 fields this qsite cannot read yet: set aside by the whole-site tests below.
I11_FIELDS = tuple(
    name for name, known in (("aliases", HAS_ALIASES), ("reply_to", HAS_PROFILES), ("author_id", HAS_PROFILES))
    if not known
)
WP_OPTIONS = ["--theme-map", "Wellbeing=staff-wellbeing", "--theme-map", "Access & Equity=health-inequalities",
              "--default-theme", "space-to-learn"]


def imported(site: Path, kind: str, source: Path, *options: str) -> Path:
    site.mkdir(exist_ok=True)
    (site / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    assert main(["import", kind, str(source), "--source", str(site), *options]) == 0
    return site


def without_i11(site: Path, fields: tuple[str, ...] = I11_FIELDS) -> None:
    """Take out of every imported file the issue-11 ``fields`` (and the profiles, with
    ``author_id``), so a test of one issue-11 feature also runs on a qsite that has only that one."""
    if "author_id" in fields:
        shutil.rmtree(site / "content" / "authors", ignore_errors=True)
    if not fields:
        return
    field = re.compile(rf"^(?:{'|'.join(fields)}):.*\n", re.M)
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
    assert main(["build", "--source", str(site), "-q"]) == 0
    assert (site / "output/assets/board.svg").is_file()  # the old site's image, at its old address
    page = read(site, "posts/huddles-that-stuck/index.html")
    assert 'href="/posts/cafe/"' in page and 'href="/posts/cafe-2/"' in page  # {% link %} and {% post_url %}
    assert "Café – santé: a walk-in clinic" in read(site, "posts/cafe/index.html")
    assert (site / "output/team/index.html").is_file()
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err


# -- what the fields of issue 11 do in an imported site -------------------------------------------
# Until issue 11's branches are merged, main cannot read these fields, and these tests say so
# by skipping; on a qsite that reads them they run, and fail if the importer's files are wrong.

needs_profiles = pytest.mark.skipif(not HAS_PROFILES, reason="waits on issue 11's author profiles and threads")
needs_aliases = pytest.mark.skipif(not HAS_ALIASES, reason="waits on issue 11's aliases")



@needs_profiles
def test_the_wordpress_thread_renders_nested_with_its_authors(tmp_path: Path) -> None:
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS)
    without_i11(site, ("aliases",))  # this test needs reply_to, author_id and profiles (issue 11, people)
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


@needs_profiles
def test_the_jekyll_staticman_thread_renders_nested(tmp_path: Path) -> None:
    site = imported(tmp_path / "site", "jekyll", JEKYLL, "--default-theme", "space-to-learn")
    without_i11(site, ("aliases",))  # this test needs reply_to and profiles (issue 11, people)
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


@needs_aliases
def test_old_wordpress_addresses_redirect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "wordpress", WXR, *WP_OPTIONS)
    without_i11(site, ("reply_to", "author_id"))  # this test needs aliases (issue 11, addresses)
    assert main(["build", "--source", str(site), "-q"]) == 0
    redirects_to(site, "/2020/04/huddles/", "/posts/huddles/")
    redirects_to(site, "/2020/05/cafe-conversations/", "/posts/cafe-conversations/")
    redirects_to(site, "/2020/06/update/", "/posts/update/")
    redirects_to(site, "/2021/06/update/", "/posts/update-2/")  # renamed for its slug, still found
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 0, capsys.readouterr().err


@needs_aliases
def test_old_jekyll_addresses_redirect(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = imported(tmp_path / "site", "jekyll", JEKYLL, "--default-theme", "space-to-learn")
    without_i11(site, ("reply_to", "author_id"))  # this test needs aliases (issue 11, addresses)
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
    without_i11(site)
    listed = (tmp_path / "report.md").read_text(encoding="utf-8").split("### No theme", 1)[1].split("###", 1)[0]
    capsys.readouterr()
    assert main(["check", "--source", str(site)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if ": error: " in line]
    assert sorted(line.split(":")[0] for line in errors) == [
        "content/posts/2020-06-01-update.md", "content/posts/2020-12-01-thoughts.md",
    ]
    assert all("this post has no themes" in line for line in errors)
    assert all(f"`{line.split(':')[0]}`" in listed for line in errors)
