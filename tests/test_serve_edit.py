"""`qsite serve` rebuilds a save that changed only posts' bodies from the model its last full
rebuild kept (qsite/incremental/edit.py): the edited posts swapped in by identity, and only the
pages showing them rendered again. Whatever was edited, what serve shows equals a fresh serve of
the site (warm == cold); a body edit really takes the shortcut (no step of the pipeline runs),
and every other kind of edit really takes the whole pipeline."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import qsite.build
from qsite.incremental.engine import Engine
from qsite.serve import Attempt, build_in_memory

from conftest import TINY_BASE, post, same_served, write_files

ORIGIN = "http://127.0.0.1:1"

# Templates printing what is made from a post's body (summary, HTML, reading time, contents) in
# every place a post is shown: its page, lists, feeds, the digest, related posts, and through the
# template globals (``archive``, ``posts``, ``themes``, ``tags``), which the shortcut swaps too.
_ITEM = "{{ p.url }}|{{ p.title }}|{{ p.summary }}|{{ p.reading_minutes }}|\n"
_PAGER = "{% for p in pager.items %}" + _ITEM + "{% endfor %}"
TEMPLATES: dict[str, str] = {
    "templates/index.html": (
        "home|{{ path }}|\n" + _PAGER
        + "{% if digest.featured %}{% for p in digest.featured %}featured|" + _ITEM + "{% endfor %}{% endif %}"
    ),
    "templates/post.html": (
        "post|{{ post.url }}|{{ post.title }}|{{ post.future }}|{{ post.summary_html | safe }}|\n"
        "{% for t in post.toc %}toc|{{ t.anchor }}|{{ t.text }}|\n{% endfor %}"
        "{{ post.html | safe }}\n"
        "{% for p in related %}related|" + _ITEM + "{% endfor %}"
        "{% if post_edition %}edition|{{ post_edition.label }}|{{ post_edition.anchor }}|\n{% endif %}"
    ),
    "templates/theme.html": "theme|{{ theme.url }}|{{ theme.count }}|\n" + _PAGER,
    "templates/tag.html": "tag|{{ tag.url }}|{{ tag.count }}|\n" + _PAGER,
    "templates/archive.html": (
        "{% for y in archive %}{% for m in y.months %}{% for p in m.posts %}archive|" + _ITEM
        + "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "templates/search.html": (
        "{% for p in posts %}search|" + _ITEM + "{% endfor %}"
        "{% for t in themes %}{% for p in t.posts %}theme global|{{ t.slug }}|" + _ITEM + "{% endfor %}{% endfor %}"
        "{% for t in tags %}{% for p in t.posts %}tag global|{{ t.slug }}|" + _ITEM + "{% endfor %}{% endfor %}"
    ),
    "templates/feed.xml": "feed|{{ feed_title }}|\n{% for p in feed_posts %}" + _ITEM + "{% endfor %}",
    "templates/digests.html": (
        "{% for e in digest.editions %}{{ e.url }}|{{ e.summary }}|\n"
        "{% for p in e.posts %}" + _ITEM + "{% endfor %}{% endfor %}"
    ),
    "templates/digest.html": (
        "edition|{{ edition.url }}|{{ edition.title }}|{{ edition.complete }}|{{ edition.intro_html | safe }}|\n"
        "{% for p in edition.picks %}pick|" + _ITEM + "{% endfor %}"
        "{% for s in edition.sections %}{% for p in s.posts %}{{ s.theme.slug }}|" + _ITEM + "{% endfor %}"
        "{% for a in s.also %}also|{{ a.post.summary }}|{{ a.shown_in }}|\n{% endfor %}{% endfor %}"
    ),
    "templates/email.txt": "email|{{ edition.title }}|\n{% for p in edition.posts %}" + _ITEM + "{% endfor %}",
}

SITE: dict[str, str | bytes] = {
    **TINY_BASE,
    **TEMPLATES,
    "content/posts/2020-04-01-a.md": post("Huddles", "2020-04-01", body="First text.", tags="[flow, boards]"),
    "content/posts/2020-04-09-b.md": post(
        "Boards", "2020-04-09", body="Board text.", tags="[flow, boards]", featured="true",
        takeaways="[Boards help]",
    ),
    "content/posts/2020-05-01-c.md": post(
        "Charts", "2020-05-01", themes="[staff-wellbeing, collaborative-improvement]", body="Chart text.",
        tags="[boards]",
    ),
    "content/posts/2020-05-02-d.md": post("Drills", "2020-05-02", body="Drill text.", tags="[flow]"),
    "content/digests/2020-04.md": "---\neditor: Digest Group\npicks:\n  - b\n---\nOur April intro.\n",
    "content/comments/a/ann.md": "---\nauthor: Ann\ndate: 2020-04-02\n---\nWell done.\n",
    "content/pages/about.md": "---\ntitle: About\n---\nAbout us.\n",
}


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


class Serve:
    """One serve engine kept across rebuilds, each told what was touched, as the watcher does."""

    def __init__(self, root: Path, runs: list[int]):
        self.root = root
        self.runs = runs
        self.engine = Engine.in_memory()
        first = build_in_memory(root, ORIGIN, self.engine)
        assert first.files is not None, first.problems
        assert self.engine.kept_model is not None

    def pipelines(self) -> int:
        """How many of this serve's rebuilds have taken the whole pipeline so far."""
        return self.runs[0]

    def rebuild(self, *touched: str) -> Attempt:
        return build_in_memory(self.root, ORIGIN, self.engine, frozenset(touched))

    def edit(self, rel: str, text: str | bytes) -> Attempt:
        write_files(self.root, {rel: text})
        return self.rebuild(rel)


