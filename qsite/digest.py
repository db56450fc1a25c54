"""Grouping, for the learning digest: the site's posts gathered into editions, one per month (or
ISO week), grouped under the site's themes, with an editor's introduction and picks when an editor
wrote ``content/digests/<period>.md``.

The digest is data. Two steps, each a function of values, in the order the build calls them:

* ``editions.read_curations`` (qsite/editions.py) validates the editors' edition files against
  the post front matter (before any Markdown is rendered, so a mistyped pick is reported with
  every other problem);
* ``assemble`` groups the published posts into a :class:`Digest` (pure, no I/O).

Its pages (editions, email editions, the index and the feed) and the part of it other pages show
(:class:`DigestView`, :class:`EditionLink`) are planned by :mod:`qsite.plan` with every other
page; the calendar is :mod:`qsite.periods`, the email edition :mod:`qsite.email`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from qsite import markup
from qsite.editions import Curation
from qsite.grouping import Groups, ThemeLink
from qsite.model import Post, Site
from qsite.periods import Period, period_kind, period_of
from qsite.problems import ContentError, Problem

FEATURED_COUNT = 3  # "Editor's picks" on the home page
TAKEAWAY_POSTS = 3  # posts whose takeaways a theme page shows
FEED_ENTRIES = 20
SUMMARY_CHARS = 140  # preheaders are cut off by mail tools at around this length

DIGEST_PATH = "digest/"
FEED_PATH = "digest/feed.xml"


# ---------------------------------------------------------------------------------------------
# Editions


@dataclass(frozen=True)
class AlsoIn:
    """A post of a theme section that the edition shows in full elsewhere (among the picks, or
    under the post's first theme): one line, with where to find it in full."""

    post: Post
    shown_in: str  # the heading it is shown in full under: "Editor's picks" or a theme's title
    anchor: str  # that heading's id on the edition page


@dataclass(frozen=True)
class ThemeSection:
    """The posts of one theme in one edition, oldest first (an edition reads as a story).
    ``theme`` is the theme's link, not the whole theme: an edition changes only with its posts.

    Nothing is shown twice in full (issue 14): ``posts`` are the ones shown in full here (not
    picked, and this is the first of their themes); ``also`` the theme's other posts, shown in
    full elsewhere in the edition, listed here as one line each."""

    theme: ThemeLink
    posts: tuple[Post, ...]
    also: tuple[AlsoIn, ...] = ()

    @property
    def anchor(self) -> str:
        return theme_anchor(self.theme.slug)

    @property
    def count(self) -> int:
        """Every post of the theme in the edition, in full or not."""
        return len(self.posts) + len(self.also)


@dataclass(frozen=True)
class Edition:
    period: Period
    title: str
    start: datetime
    end: datetime  # exclusive: the first instant of the next period
    editor: str | None
    intro_html: str
    summary: str  # plain text: the email preheader and the feed summary
    picks: tuple[Post, ...]
    sections: tuple[ThemeSection, ...]  # site.yaml order, only themes with posts
    posts: tuple[Post, ...]  # every post once, oldest first
    shown_at: dict[str, str]  # post key → the id of the heading it is shown in full under
    complete: bool  # the period has ended at build time
    updated: datetime
    source: str | None  # the edition file, if an editor curated it
    path: str
    url: str
    permalink: str

    @property
    def key(self) -> str:
        return self.period.key

    @property
    def label(self) -> str:
        return self.period.label

    @property
    def date_range(self) -> str:
        return self.period.date_range

    @property
    def count(self) -> int:
        return len(self.posts)

    @property
    def themes(self) -> tuple[ThemeLink, ...]:
        return tuple(s.theme for s in self.sections)

    @property
    def email_path(self) -> str:
        return self.path + "email.html"

    @property
    def text_path(self) -> str:
        return self.path + "email.txt"


@dataclass(frozen=True)
class Digest:
    """Every edition, plus what the home, theme and post pages show of the digest."""

    period_kind: str
    editions: tuple[Edition, ...]  # newest first
    featured: tuple[Post, ...]  # newest featured posts, for "Editor's picks" on the home page
    takeaways: dict[str, tuple[Post, ...]]  # theme slug → its newest posts with takeaways
    path: str
    url: str
    feed_url: str

    @cached_property
    def by_post(self) -> dict[str, Edition]:
        """Post.key → the edition it appears in. Made from ``editions``, so no field: a page
        key hashes the digest's fields (``Fingerprints``), and 5,000 entries more, each naming
        an edition again, cost every rebuild that keys a page holding the digest."""
        return {post.key: e for e in self.editions for post in e.posts}

    @property
    def latest(self) -> Edition | None:
        """The newest edition whose period has ended (an edition in progress is not "latest")."""
        return next((e for e in self.editions if e.complete), None)

    def find(self, period: Period) -> Edition | None:
        return next((e for e in self.editions if e.period == period), None)

    def older(self, edition: Edition) -> Edition | None:
        i = self.editions.index(edition)
        return self.editions[i + 1] if i + 1 < len(self.editions) else None

    def newer(self, edition: Edition) -> Edition | None:
        i = self.editions.index(edition)
        return self.editions[i - 1] if i > 0 else None

    def nearest(self, period: Period) -> tuple[Edition | None, Edition | None]:
        """The editions just before and just after ``period`` (which may have none itself)."""
        before = next((e for e in self.editions if e.period < period), None)
        after = next((e for e in reversed(self.editions) if e.period > period), None)
        return before, after


def edition_path(period: Period) -> str:
    return f"{DIGEST_PATH}{period.key}/"


def theme_anchor(slug: str) -> str:
    return f"theme-{slug}"


def picks_anchor(period: Period) -> str:
    return f"picks-{period.key}"


PICKS_HEADING = "Editor's picks"


def _sections(
    posts: Sequence[Post], picks: Sequence[Post], period: Period, groups: Groups
) -> tuple[tuple[ThemeSection, ...], dict[str, str]]:
    """Each post shown in full once: a pick among the picks, any other post under the first of
    its own themes (its front matter's order, the theme its page names first); under its other
    themes (and, for a pick, under all of them) it is one line pointing there. Sections keep
    site.yaml's order; a theme whose posts are all shown elsewhere keeps its one-line list."""
    picked = {p.key for p in picks}
    titles = {t.slug: t.title for t in groups.themes}
    home: dict[str, tuple[str, str]] = {}  # post key → (heading, anchor) where shown in full
    for post in posts:
        if post.key in picked:
            home[post.key] = (PICKS_HEADING, picks_anchor(period))
        else:
            first = post.themes[0]
            home[post.key] = (titles[first], theme_anchor(first))
    sections = []
    for theme in groups.themes:
        members = [p for p in posts if theme.slug in p.themes]
        if not members:
            continue
        here = theme_anchor(theme.slug)
        full = tuple(p for p in members if home[p.key][1] == here)
        also = tuple(AlsoIn(p, *home[p.key]) for p in members if home[p.key][1] != here)
        sections.append(ThemeSection(theme.link, full, also))
    return tuple(sections), {key: anchor for key, (_heading, anchor) in home.items()}


def assemble(site: Site, groups: Groups, curations: Sequence[Curation], now: datetime) -> Digest:
    """Group the site's (already published) posts into editions. Pure: no I/O, no clock."""
    config = site.config
    kind, tz = period_kind(config), config.tz
    by_period: dict[Period, list[Post]] = defaultdict(list)
    for post in reversed(site.posts):  # site.posts is newest first; editions read oldest first
        by_period[period_of(post.date, kind, tz)].append(post)
    curated = {c.period: c for c in curations}
    editions = tuple(
        _edition(period, tuple(by_period[period]), curated.get(period), site, groups, now)
        for period in sorted(by_period, reverse=True)
    )
    takeaways = {t.slug: tuple(p for p in t.posts if p.takeaways)[:TAKEAWAY_POSTS] for t in groups.themes}
    return Digest(
        period_kind=kind,
        editions=editions,
        featured=tuple(p for p in site.posts if p.featured)[:FEATURED_COUNT],
        takeaways=takeaways,
        path=DIGEST_PATH,
        url=site.urls.url(DIGEST_PATH),
        feed_url=site.urls.url(FEED_PATH),
    )


def _intro(curation: Curation, base_path: str, time_limit: float) -> str:
    try:
        return markup.render_markdown(curation.body, base_path, time_limit).html
    except markup.MarkdownError as exc:  # too slow or nested too deeply: the editor's to fix
        raise ContentError([Problem(curation.source, curation.line, exc.message, exc.fix)]) from None


def _edition(
    period: Period,
    posts: tuple[Post, ...],
    curation: Curation | None,
    site: Site,
    groups: Groups,
    now: datetime,
) -> Edition:
    tz = site.config.tz
    by_slug = {p.slug: p for p in posts}
    picks = tuple(by_slug[s] for s in curation.picks if s in by_slug) if curation else ()
    sections, shown_at = _sections(posts, picks, period, groups)
    intro = _intro(curation, site.config.base_path, site.config.markdown_time_limit) if curation else ""
    end = period.end(tz)
    complete = end <= now
    changed = [p.updated or p.date for p in posts]
    updated = max([*changed, end] if complete else changed)
    path = edition_path(period)
    return Edition(
        period=period,
        title=(curation.title if curation and curation.title else period.label),
        start=period.start(tz),
        end=end,
        editor=curation.editor if curation else None,
        intro_html=intro.strip(),
        summary=(curation.summary if curation and curation.summary else _summary(period, posts, picks)),
        picks=picks,
        sections=sections,
        posts=posts,
        shown_at=shown_at,
        complete=complete,
        updated=updated,
        source=curation.source if curation else None,
        path=path,
        url=site.urls.url(path),
        permalink=site.urls.absolute(path),
    )


def _summary(period: Period, posts: Sequence[Post], picks: Sequence[Post]) -> str:
    """A preheader made from the edition: mail tools show it beside the subject line."""
    lead = f"{len(posts)} post{'' if len(posts) == 1 else 's'} from {period.label}"
    titles = [p.title for p in (picks or posts)]
    text = lead + ": " + "; ".join(titles)
    if len(text) <= SUMMARY_CHARS:
        return text
    cut = text[: SUMMARY_CHARS - 1].rsplit(" ", 1)[0].rstrip(" ;:,")
    return cut + "…"


# ---------------------------------------------------------------------------------------------
# What other pages show of the digest (given to them by qsite.plan when it plans them)


@dataclass(frozen=True)
class DigestView:
    """The part of the digest one page shows, given to it as ``digest`` in its own context
    (which hides the global of that name). The build cache re-renders a page when a value it
    holds changes: an edition page holding the whole digest would be re-rendered after any edit
    to any post, a theme page after any edit to another theme's takeaways."""

    period_kind: str
    path: str
    url: str
    feed_url: str
    latest: Edition | None = None  # home page
    featured: tuple[Post, ...] = ()  # home page
    # home page: the posts "Latest posts" shows as one line, as they are in full above it
    shown_above: frozenset[str] = frozenset()
    takeaways: dict[str, tuple[Post, ...]] = field(default_factory=dict)  # theme slug → (theme pages)


@dataclass(frozen=True)
class EditionLink:
    """What a post page shows of its edition. Post pages get this in their own context rather
    than reading the ``digest`` global, so the build cache re-renders a post page only when its
    own edition link changes, not whenever any post in any edition does."""

    label: str
    url: str
    anchor: str = ""  # on a post page: the id of the heading the edition shows the post under
