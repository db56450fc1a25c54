"""``qsite import jekyll`` (issue 12) on a small Jekyll site written by hand for these tests
(tests/fixtures/import/jekyll/), plus inline sites for the permalink styles and mistakes."""

from __future__ import annotations

import os
from datetime import date, datetime
from pathlib import Path

import pytest
from test_import_wordpress import files, front

from qsite.cli import main
from qsite.importers.jekyll import _Source, old_url
from qsite.importers.run import alias_path

from conftest import SITE_YAML

FIXTURE = Path(__file__).parent / "fixtures" / "import" / "jekyll"
MAP = ["--theme-map", "Wellbeing=staff-wellbeing", "--theme-map", "access=health-inequalities"]


def import_jekyll(site: Path, folder: Path = FIXTURE, *extra: str) -> int:
    return main(["import", "jekyll", str(folder), "--source", str(site), *MAP, *extra])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    return tmp_path


@pytest.fixture
def imported(site: Path) -> Path:
    assert import_jekyll(site, FIXTURE, "--report", str(site / "report.md")) == 0
    return site


def write_tree(top: Path, tree: dict[str, str]) -> Path:
    for rel, text in tree.items():
        (top / rel).parent.mkdir(parents=True, exist_ok=True)
        (top / rel).write_text(text, encoding="utf-8")
    return top


def test_posts_drafts_and_pages_become_files(imported: Path) -> None:
    written = files(imported)
    drafts = {name for name in written if name.endswith("-an-idea.md")}
    assert len(drafts) == 1  # from _drafts/, dated the day its file was last changed
    comments = {name for name in written if name.startswith("content/comments/")}
    assert len(comments) == 3  # from _data/comments/ (Staticman), below
    assert written - drafts - comments == {
        "content/authors/rnoor.md",  # from _data/authors.yml
        "content/assets/board.svg",  # an image a post shows, copied: published at its old address
        "content/posts/2020-04-02-huddles-that-stuck.md",
        "content/posts/2020-05-01-cafe.md",
        "content/posts/2021-05-01-cafe-2.md",  # same name, a year later
        "content/posts/2020-06-01-not-yet.md",  # published: false
        "content/posts/2020-07-01-night-notes.md",  # notes/_posts/: category "notes"
        "content/pages/about.md",
        "content/pages/team.md",  # an HTML page, converted
        "content/pages/people.md",  # people/index.md
    }  # not index.html (qsite makes its own home page) or blog/index.html (a list of posts), nor README.md
    assert front(imported / drafts.pop())[0]["draft"] is True
    assert front(imported / "content/posts/2020-06-01-not-yet.md")[0]["draft"] is True


def test_post_front_matter(imported: Path) -> None:
    meta, _ = front(imported / "content/posts/2020-04-02-huddles-that-stuck.md")
    assert meta == {
        "title": "Huddles that stuck",
        "date": date(2020, 4, 2),
        "themes": ["staff-wellbeing"],
        "author": "rnoor",  # a key of _data/authors.yml: its profile's id
        "tags": ["Wellbeing", "huddles", "night shifts"],
        "summary": "Ten minutes, standing, every morning.",
        "aliases": ["/wellbeing/2020/04/02/huddles-that-stuck/", "/huddles/", "/old/huddles.html"],
    }
    meta, _ = front(imported / "content/posts/2020-05-01-cafe.md")
    assert meta["title"] == "Café – santé: a walk-in clinic"  # non-ASCII, with ': ' (quoted when written)
    assert meta["date"] == "2020-05-01 14:00"
    assert meta["tags"] == ["access", "news"]  # `category: access news`, Jekyll's space-separated form


def test_old_addresses_from_the_permalink_setting_and_the_posts_own(imported: Path) -> None:
    assert front(imported / "content/posts/2020-05-01-cafe.md")[0]["aliases"] == ["/access/news/2020/05/01/cafe/"]
    assert front(imported / "content/posts/2021-05-01-cafe-2.md")[0]["aliases"] == ["/access/2021/05/01/cafe/"]
    assert front(imported / "content/posts/2020-07-01-night-notes.md")[0]["aliases"] == ["/night/night-notes/"]
    assert "aliases" not in front(imported / "content/pages/about.md")[0]  # /about/ then and now


def test_liquid_converted_where_plain_and_reported_otherwise(imported: Path) -> None:
    _, body = front(imported / "content/posts/2020-04-02-huddles-that-stuck.md")
    assert "![The huddle board](/assets/board.svg)" in body  # {{ site.baseurl }} dropped
    assert "[the café clinic](/posts/cafe/)" in body  # {% link _posts/… %}
    assert "[the later one](/posts/cafe-2/)" in body  # {% post_url … %}, after the rename
    assert "Template text like {{ page.title }} stays as written." in body  # {% raw %}
    assert "```python\nprint(\"huddle\")\n```" in body  # {% highlight %}
    assert "{% include signup.html %}" in body
    report = (imported / "report.md").read_text(encoding="utf-8")
    liquid = report.split("### Liquid tags left as text", 1)[1].split("###", 1)[0]
    assert "`{% include signup.html %}`" in liquid and "page.title" not in liquid and "raw" not in liquid


