"""Comments from the community: ``content/comments/<post-slug>/<anything>.md``.

Comments live in the repository, so they are moderated the way posts are: by review and merge.
Their bodies are still untrusted text from the public, so they are rendered by a Markdown
converter of their own that treats raw HTML as text, and the result is sanitised with ``nh3``
(Ammonia) against a short allow-list: no script, no event handler, no ``javascript:`` link and
no image (an image would load from another host, which the site promises never to do) can
reach a reader's browser, even if a reviewer misses it.
"""

from __future__ import annotations

import difflib
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol

import markdown
import nh3
from markdown.extensions import Extension

from qsite import markup
from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.problems import Problems, did_you_mean
from qsite.schema import Context, Date, Field, Schema, Text, load_partial
from qsite.urls import slugify


class RenderedStore(Protocol):
    """What comments need of the incremental engine (``incremental.Engine`` is one): the HTML
    of a text rendered earlier with the same ``variant``, else ``render()``'s, recorded. Declared
    here so that this step does not import the engine, and builds no cache key itself."""

    def html(self, text: str, variant: str, render: Callable[[], str]) -> str: ...


FOLDER = "content/comments"

# What a sanitised comment may contain. Headings are left out so a comment cannot break the
# page's heading outline; images so a comment cannot load anything from another host.
ALLOWED_TAGS = frozenset(
    {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li", "hr", "del"}
)
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {"a": {"href", "title"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"


@dataclass(frozen=True)
class CommentFields:
    """A comment's front matter as its schema reads it."""

    source: str = ""
    line: int = 0
    author: str = ""
    date: datetime | None = None


SCHEMA = Schema(
    "front matter",
    (
        Field(
            "author",
            Text("the author should be a name", "author: Sam Okafor, practice nurse"),
            "The commenter's name, as they want it shown.",
            "",
            required=True,
            missing=("this comment has no author", "add a line 'author: …' with the commenter's name"),
        ),
        Field(
            "date",
            Date(),
            "When the comment was made: `2020-04-14`, or with a time: `2020-04-14 09:30`.",
            required=True,
            missing=("this comment has no date", "add a line 'date: YYYY-MM-DD'"),
        ),
    ),
    CommentFields,
    unknown="unknown front-matter field '{key}' in a comment",
    listing="a comment has only: {names}",
)


@dataclass(frozen=True)
class Comment:
    source: str  # content/comments/<post-slug>/<file>.md, for problems
    post_slug: str
    author: str
    date: datetime
    html: str  # rendered and sanitised: safe to print unescaped
    anchor: str  # id of the comment on the post's page, from its file name

    @property
    def sort_key(self) -> tuple[datetime, str]:
        return (self.date, self.source)


class _NoRawHtml(Extension):
    """Treat ``<script>`` and friends in a comment as text to show, never as markup."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _converter() -> markdown.Markdown:
    # A fresh instance per build: comments are few, and sharing one across threads is unsafe.
    return markdown.Markdown(
        extensions=["sane_lists", "fenced_code", _NoRawHtml()], output_format="html"
    )


# Part of the key under which a rendered comment is cached: bump it when the converter or the
# allow-list above changes.
RENDER_VERSION = "1"


def render_comment(
    text: str, md: markdown.Markdown | None = None, time_limit: float | None = markup.DEFAULT_TIME_LIMIT
) -> str:
    """Markdown → sanitised HTML. Raw HTML shows as text; what survives is on the allow-list.

    Raises ``markup.MarkdownError`` for a comment too slow to convert or nested too deeply
    (comments come from the public: 10,000 ``[`` once added 15 s to every build)."""
    md = md or _converter()
    md.reset()
    html = markup.convert(md, text, time_limit)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        strip_comments=True,
    )


class _Renderer:
    """Renders comment bodies, through the build's Markdown cache when there is one: rendered
    comments are kept like rendered posts, as ``markup.Rendered`` values holding only HTML."""

    def __init__(self, cache: RenderedStore | None, time_limit: float):
        self.cache = cache
        self.time_limit = time_limit
        self._md: markdown.Markdown | None = None

    def __call__(self, text: str) -> str:
        if self.cache is None:
            return self._render(text)
        return self.cache.html(text, f"comment:{RENDER_VERSION}", lambda: self._render(text))

    def _render(self, text: str) -> str:
        if self._md is None:
            self._md = _converter()
        try:
            return render_comment(text, self._md, self.time_limit)
        except markup.MarkdownError:
            self._md = None  # it may hold half a document
            raise


def read_comments(
    docs: Sequence[SourceDoc],
    post_slugs: Collection[str],
    config: SiteConfig,
    problems: Problems,
    cache: RenderedStore | None = None,
) -> dict[str, tuple[Comment, ...]]:
    """Validate and render every comment; post slug → its comments, oldest first.

    ``post_slugs`` are all posts, drafts included, so a comment on a draft is not an error
    (it simply is not shown until the post is published). ``cache``: the build's, so an
    unchanged comment is not converted again.
    """
    md = _Renderer(cache, config.markdown_time_limit)
    by_post: dict[str, list[Comment]] = defaultdict(list)
    for doc in docs:
        comment = _read_one(doc, post_slugs, config, problems, md)
        if comment is not None:
            by_post[comment.post_slug].append(comment)
    return {slug: tuple(sorted(items, key=lambda c: c.sort_key)) for slug, items in by_post.items()}


def _read_one(
    doc: SourceDoc,
    post_slugs: Collection[str],
    config: SiteConfig,
    problems: Problems,
    md: _Renderer,
) -> Comment | None:
    rel = doc.rel
    before = len(problems.errors)
    parts = PurePosixPath(rel).parts
    if len(parts) != 4:
        problems.add(
            rel,
            None,
            "a comment must be in a folder named after its post",
            f"move it to {FOLDER}/<post-slug>/{parts[-1]}, "
            f"e.g. {FOLDER}/running-virtual-huddles/{parts[-1]}",
        )
        return None
    post_slug = parts[2]
    if post_slug not in post_slugs:
        guess = did_you_mean(post_slug, post_slugs) or _closest(post_slug, post_slugs)
        problems.add(
            rel,
            doc.front_line,
            f"this comment is for a post '{post_slug}' that does not exist",
            f"did you mean '{guess}'? move the file to {FOLDER}/{guess}/"
            if guess
            else f"the folder under {FOLDER}/ must be the slug of a post (its URL name)",
        )

    fields: CommentFields = load_partial(SCHEMA, doc.meta, rel, doc, problems, Context(config.tz))
    if not doc.body.strip():
        problems.add(
            rel,
            doc.body_line - 1,
            "this comment has no text",
            "write the comment below the closing '---'",
        )
    if len(problems.errors) > before or fields.date is None:
        return None
    try:
        html = md(doc.body)
    except markup.MarkdownError as exc:
        problems.add(rel, doc.body_line, exc.message, exc.fix)
        return None
    return Comment(
        source=rel,
        post_slug=post_slug,
        author=fields.author,
        date=fields.date,
        html=html,
        anchor="comment-" + (slugify(PurePosixPath(rel).stem) or "1"),
    )


def _closest(word: str, choices: Collection[str]) -> str | None:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return close[0] if close else None
