"""Comments from the community: ``content/comments/<post-slug>/<anything>.md``.

Comments live in the repository, so they are moderated the way posts are: by review and merge.
Their bodies are still untrusted text from the public, so they are rendered by a Markdown
converter of their own that treats raw HTML as text, and the result is sanitised with ``nh3``
(Ammonia) against a short allow-list: no script, no event handler, no ``javascript:`` link and
no image (an image would load from another host, which the site promises never to do) can
reach a reader's browser, even if a reviewer misses it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol

import markdown
from markdown.extensions import Extension

from qsite import markup
from qsite.config import SiteConfig
from qsite.content import SourceDoc
from qsite.problems import Problems, did_you_mean
from qsite.schema import Context, Date, Field, Schema, Text, load_partial
from qsite.urls import slugify


class Profile(Protocol):
    """What a comment shows of the profile its ``author_id`` names (``model.Author`` is one)."""

    url: str
    role: str | None


@dataclass(frozen=True)
class OnPost:
    """What comments need of the post they are on: its date, and who wrote it (profile ids
    and names) for the "Post author" badge. The build makes one per post, drafts included."""

    date: datetime | None
    author_ids: frozenset[str] = frozenset()
    author_names: frozenset[str] = frozenset()


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

# Levels of replies shown nested; the replies below the last level are listed side by side in
# it. Deeper nesting helps nobody reading on a phone, and each level costs the templates and the
# build cache a level of recursion.
MAX_DEPTH = 6


@dataclass(frozen=True)
class CommentFields:
    """A comment's front matter as its schema reads it."""

    source: str = ""
    line: int = 0
    author: str = ""
    date: datetime | None = None
    reply_to: str | None = None
    role: str | None = None
    author_id: str | None = None


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
        Field(
            "reply_to", Text("reply_to should be a comment's file name"),
            "The file name (without `.md`) of the comment in the same folder that this one answers; "
            "replies are shown under it.",
        ),
        Field("role", Text(), "Shown beside the name, e.g. `Q member, seconded to an acute trust`."),
        Field(
            "author_id", Text(),
            "The commenter's profile id in `content/authors/`, if they have one: their name links to it, "
            "and a post's own author gets a \"Post author\" badge.",
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
    name: str = ""  # its file name without .md, which a reply's ``reply_to`` names
    reply_to: str | None = None
    role: str | None = None
    author_url: str | None = None  # the commenter's author page, if ``author_id`` names a profile
    post_author: bool = False  # written by one of the post's own authors: shows a badge
    in_reply_to: str | None = None  # the parent's author, for "in reply to …" (screen readers)
    replies: tuple[Comment, ...] = ()  # oldest first, each with its own replies

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
    import nh3  # here: a site without comments (or whose comments are cached) never needs it (issue 10)

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
    posts: Mapping[str, OnPost],
    config: SiteConfig,
    problems: Problems,
    cache: RenderedStore | None = None,
    authors: Mapping[str, Profile] | None = None,
    rejected: Collection[str] = (),
) -> dict[str, tuple[Comment, ...]]:
    """Validate and render every comment; post slug → all its comments, oldest first, each
    reply also inside its parent's ``replies`` (the page shows the thread from the top-level ones).

    ``posts`` are all posts by slug, drafts included, so a comment on a draft is not an error
    (it simply is not shown until the post is published). ``cache``: the build's, so an
    unchanged comment is not converted again. ``authors``: the profiles ``author_id`` names.
    ``rejected``: slugs of posts refused for their own front matter; their comments are not told
    again that the post does not exist (one error, at its cause).
    """
    authors = authors or {}
    md = _Renderer(cache, config.markdown_time_limit)
    by_post: dict[str, list[_Read]] = defaultdict(list)
    names: dict[str, set[str]] = defaultdict(set)  # every comment file of a folder, valid or not
    for doc in docs:
        parts = PurePosixPath(doc.rel).parts
        if len(parts) == 4:
            names[parts[2]].add(PurePosixPath(doc.rel).stem)
    for doc in docs:
        read = _read_one(doc, posts, config, problems, md, authors, rejected)
        if read is not None:
            by_post[read.post_slug].append(read)
    result: dict[str, tuple[Comment, ...]] = {}
    for slug, items in by_post.items():
        post = posts.get(slug)
        if post is not None:
            result[slug] = _thread(items, names[slug], post, problems)
    return result


@dataclass(frozen=True)
class _Read:
    """A valid comment before it is placed in its thread."""

    doc: SourceDoc
    post_slug: str
    name: str
    fields: CommentFields
    date: datetime
    html: str
    author_url: str | None
    role: str | None


