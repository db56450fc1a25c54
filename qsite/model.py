"""Step 3: validated front matter + rendered bodies → the frozen site model.

Every object here is complete when it is made (no "filled in later" fields), and every check
on an editor's front matter lives here, each producing a Problem at the line of the field.
Markdown is not rendered here: ``read_meta`` validates first, the build renders only what will
be published, then ``make_post``/``make_page`` assemble the finished objects.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from qsite import urls
from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.markup import Rendered, TocEntry, contents, plain_text, rebase_links
from qsite.problems import Problems
from qsite.schema import (
    MAX_SLUG,
    At,
    Bool,
    Context,
    Date,
    Field,
    Int,
    Invalid,
    ListOf,
    Schema,
    Slug,
    Text,
    ThemeRef,
    Type,
    load_partial,
    parse_date,
    short_slug,
    too_long,
)
from qsite.urls import Urls, slugify, tag_slug

if TYPE_CHECKING:
    from qsite.comments import Comment

FILENAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})-(.+)$")
MAX_TAKEAWAYS = 5


@dataclass(frozen=True, order=True, slots=True)
class Tag:
    slug: str
    name: str


@dataclass(frozen=True, slots=True)
class Meta:
    """Front matter after validation: everything about a document except its rendered body.
    Slotted, as ``Post`` (see ``fields_maker``): one per file, held for the whole build."""

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
    toc: bool | None = None  # front matter's toc: true/false; None: by the number of headings
    # -- addresses and series (issue 11): located, so later checks can name the line
    aliases: tuple[Alias, ...] = ()
    series: Located | None = None
    series_order: Located | None = None


@dataclass(frozen=True)
class Credit:
    """One name in a post's byline. ``url`` is the author's page (None for a free-text name);
    ``kind`` is the schema.org type: the profile's ``type``, or for a free-text name a guess."""

    name: str
    role: str | None = None
    url: str | None = None
    kind: str = "Person"
    website: str | None = None  # for JSON-LD: the profile's own url, else its page's permalink
    id: str | None = None


PERSON = "person"


@dataclass(frozen=True)
class Author:
    """An author profile (``content/authors/<id>.md``, read by qsite/authors.py), complete:
    its page's addresses and its bio rendered."""

    id: str
    name: str
    role: str | None
    organisation: str | None
    type: str  # "person" or "organisation"
    website: str | None  # the profile's own ``url``
    image: str | None  # with the site's base path
    image_alt: str | None
    bio_html: str
    source: str
    path: str  # "authors/<id>/"
    url: str
    feed_url: str
    permalink: str

    @property
    def schema_type(self) -> str:
        return "Person" if self.type == PERSON else "Organization"

    def credit(self) -> Credit:
        return Credit(self.name, self.role, self.url, self.schema_type, self.website or self.permalink, self.id)


@dataclass(frozen=True, slots=True)
class Post:
    """A published post. Slotted: a build holds one per post until it ends, and every render
    worker inherits them all; an instance with a ``__dict__`` filled as ``make_post`` did
    took 896 bytes, one with slots 224 (~13 MiB at 20,000 posts: bench/memory.py)."""

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
    toc: tuple[TocEntry, ...] = ()  # the table of contents to show (markup.contents); () for none
    credits: tuple[Credit, ...] = ()  # one per name of ``authors``, from content/authors/ (qsite/authors.py)
    aliases: tuple[Alias, ...] = ()  # old addresses, each published as a redirect page
    series: str | None = None  # a series id from content/series/
    series_order: int | None = None

    @property
    def key(self) -> str:
        """What tells this post from every other: its URL path. The slug alone does not when
        the permalink scheme has a date in it (two years' "annual-report" posts)."""
        return self.path

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
    aliases: tuple[Alias, ...] = ()

    @property
    def html(self) -> str:
        return self.body.html


