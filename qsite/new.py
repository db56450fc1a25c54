"""``qsite new``: write the skeleton of a post (or a digest edition), so an editor starts from
valid front matter.

``qsite new [KIND] WORDS…``: the first word picks a kind of file from ``KINDS`` (``post`` when it
names none), so ``qsite new "What we learned"`` stays the way to start a post and each kind adds
one entry. The text each kind writes for the editor to replace is listed in ``PLACEHOLDERS``:
``qsite check --strict`` fails while any of it is left in a file.

Titles come from the command line and can hold anything (``Huddles: what "we" learned``,
``Café``, ``123``, ``yes``), so every text value is written as a double-quoted YAML scalar:
in YAML's double-quoted style only ``\\`` and ``"`` and non-printable characters need escaping,
and the value is always text, never a number, a boolean or a date. The file goes only to
``content/posts/`` and is opened with ``O_EXCL``, so an existing post is never overwritten,
even by a second ``qsite new`` racing this one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path, PurePosixPath

from qsite.config import SiteConfig
from qsite.problems import ConfigError, ContentError, Problem, did_you_mean
from qsite.schema import MAX_SLUG, short_slug, too_long
from qsite.urls import SLUG_RE, slugify, tag_slug

POSTS = Path("content") / "posts"
DIGESTS = Path("content") / "digests"
KINDS = ("post", "digest", "comment")  # `qsite new KIND …`; "post" when the first word is none of these

# Characters YAML does not allow raw in a document (its "printable" set, YAML 1.1 §5.1 as
# PyYAML's reader enforces it), plus the line breaks a double-quoted scalar would fold.
_NOT_PRINTABLE = re.compile(
    "[^\x09\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\x85\u2028\u2029\ufeff]"
)

POST_PLACEHOLDER = "Start with a sentence or two saying what this post is about"
DIGEST_PLACEHOLDER = "Introduce this edition in a sentence or two"
PLACEHOLDERS = (POST_PLACEHOLDER, DIGEST_PLACEHOLDER)  # `qsite check --strict` fails while one is left

BODY = f"""\
{POST_PLACEHOLDER}: lists and link previews show this
first paragraph, unless you write a 'summary:' in the front matter.

## What we did

## What we learned
"""


def yaml_quote(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as exactly ``text``."""
    out = text.replace("\\", "\\\\").replace('"', '\\"')

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group(0))
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    return '"' + _NOT_PRINTABLE.sub(escape, out) + '"'


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def one_line(text: str, what: str = "title") -> str:
    """A title typed with a stray newline or tab becomes one line with single spaces; other
    control characters are never meant, so they go. Bytes that are not text (a terminal in a
    non-UTF-8 locale) are a usage error rather than a file that cannot be rendered."""
    if _SURROGATE.search(text):
        raise ConfigError(
            [
                Problem(
                    what,
                    None,
                    f"the {what} has characters that are not valid text",
                    "type it again in a UTF-8 terminal",
                )
            ]
        )
    return " ".join(_CONTROL.sub(" ", text).split())


@dataclass(frozen=True)
class NewPost:
    """What ``qsite new`` was asked for, already checked by ``plan_post``."""

    title: str
    themes: tuple[str, ...]
    tags: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()
    draft: bool = False
    slug: str | None = None


def check_themes(given: Sequence[str], config: SiteConfig) -> tuple[str, ...]:
    """The themes as slugs; a mistyped one is a usage error with a did-you-mean."""
    slugs = [t.slug for t in config.themes]
    problems: list[Problem] = []
    chosen: list[str] = []
    for theme in given:
        name = theme.strip()
        if name in slugs:
            if name not in chosen:
                chosen.append(name)
            continue
        guess = did_you_mean(slugify(name), slugs)
        problems.append(
            Problem(
                "--theme",
                None,
                f"there is no theme {name!r}",
                f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(slugs)}",
            )
        )
    if problems:
        raise ConfigError(problems)
    if not chosen:
        raise ConfigError(
            [
                Problem(
                    "--theme",
                    None,
                    "a post needs at least one theme",
                    f"use one of: {', '.join(slugs)}",
                )
            ]
        )
    return tuple(chosen)