def _read_one(
    doc: SourceDoc,
    posts: Mapping[str, OnPost],
    config: SiteConfig,
    problems: Problems,
    md: _Renderer,
    authors: Mapping[str, Profile],
    rejected: Collection[str],
) -> _Read | None:
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
    if post_slug not in posts and post_slug not in rejected:
        guess = did_you_mean(post_slug, posts) or _closest(post_slug, posts)
        problems.add(
            rel,
            doc.front_line,
            f"this comment is for a post '{post_slug}' that does not exist",
            f"did you mean '{guess}'? move the file to {FOLDER}/{guess}/"
            if guess
            else f"the folder under {FOLDER}/ must be the slug of a post (its URL name)",
        )

    fields: CommentFields = load_partial(SCHEMA, doc.meta, rel, doc, problems, Context(config.tz))
    if fields.author_id is not None and fields.author_id not in authors:
        guess = did_you_mean(fields.author_id, authors)
        problems.add(
            rel, doc.line("author_id"), f"there is no author profile '{fields.author_id}'",
            f"did you mean '{guess}'?" if guess else "profiles are the file names in content/authors/"
            + (f": {', '.join(sorted(authors))}" if authors else " (there are none yet)"),
        )
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
    profile = authors.get(fields.author_id) if fields.author_id else None
    name = PurePosixPath(rel).stem
    role = fields.role or (profile.role if profile else None)
    return _Read(doc, post_slug, name, fields, fields.date, html, profile.url if profile else None, role)


def _thread(
    items: list[_Read], names: set[str], post: OnPost, problems: Problems
) -> tuple[Comment, ...]:
    """One post's comments, threaded: every reply's parent checked (it exists, it is older, no
    loop), and each comment made with its replies inside it. Oldest first, replies included."""
    by_name = {r.name: r for r in items}
    for r in items:
        rel, doc, parent = r.doc.rel, r.doc, r.fields.reply_to
        if post.date is not None and r.date < post.date:
            problems.add(
                rel, doc.line("date"), f"this comment is dated {r.date.date()}, before its post ({post.date.date()})",
                "check the date: a comment cannot be older than the post it is on",
            )
        if parent is None:
            continue
        if parent not in names:
            guess = did_you_mean(parent, names - {r.name}) or _closest(parent, names - {r.name})
            problems.add(
                rel, doc.line("reply_to"), f"reply_to names no comment '{parent}' on this post",
                f"did you mean '{guess}'?" if guess else f"reply_to is the file name, without .md, of another "
                f"comment in {FOLDER}/{r.post_slug}/",
            )
        elif parent in by_name and r.date < by_name[parent].date:
            problems.add(
                rel, doc.line("date"), f"this reply is dated before the comment it answers ({parent}, "
                f"{by_name[parent].date.date()})", "check the date, or reply_to",
            )
    _report_loops(items, by_name, problems)

    children: dict[str | None, list[_Read]] = defaultdict(list)
    for r in sorted(items, key=lambda r: (r.date, r.doc.rel)):
        children[r.fields.reply_to if r.fields.reply_to in by_name else None].append(r)

    made: list[Comment] = []

    def make(r: _Read, parent: str | None, replies: tuple[Comment, ...]) -> Comment:
        comment = Comment(
            source=r.doc.rel,
            post_slug=r.post_slug,
            author=r.fields.author,
            date=r.date,
            html=r.html,
            anchor="comment-" + (slugify(r.name) or "1"),
            name=r.name,
            reply_to=r.fields.reply_to,
            role=r.role,
            author_url=r.author_url,
            post_author=r.fields.author_id in post.author_ids or r.fields.author in post.author_names,
            in_reply_to=parent,
            replies=replies,
        )
        made.append(comment)
        return comment

    def nest(r: _Read, parent: str | None, depth: int) -> Comment:
        if depth < MAX_DEPTH:
            return make(r, parent, tuple(nest(c, r.fields.author, depth + 1) for c in children[r.name]))
        # The deepest level shown: everything below it lines up beside each other, in thread
        # order, each still saying whom it answers (found without recursion: a chain of
        # replies can be as long as the public makes it).
        below: list[Comment] = []
        stack = [(c, r.fields.author) for c in reversed(children[r.name])]
        while stack:
            child, answers = stack.pop()
            below.append(make(child, answers, ()))
            stack += [(c, child.fields.author) for c in reversed(children[child.name])]
        return make(r, parent, tuple(below))

    for root in children[None]:
        nest(root, None, 1)
    return tuple(sorted(made, key=lambda c: c.sort_key))


def _report_loops(items: list[_Read], by_name: Mapping[str, _Read], problems: Problems) -> None:
    """Comments that reply to each other in a circle have no place in a thread: each one on a
    loop is reported once, at its ``reply_to`` line, with the whole loop spelled out."""
    done: set[str] = set()  # walked already, so each comment is walked once however long the thread
    for r in items:
        chain: list[str] = []
        seen: set[str] = set()
        name: str | None = r.name
        while name is not None and name in by_name and name not in seen and name not in done:
            chain.append(name)
            seen.add(name)
            name = by_name[name].fields.reply_to
        done.update(chain)
        if name is None or name not in seen:
            continue
        loop = chain[chain.index(name):]
        for member in loop:
            m = by_name[member]
            problems.add(
                m.doc.rel, m.doc.line("reply_to"),
                "these comments reply to each other in a loop: " + " → ".join([*loop, loop[0]]),
                "one of them must answer a comment outside the loop, or the post (remove its reply_to)",
            )


def _closest(word: str, choices: Collection[str]) -> str | None:
    import difflib  # here: only a mistake needs it, not every build's start (issue 10)

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    return close[0] if close else None
