"""Author profiles: ``content/authors/<id>.md``, one per person or organisation that writes.

A post's ``author``/``authors`` may name a profile by its id (the file name) or by its exact
name; any other name stays free text, as before profiles existed. A profile gives its author a
page (``/authors/<id>/``, planned in qsite/plan.py, grouped in qsite/grouping.py), a byline
link with their role, and the schema.org type search engines read (a profile says whether it
is a person or an organisation; only a free-text name is still guessed from its words).

Profiles are read after every post's front matter (``credits`` resolves names against them),
so a post's own cached front matter never depends on a profile: the build passes each post's
credits in when it makes the post, and keys the post by them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from qsite import markup
from qsite.comments import OnPost
from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.model import PERSON, Author, Credit, Meta
from qsite.problems import Problems
from qsite.schema import URL, At, Choice, Field, Invalid, Schema, Text, load_partial
from qsite.sharing import looks_personal
from qsite.urls import SLUG_RE, Urls, slugify

FOLDER = "content/authors"
PATH = "authors/"
ORGANISATION = "organisation"


class SitePath(Text):
    """A file of this site, as a root-relative path (``/images/ana.jpg``): a profile picture
    never loads from another host, as nothing on the site does."""

    def convert(self, value: Any, at: At) -> Any:
        text = super().convert(value, at)
        if not text.startswith("/") or text.startswith("//"):
            raise Invalid(
                f"{at.name} should be a path on this site starting with '/', not {text!r}",
                f"put the picture in content/images/ and write: "
                f"{at.leaf}: /images/{PurePosixPath(text).name or 'photo.jpg'}",
            )
        return text


@dataclass(frozen=True)
class ProfileFields:
    """A profile's front matter as its schema reads it."""

    source: str = ""
    line: int = 0
    name: str = ""
    role: str | None = None
    organisation: str | None = None
    type: str = PERSON
    url: str | None = None
    image: str | None = None
    image_alt: str | None = None


SCHEMA = Schema(
    "front matter",
    (
        Field(
            "name",
            Text("the name should be text", "name: Penny Pereira"),
            "The name shown in bylines and on the author's page.",
            "",
            required=True,
            missing=("this profile has no name", "add a line 'name: …'"),
        ),
        Field("role", Text(), "Shown beside the name in bylines and comments, e.g. `Head of Q`."),
        Field("organisation", Text(), "Where they work, shown on their page."),
        Field(
            "type", Choice(PERSON, ORGANISATION),
            "`person` or `organisation`: what search engines are told the author is (schema.org).", PERSON,
        ),
        Field("url", URL(), "Their own web page, linked from their author page and given to search engines."),
        Field("image", SitePath(), "A picture on this site, e.g. `/images/penny.jpg`."),
        Field(
            "image_alt", Text(), "What the picture shows, for people who cannot see it.", required_with="image",
        ),
    ),
    ProfileFields,
    unknown="unknown front-matter field '{key}' in an author profile",
    listing="an author profile has only: {names}",
)


def author_path(author_id: str) -> str:
    return f"{PATH}{author_id}/"


def read_authors(docs: Sequence[SourceDoc], config: SiteConfig, problems: Problems) -> dict[str, Author]:
    """Every profile, validated, with its bio rendered; id → profile, by id."""
    site_urls = Urls(config.base_url)
    found: dict[str, Author] = {}
    for doc in sorted(docs, key=lambda d: d.rel):
        author = _read_one(doc, config, problems, site_urls)
        if author is not None:
            found[author.id] = author
    return found


