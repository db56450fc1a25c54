"""Step 3: validated front matter + rendered bodies → the frozen site model.

Every object here is complete when it is made (no "filled in later" fields), and every check
on an editor's front matter lives here, each producing a Problem at the line of the field.
Markdown is not rendered here: ``read_meta`` validates first, the build renders only what will
be published, then ``make_post``/``make_page`` assemble the finished objects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, tzinfo
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from qsite import urls
from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.markup import Rendered, plain_text, rebase_links
from qsite.problems import Problems, did_you_mean
from qsite.urls import SLUG_RE, Urls, slugify, tag_slug

if TYPE_CHECKING:
    from qsite.comments import Comment

# key → what it is, shown in "did you mean" fixes and kept in step with the README table
POST_KEYS: dict[str, str] = {
    "title": "the post's title (required)",
    "date": "publication date, YYYY-MM-DD or YYYY-MM-DD HH:MM (required unless the file name starts with it)",
    "themes": "one or more theme slugs from site.yaml (required)",
    "summary": "one or two sentences shown in lists and link previews",
    "author": "who wrote it",
    "authors": "a list of authors",
    "tags": "a list of free-text tags",
    "slug": "the URL name, if not taken from the file name",
    "draft": "true to keep it unpublished",
    "updated": "date of the last significant change",
    "takeaways": "one to five short 'what we learned' lines",
    "featured": "true to list it under Editor's picks",
}
PAGE_KEYS: dict[str, str] = {
    "title": "the page's title (required)",
    "summary": "a sentence for link previews",
    "slug": "the URL name, if not taken from the file name",
    "draft": "true to keep it unpublished",
    "updated": "date of the last significant change",
}

FILENAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
MAX_TAKEAWAYS = 5


@dataclass(frozen=True, order=True)
class Tag:
    slug: str
    name: str


@dataclass(frozen=True)
class Meta:
    """Front matter after validation: everything about a document except its rendered body."""

    source: str
    kind: str
    slug: str
    title: str
    date: datetime | None
    updated: datetime | None
    themes: tuple[str, ...]
    tags: tuple[Tag, ...]
    authors: tuple[str, ...]
    summary: str | None
    draft: bool
    takeaways: tuple[str, ...]
    featured: bool
    body: str
    line: int  # where the body starts, for problems found while rendering it


@dataclass(frozen=True)
class Post:
    source: str
    slug: str
    title: str
    date: datetime
    updated: datetime | None
    themes: tuple[str, ...]
    tags: tuple[Tag, ...]
    authors: tuple[str, ...]
    summary: str  # plain text for meta descriptions and feeds
    summary_html: str
    draft: bool
    future: bool
    takeaways: tuple[str, ...]
    featured: bool
    body: Rendered
    path: str  # site-relative URL path, "posts/<slug>/"
    url: str  # with the base path, for links
    permalink: str  # absolute, for feeds and canonical links

    @property
    def html(self) -> str:
        return self.body.html

    @property
    def reading_minutes(self) -> int:
        return self.body.reading_minutes

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.date, self.slug)


@dataclass(frozen=True)
class Page:
    source: str
    slug: str
    title: str
    summary: str
    updated: datetime | None
    draft: bool
    body: Rendered
    path: str
    url: str
    permalink: str

    @property
    def html(self) -> str:
        return self.body.html


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    posts: tuple[Post, ...]  # newest first
    pages: tuple[Page, ...]
    urls: Urls
    comments: Mapping[str, tuple[Comment, ...]] = field(default_factory=dict)  # post slug → oldest first


def parse_date(value: Any, tz: tzinfo) -> datetime | str:
    """A front-matter date → an aware datetime, or a message saying what is wrong with it.

    Dates without a time are midnight in the site's timezone, so a post "on 31 March" stays on
    31 March for readers of the site, whatever the build machine's zone is. A date with its own
    offset is converted into the site's zone, so the day shown, the archive month and the
    digest period all agree.
    """
    if isinstance(value, datetime):
        return value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if not isinstance(value, str):
        return f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2020-04-14"
    text = value.strip()
    if not _DATE_SHAPE.match(text):
        return f"{text!r} is not a date; write it as YYYY-MM-DD or YYYY-MM-DD HH:MM, e.g. 2020-04-14"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        return f"{text!r} is not a real date ({exc})"
    return parsed.astimezone(tz) if parsed.tzinfo else parsed.replace(tzinfo=tz)


def read_meta(doc: SourceDoc, config: SiteConfig, problems: Problems) -> Meta | None:
    """Validate one document's front matter; every mistake goes to ``problems``."""
    rel, meta = doc.rel, doc.meta
    keys = POST_KEYS if doc.kind == "post" else PAGE_KEYS
    before = len(problems.errors)

    def bad(key: str | tuple[str | int, ...], message: str, fix: str | None = None) -> None:
        where = key if isinstance(key, tuple) else (key,)
        problems.add(rel, doc.line(*where), message, fix)

    for key in meta:
        if key not in keys:
            guess = did_you_mean(key, keys)
            bad(
                key,
                f"unknown front-matter field '{key}'",
                f"did you mean '{guess}'?" if guess else f"the fields a {doc.kind} can have: {', '.join(keys)}",
            )

    title = meta.get("title")
    if isinstance(title, int | float) and not isinstance(title, bool):
        title = str(title)
    if title is None:
        problems.add(
            rel, doc.front_line, f"this {doc.kind} has no title", "add a line 'title: …' to the front matter"
        )
    elif not isinstance(title, str) or not title.strip():
        bad("title", "the title should be text", "title: What we learned from huddles")
    title = title.strip() if isinstance(title, str) else ""

    stem = PurePosixPath(rel).stem
    name_match = FILENAME_DATE.match(stem) if doc.kind == "post" else None
    name_slug = name_match.group(2) if name_match else stem

    slug_value = meta.get("slug")
    if slug_value is not None:
        if not isinstance(slug_value, str) or not SLUG_RE.match(slug_value):
            suggestion = slugify(str(slug_value))
            bad(
                "slug",
                f"slug {slug_value!r} can only have lower-case letters, digits and single hyphens",
                f"slug: {suggestion}" if suggestion else "remove the slug line",
            )
            slug = ""
        else:
            slug = slug_value
    else:
        slug = slugify(name_slug)
        if not slug:
            problems.add(
                rel, None, "cannot make a URL name from this file name", "rename the file, or add 'slug: …'"
            )
    if doc.kind == "page" and slug in urls.RESERVED:
        bad(
            "slug" if slug_value else "title",
            f"the page URL /{slug}/ is reserved for qsite's own pages",
            "give the page another slug",
        )

    when: datetime | None = None
    if doc.kind == "post":
        if "date" in meta:
            parsed = parse_date(meta["date"], config.tz)
            if isinstance(parsed, str):
                bad("date", parsed)
            else:
                when = parsed
        elif name_match:
            parsed = parse_date(name_match.group(1), config.tz)
            if isinstance(parsed, str):
                when_text = name_match.group(1)
                problems.add(rel, None, f"the file name's date {when_text} is not a real date", "rename the file")
            else:
                when = parsed
        else:
            problems.add(
                rel,
                doc.front_line,
                "this post has no date",
                "add 'date: YYYY-MM-DD' to the front matter, or start the file name with the date",
            )

    updated = None
    if meta.get("updated") is not None:
        parsed = parse_date(meta["updated"], config.tz)
        if isinstance(parsed, str):
            bad("updated", parsed)
        else:
            updated = parsed

    themes: list[str] = []
    if doc.kind == "post":
        raw = meta.get("themes")
        slugs = [t.slug for t in config.themes]
        if raw is None:
            problems.add(
                rel,
                doc.front_line,
                "this post has no themes",
                f"add 'themes: [...]' with one or more of: {', '.join(slugs)}",
            )
            raw = []
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list):
            bad("themes", "themes should be a list, e.g. themes: [staff-wellbeing]")
            raw = []
        elif "themes" in meta and not raw:
            bad("themes", "themes is empty", f"name at least one of: {', '.join(slugs)}")
        for i, item in enumerate(raw):
            key = ("themes", i) if isinstance(meta.get("themes"), list) else ("themes",)
            if not isinstance(item, str) or item not in slugs:
                guess = did_you_mean(slugify(str(item)), slugs) if item is not None else None
                bad(
                    key,
                    f"there is no theme {item!r}",
                    f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(slugs)}",
                )
            elif item in themes:
                bad(key, f"theme '{item}' is listed twice")
            else:
                themes.append(item)

    tags: list[Tag] = []
    raw_tags = meta.get("tags")
    if raw_tags is not None:
        if isinstance(raw_tags, str):
            raw_tags = [raw_tags]
        if not isinstance(raw_tags, list):
            bad("tags", "tags should be a list, e.g. tags: [huddles, remote consultations]")
            raw_tags = []
        seen: set[str] = set()  # a set, not a scan of the list: 2,000 tags must stay fast
        for i, item in enumerate(raw_tags):
            name = str(item).strip() if isinstance(item, str | int | float) and not isinstance(item, bool) else ""
            url_name = tag_slug(name)
            if not url_name:
                bad(("tags", i), f"tag {item!r} has no letters or digits to make a URL from")
            elif url_name not in seen:
                seen.add(url_name)
                tags.append(Tag(url_name, name))

    authors: list[str] = []
    if "author" in meta and "authors" in meta:
        bad("authors", "give either 'author' or 'authors', not both")
    elif isinstance(meta.get("author"), str) and meta["author"].strip():
        authors = [meta["author"].strip()]
    elif "author" in meta:
        bad("author", "author should be a name", "for a list of people use 'authors: [A, B]'")
    elif "authors" in meta:
        raw_authors = meta["authors"]
        if isinstance(raw_authors, str):
            raw_authors = [raw_authors]
        if not isinstance(raw_authors, list) or not all(isinstance(a, str) and a.strip() for a in raw_authors):
            bad("authors", "authors should be a list of names, e.g. authors: [Ward 7 team, Dr A. Patel]")
        else:
            authors = [a.strip() for a in raw_authors]
    if not authors and config.author and doc.kind == "post":
        authors = [config.author]

    summary = meta.get("summary")
    if summary is not None and (not isinstance(summary, str) or not summary.strip()):
        bad("summary", "summary should be a sentence of text")
        summary = None

    draft = meta.get("draft", False)
    if not isinstance(draft, bool):
        bad("draft", f"draft should be true or false, not {draft!r}", "draft: true")
        draft = False

    featured = meta.get("featured", False)
    if not isinstance(featured, bool):
        bad("featured", f"featured should be true or false, not {featured!r}", "featured: true")
        featured = False

    takeaways: list[str] = []
    raw_take = meta.get("takeaways")
    if raw_take is not None:
        if isinstance(raw_take, str):
            raw_take = [raw_take]
        if not isinstance(raw_take, list) or not raw_take:
            bad("takeaways", "takeaways should be a list of short lines")
        elif len(raw_take) > MAX_TAKEAWAYS:
            bad("takeaways", f"there are {len(raw_take)} takeaways; keep it to {MAX_TAKEAWAYS} at most")
        else:
            for i, item in enumerate(raw_take):
                if not isinstance(item, str) or not item.strip():
                    bad(("takeaways", i), "each takeaway should be a line of text")
                else:
                    takeaways.append(item.strip())

    if len(problems.errors) > before:
        return None
    return Meta(
        source=rel,
        kind=doc.kind,
        slug=slug,
        title=title,
        date=when,
        updated=updated,
        themes=tuple(themes),
        tags=tuple(tags),
        authors=tuple(authors),
        summary=summary.strip() if isinstance(summary, str) else None,
        draft=draft,
        takeaways=tuple(takeaways),
        featured=featured,
        body=doc.body,
        line=doc.body_line,
    )