@dataclass(frozen=True)
class SeriesDef:
    """A declared series (``content/series/<id>.md``, read by qsite/series.py): its id (the file
    name), title and rendered description."""

    id: str
    title: str
    description_html: str
    summary: str  # the description's first paragraph as plain text, for lists and link previews
    source: str
    path: str
    url: str


@dataclass(frozen=True)
class Site:
    config: SiteConfig
    posts: tuple[Post, ...]  # newest first
    pages: tuple[Page, ...]
    urls: Urls
    comments: Mapping[str, tuple[Comment, ...]] = field(default_factory=dict)  # post slug → oldest first
    authors: Mapping[str, Author] = field(default_factory=dict)  # profile id → profile (content/authors/)
    series: Mapping[str, SeriesDef] = field(default_factory=dict)  # id → declared series (qsite/series.py)


@dataclass(frozen=True)
class FrontMatter:
    """A post's or page's front matter as its schema reads it (before the file name is used)."""

    source: str = ""
    line: int = 0
    title: str = ""
    date: datetime | None = None
    themes: tuple[str, ...] = ()
    summary: str | None = None
    author: str | None = None
    authors: tuple[str, ...] = ()
    tags: tuple[Tag, ...] = ()
    slug: str | None = None
    draft: bool = False
    updated: datetime | None = None
    takeaways: tuple[str, ...] = ()
    featured: bool = False
    toc: bool | None = None
    aliases: tuple[Alias, ...] = ()
    series: Located | None = None
    series_order: Located | None = None


# -- Addresses and series in front matter (issue 11) --------------------------------------------


@dataclass(frozen=True)
class Located:
    """A front-matter value and the file line it was typed on, for checks made after the
    schema (an unknown series, two parts numbered alike) to point at that line."""

    value: Any
    line: int = field(compare=False)


class LocatedType(Type):
    """``inner``'s value, with its line (``Located``)."""

    def __init__(self, inner: Type):
        self.inner = inner
        self.null_is_absent = inner.null_is_absent

    def convert(self, value: Any, at: At) -> Any:
        return Located(self.inner.convert(value, at), at.line())


@dataclass(frozen=True)
class Alias:
    """An old address of a post or page: ``path`` is where its redirect page is written
    (``urls.alias_path``), ``typed`` as the editor wrote it, ``line`` where."""

    path: str
    typed: str = field(compare=False)
    line: int = field(compare=False)

    def __str__(self) -> str:
        return self.typed


class AliasPath(Text):
    def __init__(self) -> None:
        super().__init__("each alias should be an address such as /posts/old-name/")

    def convert(self, value: Any, at: At) -> Any:
        text = super().convert(value, at)
        try:
            path = urls.alias_path(text)
        except ValueError as exc:
            raise Invalid(str(exc), "an alias is an old address of this page, e.g. /posts/old-name/") from None
        return Alias(path, text, at.line())


_ALIASES = Field(
    "aliases",
    ListOf(
        AliasPath(),
        "aliases should be a list of old addresses, e.g. aliases: [/posts/old-name/]",
        one_ok=True,
        duplicate="the alias {item} is listed twice",
    ),
    "Old addresses (from the site's root, e.g. `/posts/old-name/` or `/old.html`) that keep working: each "
    "gets a small page sending readers on to this one. See *Renaming a post*.",
    (),
)


class TagName(Text):
    """A free-text tag; it must make a URL name (``/tags/<slug>/``) of a sensible length. Read
    as a ``Tag``, so the URL name is worked out once, here."""

    def __init__(self) -> None:
        super().__init__("tag {value!r} has no letters or digits to make a URL from")

    def convert(self, value: Any, at: At) -> Any:
        name = super().convert(value, at)
        slug = tag_slug(name)
        if not slug:
            raise Invalid(f"tag {value!r} has no letters or digits to make a URL from")
        if len(slug) > MAX_SLUG:
            raise Invalid(too_long("tag", slug), "shorten the tag")
        return Tag(slug, name)


