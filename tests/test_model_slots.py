"""The model's most numerous objects are slotted (issue 10: memory at 20,000 posts).

A build holds every ``Post``, ``Meta`` and ``Tag`` to its end, and each render worker inherits
them: a Post whose ``__dict__`` ``make_post`` filled took 896 bytes, a slotted one 224. They
are made without their frozen ``__init__`` (``model.fields_maker``), so these tests pin that
what is made is what the class's own ``__init__`` makes: equal, hashable, picklable, frozen.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from datetime import UTC
from pathlib import Path

import pytest

from qsite.build import Options, build
from qsite.incremental.cache import meta_codec
from qsite.model import Meta, Page, Post, Tag, fields_maker

from conftest import NOW, TINY_BASE, post, write_files


def _posts(tmp_path: Path) -> tuple[Post, ...]:
    root = tmp_path / "site"
    write_files(root, {
        **TINY_BASE,
        "content/posts/2021-01-01-a.md": post("A", "2021-01-01", tags="[huddles, Mental Health]",
                                              body="## One\n\nx\n\n## Two\n\ny\n\n## Three\n\nz\n"),
        "content/posts/2021-01-02-b.md": post("B", "2021-01-02", aliases="[/old-b/]", takeaways="[one, two]"),
        "content/pages/about.md": "---\ntitle: About\n---\n\nAbout us.\n",
    })
    result = build(root, Options(now=NOW, search=False, jobs=1))
    assert result.site is not None and len(result.site.posts) == 2
    return result.site.posts


def test_a_built_post_is_slotted_and_what_its_init_makes(tmp_path: Path) -> None:
    for made in _posts(tmp_path):
        assert not hasattr(made, "__dict__")  # the memory saved: no dict per post
        again = Post(**{f.name: getattr(made, f.name) for f in dataclasses.fields(Post)})
        assert made == again and hash(made) == hash(again) and repr(made) == repr(again)
        assert {made: 1}[again] == 1
        assert pickle.loads(pickle.dumps(made)) == made
        assert copy.copy(made) == made and copy.deepcopy(made) == made
        renamed = dataclasses.replace(made, title="Renamed")
        assert type(renamed) is Post and renamed.title == "Renamed" and renamed.body is made.body
        with pytest.raises(dataclasses.FrozenInstanceError):
            made.title = "Changed"  # type: ignore[misc]
        assert all(type(tag) is Tag and not hasattr(tag, "__dict__") for tag in made.tags)


def test_tags_are_slotted_and_still_sort_compare_and_hash_by_value() -> None:
    a, b = Tag("a", "A"), Tag("b", "B")
    assert not hasattr(a, "__dict__") and sorted([b, a]) == [a, b]
    assert a == Tag("a", "A") and hash(a) == hash(Tag("a", "A")) and len({a, Tag("a", "A"), b}) == 2
    assert pickle.loads(pickle.dumps((a, b))) == (a, b)


def test_fields_maker_makes_what_the_init_makes_by_position_or_name() -> None:
    make = fields_maker(Tag)
    assert make is not None
    by_position, by_name = make("a", "A"), make(name="A", slug="a")
    assert type(by_position) is type(by_name) is Tag
    assert by_position == by_name == Tag("a", "A") and repr(by_position) == repr(Tag("a", "A"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        by_position.slug = "b"  # type: ignore[misc]
    with pytest.raises(TypeError):  # as Tag("a") would
        make("a")


def test_fields_maker_refuses_a_class_it_cannot_make_as_its_init_would() -> None:
    @dataclasses.dataclass(frozen=True, slots=True)
    class Checked:
        n: int

        def __post_init__(self) -> None:
            if self.n < 0:
                raise ValueError("negative")

    @dataclasses.dataclass(frozen=True, slots=True)
    class Derived:
        n: int
        twice: int = dataclasses.field(init=False, default=0)

    @dataclasses.dataclass(frozen=True, slots=True, weakref_slot=True)
    class Referable:
        n: int

    assert fields_maker(Page) is None  # not slotted: made by its __init__
    assert fields_maker(Referable) is None  # a slot more than its fields: another layout
    assert fields_maker(Checked) is None  # its __post_init__ would be skipped
    assert fields_maker(Derived) is None  # a field its __init__ does not take
    assert fields_maker(dict) is None


def test_a_meta_decoded_from_the_cache_is_slotted_and_equal_to_the_one_encoded() -> None:
    codec = meta_codec(UTC)
    meta = Meta(
        "content/posts/a.md", "post", "a", "A", NOW, None, ("staff-wellbeing",), (Tag("b", "B"),), ("Ann",),
        None, False, ("one",), True, "Body.\n", 4,
    )
    decoded = codec.decode(codec.encode(meta), body=meta.body)
    assert type(decoded) is Meta and not hasattr(decoded, "__dict__")
    assert decoded == meta and hash(decoded) == hash(meta) and repr(decoded) == repr(meta)
    assert type(decoded.tags[0]) is Tag and not hasattr(decoded.tags[0], "__dict__")
    # the engine lets go of a meta's text once the content step is over (Engine.content_read)
    object.__setattr__(decoded, "body", "")
    assert decoded.body == "" and decoded.title == "A"


def test_a_summary_with_nothing_to_rebase_is_the_bodys_own_text(tmp_path: Path) -> None:
    # rebase_links gives a new, equal text when the summary has links none of which needs
    # rebasing (4 in 10 posts of bench/corpus.py); each post held that copy to the end
    from qsite.markup import rebase_links

    root = tmp_path / "site"
    write_files(root, {
        **TINY_BASE,
        "content/posts/a.md": post("A", "2021-01-01", body="See [the NHS](https://www.nhs.uk/) site.\n\nMore."),
        "content/posts/b.md": post("B", "2021-01-02", body="See [the notes](#notes) below.\n\nMore."),
    })
    result = build(root, Options(now=NOW, search=False, jobs=1))
    assert result.site is not None
    made = {p.slug: p for p in result.site.posts}
    absolute, relative = made["a"], made["b"]
    assert rebase_links(absolute.body.summary_html, absolute.url) is not absolute.body.summary_html
    assert absolute.summary_html is absolute.body.summary_html and "https://www.nhs.uk/" in absolute.summary_html
    assert relative.summary_html != relative.body.summary_html  # rebased: its own text, as before
    assert f'href="{relative.url}#notes"' in relative.summary_html