def make_post(meta: Meta, body: Rendered, site_urls: Urls, now: datetime) -> Post:
    assert meta.date is not None  # read_meta guarantees it for posts
    path = urls.post_path(meta.slug)
    url = site_urls.url(path)
    summary = meta.summary or plain_text(body.summary_html)
    summary_html = f"<p>{_escape(meta.summary)}</p>" if meta.summary else rebase_links(body.summary_html, url)
    return Post(
        source=meta.source,
        slug=meta.slug,
        title=meta.title,
        date=meta.date,
        updated=meta.updated,
        themes=meta.themes,
        tags=meta.tags,
        authors=meta.authors,
        summary=summary,
        summary_html=summary_html,
        draft=meta.draft,
        future=meta.date > now,
        takeaways=meta.takeaways,
        featured=meta.featured,
        body=body,
        path=path,
        url=url,
        permalink=site_urls.absolute(path),
    )


def make_page(meta: Meta, body: Rendered, site_urls: Urls) -> Page:
    path = urls.page_path(meta.slug)
    return Page(
        source=meta.source,
        slug=meta.slug,
        title=meta.title,
        summary=meta.summary or plain_text(body.summary_html),
        updated=meta.updated,
        draft=meta.draft,
        body=body,
        path=path,
        url=site_urls.url(path),
        permalink=site_urls.absolute(path),
    )


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def check_collisions(metas: list[Meta], problems: Problems) -> None:
    """Two documents that would write one URL: name both files, as Zola's path collisions do."""
    seen: dict[tuple[str, str], Meta] = {}
    for meta in metas:
        key = ("post" if meta.kind == "post" else "page", meta.slug)
        if key in seen:
            first = seen[key]
            where = f"/posts/{meta.slug}/" if meta.kind == "post" else f"/{meta.slug}/"
            problems.add(
                meta.source,
                None,
                f"this and {first.source} would both be published at {where}",
                "give one of them a different 'slug:' or file name",
            )
        else:
            seen[key] = meta


def is_published(meta: Meta, now: datetime, drafts: bool, future: bool) -> bool:
    if meta.draft and not drafts:
        return False
    return not (meta.date is not None and meta.date > now and not future)
