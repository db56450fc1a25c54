"""Step 4: the lists readers browse by — themes, tags, archives, neighbours, related posts,
pagination — as pure functions of the site model.

Each list is sorted once per build and pages are slices of it: Hugo's common idiom of
re-filtering the whole site for every pager page goes quadratic on large sites.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from qsite import urls
from qsite.model import Post, Site

T = TypeVar("T")

MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)


@dataclass(frozen=True)
class Pager(Generic[T]):
    """One page of a list. URLs are site-relative paths, turned into links by the template."""

    number: int
    total: int
    items: tuple[T, ...]
    path: str
    prev_path: str | None
    next_path: str | None
    first_index: int  # 1-based position of the first item, for "posts 11-20 of 34"
    count: int


def paginate(items: Sequence[T], per_page: int, path: str) -> list[Pager[T]]:
    """Always at least one page, so an empty theme still has its index page."""
    total = max(1, -(-len(items) // per_page))
    pagers: list[Pager[T]] = []
    for n in range(1, total + 1):
        chunk = tuple(items[(n - 1) * per_page : n * per_page])
        pagers.append(
            Pager(
                number=n,
                total=total,
                items=chunk,
                path=urls.paged(path, n),
                prev_path=urls.paged(path, n - 1) if n > 1 else None,
                next_path=urls.paged(path, n + 1) if n < total else None,
                first_index=(n - 1) * per_page + 1,
                count=len(items),
            )
        )
    return pagers


@dataclass(frozen=True)
class Theme:
    slug: str
    title: str
    description: str
    posts: tuple[Post, ...]  # newest first
    path: str
    url: str
    feed_url: str

    @property
    def count(self) -> int:
        return len(self.posts)


@dataclass(frozen=True)
class TagGroup:
    slug: str
    name: str
    posts: tuple[Post, ...]
    path: str
    url: str

    @property
    def count(self) -> int:
        return len(self.posts)


@dataclass(frozen=True)
class Month:
    year: int
    month: int
    name: str
    posts: tuple[Post, ...]


@dataclass(frozen=True)
class Year:
    year: int
    months: tuple[Month, ...]

    @property
    def count(self) -> int:
        return sum(len(m.posts) for m in self.months)


@dataclass(frozen=True)
class Neighbours:
    theme: Theme
    older: Post | None
    newer: Post | None


@dataclass(frozen=True)
class Groups:
    themes: tuple[Theme, ...]  # site.yaml order
    tags: tuple[TagGroup, ...]  # by name
    archive: tuple[Year, ...]  # newest first
    neighbours: dict[str, tuple[Neighbours, ...]]  # post slug → one per theme of the post
    related: dict[str, tuple[Post, ...]]

    def theme(self, slug: str) -> Theme:
        return next(t for t in self.themes if t.slug == slug)


def group(site: Site, related_count: int = 3) -> Groups:
    themes = _themes(site)
    tags = _tags(site)
    return Groups(
        themes=themes,
        tags=tags,
        archive=_archive(site.posts),
        neighbours=_neighbours(site.posts, themes),
        related=_related_all(site.posts, related_count),
    )


def _themes(site: Site) -> tuple[Theme, ...]:
    by_theme: dict[str, list[Post]] = defaultdict(list)
    for post in site.posts:
        for slug in post.themes:
            by_theme[slug].append(post)
    result = []
    for t in site.config.themes:
        path = urls.theme_path(t.slug)
        result.append(
            Theme(
                slug=t.slug,
                title=t.title,
                description=t.description,
                posts=tuple(by_theme[t.slug]),
                path=path,
                url=site.urls.url(path),
                feed_url=site.urls.url(path + "feed.xml"),
            )
        )
    return tuple(result)


def _tags(site: Site) -> tuple[TagGroup, ...]:
    """``Mental Health`` and ``mental-health`` are one tag; its name is the spelling most posts
    use (ties: alphabetical), so the heading does not depend on file order."""
    posts_by: dict[str, list[Post]] = defaultdict(list)
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for post in site.posts:
        for tag in post.tags:
            posts_by[tag.slug].append(post)
            names[tag.slug][tag.name] += 1
    groups = []
    for slug, posts in posts_by.items():
        name = sorted(names[slug].items(), key=lambda kv: (-kv[1], kv[0]))[0][0]
        path = urls.tag_path(slug)
        groups.append(TagGroup(slug, name, tuple(posts), path, site.urls.url(path)))
    return tuple(sorted(groups, key=lambda g: (g.name.lower(), g.slug)))


def _archive(posts: Sequence[Post]) -> tuple[Year, ...]:
    by_month: dict[tuple[int, int], list[Post]] = defaultdict(list)
    for post in posts:
        by_month[(post.date.year, post.date.month)].append(post)
    years: dict[int, list[Month]] = defaultdict(list)
    for (y, m), items in sorted(by_month.items(), reverse=True):
        years[y].append(Month(y, m, MONTHS[m - 1], tuple(items)))
    return tuple(Year(y, tuple(months)) for y, months in years.items())


def _neighbours(posts: Sequence[Post], themes: Sequence[Theme]) -> dict[str, tuple[Neighbours, ...]]:
    index: dict[tuple[str, str], int] = {}
    for theme in themes:
        for i, post in enumerate(theme.posts):
            index[(theme.slug, post.slug)] = i
    by_slug = {t.slug: t for t in themes}
    result: dict[str, tuple[Neighbours, ...]] = {}
    for post in posts:
        entries = []
        for slug in post.themes:
            theme = by_slug[slug]
            i = index[(slug, post.slug)]
            newer = theme.posts[i - 1] if i > 0 else None
            older = theme.posts[i + 1] if i + 1 < len(theme.posts) else None
            entries.append(Neighbours(theme, older, newer))
        result[post.slug] = tuple(entries)
    return result


def related_posts(post: Post, posts: Sequence[Post], count: int = 3) -> tuple[Post, ...]:
    """Posts sharing the most themes and tags with ``post``; newer first on ties."""
    return _RelatedIndex(posts).related(post, count)


def _related_all(posts: Sequence[Post], count: int) -> dict[str, tuple[Post, ...]]:
    index = _RelatedIndex(posts)
    return {p.slug: index.related(p, count) for p in posts}


class _RelatedIndex:
    """Scoring every pair of posts is quadratic (25 million pairs at 5,000 posts). A post that
    shares no tag scores only by theme overlap, which depends on nothing but its set of themes,
    and there are at most 2^4 such sets: so the best of those are the newest few of each set,
    and only posts sharing a tag need scoring one by one."""

    def __init__(self, posts: Sequence[Post]):
        self.by_set: dict[frozenset[str], list[Post]] = defaultdict(list)
        self.by_tag: dict[str, list[Post]] = defaultdict(list)
        for p in posts:  # posts are newest first, so every list is too
            self.by_set[frozenset(p.themes)].append(p)
            for tag in p.tags:
                self.by_tag[tag.slug].append(p)

    def related(self, post: Post, count: int) -> tuple[Post, ...]:
        themes = set(post.themes)
        shared_tags: Counter[str] = Counter()
        by_slug: dict[str, Post] = {}
        for tag in post.tags:
            for other in self.by_tag[tag.slug]:
                if other.slug != post.slug:
                    shared_tags[other.slug] += 1
                    by_slug[other.slug] = other
        scored = [
            (len(themes.intersection(o.themes)) + shared_tags[o.slug], o) for o in by_slug.values()
        ]
        for theme_set, members in self.by_set.items():
            overlap = len(themes.intersection(theme_set))
            if not overlap:
                continue
            taken = 0
            for other in members:
                if taken == count:
                    break
                if other.slug == post.slug or other.slug in by_slug:
                    continue
                scored.append((overlap, other))
                taken += 1
        scored.sort(key=lambda sp: (-sp[0], _neg(sp[1])))
        return tuple(p for _s, p in scored[:count])


def _neg(post: Post) -> tuple[float, str]:
    # newest first, then slug for a stable order between posts of the same instant
    return (-post.date.timestamp(), post.slug)