def _read_one(doc: SourceDoc, config: SiteConfig, problems: Problems, site_urls: Urls) -> Author | None:
    rel = doc.rel
    before = len(problems.errors)
    parts = PurePosixPath(rel).parts
    author_id = PurePosixPath(rel).stem
    if len(parts) != 3:
        problems.add(rel, None, "an author profile must be directly in content/authors/",
                     f"move it to {FOLDER}/{parts[-1]}")
    elif not SLUG_RE.match(author_id):
        problems.add(rel, None, f"the profile id {author_id!r} (its file name) is not a URL name",
                     f"rename the file to {FOLDER}/{slugify(author_id) or 'name'}.md")
    fields: ProfileFields = load_partial(SCHEMA, doc.meta, rel, doc, problems)
    if len(problems.errors) > before:
        return None
    try:
        bio = markup.render_markdown(doc.body, site_urls.base_path, config.markdown_time_limit).html
    except markup.MarkdownError as exc:
        problems.add(rel, doc.body_line, exc.message, exc.fix)
        return None
    path = author_path(author_id)
    return Author(
        id=author_id,
        name=fields.name,
        role=fields.role,
        organisation=fields.organisation,
        type=fields.type,
        website=fields.url,
        image=site_urls.url(fields.image) if fields.image else None,
        image_alt=fields.image_alt,
        bio_html=bio,
        source=rel,
        path=path,
        url=site_urls.url(path),
        feed_url=site_urls.url(path + "feed.xml"),
        permalink=site_urls.absolute(path),
    )


def find(name: str, authors: Mapping[str, Author]) -> Author | None:
    """The profile a byline name means: its id, or its name exactly."""
    if name in authors:
        return authors[name]
    return next((a for a in authors.values() if a.name == name), None)


def credits(names: Sequence[str], authors: Mapping[str, Author]) -> tuple[Credit, ...]:
    """A post's names as byline credits: a profile's where one is named, else free text."""
    result = []
    for name in names:
        author = find(name, authors)
        result.append(author.credit() if author else Credit(name, kind=guess_type(name)))
    return tuple(result)


def on_posts(metas: Sequence[Meta], authors: Mapping[str, Author]) -> dict[str, OnPost]:
    """Each post's date and authors (profile ids and names), for its comments' checks and badges."""
    result = {}
    for meta in metas:
        if meta.kind == "post":
            named = credits(meta.authors, authors)
            ids = frozenset(c.id for c in named if c.id)
            result[meta.slug] = OnPost(meta.date, ids, frozenset(c.name for c in named) | frozenset(meta.authors))
    return result


def check_names(metas: Sequence[Meta], docs: Mapping[str, SourceDoc], authors: Mapping[str, Author],
                problems: Problems) -> None:
    """A free-text name one edit away from a profile's name or id is probably that profile,
    mistyped: a warning with a did-you-mean at the name's line (the post still builds)."""
    if not authors:
        return
    for meta in metas:
        doc = docs.get(meta.source)
        if doc is None or meta.kind != "post" or not ({"author", "authors"} & doc.meta.keys()):
            continue  # the site's default author is site.yaml's to spell
        for i, name in enumerate(meta.authors):
            if find(name, authors) is not None:
                continue
            near = next((a for a in authors.values() if _one_edit(name, a.name) or _one_edit(name, a.id)), None)
            if near is None:
                continue
            line = doc.line("authors", i) if "authors" in doc.meta else doc.line("author")
            problems.add(
                meta.source, line,
                f"the author {name!r} has no profile, but is very like {near.name!r} ({near.source})",
                f"did you mean '{near.id}'? write the profile's id or exact name to link the byline to it",
                severity="warning",
            )


def _one_edit(a: str, b: str) -> bool:
    """At most one letter added, removed or changed, or two neighbours swapped, ignoring case."""
    a, b = a.lower(), b.lower()
    if a == b:
        return True  # case alone differs (an exact match was found before this was asked)
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) != len(b):
        return a[i:] == b[i + 1:]
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:]
    return swapped or a[i + 1:] == b[i + 1:]


def guess_type(name: str) -> str:
    """schema.org type for a name with no profile: most bylines here are teams ("Quality
    Improvement Hub, Millbrook"), which schema.org wants as Organizations, not Persons."""
    return "Person" if looks_personal(name) else "Organization"
