"""Related posts are found through an index instead of scoring every pair; this checks the
index gives exactly the answer of scoring every pair, on random sites with many ties."""

from __future__ import annotations

import random
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
