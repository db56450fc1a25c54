"""Series: posts that belong together, read in order (issue 11).

A series is declared once, in ``content/series/<id>.md`` (front matter ``title``, body = its
description), and a post joins it with ``series: <id>`` and, optionally, ``series_order: <n>``.
Reading (``read_series``) and checking the posts' references (``check_series``) belong to the
content step; ``group_series`` is a grouping step, a pure function of the site model, giving
each series its parts in order and each part its place ("Part 2 of 3"), kept apart from the
``Post`` objects so that a post page is re-rendered when its series changes, and only then.

Order: numbered parts first, by ``series_order``; then unnumbered parts, by date (then slug).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from html import unescape
from pathlib import PurePosixPath

from qsite import markup, urls
from qsite.content import SourceDoc
from qsite.model import Meta, Post, SeriesDef, Site
from qsite.problems import Problems, did_you_mean
from qsite.schema import Field, Schema, Text, load_partial
from qsite.urls import SLUG_RE

FOLDER = "content/series"


@dataclass(frozen=True)
class SeriesFront:
    source: str = ""
    line: int = 0
    title: str = ""


SCHEMA = Schema(
    "front matter",
    (
        Field(
            "title",
            Text("the title should be text", "title: Learning from night shifts"),
            "The series' name, shown on each of its posts as *Part 2 of 3: <title>* and on its page "
            "`/series/<id>/`. The file's body describes the series.",
            "",
            required=True,
            missing=("this series has no title", "add a line 'title: …' to the front matter"),
        ),
    ),
    SeriesFront,
    unknown="unknown front-matter field '{key}'",
    listing="the fields a series can have: {names}",
)


def read_series(
    docs: Iterable[SourceDoc],
    base_path: str,
    time_limit: float,
    problems: Problems,
    html: Callable[[str, str, Callable[[], str]], str] | None = None,
) -> dict[str, SeriesDef]:
    """Every ``content/series/<id>.md``, validated, with its description rendered; id → series.
    ``html``: the engine's store of rendered Markdown (``Engine.html``), if any."""
    found: dict[str, SeriesDef] = {}
    site_urls = urls.Urls("http://x" + base_path)
    for doc in docs:
        series_id = PurePosixPath(doc.rel).stem
        if len(PurePosixPath(doc.rel).parts) != 3 or not SLUG_RE.match(series_id):
            problems.add(
                doc.rel, None, "a series file's name is its id: lower-case letters, digits and single hyphens",
                f"rename it to {FOLDER}/{urls.slugify(series_id) or 'my-series'}.md",
            )
            continue
        before = len(problems.errors)
        front: SeriesFront = load_partial(SCHEMA, doc.meta, doc.rel, doc, problems)
        if len(problems.errors) > before:
            continue

        def render(body: str = doc.body) -> str:
            return markup.render_markdown(body, base_path, time_limit).html

        try:
            described = html(doc.body, "series:" + base_path, render) if html else render()
        except markup.MarkdownError as exc:
            problems.add(doc.rel, doc.body_line, exc.message, exc.fix)
            continue
        path = urls.series_path(series_id)
        summary = _first_paragraph_text(described)
        found[series_id] = SeriesDef(
            series_id, front.title, described.strip(), summary, doc.rel, path, site_urls.url(path)
        )
    return found


def _first_paragraph_text(html: str) -> str:
    """The first paragraph as plain text: inline tags removed without adding spaces, so
    ``on <strong>nights</strong>.`` reads "on nights." rather than with a space before the stop."""
    first = html.split("</p>", 1)[0]
    return " ".join(unescape(re.sub(r"<[^>]*>", "", first)).split())


def check_series(metas: Sequence[Meta], known: Iterable[str], problems: Problems) -> None:
    """Every post's ``series`` names a declared series (did-you-mean), and no two posts of one
    series share a ``series_order`` (both named, at their lines)."""
    ids = sorted(known)
    numbered: dict[tuple[str, int], Meta] = {}
    for meta in metas:
        if meta.series is None:
            continue
        series_id = meta.series.value
        if series_id not in ids:
            guess = did_you_mean(series_id, ids)
            fix = (f"did you mean '{guess}'?" if guess
                   else f"declare it in {FOLDER}/{series_id}.md with a 'title:'"
                   + (f", or use one of: {', '.join(ids)}" if ids else ""))
            problems.add(meta.source, meta.series.line, f"there is no series '{series_id}'", fix)
            continue
        if meta.series_order is None:
            continue
        key = (series_id, meta.series_order.value)
        first = numbered.get(key)
        if first is None:
            numbered[key] = meta
            continue
        assert first.series_order is not None
        problems.add(
            meta.source,
            meta.series_order.line,
            f"series_order {key[1]} of series '{series_id}' is also given to "
            f"{first.source}:{first.series_order.line}",
            "give each part of a series its own number",
        )


@dataclass(frozen=True)
class PartLink:
    """One part as a list of parts shows it."""

    number: int
    title: str
    url: str
    path: str


@dataclass(frozen=True)
class Series:
    id: str
    title: str
    description_html: str
    summary: str
    parts: tuple[PartLink, ...]
    path: str
    url: str

    @property
    def count(self) -> int:
        return len(self.parts)


@dataclass(frozen=True)
class SeriesPlace:
    """What a post page shows of its series: "Part ``number`` of ``series.count``", the list
    of parts (``current`` is this post's path) and the parts before and after it."""

    series: Series
    number: int
    current: str
    previous: PartLink | None
    next: PartLink | None


@dataclass(frozen=True)
class SeriesGroups:
    series: tuple[Series, ...]  # by title
    places: dict[str, SeriesPlace]  # post key → its place in its series


def _order(post: Post) -> tuple[int, int, float, str]:
    if post.series_order is not None:
        return (0, post.series_order, 0.0, post.slug)
    return (1, 0, post.date.timestamp(), post.slug)


def group_series(site: Site) -> SeriesGroups:
    """Each declared series with its published parts in order, and each part's place."""
    members: dict[str, list[Post]] = {series_id: [] for series_id in site.series}
    for post in site.posts:
        if post.series in members:
            members[post.series].append(post)
    all_series: list[Series] = []
    places: dict[str, SeriesPlace] = {}
    for series_id, posts in members.items():
        declared = site.series[series_id]
        ordered = sorted(posts, key=_order)
        parts = tuple(PartLink(n, p.title, p.url, p.path) for n, p in enumerate(ordered, 1))
        series = Series(
            series_id, declared.title, declared.description_html, declared.summary, parts, declared.path, declared.url
        )
        all_series.append(series)
        for i, post in enumerate(ordered):
            previous = parts[i - 1] if i > 0 else None
            following = parts[i + 1] if i + 1 < len(parts) else None
            places[post.key] = SeriesPlace(series, i + 1, post.path, previous, following)
    all_series.sort(key=lambda s: (s.title.lower(), s.id))
    return SeriesGroups(tuple(all_series), places)
