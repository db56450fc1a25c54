"""Step 4: the lists readers browse by — themes, tags, archives, neighbours, related posts,
pagination — as pure functions of the site model.

Each list is sorted once per build and pages are slices of it: Hugo's common idiom of
re-filtering the whole site for every pager page goes quadratic on large sites.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Generic, TypeVar

from qsite import urls
from qsite.model import Post, Site
from qsite.series import SeriesGroups, group_series

if TYPE_CHECKING:
    from qsite.authors import Author

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
class ThemeLink:
    """What a page needs to name and link to a theme, without its posts.

    Chips, neighbour links and theme lists use this rather than ``Theme``: a page is rebuilt
    from the cache only when something it shows changes, and a page holding a whole ``Theme``
    would change whenever any post in the theme did."""

    slug: str
    title: str
    description: str
    path: str
    url: str
    feed_url: str


@dataclass(frozen=True)
class ThemeSummary(ThemeLink):
    """A theme's link and its number of posts, for lists of themes: it changes only when a
    post joins or leaves the theme, not when one is edited."""

    count: int


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

    @cached_property  # one object, so the build cache hashes it once however many pages show it
    def link(self) -> ThemeLink:
        return ThemeLink(self.slug, self.title, self.description, self.path, self.url, self.feed_url)

    @cached_property
    def summary(self) -> ThemeSummary:
        return ThemeSummary(self.slug, self.title, self.description, self.path, self.url, self.feed_url, self.count)


@dataclass(frozen=True)
class TagSummary:
    """A tag's name, link and number of posts, without the posts (as ``ThemeSummary``)."""

    slug: str
    name: str
    path: str
    url: str
    count: int


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

    @cached_property
    def summary(self) -> TagSummary:
        return TagSummary(self.slug, self.name, self.path, self.url, self.count)


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
class PostLink:
    """A post's title and link: all a neighbour link shows, so a post page is rebuilt when its
    neighbour's title changes, not whenever the neighbour's body does."""

    title: str
    url: str
    path: str


@dataclass(frozen=True)
class Neighbours:
    theme: ThemeLink
    older: PostLink | None
    newer: PostLink | None


# -- authors with a profile (qsite/authors.py) --


@dataclass(frozen=True)
class AuthorSummary:
    """A profiled author's name, role, link and number of posts, for /authors/ (as ``TagSummary``)."""

    name: str
    role: str | None
    organisation: str | None
    url: str
    count: int


@dataclass(frozen=True)
class AuthorGroup:
    author: Author
    posts: tuple[Post, ...]  # newest first

    @property
    def count(self) -> int:
        return len(self.posts)

    @cached_property
    def summary(self) -> AuthorSummary:
        a = self.author
        return AuthorSummary(a.name, a.role, a.organisation, a.url, self.count)


def _authors(site: Site) -> tuple[AuthorGroup, ...]:
    """Every profile with its posts (a profile with none still has its page), by name."""
    by_id: dict[str, list[Post]] = defaultdict(list)
    for post in site.posts:
        for credit in post.credits:
            if credit.id is not None:
                by_id[credit.id].append(post)
    groups = [AuthorGroup(a, tuple(by_id[a.id])) for a in site.authors.values()]
    return tuple(sorted(groups, key=lambda g: (g.author.name.lower(), g.author.id)))


@dataclass(frozen=True)
class Groups:
    themes: tuple[Theme, ...]  # site.yaml order
    tags: tuple[TagGroup, ...]  # by name
    archive: tuple[Year, ...]  # newest first
    neighbours: dict[str, tuple[Neighbours, ...]]  # post key → one per theme of the post
    related: dict[str, tuple[Post, ...]]  # post key → its related posts
    authors: tuple[AuthorGroup, ...] = ()  # profiled authors, by name
    series: SeriesGroups = field(default_factory=lambda: SeriesGroups((), {}))  # qsite/series.py

    def theme(self, slug: str) -> Theme:
        return next(t for t in self.themes if t.slug == slug)


