"""What other sites read from a page: JSON-LD ``BlogPosting`` data and link-preview images.

These are Jinja filters (registered by ``render.make_env``) so templates stay in charge of
which page prints what, while the escaping rules, which are easy to get subtly wrong, live
here and are unit-tested.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import urljoin

import jinja2
from markupsafe import Markup

from qsite.cards import LOGO_SIZE, card_path
from qsite.model import Credit, Post

DESCRIPTION_LIMIT = 160  # characters a search result shows of a meta description
LOGO = "static/logo.png"  # the theme's site mark as a PNG (cards.draw_logo)

# Inside <script> the HTML parser ends the element at the first "</script" whatever JSON
# thinks, and "<!--" changes how it parses; escaping these characters as JSON \u escapes keeps
# the same data and makes a breakout impossible. U+2028/2029 are escaped for old JS parsers.
_SCRIPT_UNSAFE = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_UNSAFE_RE = re.compile("[<>&\u2028\u2029]")

# Link previews (Open Graph, Twitter cards) only show raster images.
_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]+\.(?:png|jpe?g|gif|webp))"', re.I)


def json_ld(data: Any) -> Markup:
    """``data`` as JSON that is safe to print inside ``<script type="application/ld+json">``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    return Markup(_UNSAFE_RE.sub(lambda m: _SCRIPT_UNSAFE[m.group(0)], text))


def first_image(html: str, page_url: str) -> str | None:
    """The first raster image of a body as an absolute URL (link previews need absolute URLs)."""
    match = _IMG_SRC.search(html)
    return urljoin(page_url, match.group(1)) if match else None


def describe(text: str | None, limit: int = DESCRIPTION_LIMIT) -> str:
    """``text`` in at most ``limit`` characters for a meta description: whole if it fits, else
    cut at the last word boundary that leaves room for "…" (search results cut mid-word)."""
    text = " ".join((text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.–—-") + "…"


def preview_image(post: Post) -> str:
    """The image a link preview shows: the post's first raster image, else its preview card."""
    return first_image(post.html, post.permalink) or urljoin(post.permalink, card_path(post).rsplit("/", 1)[-1])


@jinja2.pass_context
def blog_posting(
    context: jinja2.runtime.Context, post: Post, comments: Sequence[object] = ()
) -> dict[str, Any]:
    """schema.org ``BlogPosting`` for one post: headline, dates, authors and keywords (theme
    titles, then tags), with absolute URLs as search engines require."""
    site = context["site"]
    themes = {t.slug: t.title for t in context["themes"]}
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "BlogPosting",
        "headline": post.title,
        "description": describe(post.summary),
        "datePublished": post.date.isoformat(),
        "dateModified": (post.updated or post.date).isoformat(),
        "url": post.permalink,
        "mainEntityOfPage": {"@type": "WebPage", "@id": post.permalink},
        "author": [_person(c) for c in post.credits]
        or [{"@type": "Person" if looks_personal(a) else "Organization", "name": a} for a in post.authors]
        or [{"@type": "Organization", "name": site.title}],
        "publisher": {
            "@type": "Organization", "name": site.title, "url": site.base_url,
            "logo": {
                "@type": "ImageObject", "url": urljoin(site.base_url, LOGO), "width": LOGO_SIZE, "height": LOGO_SIZE,
            },
        },
        "keywords": [themes[s] for s in post.themes if s in themes] + [t.name for t in post.tags],
        "articleSection": [themes[s] for s in post.themes if s in themes],
        "inLanguage": site.language,
        "wordCount": post.body.words,
        "commentCount": len(comments),
    }
    data["image"] = preview_image(post)
    return data


_ORG_WORDS = re.compile(
    r"\b(team|hub|group|network|practice|service|trust|board|unit|ward|centre|community)\b", re.I
)


def _person(credit: Credit) -> dict[str, str]:
    """A byline name for schema.org: a profile's type and url (qsite/authors.py), else a guess."""
    data = {"@type": credit.kind, "name": credit.name}
    if credit.website:
        data["url"] = credit.website
    return data


def looks_personal(name: str) -> bool:
    """Most bylines here are teams ("Quality Improvement Hub, Millbrook"); schema.org wants
    those as Organizations, not Persons."""
    return not _ORG_WORDS.search(name)


FILTERS = {
    "json_ld": json_ld, "blog_posting": blog_posting, "first_image": first_image, "describe": describe,
    "preview_image": preview_image,
}