def fresh(root: Path) -> Attempt:
    return build_in_memory(root, ORIGIN)


def same(warm: Attempt, cold: Attempt) -> None:
    same_served(warm, cold)
    assert (warm.posts, warm.pages) == (cold.posts, cold.pages)


@pytest.fixture
def serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Serve]:
    runs = [0]
    read = qsite.build.read_content

    def counted(*args: Any) -> Any:
        runs[0] += args[2].keeps_model  # serve's engine, not a fresh build's
        return read(*args)

    monkeypatch.setattr(qsite.build, "read_content", counted)

    def make(**more: str | bytes) -> Serve:
        root = tmp_path / "site"
        write_files(root, {**SITE, **more})
        return Serve(root.resolve(), runs)

    return make


def test_a_body_edit_is_swapped_into_the_kept_model_and_shows_as_a_fresh_serve_does(
    serve: Callable[..., Serve],
) -> None:
    s = serve()
    base = s.pipelines()
    a = "content/posts/2020-04-01-a.md"
    text = post("Huddles", "2020-04-01", body="Second text.\n\n## Where\n\nWords.\n\n## When\n\nWords.\n\n## How\n\nWords.", tags="[flow, boards]")
    warm = s.edit(a, text)
    assert s.pipelines() == base  # the shortcut: nothing of the pipeline ran
    assert warm.files is not None
    for page in ("posts/a/index.html", "index.html", "tags/flow/index.html", "archive/index.html",
                 "search/index.html", "digest/index.html", "digest/2020-04/index.html", "feed.xml"):
        assert "Second text." in warm.files[page].decode(), page
    assert "toc|where|Where|" in warm.files["posts/a/index.html"].decode()
    same(warm, fresh(s.root))
    # a second post, the picked and featured one, then the first again: each from the same base
    b = "content/posts/2020-04-09-b.md"
    warm = s.edit(b, post("Boards", "2020-04-09", body="Boards, again.", tags="[flow, boards]", featured="true",
                          takeaways="[Boards help]"))
    assert s.pipelines() == base
    assert warm.files is not None and "featured|/posts/b/|Boards|Boards, again." in warm.files["index.html"].decode()
    same(warm, fresh(s.root))
    warm = s.edit(a, post("Huddles", "2020-04-01", body="First text.", tags="[flow, boards]"))  # as it was
    assert s.pipelines() == base
    same(warm, fresh(s.root))
    warm = s.rebuild(a)  # saved again unchanged
    assert s.pipelines() == base
    same(warm, fresh(s.root))


def test_a_post_in_two_themes_and_the_related_posts_of_others(serve: Callable[..., Serve]) -> None:
    s = serve()
    base = s.pipelines()
    warm = s.edit("content/posts/2020-05-01-c.md", post(
        "Charts", "2020-05-01", themes="[staff-wellbeing, collaborative-improvement]", body="Charts, redrawn.",
        tags="[boards]",
    ))
    assert s.pipelines() == base
    assert warm.files is not None
    assert "related|/posts/c/|Charts|Charts, redrawn." in warm.files["posts/b/index.html"].decode()
    assert "also|Charts, redrawn.|" in warm.files["digest/2020-05/index.html"].decode()
    same(warm, fresh(s.root))