def front_matter(post: NewPost, day: date) -> str:
    """The text of the new file. Optional fields are left as comments, ready to uncomment."""
    lines = [
        "---",
        f"title: {yaml_quote(post.title)}",
        f"date: {day.isoformat()}",
        f"themes: [{', '.join(post.themes)}]",
    ]
    if post.tags:
        lines.append(f"tags: [{', '.join(yaml_quote(t) for t in post.tags)}]")
    if len(post.authors) == 1:
        lines.append(f"author: {yaml_quote(post.authors[0])}")
    elif post.authors:
        lines.append(f"authors: [{', '.join(yaml_quote(a) for a in post.authors)}]")
    if post.draft:
        lines.append("draft: true")
    lines += [
        "# summary: One or two sentences shown in lists and link previews.",
        "# takeaways:",
        "#   - One short line about what you learned (up to five lines).",
        "---",
    ]
    return "\n".join(lines) + "\n" + BODY


def plan_post(post: NewPost, config: SiteConfig, day: date) -> tuple[Path, str]:
    """(path relative to the site, text) for the new post, or a usage error saying why not."""
    title = one_line(post.title)
    if not title:
        raise ConfigError(
            [
                Problem(
                    "title",
                    None,
                    "the title is empty",
                    'qsite new "What we learned from huddles" --theme staff-wellbeing',
                )
            ]
        )
    # A long title gives a shorter URL name, cut at a hyphen: the build refuses longer ones.
    slug = post.slug if post.slug is not None else short_slug(slugify(title))
    if post.slug is not None and len(post.slug) > MAX_SLUG:
        raise ConfigError([Problem("--slug", None, too_long("--slug", post.slug), f"--slug {short_slug(post.slug)}")])
    if post.slug is not None and not SLUG_RE.match(post.slug):
        raise ConfigError(
            [
                Problem(
                    "--slug",
                    None,
                    f"{post.slug!r} can only have lower-case letters, digits and single hyphens",
                    f"--slug {slugify(post.slug) or 'my-post'}",
                )
            ]
        )
    if not slug:
        raise ConfigError(
            [
                Problem(
                    "title",
                    None,
                    f"cannot make a file name from the title {title!r}",
                    "add --slug with a short name in plain letters, e.g. --slug huddles",
                )
            ]
        )
    themes = check_themes(post.themes, config)
    tags = tuple(t for t in (one_line(t, "--tag") for t in post.tags) if t)
    for tag in tags:
        if not tag_slug(tag):  # the build's rule for tag URLs: letters of any script, C++ and C# apart
            raise ConfigError(
                [
                    Problem(
                        "--tag",
                        None,
                        f"tag {tag!r} has no letters or digits to make a URL from",
                        "use a tag with letters or digits in it",
                    )
                ]
            )
    authors = tuple(a for a in (one_line(a, "--author") for a in post.authors) if a)
    checked = NewPost(title, themes, tags, authors, post.draft, slug)
    rel = POSTS / f"{day.isoformat()}-{slug}.md"
    return rel, front_matter(checked, day)


def kind_of(words: Sequence[str]) -> tuple[str, list[str]]:
    """(kind, the words after it) for ``qsite new WORDS…``; a lone ``digest`` is not a title."""
    if len(words) > 1 and words[0] in KINDS:
        return words[0], list(words[1:])
    if list(words) == ["digest"]:
        raise ConfigError(
            [Problem("qsite new digest", None, "which period is the edition for?", "qsite new digest 2020-04")]
        )
    return "post", list(words)


# The options of ``qsite new`` that only a post has (``--author`` names a digest's editor).
POST_ONLY = ("--theme", "--tag", "--draft", "--slug", "--date")


def _post_only(given: Mapping[str, object], command: str, kind: str, fix: str) -> list[Problem]:
    """A usage error for each option only a post has, given to another kind of file: dropped
    without a word, ``--theme`` or ``--date`` would leave an editor believing the file had them."""
    return [Problem(command, None, f"{name} is for posts, not {kind}", fix) for name in POST_ONLY if given.get(name)]