def test_authors_of_data_authors_yml_become_profiles_others_stay_names(imported: Path) -> None:
    meta, bio = front(imported / "content/authors/rnoor.md")
    assert meta == {"name": "Rukhsana Noor", "role": "Ward manager", "type": "person",
                    "url": "https://eastmoor.example/people/rnoor/"}
    assert bio == "Runs the ward and its morning huddle.\n"
    assert front(imported / "content/posts/2021-05-01-cafe-2.md")[0]["author"] == "Tom Whitfield"
    assert "Authors kept as names: Tom Whitfield." in (imported / "report.md").read_text(encoding="utf-8")


def test_html_pages_are_converted(imported: Path) -> None:
    meta, body = front(imported / "content/pages/team.md")
    assert meta == {"title": "Our team"}
    assert body.strip() == "Nurses, *healthcare assistants* and a ward clerk."


def test_report_counts_and_images(imported: Path) -> None:
    report = (imported / "report.md").read_text(encoding="utf-8")
    for line in ("- posts: 3", "- draft posts: 3", "- pages: 3", "- authors: 1", "- written: 13", "Aliases written: 6.",
                 "- home, 404 and feed pages (qsite makes its own): 1",
                 "- pages listing posts (qsite makes its own): 1"):
        assert line in report
    images = report.split("### Images still on the old site", 1)[1]
    assert "`https://photos.example.org/ward.jpg`" in images and "board.svg" not in images  # that one is copied
    assert "- images copied from the old site: 1" in report
    assert "`content/posts/2020-07-01-night-notes.md`" in report.split("### No theme", 1)[1].split("###")[0]
    assert "`cafe` → `cafe-2`" in report


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("date", "/wellbeing/2020/04/02/huddles.html"),
        ("pretty", "/wellbeing/2020/04/02/huddles/"),
        ("ordinal", "/wellbeing/2020/093/huddles.html"),
        ("weekdate", "/wellbeing/2020/W14/Thu/huddles.html"),
        ("none", "/wellbeing/huddles.html"),
        ("/blog/:year/:i_month/:i_day/:slug/", "/blog/2020/4/2/huddles/"),
    ],
)
def test_jekyll_permalink_styles(style: str, expected: str) -> None:
    post = _Source(Path("x"), "_posts/2020-04-02-huddles.md", {"categories": ["Wellbeing"]}, "", 1, "post",
                   date=datetime(2020, 4, 2, 9, 30), name="huddles")
    assert old_url(style, post, "huddles") == expected