def _title(kind: str) -> Field:
    return Field(
        "title",
        Text("the title should be text", "title: What we learned from huddles"),
        f"The {kind}'s title. Put it in quotes if it contains `: ` (a colon and a space), or if YAML would read "
        'it as something else: a number, `true`, `false` or `null` (`title: "1.10"`).',
        "",
        required=True,
        missing=(f"this {kind} has no title", "add a line 'title: …' to the front matter"),
    )


_SLUG = Field(
    "slug", Slug(), f"The URL name, if not the file name's: lower-case letters, digits and single hyphens, "
    f"at most {MAX_SLUG} characters."
)
_DRAFT = Field("draft", Bool(), "`true` keeps it out of the site unless you build with `--drafts`.", False)
_UPDATED = Field(
    "updated", Date(), "The date of the last significant change; shown on the page and used in feeds and the sitemap."
)

POST = Schema(
    "front matter",
    (
        _title("post"),
        Field(
            "date", Date(), "`2020-04-14`, or with a time: `2020-04-14 09:30`. Read in the site's timezone.",
            required_doc="required unless the file name starts with it",
        ),
        Field(
            "themes",
            ListOf(
                ThemeRef(),
                "themes should be a list, e.g. themes: [staff-wellbeing]",
                one_ok=True,
                empty=("themes is empty", "name at least one of: {themes}"),
                duplicate="theme '{item}' is listed twice",
            ),
            "One or more theme slugs from `site.yaml`, e.g. `themes: [staff-wellbeing, space-to-learn]`.",
            (),
            required=True,
            missing=("this post has no themes", "add 'themes: [...]' with one or more of: {themes}"),
        ),
        Field(
            "summary", Text("summary should be a sentence of text"),
            "A sentence or two for lists, feeds and link previews. Without it, the text above a "
            "`<!-- more -->` line is used, or else the first paragraph outside callouts and pull-quotes.",
        ),
        Field(
            "author", Text("author should be a name", "for a list of people use 'authors: [A, B]'"),
            "Who wrote it: one name.", default_doc="`author` in `site.yaml`",
        ),
        Field(
            "authors",
            ListOf(
                Text("each of the authors should be a name"),
                "authors should be a list of names, e.g. authors: [Ward 7 team, Dr A. Patel]",
                one_ok=True,
            ),
            "A list of names, instead of `author`.",
            (),
            default_doc="`author` in `site.yaml`",
        ),
        Field(
            "tags",
            ListOf(TagName(), "tags should be a list, e.g. tags: [huddles, remote consultations]", one_ok=True),
            "A list of free-text tags. `Mental Health` and `mental-health` are the same tag.",
            (),
        ),
        _SLUG,
        _DRAFT,
        _UPDATED,
        Field(
            "takeaways",
            ListOf(
                Text("each takeaway should be a line of text"),
                "takeaways should be a list of short lines",
                one_ok=True,
                empty=("takeaways should be a list of short lines", None),
                maximum=MAX_TAKEAWAYS,
                too_many="there are {count} takeaways; keep it to {max} at most",
            ),
            "One to five short \"what we learned\" lines, shown at the top of the post.",
            (),
        ),
        Field("featured", Bool(), "`true` to list the post among the editor's picks.", False),
        _ALIASES,
        Field("series", LocatedType(Slug()), "The id of a series this post is part of: the name of a file in "
              "`content/series/` without `.md`. See *Series*."),
        Field("series_order", LocatedType(Int(minimum=1)), "The post's number in its series (1, 2, 3…); without "
              "it, parts are in date order after the numbered ones."),
        Field(
            "toc", Bool(), "`true` or `false` to show or hide the table of contents; without it, a post with "
            "three or more second-level headings (`## …`) shows one.", default_doc="by the number of headings",
        ),
    ),
    FrontMatter,
    unknown="unknown front-matter field '{key}'",
    listing="the fields a post can have: {names}",
)

