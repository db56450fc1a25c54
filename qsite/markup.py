"""Markdown → HTML, the most expensive step of a build, so it is kept pure and cacheable.

One ``Markdown`` instance is reused per process and per base path (``reset()`` between
documents): building the extension stack costs more than converting a short post.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import unescape
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor

MORE = "<!-- more -->"
WORDS_PER_MINUTE = 200

EXTENSIONS_VERSION = "1"  # bump when the settings below change: it is part of cache keys


@dataclass(frozen=True)
class Rendered:
    html: str
    summary_html: str  # what lists show: before <!-- more -->, else the first paragraph
    has_more: bool
    words: int
    toc: tuple[tuple[int, str, str], ...]  # (level, id, text) of each heading

    @property
    def reading_minutes(self) -> int:
        return max(1, -(-self.words // WORDS_PER_MINUTE))


class _BasePath(Treeprocessor):
    """Editors link to ``/posts/x/`` and ``/images/a.png``; on a sub-path site these need the
    base path in front, or every such link breaks once published."""

    def __init__(self, md: markdown.Markdown, base_path: str):
        super().__init__(md)
        self.prefix = base_path.rstrip("/")

    def run(self, root: Element) -> None:
        if not self.prefix:
            return
        for el in root.iter():
            for attr in ("href", "src"):
                value = el.get(attr)
                if value and value.startswith("/") and not value.startswith("//"):
                    el.set(attr, self.prefix + value)


class _BasePathExtension(Extension):
    def __init__(self, base_path: str):
        super().__init__()
        self.base_path = base_path

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_BasePath(md, self.base_path), "qsite_base_path", 0)


_instances: dict[str, markdown.Markdown] = {}


def _converter(base_path: str) -> markdown.Markdown:
    md = _instances.get(base_path)
    if md is None:
        md = markdown.Markdown(
            extensions=[
                "tables",
                "fenced_code",
                "footnotes",
                "attr_list",
                "sane_lists",
                "codehilite",
                "toc",
                _BasePathExtension(base_path),
            ],
            extension_configs={
                "codehilite": {"css_class": "highlight", "guess_lang": False},
                "toc": {
                    "permalink": "#",
                    "permalink_class": "heading-anchor",
                    "permalink_title": "Link to this section",
                },
                "footnotes": {"BACKLINK_TITLE": "Back to the text of footnote %d"},
            },
            output_format="html",
        )
        _instances[base_path] = md
    return md


_FIRST_P = re.compile(r"<p>.*?</p>", re.S)
_TAGS = re.compile(r"<[^>]+>")


def render_markdown(text: str, base_path: str = "/") -> Rendered:
    md = _converter(base_path)
    md.reset()
    html = md.convert(text)
    toc = tuple(_flatten(getattr(md, "toc_tokens", [])))
    if MORE in html:
        summary = html.split(MORE, 1)[0].strip()
        has_more = True
    else:
        match = _FIRST_P.search(html)
        summary = match.group(0) if match else ""
        has_more = False
    return Rendered(html, summary, has_more, len(plain_text(html).split()), toc)


def _flatten(tokens: list[dict]) -> list[tuple[int, str, str]]:
    out: list[tuple[int, str, str]] = []
    for token in tokens:
        out.append((token["level"], token["id"], unescape(_TAGS.sub("", token["name"]))))
        out.extend(_flatten(token.get("children", [])))
    return out


_LINK_ATTR = re.compile(r'(\s(?:href|src))="([^"]*)"')


def rebase_links(html: str, page_url: str) -> str:
    """A post's summary is shown on other pages (lists, feeds, digests), where its ``#notes``
    or ``../x`` links would point somewhere else: resolve them against the post's own URL."""

    def fix(match: re.Match[str]) -> str:
        attr, value = match.group(1), match.group(2)
        if not value or value.startswith("/") or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", value):
            return match.group(0)
        return f'{attr}="{urljoin(page_url, unescape(value))}"'

    return _LINK_ATTR.sub(fix, html)


def plain_text(html: str) -> str:
    """Tags stripped and entities decoded: for reading time and meta descriptions."""
    return " ".join(unescape(_TAGS.sub(" ", html)).split())


def render_inline(text: str) -> str:
    """A front-matter string (a summary, a takeaway) may use *emphasis* and links, nothing more."""
    md = _converter("/")
    md.reset()
    html = md.convert(text)
    return html.removeprefix("<p>").removesuffix("</p>")