def refuse_post_options(given: Mapping[str, object]) -> None:
    """``qsite new comment`` takes none of the options only a post has."""
    fix = "qsite new comment POST --author NAME [--reply-to NAME] [--role TEXT]"
    problems = _post_only(given, "qsite new comment", "comments", fix)
    if problems:
        raise ConfigError(problems)


def digest_editor(given: Mapping[str, object], authors: Sequence[str]) -> str | None:
    """The editor ``qsite new digest`` was given (``--author``), or a usage error for each
    option only a post has, and for a second editor."""
    fix = "qsite new digest PERIOD [--author EDITOR]"
    problems = _post_only(given, "qsite new digest", "digest editions", fix)
    if len(authors) > 1:
        problems.append(Problem("qsite new digest", None, "an edition has one editor: give --author once", fix))
    if problems:
        raise ConfigError(problems)
    return authors[0] if authors else None


def plan_digest(period_text: str, config: SiteConfig, editor: str | None) -> tuple[Path, str]:
    """(path, text) of a new edition file for ``period_text`` (``2020-04``, or ``2020-W16`` with
    weekly digests): the editor, the optional fields as comments, a placeholder introduction."""
    from qsite.periods import parse_period, period_kind

    period = parse_period(period_text, period_kind(config))
    if isinstance(period, str):
        raise ConfigError([Problem("qsite new digest", None, period)])
    name = one_line(editor or config.author or "", "--author") or "Digest Editorial Group"
    text = "\n".join(
        [
            "---",
            f"editor: {yaml_quote(name)}",
            f"# title: {yaml_quote(period.label + ': what we learned')}",
            "# summary: One sentence for the email preheader and the feed.",
            "# picks:",
            f"#   - the-slug-of-a-post-published-in-{period.key}",
            "---",
            f"{DIGEST_PLACEHOLDER}: what connects this {period.kind}'s posts, and what readers should",
            "not miss. The edition lists every post published in it, by theme.",
            "",
        ]
    )
    return DIGESTS / f"{period.key}.md", text


