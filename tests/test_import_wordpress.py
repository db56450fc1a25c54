"""``qsite import wordpress`` (issue 12) on a small export written by hand for these tests
(tests/fixtures/import/wordpress.xml): what each item becomes, the comment thread, the body
conversion and the report. Safety (second runs, --force, hostile XML) is in
tests/test_import_safety.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from qsite.cli import main

from conftest import SITE_YAML

FIXTURE = Path(__file__).parent / "fixtures" / "import" / "wordpress.xml"
MAP = ["--theme-map", "Wellbeing=staff-wellbeing", "--theme-map", "access & equity=health-inequalities"]


def import_wp(site: Path, *extra: str, export: Path = FIXTURE) -> int:
    return main(["import", "wordpress", str(export), "--source", str(site), *MAP, *extra])


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "site.yaml").write_text(SITE_YAML, encoding="utf-8")
    return tmp_path


@pytest.fixture
def imported(site: Path) -> Path:
    assert import_wp(site, "--report", str(site / "report.md")) == 0
    return site


def front(path: Path) -> tuple[dict[str, Any], str]:
    """A written file's front matter (YAML comment lines ignored, as the build does) and body."""
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, _, body = text[4:].partition("\n---\n")
    return yaml.safe_load(head), body


def files(site: Path) -> set[str]:
    return {p.relative_to(site).as_posix() for p in (site / "content").rglob("*") if p.is_file()}


def test_each_item_becomes_the_right_file_and_internal_items_none(imported: Path) -> None:
    assert files(imported) == {
        "content/authors/rukhsana-noor.md",
        "content/authors/tom-whitfield.md",
        "content/posts/2020-04-02-huddles.md",  # classic editor
        "content/posts/2020-05-14-cafe-conversations.md",  # block editor
        "content/posts/2020-06-01-update.md",
        "content/posts/2021-06-01-update-2.md",  # same slug as the one before
        "content/posts/2020-09-01-notes-for-the-autumn.md",  # draft without a post_name
        "content/posts/2020-10-01-rota.md",  # private
        "content/posts/2020-10-02-staff-rota.md",  # published behind a password
        "content/posts/2020-12-01-thoughts.md",  # uncategorised
        "content/pages/about-us.md",
        "content/pages/archive-2.md",  # /archive/ is qsite's own
        "content/comments/huddles/2020-04-03-sam-okafor-11.md",
        "content/comments/huddles/2020-04-03-rukhsana-noor-12.md",
        "content/comments/huddles/2020-04-04-sam-okafor-13.md",
    }  # no trashed post, revision, menu item or attachment


def test_drafts_and_private_posts_are_drafts_published_ones_are_not(imported: Path) -> None:
    posts = imported / "content" / "posts"
    assert front(posts / "2020-09-01-notes-for-the-autumn.md")[0]["draft"] is True
    assert front(posts / "2020-10-01-rota.md")[0]["draft"] is True
    assert front(posts / "2020-10-02-staff-rota.md")[0]["draft"] is True  # readers needed a password
    assert "draft" not in front(posts / "2020-04-02-huddles.md")[0]
    assert "aliases" not in front(posts / "2020-10-01-rota.md")[0]  # never had a public address


def test_post_front_matter_from_the_export(imported: Path) -> None:
    meta, _ = front(imported / "content/posts/2020-05-14-cafe-conversations.md")
    assert meta == {
        "title": "Café conversations & “walk-in” clinics",  # entities decoded, not CDATA
        "date": "2020-05-14 14:00",
        "themes": ["health-inequalities"],  # mapped without regard to case
        "author": "tom-whitfield",
        "tags": ["Access & Equity", "News"],
        "featured": True,  # sticky
        "aliases": ["/2020/05/cafe-conversations/"],
    }
    meta, _ = front(imported / "content/posts/2020-04-02-huddles.md")
    assert meta["summary"] == "Short, standing, every morning."
    assert meta["tags"] == ["Wellbeing", "huddles"]


def test_authors_become_profiles_without_their_email(imported: Path) -> None:
    assert front(imported / "content/authors/rukhsana-noor.md")[0] == {"name": "Rukhsana Noor", "type": "person"}
    assert front(imported / "content/authors/tom-whitfield.md")[0] == {"name": "Tom Whitfield", "type": "person"}
    everything = "".join(p.read_text(encoding="utf-8") for p in (imported / "content").rglob("*.md"))
    assert "@" not in everything  # neither authors' nor commenters' e-mail addresses
    assert "192.0.2.7" not in everything


