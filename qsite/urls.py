"""The URL scheme, in one place, so every link and every output path follow the same rule.

Pretty URLs: a thing at ``/posts/<slug>/`` is written to ``posts/<slug>/index.html``. URLs
handed to templates already carry the site's base path (``/q-blog/…``) so a sub-path site
works everywhere without templates having to remember it.
"""

from __future__ import annotations

import re
import unicodedata

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
        "accessibility",
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


def post_path(slug: str) -> str:
    return f"posts/{slug}/"


def page_path(slug: str) -> str:
    return f"{slug}/"


def theme_path(slug: str) -> str:
    return f"themes/{slug}/"


def tag_path(slug: str) -> str:
    return f"tags/{slug}/"


def paged(path: str, number: int) -> str:
    """Page 1 of a list lives at the list's own URL; page N at ``<list>page/N/``."""
    return path if number <= 1 else f"{path}page/{number}/"


def output_file(path: str) -> str:
    """Site-relative URL path → file in the output folder (``posts/a/`` → ``posts/a/index.html``)."""
    if path == "" or path.endswith("/"):
        return f"{path}index.html"
    return path


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
