"""Step 5, planning: the site model, its groups and the digest → one ``Job`` per page.

Every page of the site is planned here and nowhere else: posts, pages, lists and their pages,
feeds, the sitemap, and the learning digest's edition pages, email editions (HTML and text),
index and feed. Each job is complete when it is made: its context holds what its template shows
(the part of the digest a home, theme or post page shows, the sitemap's digest entries), the
content file it was made from (``source``) and, for an email edition, the web address the render
step finishes it against (``mail``). Nothing later rewrites a job by its template's name.

A job's context holds only what its page shows: the build cache (qsite/incremental/cache.py) re-renders a
page when a value in its context changes, so a page holding more than it shows is rendered
again after edits that cannot change it.

``plan`` is a pure function of its arguments (no clock, no files, no globals): the engine
keys again only the pages whose context held a post or body that changed when nothing else in
``site``, ``groups`` and ``digest`` did (``Engine.pages``). So a job holds a post's body, and
what is made from it (a post's ``summary``, ``summary_html``, ``toc``), only inside the
``Post`` or ``Rendered`` value, never copied out into a value of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from qsite import accessibility, urls
from qsite.digest import DIGEST_PATH, FEED_PATH, Digest, DigestView, EditionLink
from qsite.digest import FEED_ENTRIES as DIGEST_FEED_ENTRIES
from qsite.grouping import Groups, paginate
from qsite.model import Alias, Page, Post, Site
from qsite.problems import ContentError, Problem
from qsite.render import Job

FEED_ENTRIES = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DIGEST_TITLE = "Learning digest"
REDIRECT_TEMPLATE = "redirect.html"
EMAIL_TEMPLATE = "email.html"
TEXT_TEMPLATE = "email.txt"

SitemapEntries = list[tuple[str, datetime | None]]


def plan(site: Site, groups: Groups, digest: Digest) -> list[Job]:
    """Every page of the site, as (template, URL, context). Lists are sliced, never re-filtered."""
    config = site.config
    per_page = config.posts_per_page
    views = _Views(digest)
    jobs: list[Job] = []

    for pager in paginate(site.posts, per_page, ""):
        context: dict[str, Any] = {"pager": pager, "title": None, "digest": views.home(pager.number == 1)}
        jobs.append(Job("index.html", pager.path, context))
    labels: dict[int, str] = {}  # id(edition) → its label (a property: worked out once per edition)
    for post in site.posts:
        edition = digest.by_post.get(post.key)
        if edition is not None:
            label = labels.get(id(edition))
            if label is None:
                label = labels[id(edition)] = edition.label
        context = {
            "post": post,
            "title": post.title,
            "neighbours": groups.neighbours[post.key],
            "related": groups.related[post.key],
            "comments": site.comments.get(post.slug, ()),
            "post_edition": EditionLink(label, edition.url, edition.shown_at[post.key]) if edition else None,
            "series": groups.series.places.get(post.key),
        }
        jobs.append(Job("post.html", post.path, context, source=post.source))
    for page in site.pages:
        jobs.append(Job("page.html", page.path, {"page": page, "title": page.title}, source=page.source))
    jobs.append(Job("themes.html", "themes/", {"title": "Themes"}))
    for theme in groups.themes:
        for pager in paginate(theme.posts, per_page, theme.path):
            # the theme's header (with its count), not the Theme: a page holds only what it shows
            context = {
                "theme": theme.summary,
                "pager": pager,
                "title": theme.title,
                "digest": views.theme(theme.slug, pager.number == 1),
            }
            jobs.append(Job("theme.html", pager.path, context))
        jobs.append(feed_job(theme.path, f"{config.title}: {theme.title}", theme.posts))
    jobs.append(Job("tags.html", "tags/", {"title": "Tags"}))
    for tag in groups.tags:
        for pager in paginate(tag.posts, per_page, tag.path):
            context = {"tag": tag.summary, "pager": pager, "title": f"Tagged “{tag.name}”"}
            jobs.append(Job("tag.html", pager.path, context))
        jobs.append(feed_job(tag.path, f"{config.title}: posts tagged “{tag.name}”", tag.posts))  # issue 14
    jobs += plan_authors(groups, config.title, per_page)
    jobs.append(Job("archive.html", "archive/", {"title": "Archive"}))
    jobs.append(Job("404.html", "404.html", {"title": "Page not found"}))
    jobs.append(Job("search.html", "search/", {"title": "Search"}))
    jobs.append(
        Job(
            "accessibility.html",
            accessibility.PATH,
            {
                "title": "Accessibility statement",
                "statement": accessibility.settings(config),
                "reviewed": accessibility.reviewed(config),
            },
        )
    )
    jobs.append(feed_job("", config.title, site.posts))
    digest_jobs, digest_entries = plan_digest(digest, views.links)
    entries = sitemap_entries(site, groups) + digest_entries
    jobs.append(Job("sitemap.xml", "sitemap.xml", {"entries": entries}))
    jobs.append(Job("robots.txt", "robots.txt", {}))
    jobs.append(Job("themes.css", "static/themes.css", {}))  # theme colours, from site.yaml (issue 13)
    jobs += plan_series(groups)
    jobs += plan_redirects(site)
    check_addresses(jobs + digest_jobs)
    return jobs + digest_jobs


def plan_authors(groups: Groups, site_title: str, per_page: int) -> list[Job]:
    """/authors/ and, for each profile, its page of posts (paginated like a tag's) and its
    feed. A site without profiles has none of these pages, so its templates need none."""
    if not groups.authors:
        return []
    jobs = [Job("authors.html", "authors/", {"title": "Authors", "author_list": [g.summary for g in groups.authors]})]
    for group in groups.authors:
        author = group.author
        for pager in paginate(group.posts, per_page, author.path):
            context = {"author": author, "count": group.count, "pager": pager, "title": author.name}
            jobs.append(Job("author.html", pager.path, context, source=author.source))
        jobs.append(feed_job(author.path, f"{site_title}: {author.name}", group.posts))
    return jobs


# -- Series and redirects (issue 11) ----------------------------------------------------------


def plan_series(groups: Groups) -> list[Job]:
    """``/series/<id>/`` for each declared series and ``/series/`` listing them, when a site
    has any (a site without series has no empty list page)."""
    if not groups.series.series:
        return []
    jobs = [Job("series_list.html", urls.SERIES_PATH, {"title": "Series", "series_list": groups.series.series})]
    jobs += [Job("series.html", s.path, {"series": s, "title": s.title}) for s in groups.series.series]
    return jobs


@dataclass(frozen=True)
class RedirectTarget:
    """Where a redirect page sends readers: what the page shows of its target."""

    title: str
    url: str
    permalink: str


def plan_redirects(site: Site) -> list[Job]:
    """A small redirect page at each alias of a published post or page (``redirect.html``):
    static hosts such as GitHub Pages cannot be told to redirect, a page can. They are not in
    the sitemap, the feeds or (having no ``data-pagefind-body``) the search index."""
    jobs: list[Job] = []
    things: list[Post | Page] = [*site.posts, *site.pages]
    for thing in things:
        if not thing.aliases:  # most posts: no target to make
            continue
        target = RedirectTarget(thing.title, thing.url, thing.permalink)
        for alias in thing.aliases:
            context = {"target": target, "alias": alias, "title": thing.title}
            jobs.append(Job(REDIRECT_TEMPLATE, alias.path, context, source=thing.source))
    return jobs


def check_addresses(jobs: Sequence[Job]) -> None:
    """An alias must not take the address of a page or of another alias: one of the two
    would silently be lost. Raises ContentError naming both files."""
    if not any(job.template == REDIRECT_TEMPLATE for job in jobs):  # no alias: nothing to check
        return
    owners: dict[str, Job] = {job.file: job for job in jobs if job.template != REDIRECT_TEMPLATE}
    problems: list[Problem] = []
    for job in jobs:
        if job.template != REDIRECT_TEMPLATE:
            continue
        alias: Alias = job.context["alias"]
        other = owners.get(job.file)
        if other is None:
            owners[job.file] = job
            continue
        if other.template == REDIRECT_TEMPLATE:
            first: Alias = other.context["alias"]
            what = f"also an alias in {other.source}:{first.line}"
        elif other.source == job.source:
            what = "this page's own address"
        elif other.source is not None:
            what = f"the address of {other.source}"
        else:
            what = f"the address of qsite's own page /{other.path}"
        assert job.source is not None
        problems.append(Problem(job.source, alias.line, f"the alias {alias.typed} is {what}",
                                "remove the alias, or change one of the two addresses"))
    if problems:
        raise ContentError(problems)


def plan_digest(digest: Digest, links: DigestView) -> tuple[list[Job], SitemapEntries]:
    """The digest's own pages: its index, each edition's web page and email edition (HTML, to
    be finished for mail by the render step, and text), and its feed; and their sitemap entries.
    ``links`` is the view of the digest the edition pages and the feed show (its addresses)."""
    jobs: list[Job] = [Job("digests.html", DIGEST_PATH, {"title": DIGEST_TITLE, "digest": digest})]  # lists all
    for edition in digest.editions:
        older, newer = digest.older(edition), digest.newer(edition)
        context: dict[str, Any] = {
            "edition": edition,
            "older": EditionLink(older.label, older.url) if older else None,
            "newer": EditionLink(newer.label, newer.url) if newer else None,
            "title": f"{DIGEST_TITLE}: {edition.title}",
            "description": edition.summary,
            "digest": links,
        }
        source = edition.source
        jobs.append(Job("digest.html", edition.path, context, source=source))
        jobs.append(Job(EMAIL_TEMPLATE, edition.email_path, context, source=source, mail=edition.permalink))
        jobs.append(Job(TEXT_TEMPLATE, edition.text_path, context, source=source))
    published = [e for e in digest.editions if e.complete][:DIGEST_FEED_ENTRIES]
    feed_updated = max((e.updated for e in published), default=None)
    context = {"feed_editions": published, "feed_updated": feed_updated or EPOCH, "digest": links}
    jobs.append(Job("digest-feed.xml", FEED_PATH, context))
    entries: SitemapEntries = [(DIGEST_PATH, feed_updated)]
    entries += [(e.path, e.updated) for e in digest.editions]
    return jobs, entries


class _Views:
    """The parts of the digest pages show (see DigestView). Pages showing the same part share
    one view, so the build cache hashes it once."""

    def __init__(self, digest: Digest):
        self.digest = digest
        self.links = self._view()  # addresses only: edition pages, the feed, later pages of lists
        self.known: dict[tuple[str, bool], DigestView] = {}

    def _view(self, **shown: Any) -> DigestView:
        d = self.digest
        return DigestView(d.period_kind, d.path, d.url, d.feed_url, **shown)

    def home(self, first: bool) -> DigestView:
        """The latest edition and the editor's picks, on the first page of the home page only."""
        view = self.known.get(("", first))
        if view is None:
            featured = self.digest.featured
            shown: dict[str, Any] = {}
            if first:  # the picks are in full above "Latest posts", which shows them as one line
                above = frozenset(p.slug for p in featured)
                shown = {"latest": self.digest.latest, "featured": featured, "shown_above": above}
            view = self.known[("", first)] = self._view(**shown)
        return view

    def theme(self, slug: str, first: bool) -> DigestView:
        """The theme's newest takeaways, on the first page of the theme's list only."""
        view = self.known.get((slug, first))
        if view is None:
            taken = self.digest.takeaways.get(slug, ()) if first else ()
            view = self.known[(slug, first)] = self._view(takeaways={slug: taken})
        return view


def feed_job(path: str, title: str, posts: Sequence[Post]) -> Job:
    """An Atom feed of the newest posts. Its ``updated`` comes from the posts, never the clock,
    so an unchanged site builds to the same bytes."""
    entries = posts[:FEED_ENTRIES]
    updated = max((p.updated or p.date for p in entries), default=EPOCH)
    return Job(
        "feed.xml",
        path + "feed.xml",
        {"feed_title": title, "feed_posts": entries, "feed_path": path, "feed_updated": updated},
    )


def sitemap_entries(site: Site, groups: Groups) -> SitemapEntries:
    """(URL path, last changed) of every page a search engine should know, but the digest's."""
    newest = site.posts[0].date if site.posts else None
    entries: SitemapEntries = [("", newest), ("themes/", newest)]
    entries += [(p.path, p.updated or p.date) for p in site.posts]
    entries += [(p.path, p.updated) for p in site.pages]
    entries += [(t.path, t.posts[0].date if t.posts else None) for t in groups.themes]
    entries += [("tags/", newest)] + [(t.path, t.posts[0].date) for t in groups.tags]
    if groups.authors:
        entries.append(("authors/", newest))
        entries += [(g.author.path, g.posts[0].date if g.posts else None) for g in groups.authors]
    entries.append(("archive/", newest))
    entries.append((accessibility.PATH, None))
    if groups.series.series:  # issue 11; redirect pages (aliases) are never listed
        entries.append((urls.SERIES_PATH, newest))
        entries += [(s.path, None) for s in groups.series.series]
    return entries