def test_three_level_thread_keeps_its_replies(imported: Path) -> None:
    folder = imported / "content/comments/huddles"
    first, first_body = front(folder / "2020-04-03-sam-okafor-11.md")
    second, _ = front(folder / "2020-04-03-rukhsana-noor-12.md")
    third, third_body = front(folder / "2020-04-04-sam-okafor-13.md")
    assert first == {"author": "Sam Okafor", "date": "2020-04-03 10:00"}
    assert second == {
        "author": "Rukhsana Noor", "date": "2020-04-03 12:15",
        "reply_to": "2020-04-03-sam-okafor-11", "author_id": "rukhsana-noor",
    }
    assert third["reply_to"] == "2020-04-03-rukhsana-noor-12"
    assert third_body.strip() == "Thanks – we will try it."
    # the comment sanitiser's allow-list ran before conversion
    assert "script" not in first_body and "alert" not in first_body and "javascript" not in first_body


def test_spam_pingbacks_and_internal_items_are_counted(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert import_wp(site, "--report", str(site / "report.md")) == 0
    report = (site / "report.md").read_text(encoding="utf-8")
    for line in ("- spam comments: 1", "- pingbacks: 1", "- comments: 3", "- trashed posts and pages: 1",
                 "- revisions: 1", "- menu items: 1", "- attachments (listed in the report): 1",
                 "- posts: 3", "- draft posts: 5", "- pages: 2", "- authors: 2", "- written: 15"):
        assert line in report
    assert "- https://log.millbrook.example/wp-content/uploads/2020/04/board.jpg" in report  # the attachment
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("wordpress.xml): 2 authors, 3 posts, 5 draft posts, 2 pages, 3 comments")
    assert printed[1] == (
        "Skipped: 1 menu items, 1 revisions, 1 attachments (listed in the report), 1 spam comments, "
        "1 pingbacks, 1 trashed posts and pages"
    )
    assert printed[2] == "Files: 15 written."


def test_classic_body_paragraphs_caption_more_code_and_shortcodes(imported: Path) -> None:
    _, body = front(imported / "content/posts/2020-04-02-huddles.md")
    assert body.startswith("We started a huddle at 8:20 every morning — ten minutes, standing up.\n\n")
    assert "It stuck because it was short.<br>\nNobody had to prepare." in body  # a classic-editor line break
    assert "\n<!-- more -->\n" in body
    assert (
        '<figure><img alt="The huddle board by the reception desk"' in body
        and "<figcaption>Our huddle board, week one</figcaption></figure>" in body
        and "[caption" not in body
    )
    assert "## What we asked\n\n- Who is off today?\n- What worries you?" in body
    assert '```\nboard = ["who", "what"]\n\nprint(board)\n```' in body  # the blank line inside <pre> kept
    assert '[gallery ids="140,141"]' in body


def test_block_editor_comments_removed_figures_kept(imported: Path) -> None:
    _, body = front(imported / "content/posts/2020-05-14-cafe-conversations.md")
    assert "wp:" not in body and "script" not in body
    assert body.startswith("We held a *walk-in* clinic at the community café.\n")
    assert '<figure class="wp-block-image"><img alt="Tables set out for the clinic"' in body
    assert "## Who came" in body and "Forty people & their families." in body


def test_links_between_imported_posts_lead_to_their_new_addresses(imported: Path) -> None:
    _, body = front(imported / "content/posts/2020-05-14-cafe-conversations.md")
    assert "[our huddles](/posts/huddles/#what-we-asked)" in body  # its permalink on the old site
    assert "[the later update](/posts/update-2/)" in body  # a ?p=ID link
    assert "[the guide](https://nhs.example/guide/)" in body  # another site's: as it was


def test_report_lists_shortcodes_images_and_themeless_posts(imported: Path) -> None:
    report = (imported / "report.md").read_text(encoding="utf-8")
    needs = report.split("## Needs an editor", 1)[1]
    assert "`[gallery ids=\"140,141\"]`" in needs and "`[contact-form-7 id=\"9\" title=\"Feedback\"]`" in needs
    assert "`[caption" not in needs
    scripts = needs.split("### Scripts removed", 1)[1].split("###", 1)[0]
    assert "`content/posts/2020-05-14-cafe-conversations.md`\n  - `https://social.example/widgets.js`" in scripts
    assert "https://log.millbrook.example/wp-content/uploads/2020/05/cafe.jpg" in needs
    no_theme = needs.split("### No theme", 1)[1].split("###", 1)[0]
    assert "content/posts/2020-06-01-update.md" in no_theme and "content/posts/2020-12-01-thoughts.md" in no_theme


def test_a_post_without_a_theme_is_a_draft_that_says_what_to_add(imported: Path) -> None:
    meta, _ = front(imported / "content/posts/2020-12-01-thoughts.md")
    assert meta["draft"] is True and "themes" not in meta
    text = (imported / "content/posts/2020-12-01-thoughts.md").read_text(encoding="utf-8")
    assert "# no theme: add 'themes: [...]' with one or more of: health-inequalities," in text


def test_default_theme_for_the_rest(site: Path) -> None:
    assert import_wp(site, "--default-theme", "space-to-learn") == 0
    meta, _ = front(site / "content/posts/2020-12-01-thoughts.md")
    assert meta["themes"] == ["space-to-learn"] and "draft" not in meta
    assert front(site / "content/posts/2020-04-02-huddles.md")[0]["themes"] == ["staff-wellbeing"]  # map wins


def test_same_slug_gets_a_suffix_and_keeps_its_old_address(imported: Path) -> None:
    meta, _ = front(imported / "content/posts/2021-06-01-update-2.md")
    assert meta["aliases"] == ["/2021/06/update/"]
    assert meta["author"] == "rukhsana-noor"  # dc:creator spelt RNoor, the login rnoor
    assert "`update` → `update-2`" in (imported / "report.md").read_text(encoding="utf-8")


def test_old_addresses_and_the_permalinks_that_fit_them(imported: Path) -> None:
    assert front(imported / "content/posts/2020-04-02-huddles.md")[0]["aliases"] == ["/2020/04/huddles/"]
    assert front(imported / "content/pages/about-us.md")[0] == {"title": "About the practice"}  # same address
    assert front(imported / "content/pages/archive-2.md")[0] == {"title": "Archive"}  # /archive/ is qsite's own
    report = (imported / "report.md").read_text(encoding="utf-8")
    assert 'post: "/:year/:month/:slug/"' in report
    assert "| `/?p=101` | `/posts/huddles/` |" in report and "| `/?page_id=120` | `/about-us/` |" in report


def test_aliases_equal_to_the_new_address_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").write_text(SITE_YAML + 'permalinks:\n  post: "/:year/:month/:slug/"\n', encoding="utf-8")
    assert import_wp(tmp_path) == 0
    assert "aliases" not in front(tmp_path / "content/posts/2020-04-02-huddles.md")[0]
    assert front(tmp_path / "content/posts/2021-06-01-update-2.md")[0]["aliases"] == ["/2021/06/update/"]


def test_unknown_theme_in_the_map_is_a_usage_error(site: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["import", "wordpress", str(FIXTURE), "--source", str(site), "--theme-map", "Wellbeing=staff-wellbeng"])
    assert code == 2
    assert "did you mean 'staff-wellbeing'?" in capsys.readouterr().err
    assert not (site / "content").exists()


def test_a_wxr_1_1_export_reads_the_same(site: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    older = tmp_path_factory.mktemp("wxr") / "old.xml"
    older.write_text(FIXTURE.read_text(encoding="utf-8").replace("export/1.2/", "export/1.1/"), encoding="utf-8")
    assert import_wp(site, export=older) == 0
    assert len(files(site)) == 15


def wxr(items: str) -> str:
    """A minimal export around ``items``, for a test about one detail."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" xmlns:wp="http://wordpress.org/export/1.2/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel><title>T</title><link>https://old.example</link><wp:wxr_version>1.2</wp:wxr_version>\n"
        f"{items}\n</channel></rss>\n"
    )


def comment(cid: int, parent: int, date: str, author: str = "Ana") -> str:
    return (
        f"<wp:comment><wp:comment_id>{cid}</wp:comment_id><wp:comment_author>{author}</wp:comment_author>"
        f"<wp:comment_date>{date}</wp:comment_date><wp:comment_content>Comment {cid}.</wp:comment_content>"
        f"<wp:comment_approved>1</wp:comment_approved><wp:comment_type>comment</wp:comment_type>"
        f"<wp:comment_parent>{parent}</wp:comment_parent></wp:comment>"
    )


def test_comments_dated_before_their_post_or_parent_are_dated_after_and_loops_are_cut(site: Path) -> None:
    """A post re-dated in WordPress can leave comments "before" it, which qsite refuses."""
    export = site / "export.xml"
    export.write_text(wxr(
        "<item><title>Moved</title><link>https://old.example/moved/</link><wp:post_id>1</wp:post_id>"
        "<wp:post_date>2021-03-01 10:00:00</wp:post_date><wp:post_name>moved</wp:post_name>"
        "<wp:status>publish</wp:status><wp:post_type>post</wp:post_type>"
        '<category domain="category">Wellbeing</category>'
        + comment(5, 0, "2021-02-01 09:00:00")  # before the post
        + comment(6, 5, "2021-03-02 09:00:00")
        + comment(7, 8, "2021-03-03 09:00:00") + comment(8, 7, "2021-03-04 09:00:00")  # each the other's parent
        + comment(9, 9, "2021-03-05 09:00:00")  # its own parent
        + "</item>"
    ), encoding="utf-8")
    assert import_wp(site, "--report", str(site / "report.md"), export=export) == 0
    folder = site / "content/comments/moved"
    assert sorted(p.name for p in folder.iterdir()) == [
        "2021-03-01-ana-5.md", "2021-03-02-ana-6.md", "2021-03-03-ana-7.md", "2021-03-04-ana-8.md",
        "2021-03-05-ana-9.md",
    ]
    assert "reply_to" not in front(folder / "2021-03-05-ana-9.md")[0]
    assert front(folder / "2021-03-01-ana-5.md")[0]["date"] == "2021-03-01 10:00"
    assert front(folder / "2021-03-02-ana-6.md")[0]["reply_to"] == "2021-03-01-ana-5"
    assert "reply_to" not in front(folder / "2021-03-03-ana-7.md")[0]  # the loop's earliest starts the thread
    assert front(folder / "2021-03-04-ana-8.md")[0]["reply_to"] == "2021-03-03-ana-7"
    assert "Comment 5 on 'moved' was dated before its post; dated 2021-03-01 10:00 instead" in (
        site / "report.md").read_text(encoding="utf-8")


def test_an_author_without_a_name_gets_one_a_profile_can_have(site: Path) -> None:
    export = site / "export.xml"
    export.write_text(wxr(
        "<wp:author><wp:author_id>3</wp:author_id><wp:author_login>Дмитрий</wp:author_login></wp:author>"
        "<wp:author><wp:author_id>4</wp:author_id><wp:author_login></wp:author_login></wp:author>"
    ), encoding="utf-8")
    assert import_wp(site, export=export) == 0
    # no Latin letters for an id: a numbered one; the login is the name, as WordPress shows it
    assert front(site / "content/authors/author.md")[0]["name"] == "Дмитрий"
    assert front(site / "content/authors/author-2.md")[0]["name"] == "author-2"  # nothing at all: its id


def test_old_addresses_the_new_site_uses_are_left_out_and_listed(site: Path) -> None:
    def item(pid: int, kind: str, name: str, link: str) -> str:
        return (
            f"<item><title>{name.title()}</title><link>https://old.example{link}</link><wp:post_id>{pid}</wp:post_id>"
            f"<wp:post_date>2020-01-0{pid} 09:00:00</wp:post_date><wp:post_name>{name}</wp:post_name>"
            f"<wp:status>publish</wp:status><wp:post_type>{kind}</wp:post_type>"
            '<category domain="category">Wellbeing</category></item>'
        )

    export = site / "export.xml"
    export.write_text(wxr(
        item(1, "post", "with-tags", "/tags/")  # a permalink where qsite lists its tags
        + item(2, "page", "help", "/help/")
        + item(3, "post", "helping", "/help/")  # the page's address
        + item(4, "post", "kept", "/2020/01/kept/")
    ), encoding="utf-8")
    assert import_wp(site, "--report", str(site / "report.md"), export=export) == 0
    assert "aliases" not in front(site / "content/posts/2020-01-01-with-tags.md")[0]
    assert "aliases" not in front(site / "content/posts/2020-01-03-helping.md")[0]
    assert front(site / "content/posts/2020-01-04-kept.md")[0]["aliases"] == ["/2020/01/kept/"]
    report = (site / "report.md").read_text(encoding="utf-8")
    assert "Aliases written: 1." in report
    assert "- `content/posts/2020-01-01-with-tags.md`: `/tags/`" in report
    assert "- `content/posts/2020-01-03-helping.md`: `/help/`" in report


def test_the_theme_map_may_name_a_category_by_its_url_name(site: Path) -> None:
    assert main(["import", "wordpress", str(FIXTURE), "--source", str(site), "--theme-map", "access=health-inequalities"]) == 0
    assert front(site / "content/posts/2020-05-14-cafe-conversations.md")[0]["themes"] == ["health-inequalities"]