PAGE = Schema(
    "front matter",
    (
        _title("page"),
        Field("summary", Text("summary should be a sentence of text"), "A sentence for link previews."),
        _SLUG,
        _DRAFT,
        _UPDATED,
        _ALIASES,
    ),
    FrontMatter,
    unknown="unknown front-matter field '{key}'",
    listing="the fields a page can have: {names}",
)


def read_meta(doc: SourceDoc, config: SiteConfig, problems: Problems) -> Meta | None:
    """Validate one document's front matter against its schema, then what a schema cannot
    check alone: the date and URL name from the file name, reserved URLs, author or authors."""
    rel, meta = doc.rel, doc.meta
    before = len(problems.errors)
    schema = POST if doc.kind == "post" else PAGE
    fm: FrontMatter = load_partial(schema, meta, rel, doc, problems, Context(config.tz, config.theme_slugs))

    def bad(key: str, message: str, fix: str | None = None) -> None:
        problems.add(rel, doc.line(key), message, fix)

    stem = PurePosixPath(rel).stem
    name_match = FILENAME_DATE.match(stem) if doc.kind == "post" else None
    name_slug = name_match.group(2) if name_match else stem

    given_slug = meta.get("slug") is not None
    if given_slug:
        slug = fm.slug or ""  # a bad slug was reported by the schema
    else:
        slug = slugify(name_slug)
        if not slug:
            problems.add(
                rel, None, "cannot make a URL name from this file name", "rename the file, or add 'slug: …'"
            )
        elif len(slug) > MAX_SLUG:
            problems.add(
                rel,
                doc.front_line,
                f"the URL name made from the file name is {len(slug)} characters long; it can have at most {MAX_SLUG}",
                f"rename the file to a shorter name, or add a line 'slug: {short_slug(slug)}'",
            )
    if doc.kind == "page" and slug in urls.RESERVED:
        bad(
            "slug" if given_slug else "title",
            f"the page URL /{slug}/ is reserved for qsite's own pages",
            "give the page another slug",
        )

    when: datetime | None = None
    if doc.kind == "post":
        if meta.get("date") is not None:
            when = fm.date  # None if the schema reported it
            _warn_date_mismatch(rel, name_match, when, doc.line("date"), problems)
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
                doc.line("date"),
                "this post has no date",
                "add 'date: YYYY-MM-DD' to the front matter, or start the file name with the date",
            )

    tags: list[Tag] = []
    seen: set[str] = set()  # a set, not a scan of the list: 2,000 tags must stay fast
    for tag in fm.tags:
        if tag.slug not in seen:
            seen.add(tag.slug)
            tags.append(tag)

    authors: tuple[str, ...] = ()
    if "author" in meta and "authors" in meta:
        bad("authors", "give either 'author' or 'authors', not both")
    elif fm.author is not None:
        authors = (fm.author,)
    else:
        authors = fm.authors
    if not authors and config.author and doc.kind == "post":
        authors = (config.author,)

    if fm.series_order is not None and fm.series is None:
        bad("series_order", "series_order is set but the post names no series", "add 'series: <id>' or remove it")

    if len(problems.errors) > before:
        return None
    return Meta(
        source=rel,
        kind=doc.kind,
        slug=slug,
        title=fm.title,
        date=when,
        updated=fm.updated,
        themes=fm.themes,
        tags=tuple(tags),
        authors=authors,
        summary=fm.summary,
        draft=fm.draft,
        takeaways=fm.takeaways,
        featured=fm.featured,
        body=doc.body,
        line=doc.body_line,
        aliases=fm.aliases,
        series=fm.series,
        series_order=fm.series_order,
        toc=fm.toc,
    )


def _warn_date_mismatch(
    rel: str, name_match: re.Match[str] | None, when: datetime | None, line: int | None, problems: Problems
) -> None:
    """A file named 2020-04-09-… whose ``date:`` says another day: lists sort by one, the
    editor's folder by the other, so say which line disagrees (a warning: either may be right)."""
    if name_match is None or when is None or name_match.group(1) == when.date().isoformat():
        return
    problems.add(
        rel,
        line,
        f"the file name says {name_match.group(1)} but 'date:' says {when.date().isoformat()}",
        f"rename the file to {when.date().isoformat()}-{name_match.group(2)}.md, or correct the date",
        severity="warning",
    )


