"""The learning digest: the site's posts gathered into editions, one per month (or ISO week),
grouped under the site's themes, with an editor's introduction and picks when an editor wrote
``content/digests/<period>.md``.

Three steps, each a function of values, in the order the build calls them:

* ``read_curations`` validates the editors' edition files against the post front matter
  (before any Markdown is rendered, so a mistyped pick is reported with every other problem);
* ``assemble`` groups the published posts into a :class:`Digest` (pure, no I/O);
* ``plan`` turns the digest into render jobs, and ``finish`` hands the email editions to
  :mod:`qsite.email` once rendered.

Periods are computed in the *site's* timezone: a post at 23:30 on 31 March in London belongs to
March even though it is already 1 April in UTC+2, and one stamped ``2020-03-31T23:30:00Z``
belongs to April, because it was 00:30 on 1 April in London.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import PurePosixPath
from typing import Any

import jinja2

from qsite import email, markup, urls
from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.grouping import MONTHS, Groups, ThemeLink
from qsite.model import Meta, Post, Site, is_published
from qsite.problems import ConfigError, ContentError, Problem, Problems, did_you_mean
from qsite.render import EPOCH, Job, Output

# Front-matter fields of content/digests/<period>.md → what they are (shown in fixes).
EDITION_KEYS: dict[str, str] = {
    "title": "the edition's title (optional; default: the month or week, e.g. April 2020)",
    "editor": "who curated this edition (required)",
    "picks": "slugs of the posts to lead with, in order; each must be published in this period",
    "summary": "one sentence for the email preheader and the feed (optional)",
}

FEATURED_COUNT = 3  # "Editor's picks" on the home page
TAKEAWAY_POSTS = 3  # posts whose takeaways a theme page shows
FEED_ENTRIES = 20
SUMMARY_CHARS = 140  # preheaders are cut off by mail tools at around this length

DIGEST_PATH = "digest/"
FEED_PATH = "digest/feed.xml"
EMAIL_TEMPLATE = "email.html"
TEXT_TEMPLATE = "email.txt"


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (``2020-04``) or an ISO week (``2020-W16``, Monday to Sunday)."""

    kind: str  # "month" or "week"
    year: int
    number: int  # 1-12 for a month, 1-53 for an ISO week

    @property
    def key(self) -> str:
        if self.kind == "week":
            return f"{self.year}-W{self.number:02d}"
        return f"{self.year}-{self.number:02d}"

    @property
    def first_day(self) -> date:
        if self.kind == "week":
            return date.fromisocalendar(self.year, self.number, 1)
        return date(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        if self.is_last:
            return date.max
        return self.next().first_day - timedelta(days=1)

    @property
    def is_last(self) -> bool:
        """The period holding 9999-12-31 (the usual "never publish" date): the calendar of
        Python's ``date`` ends there, so the period after it cannot be made."""
        try:
            _ = self.next().first_day
        except (ValueError, OverflowError):
            return True
        return False

    def start(self, tz: tzinfo) -> datetime:
        """The first instant of the period in ``tz`` (midnight, local time)."""
        return datetime.combine(self.first_day, time(), tz)

    def end(self, tz: tzinfo) -> datetime:
        """The first instant *after* the period: periods are half-open, so none overlap.
        The last period ends at the end of time rather than in a year 10000 that cannot be."""
        if self.is_last:
            return datetime.max.replace(tzinfo=UTC)
        return self.next().start(tz)

    def next(self) -> Period:
        if self.kind == "week":
            following = self.first_day + timedelta(days=7)
            iso = following.isocalendar()
            return Period("week", iso.year, iso.week)
        if self.number == 12:
            return Period("month", self.year + 1, 1)
        return Period("month", self.year, self.number + 1)

    def previous(self) -> Period:
        if self.kind == "week":
            iso = (self.first_day - timedelta(days=7)).isocalendar()
            return Period("week", iso.year, iso.week)
        if self.number == 1:
            return Period("month", self.year - 1, 12)
        return Period("month", self.year, self.number - 1)

    @property
    def label(self) -> str:
        """``April 2020`` or ``Week 16, 2020``: what readers call the period."""
        if self.kind == "week":
            return f"Week {self.number}, {self.year}"
        return f"{MONTHS[self.number - 1]} {self.year}"

    @property
    def date_range(self) -> str:
        """``1–30 April 2020``, ``30 March – 5 April 2020``, ``28 December 2020 – 3 January 2021``."""
        first, last = self.first_day, self.last_day
        if first.year != last.year:
            return f"{_day_month(first)} {first.year} – {_day_month(last)} {last.year}"
        if first.month != last.month:
            return f"{_day_month(first)} – {_day_month(last)} {last.year}"
        return f"{first.day}–{last.day} {MONTHS[last.month - 1]} {last.year}"


def _day_month(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def period_of(moment: datetime, kind: str, tz: tzinfo) -> Period:
    """The period holding ``moment`` as a reader of the site sees it, in the site's timezone."""
    local = moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    if kind == "week":
        iso = local.isocalendar()
        return Period("week", iso.year, iso.week)
    return Period("month", local.year, local.month)


def latest_ended(now: datetime, kind: str, tz: tzinfo) -> Period:
    """The most recent period that is over at ``now``: the one before the current period."""
    return period_of(now, kind, tz).previous()


_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK_RE = re.compile(r"^(\d{4})-[Ww](\d{1,2})$")


def parse_period(text: str, kind: str) -> Period | str:
    """``2020-04`` or ``2020-W16`` → a Period; anything else → a message saying what to write."""
    text = text.strip()
    month, week = _MONTH_RE.match(text), _WEEK_RE.match(text)
    if kind == "week":
        if week:
            year, number = int(week.group(1)), int(week.group(2))
            weeks = date(year, 12, 28).isocalendar().week  # 28 December is always in the last week
            if 1 <= number <= weeks:
                return Period("week", year, number)
            return f"{year} has ISO weeks 1 to {weeks}, so there is no week {number}"
        if month:
            return (
                f"'{text}' is a month, but this site's digest is weekly (digest.period: week); "
                "write the ISO week, e.g. 2020-W16"
            )
        return f"'{text}' is not an ISO week; write it as YYYY-Wnn, e.g. 2020-W16"
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if 1 <= number <= 12:
            return Period("month", year, number)
        return f"'{text}' is not a month: the month number must be 01 to 12"
    if week:
        return (
            f"'{text}' is a week, but this site's digest is monthly (digest.period: month); "
            "write the month, e.g. 2020-04"
        )
    return f"'{text}' is not a month; write it as YYYY-MM, e.g. 2020-04"


def period_kind(config: SiteConfig) -> str:
    """``digest.period`` from site.yaml, validated by config's SECTIONS schema."""
    section = config.extra.get("digest") or {}
    return str(section.get("period", "month"))


# ---------------------------------------------------------------------------------------------
# The editors' edition files


@dataclass(frozen=True)
class Curation:
    """What an editor wrote in ``content/digests/<period>.md``, validated.

    ``picks`` holds only posts that are published in this build, in the editor's order; a pick
    that is still a draft or scheduled was reported as a warning and left out.
    """

    source: str
    period: Period
    title: str | None
    editor: str
    picks: tuple[str, ...]
    summary: str | None
    body: str
    line: int


def read_curations(
    docs: Iterable[SourceDoc],
    metas: Sequence[Meta],
    config: SiteConfig,
    problems: Problems,
    *,
    now: datetime,
    drafts: bool = False,
    future: bool = False,
) -> list[Curation]:
    """Validate every edition file; each mistake goes to ``problems`` at the line of its field.

    ``metas`` are *all* valid posts and pages, published or not, so that a pick naming a draft
    is told apart from a pick naming no post at all.
    """
    kind = period_kind(config)
    tz = config.tz
    posts = {m.slug: m for m in metas if m.kind == "post" and m.date is not None}
    published_periods = {
        period_of(m.date, kind, tz)
        for m in posts.values()
        if m.date is not None and is_published(m, now, drafts, future)
    }
    seen: dict[Period, str] = {}
    result: list[Curation] = []
    for doc in docs:
        curation = _read_curation(doc, kind, tz, posts, problems, now, drafts, future)
        if curation is None:
            continue
        if curation.period in seen:
            problems.add(
                doc.rel,
                None,
                f"{seen[curation.period]} is already the edition file for {curation.period.label}",
                "merge the two files into one",
            )
            continue
        seen[curation.period] = doc.rel
        if curation.period not in published_periods:
            problems.add(
                doc.rel,
                None,
                f"no posts are published in {curation.period.label}, so this edition is not built",
                "check the file name's period, or publish a post dated in it",
                severity="warning",
            )
        result.append(curation)
    return result


def _read_curation(
    doc: SourceDoc,
    kind: str,
    tz: tzinfo,
    posts: dict[str, Meta],
    problems: Problems,
    now: datetime,
    drafts: bool,
    future: bool,
) -> Curation | None:
    rel, meta = doc.rel, doc.meta
    before = len(problems.errors)

    def bad(key: tuple[str | int, ...], message: str, fix: str | None = None, severity: str = "error") -> None:
        problems.add(rel, doc.line(*key), message, fix, severity)

    stem = PurePosixPath(rel).stem
    parsed = parse_period(stem, kind)
    example = "2020-W16" if kind == "week" else "2020-04"
    if isinstance(parsed, str):
        problems.add(
            rel,
            None,
            f"the file name does not name a period: {parsed}",
            f"name the file after the {kind} it covers, e.g. content/digests/{example}.md",
        )
    elif parsed.key != stem:
        problems.add(rel, None, f"write the period as {parsed.key}", f"rename the file to {parsed.key}.md")

    for key in meta:
        if key not in EDITION_KEYS:
            guess = did_you_mean(key, EDITION_KEYS)
            bad(
                (key,),
                f"unknown front-matter field '{key}'",
                f"did you mean '{guess}'?" if guess else f"the fields an edition can have: {', '.join(EDITION_KEYS)}",
            )

    texts: dict[str, str | None] = {}
    for key in ("title", "editor", "summary"):
        value = meta.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if value is None:
            texts[key] = None
        elif not isinstance(value, str) or not value.strip():
            bad((key,), f"'{key}' should be a line of text", f"{key}: {EXAMPLES[key]}")
            texts[key] = None
        else:
            texts[key] = " ".join(value.split())
    if "editor" not in meta:
        problems.add(
            rel,
            doc.front_line,
            "this edition does not say who edited it",
            f"add a line 'editor: {EXAMPLES['editor']}' to the front matter",
        )

    picks: list[str] = []
    raw = meta.get("picks")
    if isinstance(raw, str):
        raw = [raw]
    if raw is not None and not isinstance(raw, list):
        bad(("picks",), "picks should be a list of post slugs", "picks: [running-virtual-huddles]")
    elif raw:
        keyed = isinstance(meta.get("picks"), list)
        for i, item in enumerate(raw):
            where = ("picks", i) if keyed else ("picks",)
            slug = item.strip() if isinstance(item, str) else None
            if slug is not None and slug.startswith("/posts/"):  # a pasted URL: be forgiving
                slug = slug.removeprefix("/posts/").strip("/")
            if not slug:
                bad(where, f"pick {item!r} should be the slug of a post, e.g. running-virtual-huddles")
                continue
            if slug in picks:
                bad(where, f"'{slug}' is picked twice", "remove one of the two lines")
                continue
            post = posts.get(slug)
            if post is None:
                guess = did_you_mean(slug, posts)
                bad(
                    where,
                    f"there is no post '{slug}' to pick",
                    f"did you mean '{guess}'?"
                    if guess
                    else "a pick is the last part of a post's address: /posts/<slug>/",
                )
                continue
            if isinstance(parsed, Period) and post.date is not None:
                its = period_of(post.date, kind, tz)
                if its != parsed:
                    bad(
                        where,
                        f"'{slug}' was published in {its.label}, not in {parsed.label}",
                        f"pick posts published in {parsed.label} only, or move this pick to "
                        f"content/digests/{its.key}.md",
                    )
                    continue
            if not is_published(post, now, drafts, future):
                state = "a draft" if post.draft else "scheduled for later"
                bad(
                    where,
                    f"'{slug}' is {state}, so it is left out of this edition's picks until it is published",
                    None,
                    severity="warning",
                )
                continue
            picks.append(slug)

    if len(problems.errors) > before or isinstance(parsed, str):
        return None
    return Curation(
        source=rel,
        period=parsed,
        title=texts["title"],
        editor=texts["editor"] or "",
        picks=tuple(picks),
        summary=texts["summary"],
        body=doc.body,
        line=doc.body_line,
    )


EXAMPLES = {
    "title": "April 2020: learning in a hurry",
    "editor": "Digest Editorial Group",
    "summary": "How teams changed the way they work in a single month.",
}


# ---------------------------------------------------------------------------------------------
# Editions


@dataclass(frozen=True)
class ThemeSection:
    """The posts of one theme in one edition, oldest first (an edition reads as a story).
    ``theme`` is the theme's link, not the whole theme: an edition changes only with its posts."""

    theme: ThemeLink
    posts: tuple[Post, ...]

    @property
    def anchor(self) -> str:
        return f"theme-{self.theme.slug}"


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
    by_post: dict[str, Edition]  # post slug → the edition it appears in
    featured: tuple[Post, ...]  # newest featured posts, for "Editor's picks" on the home page
    takeaways: dict[str, tuple[Post, ...]]  # theme slug → its newest posts with takeaways
    path: str
    url: str
    feed_url: str

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
    by_post = {post.slug: e for e in editions for post in e.posts}
    takeaways = {t.slug: tuple(p for p in t.posts if p.takeaways)[:TAKEAWAY_POSTS] for t in groups.themes}
    return Digest(
        period_kind=kind,
        editions=editions,
        by_post=by_post,
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
    sections = tuple(
        ThemeSection(theme.link, members)
        for theme in groups.themes
        if (members := tuple(p for p in posts if theme.slug in p.themes))
    )
    by_slug = {p.slug: p for p in posts}
    picks = tuple(by_slug[s] for s in curation.picks if s in by_slug) if curation else ()
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
# Rendering


def install(env: jinja2.Environment, digest: Digest) -> None:
    """Give every template ``digest`` (home, theme and post pages show part of it) and the
    filter the text email uses for the editor's introduction."""
    env.globals["digest"] = digest
    env.filters["as_text"] = email.html_to_text


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
    takeaways: dict[str, tuple[Post, ...]] = field(default_factory=dict)  # theme slug → (theme pages)


def _view(digest: Digest, **shown: Any) -> DigestView:
    return DigestView(digest.period_kind, digest.path, digest.url, digest.feed_url, **shown)


def plan(digest: Digest, jobs: Sequence[Job]) -> list[Job]:
    """``jobs`` (the site's) plus the digest's pages, emails and feed; the sitemap job gains
    the digest's pages. Returns a new list: the jobs given are not changed."""
    title = "Learning digest"
    mine: list[Job] = [Job("digests.html", DIGEST_PATH, {"title": title})]
    links = _view(digest)
    for edition in digest.editions:
        older, newer = digest.older(edition), digest.newer(edition)
        context: dict[str, Any] = {
            "edition": edition,
            "older": EditionLink(older.label, older.url) if older else None,
            "newer": EditionLink(newer.label, newer.url) if newer else None,
            "title": f"{title}: {edition.title}",
            "description": edition.summary,
            "digest": links,
        }
        mine.append(Job("digest.html", edition.path, context))
        mine.append(Job(EMAIL_TEMPLATE, edition.email_path, context))
        mine.append(Job(TEXT_TEMPLATE, edition.text_path, context))
    published = [e for e in digest.editions if e.complete][:FEED_ENTRIES]
    feed_updated = max((e.updated for e in published), default=None)
    mine.append(
        Job(
            "digest-feed.xml",
            FEED_PATH,
            {"feed_editions": published, "feed_updated": feed_updated or EPOCH, "digest": links},
        )
    )
    entries: list[tuple[str, datetime | None]] = [(DIGEST_PATH, feed_updated)]
    entries += [(e.path, e.updated) for e in digest.editions]
    views: dict[tuple[str, str, bool], DigestView] = {}
    result = [_with_view(_with_edition(_with_sitemap(job, entries), digest), digest, views) for job in jobs]
    return result + mine


def _with_view(job: Job, digest: Digest, views: dict[tuple[str, str, bool], DigestView]) -> Job:
    """The home and theme pages get the part of the digest they show (see DigestView); pages
    showing the same part share one view, so the build cache hashes it once."""
    pager = job.context.get("pager")
    first = pager is not None and pager.number == 1
    if job.template == "index.html":
        slug = ""
    elif job.template == "theme.html" and "theme" in job.context:
        slug = job.context["theme"].slug
    else:
        return job
    view = views.get((job.template, slug, first))
    if view is None:
        if slug:
            shown: dict[str, Any] = {"takeaways": {slug: digest.takeaways.get(slug, ()) if first else ()}}
        else:
            shown = {"latest": digest.latest, "featured": digest.featured} if first else {}
        view = views[(job.template, slug, first)] = _view(digest, **shown)
    return replace(job, context={**job.context, "digest": view})


@dataclass(frozen=True)
class EditionLink:
    """What a post page shows of its edition. Post pages get this in their own context rather
    than reading the ``digest`` global, so the build cache re-renders a post page only when its
    own edition link changes, not whenever any post in any edition does."""

    label: str
    url: str


def _with_edition(job: Job, digest: Digest) -> Job:
    if job.template != "post.html" or "post" not in job.context:
        return job
    edition = digest.by_post.get(job.context["post"].slug)
    link = EditionLink(edition.label, edition.url) if edition else None
    return replace(job, context={**job.context, "post_edition": link})


def _with_sitemap(job: Job, entries: list[tuple[str, datetime | None]]) -> Job:
    if job.template != "sitemap.xml":
        return job
    return replace(job, context={**job.context, "entries": [*job.context["entries"], *entries]})


def finish(outputs: Sequence[Output], digest: Digest) -> list[Output]:
    """Rendered outputs with every email edition made mail-ready (inlined CSS, absolute links)."""
    emails = {urls.output_file(e.email_path): e for e in digest.editions}
    result: list[Output] = []
    for output in outputs:
        edition = emails.get(output.path)
        if edition is not None:
            html = email.finish(output.data.decode("utf-8"), edition.permalink)
            output = Output(output.path, html.encode("utf-8"))
        result.append(output)
    return result


# ---------------------------------------------------------------------------------------------
# Choosing an edition for `qsite digest`


def choose(digest: Digest, text: str | None, now: datetime, tz: tzinfo) -> Edition:
    """The edition ``qsite digest PERIOD`` means; with no PERIOD, the latest period that has
    ended at ``now``. An unknown or empty period is a usage error naming the nearest editions."""
    where = "qsite digest"
    if text is None:
        period = latest_ended(now, digest.period_kind, tz)
        what = f"the latest {digest.period_kind} that has ended is {period.label}, and it has no edition"
    else:
        parsed = parse_period(text, digest.period_kind)
        if isinstance(parsed, str):
            raise ConfigError([Problem(where, None, parsed)])
        period = parsed
        what = f"there is no edition for {period.label}"
    edition = digest.find(period)
    if edition is not None:
        return edition
    before, after = digest.nearest(period)
    nearest = [e for e in (before, after) if e is not None]
    if not nearest:
        fix = "there are no editions yet: an edition is made for every period with a published post"
    else:
        listed = " and ".join(f"{e.key} ({e.label}, {e.count} post{'' if e.count == 1 else 's'})" for e in nearest)
        are = "s are" if len(nearest) > 1 else " is"
        fix = f"the nearest edition{are} {listed}: run 'qsite digest {nearest[0].key}'"
    raise ConfigError([Problem(where, None, f"{what}: no posts were published then", fix)])


def email_file(outputs: Iterable[Output], edition: Edition, form: str) -> bytes:
    """The bytes of the built email edition (``html`` or ``text``), exactly as written to disk."""
    wanted = urls.output_file(edition.email_path if form == "html" else edition.text_path)
    return next(o.data for o in outputs if o.path == wanted)