def group(site: Site, related_count: int = 3, known_related: dict[str, tuple[str, ...]] | None = None) -> Groups:
    """``known_related``: key → related keys (``Post.key``), from a build of a site with the same keys,
    dates, themes and tags (the build cache keeps it): finding related posts is this step's
    biggest cost, and an edit to a post's body or title does not change them."""
    themes = _themes(site)
    tags = _tags(site)
    if known_related is not None:
        by_key = {p.key: p for p in site.posts}
        related = {key: tuple(by_key[k] for k in keys) for key, keys in known_related.items()}
    else:
        related = _related_all(site.posts, related_count)
    return Groups(
        themes=themes,
        tags=tags,
        archive=_archive(site.posts),
        neighbours=_neighbours(site.posts, themes),
        related=related,
        authors=_authors(site),
        series=group_series(site),
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
            index[(theme.slug, post.key)] = i
    by_slug = {t.slug: t for t in themes}
    links = {t.slug: t.link for t in themes}
    # one link per post, however many neighbour links show it (~4 each): equal values either way
    post_links: dict[int, PostLink] = {}
    result: dict[str, tuple[Neighbours, ...]] = {}
    for post in posts:
        entries = []
        for slug in post.themes:
            theme = by_slug[slug]
            i = index[(slug, post.key)]
            newer = theme.posts[i - 1] if i > 0 else None
            older = theme.posts[i + 1] if i + 1 < len(theme.posts) else None
            entries.append(Neighbours(links[slug], _shared_link(older, post_links), _shared_link(newer, post_links)))
        result[post.key] = tuple(entries)
    return result


def _shared_link(post: Post | None, made: dict[int, PostLink]) -> PostLink | None:
    """``_link(post)``, made once per post (``made``: by ``id``, while the posts are alive)."""
    if post is None:
        return None
    link = made.get(id(post))
    if link is None:
        link = made[id(post)] = PostLink(post.title, post.url, post.path)
    return link


def _link(post: Post | None) -> PostLink | None:
    return PostLink(post.title, post.url, post.path) if post is not None else None


def related_posts(post: Post, posts: Sequence[Post], count: int = 3) -> tuple[Post, ...]:
    """Posts sharing the most themes and tags with ``post``; newer first on ties."""
    return _RelatedIndex(posts).related(post, count)


# A post with up to this many tags is indexed by each pair of its tags (at most 496 pairs).
MAX_PAIRED = 32


def _related_all(posts: Sequence[Post], count: int) -> dict[str, tuple[Post, ...]]:
    index = _RelatedIndex(posts)
    return {p.key: index.related(p, count) for p in posts}


class _RelatedIndex:
    """The same answer as scoring every pair of posts (shared themes + shared tags, ties to the
    newer post), without scoring every pair: that is quadratic, and so is scoring every post
    that shares a tag, since a tag's list grows with the site (2.2 s at 5,000 posts).

    A candidate's score depends only on its theme set (at most 2^4 of them) and on how many
    tags it shares. Posts sharing two or more tags are few (found through an index of tag
    pairs) and are scored one by one. Within any other group, every post scores the same, so
    only its newest ``count`` can make the cut: those sharing exactly the tag ``t`` with theme
    set ``Q``, and those sharing no tag with theme set ``Q``. Every list is kept newest first.
    """

    def __init__(self, posts: Sequence[Post]):
        ordered = sorted(posts, key=_neg)
        # by Post.key, not slug: posts may share a slug under a dated permalink scheme
        self.rank = {p.key: i for i, p in enumerate(ordered)}
        self.by_key = {p.key: p for p in ordered}
        self.tags = {p.key: frozenset(t.slug for t in p.tags) for p in ordered}
        self.by_set: dict[frozenset[str], list[Post]] = defaultdict(list)
        self.by_tag: dict[str, list[Post]] = defaultdict(list)
        self.by_tag_set: dict[tuple[str, frozenset[str]], list[Post]] = defaultdict(list)
        self.by_pair: dict[tuple[str, str], list[Post]] = defaultdict(list)
        self.heavy: list[Post] = []  # posts with more than MAX_PAIRED tags: not in by_pair
        for p in ordered:
            themes = frozenset(p.themes)
            self.by_set[themes].append(p)
            tags = sorted(self.tags[p.key])
            for tag in tags:
                self.by_tag_set[(tag, themes)].append(p)
                self.by_tag[tag].append(p)
            if len(tags) > MAX_PAIRED:
                self.heavy.append(p)
                continue
            for i, tag in enumerate(tags):
                for other in tags[i + 1 :]:
                    self.by_pair[(tag, other)].append(p)

    def _sharing_several(self, tags: frozenset[str]) -> Iterator[str]:
        """The posts sharing two or more tags with ``tags``, each once (the post itself too).

        Through the pair index for a post with a few tags; for one with many (a 2,000-tag post
        has two million pairs: 32 s), by counting along each of its tags' lists, which costs
        what those lists hold, whichever is cheaper."""
        by_lists = sum(len(self.by_tag.get(tag, ())) for tag in tags)
        if len(tags) > MAX_PAIRED or by_lists < len(tags) * (len(tags) - 1) // 2 + len(self.heavy):
            counts = Counter(other.key for tag in tags for other in self.by_tag.get(tag, ()))
            yield from (other for other, shared in counts.items() if shared >= 2)
            return
        seen: set[str] = set()
        sorted_tags = sorted(tags)
        for i, tag in enumerate(sorted_tags):
            for second in sorted_tags[i + 1 :]:
                for other in self.by_pair.get((tag, second), ()):
                    if other.key not in seen:
                        seen.add(other.key)
                        yield other.key
        for other in self.heavy:  # few, by nature
            if len(tags & self.tags[other.key]) >= 2:
                yield other.key

    def related(self, post: Post, count: int) -> tuple[Post, ...]:
        themes = set(post.themes)
        tags = self.tags.get(post.key) or frozenset(t.slug for t in post.tags)
        scored: dict[str, tuple[int, int, Post]] = {}  # key → (-score, rank, post)

        def consider(other: Post, score: int) -> None:
            if other.key != post.key and score > 0:
                scored[other.key] = (-score, self.rank[other.key], other)

        sorted_tags = sorted(tags)
        for key in self._sharing_several(tags):  # two or more shared tags: few, scored one by one
            other = self.by_key[key]
            consider(other, len(themes.intersection(other.themes)) + len(tags & self.tags[key]))
        several = set(scored)
        # Every other group scores the same throughout: visit them best first, and stop once
        # ``count`` posts already beat everything the remaining groups could offer.
        groups: list[tuple[int, str | None, frozenset[str]]] = []
        for theme_set in self.by_set:
            overlap = len(themes.intersection(theme_set))
            groups += [(overlap + 1, tag, theme_set) for tag in sorted_tags]
            if overlap:
                groups.append((overlap, None, theme_set))
        groups.sort(key=lambda g: -g[0])
        known, bar = -1, 0  # the count-th best score, found again only when ``scored`` grew
        for score, tag, theme_set in groups:
            if len(scored) >= count:
                if len(scored) != known:
                    known, bar = len(scored), -heapq.nsmallest(count, (s[0] for s in scored.values()))[-1]
                if bar > score:
                    break
            taken = 0
            if tag is not None:  # sharing exactly this one tag
                for other in self.by_tag_set.get((tag, theme_set), ()):
                    if taken == count:
                        break
                    if other.key != post.key and other.key not in several:
                        consider(other, score)
                        taken += 1
            else:  # sharing no tag
                for other in self.by_set[theme_set]:
                    if taken == count:
                        break
                    if other.key != post.key and not (tags & self.tags[other.key]):
                        consider(other, score)
                        taken += 1
        best = sorted(scored.values(), key=lambda entry: entry[:2])[:count]
        return tuple(p for _score, _rank, p in best)


def _neg(post: Post) -> tuple[float, str]:
    # newest first, then slug for a stable order between posts of the same instant
    return (-post.date.timestamp(), post.slug)