def make_post(
    meta: Meta,
    body: Rendered,
    site_urls: Urls,
    now: datetime,
    permalink: str = urls.DEFAULT_POST_PERMALINK,
    credits: tuple[Credit, ...] = (),
) -> Post:
    """``permalink``: site.yaml's scheme for post addresses. ``credits``: the byline's names as
    ``authors.credits`` resolves them (profiles); the names the post shows (``authors``) are theirs."""
    assert meta.date is not None  # read_meta guarantees it for posts
    path = urls.post_path(meta.slug, meta.date, permalink)
    url = site_urls.url(path)
    summary = meta.summary or plain_text(body.summary_html)
    summary_html = f"<p>{_escape(meta.summary)}</p>" if meta.summary else rebase_links(body.summary_html, url)
    if summary_html == body.summary_html:  # links there but none to rebase: a copy (~5 MiB at 20,000 posts)
        summary_html = body.summary_html
    return _make_post(
        source=meta.source,
        slug=meta.slug,
        title=meta.title,
        date=meta.date,
        updated=meta.updated,
        themes=meta.themes,
        tags=meta.tags,
        authors=tuple(c.name for c in credits) if credits else meta.authors,
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
        toc=contents(body.toc, meta.toc),
        credits=credits,
        aliases=meta.aliases,
        series=meta.series.value if meta.series else None,
        series_order=meta.series_order.value if meta.series_order else None,
    )


def fields_maker(cls: type) -> Callable[..., Any] | None:
    """For a frozen dataclass with slots: a function making an instance from every field's
    value (in declared order, or by name), equal to what ``cls(...)`` makes; None for any other class.

    A build makes every post (and, on a rebuild, decodes every meta: ``cache.DataclassCodec``)
    each time, and a frozen class's own ``__init__`` sets each field with a frozen
    ``__setattr__``, ~5 µs a post. The instance is made by a plain class with the same slots
    (its ``__init__`` stores each field as ordinary code does, ~0.6 µs), then given ``cls``
    as its class: the same memory layout, so the same object. Only for a class whose
    ``__init__`` sets its fields and does nothing else (no ``__post_init__``, every field in
    ``__init__``), checked here once."""
    if not dataclasses.is_dataclass(cls) or "__slots__" not in vars(cls) or hasattr(cls, "__post_init__"):
        return None
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    if cls.__slots__ != names or not all(f.init for f in fields) or any(f.startswith("_") for f in names):
        return None
    namespace: dict[str, Any] = {}
    exec(  # the same code dataclasses writes for a class that is not frozen
        f"def __init__(self, {', '.join(names)}):\n" + "".join(f"    self.{n} = {n}\n" for n in names), namespace
    )
    twin = type(f"_{cls.__name__}Fields", (), {"__slots__": names, "__init__": namespace["__init__"]})
    try:
        object.__new__(twin).__class__ = cls  # the layouts must match (no ``__weakref__`` slot, say)
    except TypeError:
        return None

    def make(*values: Any, **named: Any) -> Any:
        made = twin(*values, **named)
        made.__class__ = cls  # type: ignore[assignment]
        return made

    return make


_make_post = fields_maker(Post)
if _make_post is None:
    raise TypeError("make_post makes a Post by fields_maker: keep Post a slotted, frozen dataclass")


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
        aliases=meta.aliases,
    )


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def meta_path(meta: Meta, permalink: str = urls.DEFAULT_POST_PERMALINK) -> str:
    """The URL path a post or page will be published at (as ``make_post``/``make_page`` make it)."""
    if meta.kind == "post":
        return urls.post_path(meta.slug, meta.date, permalink)
    return urls.page_path(meta.slug)