@pytest.mark.parametrize(
    "text",
    [
        post("Huddles at dawn", "2020-04-01", body="First text.", tags="[flow, boards]"),  # title
        post("Huddles", "2020-04-01", body="First text.", tags="[flow]"),  # tags
        post("Huddles", "2020-04-01", themes="[collaborative-improvement]", body="First text.", tags="[flow, boards]"),
        post("Huddles", "2020-04-03", body="First text.", tags="[flow, boards]"),  # date
        post("Huddles", "2020-04-01", body="First text.", tags="[flow, boards]", summary="Told in short."),
        post("Huddles", "2020-04-01", body="First text.", tags="[flow, boards]", featured="true"),
        post("Huddles", "2020-04-01", body="First text.", tags="[flow, boards]", aliases="[/old-huddles/]"),
        post("Huddles", "2020-04-01", body="Second text.", tags="[flow, boards]", slug="huddles"),  # its address
        # a comment line in the front matter: every line after it moves
        "---\n# a note\n" + post("Huddles", "2020-04-01", body="Second text.", tags="[flow, boards]")[4:],
        post("Huddles", "2020-04-01", body="Second text.", tags="[flow, boards]", draft="true"),
        post("Huddles", "2020-04-01", body="Second text.", tags="[flow, boards]", unknown="field"),  # an error
        post("Huddles", "2020-04-01", body="Second text with ![a chart](/images/chart.png).", tags="[flow, boards]"),
        post("Huddles", "2020-04-01", body="Second text with a control character: \x0b.", tags="[flow, boards]"),
        post("Huddles", "2020-04-01", body="!!! waring\n    A misspelt callout.", tags="[flow, boards]"),
    ],
    ids=["title", "tags", "themes", "date", "summary", "featured", "aliases", "slug", "moved lines",
         "draft", "error", "image", "control character", "callout"],
)
def test_every_other_edit_of_a_post_takes_the_whole_pipeline(serve: Callable[..., Serve], text: str) -> None:
    s = serve(**{"content/images/chart.png": png(40, 20)})
    base = s.pipelines()
    warm = s.edit("content/posts/2020-04-01-a.md", text)
    assert s.pipelines() > base
    same(warm, fresh(s.root))
    # and a body edit after it is the shortcut again, from the new base (if it built)
    if warm.files is not None:
        base = s.pipelines()
        warm = s.edit("content/posts/2020-05-02-d.md", post("Drills", "2020-05-02", body="New drills.", tags="[flow]"))
        assert s.pipelines() == base
        same(warm, fresh(s.root))


@pytest.mark.parametrize(
    ("rel", "text"),
    [
        ("content/posts/2020-06-01-new.md", post("New", "2020-06-01", body="A new post.", tags="[flow]")),
        ("content/pages/about.md", "---\ntitle: About\n---\nAbout us, again.\n"),
        ("content/digests/2020-04.md", "---\neditor: Digest Group\npicks:\n  - a\n---\nOur new intro.\n"),
        ("content/comments/a/ann.md", "---\nauthor: Ann\ndate: 2020-04-02\n---\nWell done, again.\n"),
        ("content/comments/b/bob.md", "---\nauthor: Bob\ndate: 2020-04-10\n---\nA new comment.\n"),
        ("templates/post.html", "post edited|{{ post.url }}|{{ post.summary }}|\n"),
        ("site.yaml", TINY_BASE["site.yaml"].replace("title:", "title: Renamed", 1)),
        ("content/files/report.txt", "a new file beside the posts"),
    ],
    ids=["new post", "page", "digest edition", "comment", "new comment", "template", "site.yaml", "new file"],
)
def test_an_edit_of_any_other_file_takes_the_whole_pipeline(serve: Callable[..., Serve], rel: str, text: str) -> None:
    s = serve()
    base = s.pipelines()
    # a body edit first, then the other file: the rebuild reads both (the body's edit is not lost)
    s.edit("content/posts/2020-05-02-d.md", post("Drills", "2020-05-02", body="New drills.", tags="[flow]"))
    assert s.pipelines() == base
    warm = s.edit(rel, text)
    assert s.pipelines() > base
    assert warm.files is not None and "New drills." in warm.files["posts/d/index.html"].decode()
    same(warm, fresh(s.root))


def test_front_matter_equal_in_python_but_typed_otherwise_takes_the_whole_pipeline(
    serve: Callable[..., Serve],
) -> None:
    """``featured: 1`` is ``featured: true`` to Python's ``==``, not to the schema."""
    s = serve()
    base = s.pipelines()
    warm = s.edit("content/posts/2020-04-09-b.md", post(
        "Boards", "2020-04-09", body="Board text, again.", tags="[flow, boards]", featured="1", takeaways="[Boards help]",
    ))
    assert s.pipelines() > base
    same(warm, fresh(s.root))


def test_a_deleted_post_takes_the_whole_pipeline(serve: Callable[..., Serve]) -> None:
    s = serve()
    base = s.pipelines()
    s.edit("content/posts/2020-05-02-d.md", post("Drills", "2020-05-02", body="New drills.", tags="[flow]"))
    (s.root / "content/posts/2020-05-01-c.md").unlink()
    warm = s.rebuild("content/posts/2020-05-01-c.md")
    assert s.pipelines() > base
    same(warm, fresh(s.root))


