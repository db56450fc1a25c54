"""The URL scheme, in one place, so every link and every output path follow the same rule.

Pretty URLs: a thing at ``/posts/<slug>/`` is written to ``posts/<slug>/index.html``. URLs
handed to templates already carry the site's base path (``/q-blog/…``) so a sub-path site
works everywhere without templates having to remember it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Container
from dataclasses import dataclass
from datetime import datetime

from qsite.problems import did_you_mean

SLUG_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

# Letters that Unicode does not decompose into an ASCII base letter.
_TRANSLIT = str.maketrans(
    {
        "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O",
        "đ": "d", "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "ı": "i",
        "&": " and ",
    }
)

# First path parts that belong to qsite's own pages; a page may not take them.
RESERVED = frozenset(
    {
        "posts", "themes", "tags", "archive", "digest", "search", "static", "page", "feed.xml",
        "sitemap.xml", "robots.txt", "404", "images", "index", "pagefind", "comments", "authors",
        "accessibility", "series",
    }
)


def slugify(text: str) -> str:
    """``Café – “Huddles”`` → ``cafe-huddles``: ASCII, lower case, words joined by ``-``."""
    text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("'", "")  # "what's" → "whats", not "what-s"
    return "-".join(re.findall(r"[a-z0-9]+", text))


# In tags, the symbols that make a name: "C++", "C#" and "C" are three languages, and one
# /tags/c/ for all three would silently merge them. (Hugo and Jekyll users spell them out too.)
_TAG_SYMBOLS = re.compile(r"\+|(?<=\w)#")


@functools.lru_cache(maxsize=8192)  # a site has few tags, each on many posts: read on every build
def tag_slug(name: str) -> str:
    """A tag's URL name: ``Café culture`` → ``cafe-culture``, as ``slugify``; ``C++`` →
    ``c-plus-plus`` and ``C#`` → ``c-sharp``; letters of scripts with no Latin spelling kept
    as they are, lower case (``Здоровье`` → ``здоровье``, ``看護`` → ``看護``), as Hugo and
    Zola do, rather than refusing a tag written in the reader's own language."""
    text = _TAG_SYMBOLS.sub(lambda m: " plus " if m.group() == "+" else " sharp ", name)
    text = unicodedata.normalize("NFC", text.translate(_TRANSLIT)).replace("'", "").replace("’", "")
    words: list[str] = []
    word: list[str] = []
    for char in text:
        if char.isascii():
            kept = char.lower() if char.isalnum() else ""
        else:
            latin = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
            if latin.isalnum():  # é → e, ﬁ → fi: Latin letters keep the ASCII slugs they had
                kept = latin.lower()
            elif unicodedata.category(char)[0] in "LNM":  # a letter, digit or mark of another script
                kept = char.lower()
            else:
                kept = ""
        if kept:
            word.append(kept)
        elif word:
            words.append("".join(word))
            word = []
    if word:
        words.append("".join(word))
    return "-".join(words)


# -- Permalinks: the address scheme of posts, ``permalinks: {post: …}`` in site.yaml

DEFAULT_POST_PERMALINK = "/posts/:slug/"
PERMALINK_TOKENS = ("year", "month", "day", "slug")
_TOKEN = re.compile(r":([a-z]+)")
_PATTERN_TEXT = re.compile(r"^[A-Za-z0-9_:/-]+$")


def permalink_problem(pattern: str) -> tuple[str, str | None] | None:
    """(message, fix) if ``pattern`` cannot be a post address scheme, else None. It must be a
    folder path from the site's root holding ``:slug`` (so two posts of one day still differ),
    made of ``:year``, ``:month``, ``:day``, ``:slug``, letters, digits, ``-`` and ``_``."""
    example = "for example: post: /:year/:month/:slug/"
    if not pattern.startswith("/") or not pattern.endswith("/"):
        return f"the post address {pattern!r} must start and end with /", example
    if not _PATTERN_TEXT.match(pattern) or "//" in pattern:
        return (f"the post address {pattern!r} can only have letters, digits, - and _ between single slashes, "
                "and :year, :month, :day or :slug"), example
    for name in _TOKEN.findall(pattern):
        if name not in PERMALINK_TOKENS:
            guess = did_you_mean(name, PERMALINK_TOKENS)
            return (f"the post address has an unknown part ':{name}'",
                    f"did you mean ':{guess}'?" if guess else "use :year, :month, :day and :slug")
    if ":slug" not in pattern:
        return f"the post address {pattern!r} has no :slug", "put :slug in it, for example: post: /:year/:slug/"
    return None


