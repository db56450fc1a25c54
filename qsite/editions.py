"""The editors' edition files, ``content/digests/<period>.md``: read against their schema, then
checked against the posts (a pick must name a post published in the edition's period).

This runs with the other front-matter checks, before any Markdown is rendered, so a mistyped
pick is reported with every other problem. Assembling the editions stays in :mod:`qsite.digest`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import PurePosixPath
from typing import Any

from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.model import Meta, is_published
from qsite.periods import Period, parse_period, period_kind, period_of
from qsite.problems import Problems, did_you_mean
from qsite.schema import At, Context, Field, Invalid, ListOf, Schema, Text, Type, load_partial

EXAMPLES = {
    "title": "April 2020: learning in a hurry",
    "editor": "Digest Editorial Group",
    "summary": "How teams changed the way they work in a single month.",
}


@dataclass(frozen=True)
class Pick:
    """One pick as written, with its line for the checks against the posts."""

    slug: str
    line: int = field(compare=False)

    def __str__(self) -> str:
        return self.slug


class PickSlug(Type):
    """A post's slug; a pasted ``/posts/<slug>/`` is forgiven."""

    null_is_absent = False

    def convert(self, value: Any, at: At) -> Any:
        slug = value.strip() if isinstance(value, str) else None
        if slug is not None and slug.startswith("/posts/"):
            slug = slug.removeprefix("/posts/").strip("/")
        if not slug:
            raise Invalid(f"pick {value!r} should be the slug of a post, e.g. running-virtual-huddles")
        return Pick(slug, at.line())


@dataclass(frozen=True)
class EditionFields:
    """An edition file's front matter as its schema reads it."""

    source: str = ""
    line: int = 0
    title: str | None = None
    editor: str = ""
    picks: tuple[Pick, ...] = ()
    summary: str | None = None


def _text(key: str) -> Text:
    return Text("'{key}' should be a line of text", f"{key}: {EXAMPLES[key]}", collapse=True)


SCHEMA = Schema(
    "front matter",
    (
        Field("title", _text("title"), "The edition's title. Without it: the month or week, e.g. *April 2020*."),
        Field(
            "editor",
            _text("editor"),
            "Who curated this edition.",
            "",
            required=True,
            missing=(
                "this edition does not say who edited it",
                f"add a line 'editor: {EXAMPLES['editor']}' to the front matter",
            ),
        ),
        Field(
            "picks",
            ListOf(
                PickSlug(),
                "picks should be a list of post slugs",
                "picks: [running-virtual-huddles]",
                one_ok=True,
                duplicate="'{item}' is picked twice",
                duplicate_fix="remove one of the two lines",
            ),
            "Slugs of the posts to lead with, in this order; each must be published in this period.",
            (),
        ),
        Field("summary", _text("summary"), "One sentence for the email preheader and the feed."),
    ),
    EditionFields,
    unknown="unknown front-matter field '{key}'",
    listing="the fields an edition can have: {names}",
)


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
    rejected: Collection[str] = (),
) -> list[Curation]:
    """Validate every edition file; each mistake goes to ``problems`` at the line of its field.

    ``metas`` are *all* valid posts and pages, published or not, so that a pick naming a draft
    is told apart from a pick naming no post at all. A pick of a post whose own front matter
    was rejected (``rejected``) is left to that post's error.
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
        curation = _read_curation(doc, kind, tz, posts, problems, now, drafts, future, rejected)
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
    rejected: Collection[str] = (),
) -> Curation | None:
    rel = doc.rel
    before = len(problems.errors)

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

    fields: EditionFields = load_partial(SCHEMA, doc.meta, rel, doc, problems, Context(tz))

    # What the schema cannot know: does each pick name a post, and one of this period?
    picks: list[str] = []
    for pick in fields.picks:
        slug = pick.slug
        post = posts.get(slug)
        if post is None and slug in rejected:
            continue
        if post is None:
            guess = did_you_mean(slug, posts)
            problems.add(
                rel,
                pick.line,
                f"there is no post '{slug}' to pick",
                f"did you mean '{guess}'?" if guess else "a pick is the last part of a post's address: /posts/<slug>/",
            )
            continue
        if isinstance(parsed, Period) and post.date is not None:
            its = period_of(post.date, kind, tz)
            if its != parsed:
                problems.add(
                    rel,
                    pick.line,
                    f"'{slug}' was published in {its.label}, not in {parsed.label}",
                    f"pick posts published in {parsed.label} only, or move this pick to content/digests/{its.key}.md",
                )
                continue
        if not is_published(post, now, drafts, future):
            state = "a draft" if post.draft else "scheduled for later"
            problems.add(
                rel,
                pick.line,
                f"'{slug}' is {state}, so it is left out of this edition's picks until it is published",
                severity="warning",
            )
            continue
        picks.append(slug)

    if len(problems.errors) > before or isinstance(parsed, str):
        return None
    return Curation(
        source=rel,
        period=parsed,
        title=fields.title,
        editor=fields.editor,
        picks=tuple(picks),
        summary=fields.summary,
        body=doc.body,
        line=doc.body_line,
    )
