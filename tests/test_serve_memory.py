"""`qsite serve` rebuilds from what its watcher saw change (``Engine.expect_changes``): content/
is walked again, and files stat'ed and hashed, only when a touched path could change them, and the
output paths are checked again only when they differ. Whatever was edited, what serve shows after
the rebuild equals a fresh serve of the site (warm == cold); and an edit in place of one file
really takes the shortcut (else these tests could not fail)."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

import qsite.build
import qsite.cards
from qsite.incremental.cache import Cache
from qsite.incremental.engine import Engine
from qsite.serve import Attempt, build_in_memory

from conftest import TINY_BASE, post, write_files
from conftest import same_served as same

ORIGIN = "http://127.0.0.1:1"


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


SITE: dict[str, str | bytes] = {
    **TINY_BASE,
    "content/posts/2020-04-01-a.md": post("Huddles", "2020-04-01", body="First text.", tags="[flow]"),
    "content/posts/2020-05-01-b.md": post("Boards", "2020-05-01", body="Board text.", tags="[flow]"),
    "content/posts/2020-06-01-c.md": post("Charts", "2020-06-01", body="![A chart](/images/chart.png)"),
    "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
    "content/images/chart.png": png(40, 20),
}


class Serve:
    """One serve engine kept across rebuilds, each told what was touched, as the watcher does."""

    def __init__(self, root: Path, walks: list[int]):
        self.root = root
        self.engine = Engine.in_memory()
        self.walks = walks
        first = build_in_memory(root, ORIGIN, self.engine)  # the first build: nothing known
        assert first.files is not None, first.problems

    def rebuild(self, *touched: str) -> Attempt:
        return build_in_memory(self.root, ORIGIN, self.engine, frozenset(touched))


def fresh(root: Path) -> Attempt:
    return build_in_memory(root, ORIGIN)


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Serve]:
    root = tmp_path / "site"
    write_files(root, SITE)
    walks = [0]
    find = qsite.build.find_content

    def counted(*args: object) -> object:
        walks[0] += 1
        return find(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(qsite.build, "find_content", counted)
    return lambda: Serve(root.resolve(), walks)  # type: ignore[arg-type]


def edit(root: Path, rel: str, text: str | bytes) -> None:
    write_files(root, {rel: text})


def test_an_edit_in_place_takes_the_shortcut_and_shows_as_a_fresh_serve_does(serve: Callable[[], Serve]) -> None:
    s = serve()
    walks = s.walks[0]
    edit(s.root, "content/posts/2020-04-01-a.md", post("Huddles", "2020-04-01", body="Second text.", tags="[flow]"))
    warm = s.rebuild("content/posts/2020-04-01-a.md")
    assert s.walks[0] == walks  # content/ not walked again
    assert warm.files is not None and "Second text." in warm.files["posts/a/index.html"].decode()
    same(warm, fresh(s.root))


def test_a_file_left_out_of_touched_is_not_read_again(serve: Callable[[], Serve]) -> None:
    """What the shortcut trusts: an edit no event named is not seen (so the tests above, which
    name every edit, would fail if the shortcut checked too little)."""
    s = serve()
    edit(s.root, "content/posts/2020-04-01-a.md", post("Huddles", "2020-04-01", body="Unnamed.", tags="[flow]"))
    warm = s.rebuild("content/posts/2020-05-01-b.md")
    assert warm.files is not None and "Unnamed." not in warm.files["posts/a/index.html"].decode()
    same(s.rebuild("content/posts/2020-04-01-a.md"), fresh(s.root))


def test_deleted_renamed_and_replaced_files(serve: Callable[[], Serve]) -> None:
    s = serve()
    root = s.root
    (root / "content/posts/2020-05-01-b.md").unlink()
    same(s.rebuild("content/posts/2020-05-01-b.md"), fresh(root))
    (root / "content/posts/2020-04-01-a.md").rename(root / "content/posts/2020-04-02-renamed.md")
    same(s.rebuild("content/posts/2020-04-01-a.md", "content/posts/2020-04-02-renamed.md"), fresh(root))
    # renamed over another post: only the moved-away name is gone; the event names both
    (root / "content/posts/2020-04-02-renamed.md").rename(root / "content/posts/2020-06-01-c.md")
    same(s.rebuild("content/posts/2020-04-02-renamed.md", "content/posts/2020-06-01-c.md"), fresh(root))
    # an editor's save: a temporary file, renamed over the post (gone by the rebuild)
    temp = root / "content/pages/about.md.tmp"
    temp.write_text("---\ntitle: About us\n---\nSaved through a temporary file.\n", encoding="utf-8")
    temp.replace(root / "content/pages/about.md")
    walks = s.walks[0]
    warm = s.rebuild("content/pages/about.md.tmp", "content/pages/about.md")
    assert s.walks[0] == walks  # nothing came or went
    same(warm, fresh(root))
    # a folder moved away with what it holds: one event, for the folder
    os.rename(root / "content/pages", root / "pages-elsewhere")
    same(s.rebuild("content/pages"), fresh(root))


def test_new_files_dotfiles_and_folders(serve: Callable[[], Serve]) -> None:
    s = serve()
    root = s.root
    edit(root, "content/posts/2021-01-01-new.md", post("New", "2021-01-01", tags="[flow]"))
    same(s.rebuild("content/posts/2021-01-01-new.md"), fresh(root))
    edit(root, "content/.notes.txt", "a dotfile: a warning that it is not published")
    same(s.rebuild("content/.notes.txt"), fresh(root))
    edit(root, "content/files/2021/report.txt", "an asset in a new folder")
    same(s.rebuild("content/files"), fresh(root))


def test_site_yaml_templates_and_images(serve: Callable[[], Serve]) -> None:
    s = serve()
    root = s.root
    yaml = (root / "site.yaml").read_text(encoding="utf-8")
    edit(root, "site.yaml", yaml.replace("title:", "title: Renamed", 1))
    same(s.rebuild("site.yaml"), fresh(root))
    edit(root, "templates/post.html", "post edited|{{ post.title }}|\n{{ post.html | safe }}\n")
    same(s.rebuild("templates/post.html"), fresh(root))
    edit(root, "content/images/chart.png", png(80, 30))  # the post's image gets new sizes
    warm = s.rebuild("content/images/chart.png")
    assert warm.files is not None and 'width="80"' in warm.files["posts/c/index.html"].decode()
    same(warm, fresh(root))


def test_touched_paths_wait_for_a_build_that_reads_the_files(serve: Callable[[], Serve]) -> None:
    """A rebuild that fails before reading any file (a broken site.yaml) keeps what it was told
    for the next one: an edit saved while site.yaml was broken still shows once it is fixed."""
    s = serve()
    root = s.root
    yaml = (root / "site.yaml").read_text(encoding="utf-8")
    edit(root, "site.yaml", "title: [unclosed\n")
    assert s.rebuild("site.yaml").files is None
    edit(root, "content/posts/2020-04-01-a.md", post("Huddles", "2020-04-01", body="Fixed meanwhile.", tags="[flow]"))
    assert s.rebuild("content/posts/2020-04-01-a.md").files is None
    edit(root, "site.yaml", yaml)
    warm = s.rebuild("site.yaml")
    assert warm.files is not None and "Fixed meanwhile." in warm.files["posts/a/index.html"].decode()
    same(warm, fresh(root))


def test_a_collision_is_still_reported_after_clean_rebuilds(serve: Callable[[], Serve]) -> None:
    s = serve()
    assert s.rebuild().files is not None  # the same paths: not checked again
    edit(s.root, "content/static/pygments.css", "a file where qsite writes its own")
    warm = s.rebuild("content/static/pygments.css")
    assert warm.files is None and any("two things" in p.message for p in warm.problems)
    same(warm, fresh(s.root))


def test_links_in_content_turn_the_shortcut_off(serve: Callable[[], Serve], tmp_path: Path) -> None:
    """A file reached through a link changes without an event in content/: every rebuild checks."""
    s = serve()
    root = s.root
    shared = root / "shared"
    write_files(shared, {"b.md": post("Shared", "2020-07-01", body="Linked once.")})
    (root / "content/posts/2020-07-01-shared.md").symlink_to(shared / "b.md")
    same(s.rebuild("content/posts/2020-07-01-shared.md"), fresh(root))
    (shared / "b.md").write_text(post("Shared", "2020-07-01", body="Linked twice."), encoding="utf-8")
    warm = s.rebuild()  # no event in content/ names it
    assert warm.files is not None and "Linked twice." in warm.files["posts/shared/index.html"].decode()
    same(warm, fresh(root))


@pytest.mark.parametrize(
    "front",
    [
        {"tags": "[huddles]"},  # a tag in common with another post: its related posts change
        {"themes": "[collaborative-improvement]"},
        {"date": "2019-01-01"},
    ],
)
def test_related_posts_follow_an_edit_of_tags_themes_or_date(
    serve: Callable[[], Serve], front: dict[str, str]
) -> None:
    """Related posts are kept while no post's key, date, themes or tags changed (checked by
    identity for the posts serve kept): an edit of any of them finds them again."""

    def related_page(**fields: str) -> str:
        values = {"title": "Huddles", "date": "2020-04-01", "themes": "[staff-wellbeing]", "tags": "[flow]", **fields}
        body = "First text."
        lines = [f"{k}: {v}" for k, v in values.items()]
        return "---\n" + "\n".join(lines) + "\n---\n" + body + "\n"

    s = serve()
    root = s.root
    edit(root, "templates/post.html", "post|{{ post.url }}|\n{% for r in related %}related|{{ r.url }}|\n{% endfor %}")
    edit(root, "content/posts/2020-08-01-d.md", post("Drills", "2020-08-01", tags="[huddles]",
                                                     themes="[collaborative-improvement]"))
    same(s.rebuild("templates/post.html", "content/posts/2020-08-01-d.md"), fresh(root))
    edit(root, "content/posts/2020-04-01-a.md", related_page(**front))
    warm = s.rebuild("content/posts/2020-04-01-a.md")
    same(warm, fresh(root))


def test_preview_cards_follow_an_edit_of_title_or_theme(serve: Callable[[], Serve]) -> None:
    """Serve keeps each post's Card (and its key) across rebuilds by what it draws
    (``Deck.known``): a new title or theme colour draws a new card, an unchanged post keeps its."""
    s = serve()
    before = s.rebuild()
    assert before.files is not None
    cards = [name for name in before.files if name.endswith(".png") and "posts/" in name]
    assert cards
    kept = dict(qsite.cards._kept_cards[s.engine])
    for text in (post("Huddles at dawn", "2020-04-01", body="First text.", tags="[flow]"),
                 post("Huddles at dawn", "2020-04-01", themes="[collaborative-improvement]", body="First text.")):
        edit(s.root, "content/posts/2020-04-01-a.md", text)
        warm = s.rebuild("content/posts/2020-04-01-a.md")
        same(warm, fresh(s.root))
        assert warm.files is not None
        assert [n for n in cards if warm.files[n] != before.files[n]], "the edited post's card is drawn again"
        before = warm
    now = qsite.cards._kept_cards[s.engine]
    assert len(now) == len(kept)  # the last build's cards only
    assert [card for shape, card in now.items() if kept.get(shape) is card]  # the others were reused


def test_derived_keys_are_remembered_for_one_rebuild_and_follow_their_texts(serve: Callable[[], Serve]) -> None:
    """``Engine._derive`` looks a key up by all its texts: an edit of a post's front matter or
    body makes new meta, post and shape keys, and a fresh serve agrees with what is shown."""
    s = serve()
    s.rebuild()
    last = dict(s.engine._derived_now)
    assert last
    edit(s.root, "content/posts/2020-05-01-b.md", post("Boards again", "2020-05-01", body="New board.", tags="[flow]"))
    warm = s.rebuild("content/posts/2020-05-01-b.md")
    same(warm, fresh(s.root))
    assert warm.files is not None and "Boards again" in warm.files["posts/b/index.html"].decode()
    now = s.engine._derived_now
    assert all(s.engine._derived_last.get(parts) == key for parts, key in last.items())
    assert set(now) - set(last) and set(last) - set(now)  # new keys for the edited post, old ones dropped
    assert all(Cache.derived_key(*parts) == key for parts, key in now.items())