def post_path(slug: str, when: datetime | None = None, pattern: str = DEFAULT_POST_PERMALINK) -> str:
    """A post's site-relative URL path by the site's permalink scheme: ``/:year/:month/:slug/``
    with 2020-04-14 → ``2020/04/<slug>/``. The date is the post's, in the site's timezone."""
    if pattern == DEFAULT_POST_PERMALINK:
        return f"posts/{slug}/"
    values = {"slug": slug}
    if when is not None:
        values.update(year=f"{when.year:04d}", month=f"{when.month:02d}", day=f"{when.day:02d}")
    return _TOKEN.sub(lambda m: values[m.group(1)], pattern).lstrip("/")


# -- Aliases: old addresses of a post or page, published as redirect pages

ALIAS_FILE_ENDINGS = (".html", ".htm")


def alias_path(text: str) -> str:
    """An editor's old address (``/2019/03/old-name`` or ``/old.html``) → the site-relative
    path of its redirect page (``2019/03/old-name/``, ``old.html``); raises ValueError with a
    message saying what is wrong. A folder address always ends in ``/``, so ``/old``, ``/old/``
    and ``/old/index.html`` are one alias (a static host answers all three from ``old/index.html``)."""
    if not text.startswith("/"):
        raise ValueError(f"the alias {text!r} must start with / (an address on this site, from its root)")
    if any(c in text for c in "?#\\") or any(c.isspace() or ord(c) < 32 for c in text):
        raise ValueError(f"the alias {text!r} can only be a path: no spaces, ?, # or \\")
    if text == "/":
        raise ValueError("the alias / is the home page's own address")
    parts = text[1:].removesuffix("/").split("/")
    if any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"the alias {text!r} has an empty, . or .. part")
    last = parts[-1]
    if last == "index.html" and len(parts) > 1:  # /old/index.html is the folder /old/: one page
        return "/".join(parts[:-1]) + "/"
    if not text.endswith("/") and "." in last:
        if not last.lower().endswith(ALIAS_FILE_ENDINGS):
            raise ValueError(
                f"the alias {text!r} names a file a redirect page cannot be: only a folder (/old/) or an .html file"
            )
        return "/".join(parts)
    return "/".join(parts) + "/"


# -- Series

SERIES_PATH = "series/"


def series_path(series_id: str) -> str:
    return f"{SERIES_PATH}{series_id}/"


def page_path(slug: str) -> str:
    return f"{slug}/"


def theme_path(slug: str) -> str:
    return f"themes/{slug}/"


def tag_path(slug: str) -> str:
    return f"tags/{slug}/"


def paged(path: str, number: int) -> str:
    """Page 1 of a list lives at the list's own URL; page N at ``<list>page/N/``."""
    return path if number <= 1 else f"{path}page/{number}/"


# -- URL path ↔ output file, both directions: the build writes by them, check and serve answer by them


def output_file(path: str) -> str:
    """Site-relative URL path → file in the output folder (``posts/a/`` → ``posts/a/index.html``)."""
    if path == "" or path.endswith("/"):
        return f"{path}index.html"
    return path


def url_path(file: str) -> str:
    """File in the output folder → the URL path a browser shows for it (``posts/a/index.html`` →
    ``posts/a/``): the inverse of ``output_file``."""
    if file == "index.html":
        return ""
    if file.endswith("/index.html"):
        return file[: -len("index.html")]
    return file


@dataclass(frozen=True)
class Answer:
    """How a static host answers a request: with ``file``, or with a redirect to the request
    path plus ``/`` (``/posts/a`` → ``/posts/a/``) when ``redirect``."""

    file: str
    redirect: bool = False


def answer(rel: str, files: Container[str]) -> Answer | None:
    """How a static host (GitHub Pages' rules) answers the site-relative path ``rel`` from the
    output ``files``; None for a 404. ``qsite serve`` answers this way and ``qsite check`` checks
    links this way, so a link check passes exactly when the page is served."""
    if rel == "" or rel.endswith("/"):
        index = rel + "index.html"
        return Answer(index) if index in files else None
    if rel in files:
        return Answer(rel)
    if rel + "/index.html" in files:
        return Answer(rel + "/index.html", redirect=True)
    if rel + ".html" in files:
        return Answer(rel + ".html")
    return None


class Urls:
    """Turns site-relative paths into the links pages print, for one base URL."""

    def __init__(self, base_url: str):
        from urllib.parse import urlsplit

        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_path = parts.path or "/"

    def url(self, path: str) -> str:
        """Root-relative link, with the base path: ``posts/a/`` → ``/q-blog/posts/a/``."""
        return self.base_path + path.lstrip("/")

    def absolute(self, path: str) -> str:
        return self.origin + self.url(path)