def test_a_permalink_that_fits_qsites_is_suggested(site: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    blog = write_tree(tmp_path_factory.mktemp("blog"), {
        "_config.yml": "permalink: /:year/:month/:day/:title/\n",
        "_posts/2020-04-02-one.md": "---\ntitle: One\ncategories: [Wellbeing]\n---\nOne.\n",
        "_posts/2020-05-03-two.md": "---\ntitle: Two\ncategories: [Wellbeing]\n---\nTwo.\n",
    })
    assert import_jekyll(site, blog, "--report", str(site / "report.md")) == 0
    assert 'post: "/:year/:month/:day/:slug/"' in (site / "report.md").read_text(encoding="utf-8")
    assert front(site / "content/posts/2020-04-02-one.md")[0]["aliases"] == ["/2020/04/02/one/"]


def test_malformed_front_matter_names_file_and_line_and_writes_nothing(
    site: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    blog = write_tree(tmp_path_factory.mktemp("blog"), {
        "_posts/2020-04-02-good.md": "---\ntitle: Good\n---\nFine.\n",
        "_posts/2020-04-03-bad.md": "---\ntitle: Bad\ntags: [one, two\nauthor: Someone\n---\nBody.\n",
    })
    assert import_jekyll(site, blog) == 1
    err = capsys.readouterr().err
    assert "_posts/2020-04-03-bad.md:4: error: the front matter is not valid YAML" in err
    assert not (site / "content").exists()


def test_a_second_import_writes_nothing(imported: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = {p: p.read_bytes() for p in (imported / "content").rglob("*.md")}
    capsys.readouterr()
    assert import_jekyll(imported) == 0
    assert {p: p.read_bytes() for p in (imported / "content").rglob("*.md")} == before
    assert "Files: 0 written, 13 already imported" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("old", "alias"),
    [
        ("https://old.example/2020/04/x/", "/2020/04/x/"),
        ("https://old.example/2020/04/x", "/2020/04/x/"),  # a static host answers it from x/index.html
        ("/2020/04/02/x.html", "/2020/04/02/x.html"),
        ("/access news/x/", "/access%20news/x/"),  # no spaces in an address
        ("https://old.example/?p=12", None),  # a query: no static host can redirect it
        ("/feed.xml", None),  # a redirect page can only be a folder or an .html file
        ("https://old.example/", None),
        ("/a/../b/", None),
    ],
)
def test_old_addresses_become_aliases_a_static_host_can_serve(old: str, alias: str | None) -> None:
    assert alias_path(old) == alias


def test_the_excerpt_separator_becomes_qsites_summary_marker(site: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    blog = write_tree(tmp_path_factory.mktemp("blog"), {
        "_config.yml": "excerpt_separator: <!--cut-->\n",
        "_posts/2020-04-02-one.md": "---\ntitle: One\ncategories: [Wellbeing]\n---\nThe summary.\n<!--cut-->\nThe rest.\n",
    })
    assert import_jekyll(site, blog) == 0
    assert front(site / "content/posts/2020-04-02-one.md")[1] == "The summary.\n\n<!-- more -->\n\nThe rest.\n"


def test_staticman_comments_keep_their_thread(imported: Path) -> None:
    folder = imported / "content/comments/huddles-that-stuck"
    assert sorted(p.name for p in folder.iterdir()) == [
        "2020-04-03-rukhsana-noor-12500000.md", "2020-04-03-sam-okafor-04400000.md", "2020-04-04-sam-okafor-90800000.md",
    ]  # the hidden one is not imported
    first, body = front(folder / "2020-04-03-sam-okafor-04400000.md")
    assert first == {"author": "Sam Okafor", "date": "2020-04-03 09:00"} and body == "Did the night team join too?\n"
    second, body = front(folder / "2020-04-03-rukhsana-noor-12500000.md")
    assert second["reply_to"] == "2020-04-03-sam-okafor-04400000" and body == "They did, from week **two**.\n"
    assert front(folder / "2020-04-04-sam-okafor-90800000.md")[0]["reply_to"] == "2020-04-03-rukhsana-noor-12500000"
    report = (imported / "report.md").read_text(encoding="utf-8")
    assert "- comments: 3" in report and "- hidden comments: 1" in report
    assert "- comment folders for no imported post: 1" in report
    assert "0bc83cb5" not in "".join(p.read_text(encoding="utf-8") for p in folder.iterdir())  # no e-mail hashes


def test_a_draft_dated_otherwise_by_a_fresh_clone_is_still_the_same_post(
    site: Path, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    """Jekyll dates a draft when its file last changed; a fresh clone changes that."""
    blog = write_tree(tmp_path_factory.mktemp("blog"), {"_drafts/idea.md": "---\ntitle: Idea\ncategories: [Wellbeing]\n---\nHm.\n"})
    os.utime(blog / "_drafts/idea.md", (1_600_000_000, 1_600_000_000))  # 13 September 2020, 12:26 UTC
    assert import_jekyll(site, blog) == 0
    assert files(site) == {"content/posts/2020-09-13-idea.md"}
    os.utime(blog / "_drafts/idea.md", (1_699_950_000, 1_699_950_000))  # 14 November 2023, 08:20 UTC
    capsys.readouterr()
    assert import_jekyll(site, blog) == 0
    assert files(site) == {"content/posts/2020-09-13-idea.md"}
    assert "Files: 0 written, 1 already imported" in capsys.readouterr().out
    assert import_jekyll(site, blog, "--force") == 0
    assert files(site) == {"content/posts/2023-11-14-idea.md"}


def test_only_the_old_sites_own_files_are_copied(site: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    top = tmp_path_factory.mktemp("outside")
    (top / "secret.png").write_bytes(b"secret")
    blog = write_tree(top / "blog", {
        "img/ok.png": "png",
        "_config.yml": "title: x\n",
        "_posts/2020-04-02-one.md": "---\ntitle: One\ncategories: [Wellbeing]\n---\n"
        "![a](/img/ok.png) ![b](/../secret.png) ![c](/img/missing.png) ![d](/_config.yml)\n",
    })
    assert import_jekyll(site, blog, "--report", str(site / "report.md")) == 0
    assert {p for p in files(site) if not p.endswith(".md")} == {"content/img/ok.png"}
    images = (site / "report.md").read_text(encoding="utf-8").split("### Images still on the old site", 1)[1]
    assert "`/../secret.png`" in images and "`/img/missing.png`" in images and "`/_config.yml`" in images