def rejected_posts(sources: list[tuple[Any, str, str]], docs: list[SourceDoc | None], metas: list[Meta]) -> set[str]:
    """The slugs of posts whose own front matter (or YAML) was rejected: the slug of the file
    name and any ``slug:`` it gives. A comment or digest pick naming one of them is not told
    again that the post does not exist: the post's own error says what to fix (one error, at
    its cause).

    A post whose front matter was accepted gave its ``slug:`` (if any) to its meta, whose slug
    is taken away at the end anyway: only the rejected posts' front matter is read (a rebuild
    reads an unchanged file's document only if asked: ``SourceDoc.later``)."""
    names: set[str] = set()
    accepted = {m.source for m in metas if m.kind == "post"}
    for (_path, rel, kind), doc in zip(sources, docs, strict=True):
        if kind != "post":
            continue
        names.add(_file_slug(rel))
        if doc is not None and rel not in accepted and isinstance(doc.meta.get("slug"), str):
            names.add(doc.meta["slug"])
    return names - {m.slug for m in metas if m.kind == "post"}


@functools.lru_cache(maxsize=65536)
def _file_slug(rel: str) -> str:
    """The slug a post's file name gives it (kept: ``qsite serve`` asks for every post on every rebuild)."""
    stem = PurePosixPath(rel).stem
    match = FILENAME_DATE.match(stem)
    return slugify(match.group(2) if match else stem)


def check_collisions(metas: list[Meta], problems: Problems, permalink: str = urls.DEFAULT_POST_PERMALINK) -> None:
    """Two documents that would write one URL: name both files, as Zola's path collisions do.
    Two posts sharing a slug collide only if the permalink scheme has no date to tell them apart."""
    seen: dict[str, Meta] = {}
    for meta in metas:
        path = meta_path(meta, permalink)
        first = seen.get(path)
        if first is None:
            seen[path] = meta
            continue
        fix = "give one of them a different 'slug:' or file name"
        if meta.kind == first.kind == "post" and meta.date and first.date and meta.date.date() != first.date.date():
            fix += (", or put the date in every post's address: "
                    "permalinks: {post: /:year/:month/:day/:slug/} in site.yaml")
        problems.add(meta.source, None, f"this and {first.source} would both be published at /{path}", fix)


def check_shared_slugs(metas: list[Meta], docs: list[SourceDoc], problems: Problems) -> None:
    """Comments (``content/comments/<slug>/``) and digest picks name a post by its slug. When a
    date in the permalink scheme lets posts share a slug, such a name cannot tell which post is
    meant: say so at the comment or pick, naming the posts, rather than guess."""
    by_slug: dict[str, list[str]] = {}
    for meta in metas:
        if meta.kind == "post":
            by_slug.setdefault(meta.slug, []).append(meta.source)
    shared = {slug: sources for slug, sources in by_slug.items() if len(sources) > 1}
    if not shared:
        return
    fix = ("comments and picks name a post by its slug: give one of these posts its own 'slug:', "
           "and keep its old address working with 'aliases:'")
    for doc in docs:
        if doc.kind == "comment":
            parts = PurePosixPath(doc.rel).parts
            if len(parts) == 4 and parts[2] in shared:
                posts = " and ".join(shared[parts[2]])
                problems.add(doc.rel, None, f"this comment's folder '{parts[2]}' is the slug of {posts}", fix)
        elif doc.kind == "digest" and isinstance(doc.meta.get("picks"), list):
            for i, pick in enumerate(doc.meta["picks"]):
                slug = pick.strip().removeprefix("/posts/").strip("/") if isinstance(pick, str) else None
                if slug in shared:
                    posts = " and ".join(shared[slug])
                    problems.add(doc.rel, doc.line("picks", i), f"the pick '{slug}' is the slug of {posts}", fix)


def is_published(meta: Meta, now: datetime, drafts: bool, future: bool) -> bool:
    if meta.draft and not drafts:
        return False
    return not (meta.date is not None and meta.date > now and not future)