def write_post(root: Path, rel: Path, text: str) -> Path:
    """Create ``root/rel`` inside its folder (``content/posts/``, ``content/digests/``); never
    replaces a file, never follows the folder out of the site (a symlinked ``content/posts``
    pointing elsewhere is refused)."""
    posts = root / rel.parent
    target = root / rel
    real_root = root.resolve()
    posts.mkdir(parents=True, exist_ok=True)
    real_posts = posts.resolve()
    if not real_posts.is_relative_to(real_root) or target.resolve().parent != real_posts:
        raise ConfigError(
            [
                Problem(
                    rel.parent.as_posix(),
                    None,
                    f"{rel.parent.as_posix()}/ leads outside the site folder; qsite new will not write there",
                )
            ]
        )
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        post = rel.parent == POSTS
        raise ContentError(
            [
                Problem(
                    rel.as_posix(),
                    None,
                    f"this {'post' if post else 'edition'} already exists; qsite new never overwrites a file",
                    "open it to edit it" + (", or choose a different title or --slug" if post else ""),
                )
            ]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [Problem(rel.as_posix(), None, f"cannot create the file: {exc.strerror}")]
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return target


def new_post(root: Path, config: SiteConfig, post: NewPost, day: date) -> Path:
    """Plan and write the post; returns its path relative to ``root``."""
    rel, text = plan_post(post, config, day)
    write_post(root, rel, text)
    return rel


# -- qsite new comment ---------------------------------------------------------------------------

COMMENTS = Path("content") / "comments"

# What a new comment says until an editor pastes the commenter's words in (``check --strict``
# can look for it: a comment still saying this was never finished).
COMMENT_PLACEHOLDER = "Replace this line with the comment, exactly as the commenter wrote it."


@dataclass(frozen=True)
class NewComment:
    """What ``qsite new comment`` was asked for."""

    post: str  # the post's slug: the folder under content/comments/
    author: str
    reply_to: str | None = None
    role: str | None = None


def _usage(what: str, message: str, fix: str | None = None) -> ConfigError:
    return ConfigError([Problem(what, None, message, fix)])


def post_slugs(root: Path, config: SiteConfig) -> set[str]:
    """The slug of every post, as the build reads it (``slug:`` or the file name)."""
    from qsite.content import load_content
    from qsite.model import FILENAME_DATE, read_meta
    from qsite.problems import Problems

    slugs: set[str] = set()
    for doc in load_content(root, {"posts": "post"}).docs:
        meta = read_meta(doc, config, Problems())
        if meta is not None:
            slugs.add(meta.slug)
        else:  # a post with mistakes still has the folder its comments go in
            stem = PurePosixPath(doc.rel).stem
            match = FILENAME_DATE.match(stem)
            slugs.add(slugify(match.group(2) if match else stem))
    return slugs


def plan_comment(root: Path, comment: NewComment, config: SiteConfig, day: date) -> tuple[Path, str]:
    """(path relative to the site, text) for the new comment, or a usage error with a
    did-you-mean for a post or a comment that does not exist. An ``--author`` naming a
    profile (by id or name) writes its name and ``author_id``."""
    from qsite.content import load_content

    slugs = post_slugs(root, config)
    if comment.post not in slugs:
        guess = did_you_mean(comment.post, slugs)
        raise _usage("POST", f"there is no post '{comment.post}'",
                     f"did you mean '{guess}'?" if guess else "give the post's URL name, as in /posts/<name>/")
    author = one_line(comment.author, "--author")
    if not author:
        raise _usage("--author", "a comment needs the commenter's name", 'qsite new comment POST --author "Sam Okafor"')
    folder = COMMENTS / comment.post
    existing = sorted(p.stem for p in (root / folder).glob("*.md")) if (root / folder).is_dir() else []
    if comment.reply_to is not None and comment.reply_to not in existing:
        guess = did_you_mean(comment.reply_to, existing)
        raise _usage(
            "--reply-to", f"there is no comment '{comment.reply_to}' on '{comment.post}'",
            f"did you mean '{guess}'?" if guess else
            (f"the comments on it are: {', '.join(existing)}" if existing else "that post has no comments yet"),
        )
    profiles = {PurePosixPath(d.rel).stem: d.meta.get("name") for d in load_content(root, {"authors": "author"}).docs}
    author_id = author if author in profiles else next((i for i, n in profiles.items() if n == author), None)
    if author_id is not None and isinstance(profiles[author_id], str):
        author = profiles[author_id]
    lines = ["---", f"author: {yaml_quote(author)}", f"date: {day.isoformat()}"]
    if author_id is not None:
        lines.append(f"author_id: {author_id}")
    if comment.reply_to is not None:
        lines.append(f"reply_to: {yaml_quote(comment.reply_to)}")
    role = one_line(comment.role, "--role") if comment.role else ""
    lines.append(f"role: {yaml_quote(role)}" if role else "# role: What they do, shown beside their name")
    lines += ["---", COMMENT_PLACEHOLDER]
    base = f"{day.isoformat()}-{slugify(author) or 'comment'}"[:MAX_SLUG]
    name, n = base, 1
    while name in existing:
        n += 1
        name = f"{base}-{n}"
    return folder / f"{name}.md", "\n".join(lines) + "\n"


def new_comment(root: Path, config: SiteConfig, comment: NewComment, day: date) -> Path:
    """Plan and write the comment (never over another file); returns its path relative to ``root``."""
    rel, text = plan_comment(root, comment, config, day)
    folder = root / rel.parent
    folder.mkdir(parents=True, exist_ok=True)
    if not folder.resolve().is_relative_to(root.resolve()):
        raise _usage(rel.parent.as_posix(), "this folder leads outside the site; qsite new will not write there")
    try:
        fd = os.open(root / rel, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise ContentError(
            [Problem(rel.as_posix(), None, "this comment already exists; qsite new never overwrites a file")]
        ) from None
    except OSError as exc:
        raise ConfigError([Problem(rel.as_posix(), None, f"cannot create the file: {exc.strerror}")]) from None
    with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    return rel