def test_a_failed_rebuild_leaves_no_base_behind(serve: Callable[..., Serve]) -> None:
    """A body edit, then a broken file (the whole pipeline reads every touched file, and fails),
    then the broken file fixed: the body edit still shows, though the last rebuild was told
    only of the fixed file (the failed one read the other, so it is no longer "touched")."""
    s = serve()
    s.edit("content/posts/2020-05-02-d.md", post("Drills", "2020-05-02", body="New drills.", tags="[flow]"))
    assert s.edit("content/posts/2020-04-01-a.md", "---\ntitle: [unclosed\n---\nBroken.\n").files is None
    assert s.engine.kept_model is None
    warm = s.edit("content/posts/2020-04-01-a.md", post("Huddles", "2020-04-01", body="Fixed.", tags="[flow, boards]"))
    assert warm.files is not None and "New drills." in warm.files["posts/d/index.html"].decode()
    same(warm, fresh(s.root))


def test_a_post_replaced_by_a_link_takes_the_whole_pipeline(serve: Callable[..., Serve], tmp_path: Path) -> None:
    """A link is the walk's to judge (one leading out of the site is refused), not read through."""
    s = serve()
    base = s.pipelines()
    outside = tmp_path / "outside.md"
    outside.write_text(post("Huddles", "2020-04-01", body="From outside the site.", tags="[flow, boards]"))
    target = s.root / "content/posts/2020-04-01-a.md"
    target.unlink()
    target.symlink_to(outside)
    warm = s.rebuild("content/posts/2020-04-01-a.md")
    assert s.pipelines() > base
    same(warm, fresh(s.root))


def test_an_editors_temporary_file_does_not_stop_the_shortcut(serve: Callable[..., Serve]) -> None:
    s = serve()
    base = s.pipelines()
    target = s.root / "content/posts/2020-04-01-a.md"
    temp = target.with_name("2020-04-01-a.md.tmp")
    temp.write_text(post("Huddles", "2020-04-01", body="Saved through a temporary file.", tags="[flow, boards]"))
    temp.replace(target)
    warm = s.rebuild("content/posts/2020-04-01-a.md.tmp", "content/posts/2020-04-01-a.md", "output/index.html")
    assert s.pipelines() == base
    assert warm.files is not None and "Saved through a temporary file." in warm.files["posts/a/index.html"].decode()
    same(warm, fresh(s.root))


def test_the_clock_passing_a_post_or_an_editions_end_takes_the_whole_pipeline(
    serve: Callable[..., Serve], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduled post (shown by serve, marked as in the future) and the edition in progress
    change with "now" alone: a body edit after that moment is no shortcut."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1588334400")  # 2020-05-01 12:00 UTC: d is scheduled
    s = serve()
    base = s.pipelines()
    assert "post|/posts/d/|Drills|True|" in fresh(s.root).files["posts/d/index.html"].decode()  # type: ignore[index]
    s.edit("content/posts/2020-04-01-a.md", post("Huddles", "2020-04-01", body="Second text.", tags="[flow, boards]"))
    assert s.pipelines() == base
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1593561600")  # 2020-07-01: d is out, May has ended
    warm = s.edit("content/posts/2020-04-01-a.md", post("Huddles", "2020-04-01", body="Third.", tags="[flow, boards]"))
    assert s.pipelines() > base
    assert warm.files is not None and "post|/posts/d/|Drills|False|" in warm.files["posts/d/index.html"].decode()
    same(warm, fresh(s.root))


def test_the_production_templates_show_a_body_edit_as_a_fresh_serve_does(tmp_path: Path) -> None:
    """The theme's own templates (no templates/ folder): cards rendered once per build
    (``render.Once``), structured data with each post's word count, reading times, feeds."""
    root = tmp_path / "site"
    files = {rel: text for rel, text in SITE.items() if not rel.startswith("templates/")}
    write_files(root, files)
    s = Serve(root.resolve(), [0])
    for n, rel in enumerate(["content/posts/2020-04-09-b.md", "content/posts/2020-05-01-c.md"]):
        body = f"Edit {n}: " + "many more words " * (40 * n + 1)
        meta = (root / rel).read_text(encoding="utf-8").split("\n---\n", 1)[0]
        warm = s.edit(rel, meta + "\n---\n" + body + "\n")
        assert s.engine.kept_model is not None and s.engine.kept_model.rendered  # a shortcut's model
        same(warm, fresh(s.root))
