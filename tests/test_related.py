"""Related posts are found through an index instead of scoring every pair; this checks the
index gives exactly the answer of scoring every pair, on random sites with many ties."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from qsite.grouping import _neg, related_posts
from qsite.markup import Rendered
from qsite.model import Post, Tag

THEMES = ("health-inequalities", "staff-wellbeing", "space-to-learn", "collaborative-improvement")
TAGS = tuple(Tag(f"t{i}", f"T{i}") for i in range(8))


def make(n: int, rng: random.Random) -> Post:
    when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(days=rng.randrange(20))  # many ties
    body = Rendered("<p>x</p>", "<p>x</p>", False, 1, ())
    return Post(
        source=f"content/posts/p{n}.md", slug=f"p{n:03d}", title=f"P{n}", date=when, updated=None,
        themes=tuple(rng.sample(THEMES, k=rng.randint(1, 3))), tags=tuple(rng.sample(TAGS, k=rng.randint(0, 4))),
        authors=(), summary="", summary_html="", draft=False, future=False, takeaways=(), featured=False,
        body=body, path=f"posts/p{n}/", url=f"/posts/p{n}/", permalink=f"https://e.org/posts/p{n}/",
    )


def brute_force(post: Post, posts: list[Post], count: int) -> tuple[Post, ...]:
    scored = []
    for other in posts:
        if other.slug == post.slug:
            continue
        shared_tags = {t.slug for t in post.tags} & {t.slug for t in other.tags}
        score = len(set(post.themes) & set(other.themes)) + len(shared_tags)
        if score:
            scored.append((-score, _neg(other), other))
    scored.sort(key=lambda s: s[:2])
    return tuple(p for _s, _n, p in scored[:count])


def test_related_matches_scoring_every_pair() -> None:
    rng = random.Random(6)
    for size in (1, 2, 5, 40, 150):
        posts = sorted((make(n, rng) for n in range(size)), key=lambda p: p.sort_key, reverse=True)
        for count in (1, 3, 5):
            for post in posts:
                assert related_posts(post, posts, count) == brute_force(post, posts, count), (size, count, post.slug)


def test_related_matches_scoring_every_pair_with_posts_of_many_tags() -> None:
    """Posts with more tags than the pair index takes are found by counting along tag lists."""
    rng = random.Random(9)
    pool = tuple(Tag(f"t{i}", f"T{i}") for i in range(60))
    for size in (2, 30, 90):
        posts = []
        for n in range(size):
            post = make(n, rng)
            k = rng.choice((0, 1, 3, 33, 45)) if n % 3 == 0 else rng.randint(0, 5)
            posts.append(replace(post, tags=tuple(rng.sample(pool, k=k))))
        posts.sort(key=lambda p: p.sort_key, reverse=True)
        for count in (1, 3):
            for post in posts:
                assert related_posts(post, posts, count) == brute_force(post, posts, count), (size, count, post.slug)


def test_a_post_with_thousands_of_tags_finds_its_related_posts_in_linear_time() -> None:
    """5,000 tags on one post made 12.5 million tag pairs (minutes); counting is linear."""
    import time

    rng = random.Random(3)
    many = replace(make(0, rng), tags=tuple(Tag(f"x{i}", f"X{i}") for i in range(5000)))
    others = [replace(make(n, rng), tags=(Tag(f"x{n}", f"X{n}"), Tag(f"x{n + 1}", f"X{n + 1}"))) for n in range(1, 50)]
    posts = sorted([many, *others], key=lambda p: p.sort_key, reverse=True)
    start = time.perf_counter()
    found = {post.slug: related_posts(post, posts, 3) for post in (many, *others[:5])}
    assert time.perf_counter() - start < 5.0
    assert found[many.slug] == brute_force(many, posts, 3)
    assert found[others[0].slug] == brute_force(others[0], posts, 3)


def test_neighbour_links_to_one_post_are_one_link_of_its_title_and_address() -> None:
    """``_neighbours`` makes one ``PostLink`` per post, however many neighbour links show it
    (a page key hashes it by value, so sharing changes no key): the link is the post's."""
    from qsite.grouping import _neighbours, _themes
    from qsite.model import Site

    rng = random.Random(7)
    posts = sorted((make(n, rng) for n in range(40)), key=_neg)
    config = type("Config", (), {"themes": [type("T", (), {"slug": s, "title": s, "description": ""})() for s in THEMES]})
    site = Site(config, tuple(posts), (), type("Urls", (), {"url": staticmethod(lambda p: "/" + p)})(), {}, {}, {})
    themes = _themes(site)  # type: ignore[arg-type]
    links: dict[str, list[object]] = {}
    for entries in _neighbours(posts, themes).values():
        for entry in entries:
            for link in (entry.older, entry.newer):
                if link is not None:
                    links.setdefault(link.path, []).append(link)
    by_path = {p.path: p for p in posts}
    assert sum(len(shown) for shown in links.values()) > len(links)  # some post is shown by several
    for path, shown in links.items():
        assert all(link is shown[0] for link in shown), path
        assert (shown[0].title, shown[0].url) == (by_path[path].title, by_path[path].url)  # type: ignore[attr-defined]
