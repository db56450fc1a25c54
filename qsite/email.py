"""The email edition of a digest: an HTML file a mail tool can send as it is, and its plain-text
alternative.

Mail clients ignore ``<style>`` blocks (Gmail strips them in many cases, Outlook honours only
part of them), cannot follow links relative to a page they never loaded, and never run scripts.
So, once the ``email.html`` template is rendered, ``finish`` moves every CSS rule into ``style``
attributes with ``css-inline`` (a maintained Rust inliner, also used by mail tools), removes any
script an editor's raw HTML brought in, and makes every ``href`` and ``src`` absolute.

``html_to_text`` turns the editor's introduction (rendered Markdown) into wrapped plain text
with each link's full address after its words, for the ``email.txt`` alternative.

The render step applies ``finish`` to the pages whose job asks for it (``Job.mail``, set by
:mod:`qsite.plan`); ``choose`` and ``email_file`` are what ``qsite digest`` uses to find one
edition and print its email.
"""

from __future__ import annotations

import functools
import re
import textwrap
from collections.abc import Iterable
from datetime import datetime, tzinfo
from html import escape, unescape
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urljoin, urlsplit

from qsite import urls
from qsite.digest import Digest, Edition
from qsite.periods import latest_ended, parse_period
from qsite.problems import ConfigError, Problem

WIDTH = 72  # plain-text line length; mail tools wrap at 78 at most

if TYPE_CHECKING:
    import css_inline


@functools.cache
def _inliner() -> css_inline.CSSInliner:
    """Made on first use: importing css_inline (a compiled extension) costs ~0.04 s of every
    start-up, and most builds (an edit, ``qsite serve``'s rebuilds) finish no email edition."""
    import css_inline

    return css_inline.CSSInliner(
        inline_style_tags=True,
        keep_style_tags=False,  # every rule goes into style="…"; nothing left for a client to drop
        keep_link_tags=False,
        keep_at_rules=False,
        load_remote_stylesheets=False,  # never fetch anything while building
    )

_SCRIPT = re.compile(r"<script\b.*?</script\s*>", re.S | re.I)
_NOSCRIPT = re.compile(r"</?noscript\b[^>]*>", re.I)
_URL_ATTR = re.compile(r"""(\s(?:href|src)\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.I)
_KEEP_SCHEMES = ("mailto:", "tel:", "data:", "cid:")


def finish(html: str, page_url: str) -> str:
    """Inline the CSS, drop scripts, and resolve every link against the edition's web address."""
    html = _SCRIPT.sub("", html)
    html = _NOSCRIPT.sub("", html)
    html = _inliner().inline(html)
    return absolutize(html, page_url)


def absolutize(html: str, page_url: str) -> str:
    """``href="/posts/a/"`` → ``href="https://example.org/posts/a/"``: an email has no page to
    be relative to. ``#top`` becomes a link into the web edition, the best a mail can do."""

    def fix(match: re.Match[str]) -> str:
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        value = unescape(raw).strip()
        if not value.lower().startswith(_KEEP_SCHEMES):
            value = urljoin(page_url, value)
        return f'{match.group(1)}"{escape(value, quote=True)}"'

    return _URL_ATTR.sub(fix, html)


def is_absolute(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


_BLOCKS = {
    "p", "div", "section", "article", "header", "footer", "blockquote", "figure", "figcaption",
    "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "dt", "dd", "hr",
}
_SKIP = {"script", "style", "head", "title", "template"}


class _TextMaker(HTMLParser):
    """Collects paragraphs of text; list items keep a bullet and a hanging indent."""

    def __init__(self, base_url: str, width: int):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.width = width
        self.blocks: list[tuple[str, str]] = []  # (kind, finished text)
        self.words: list[str] = []
        self.kind = "p"
        self.lists: list[list[int | str]] = []  # [kind, counter] per open <ul>/<ol>
        self.links: list[tuple[str | None, int]] = []  # (absolute href, where its words begin)
        self.skip = 0
        self.pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = dict(attrs)
        if tag in _SKIP:
            self.skip += 1
        elif tag == "li":
            self.flush()
            self.kind = "li"
            if self.lists:
                self.lists[-1][1] = int(self.lists[-1][1]) + 1
        elif tag in ("ul", "ol"):
            self.flush()
            self.lists.append([tag, 0])
        elif tag == "pre":
            self.flush()
            self.pre += 1
            self.kind = "pre"
        elif tag in _BLOCKS:
            self.flush()
            self.kind = tag if tag.startswith("h") and len(tag) == 2 else "p"
            if tag == "hr":
                self.blocks.append(("p", "-" * 20))
        elif tag == "br":
            self.words.append("\n")
        elif tag == "a":
            href = attr.get("href") or ""
            keep = href and not href.startswith("#")
            self.links.append((urljoin(self.base_url, href) if keep else None, len(self.words)))
        elif tag == "img":
            alt = (attr.get("alt") or "").strip()
            src = attr.get("src")
            label = f"[Image: {alt}]" if alt else "[Image]"
            self.words.append(f"{label} ({urljoin(self.base_url, src)})" if src else label)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            words = "".join(self.words[start:]).strip()
            if href and words != href:
                self.words.append(f" ({href})")
        elif tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
        elif tag == "pre":
            self.flush()
            self.pre = max(0, self.pre - 1)
        elif tag in _BLOCKS or tag == "li":
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.words.append(data)

    def flush(self) -> None:
        raw = "".join(self.words)
        self.words = []
        kind, self.kind = self.kind, "p"
        if kind == "pre":
            if raw.strip("\n"):
                self.blocks.append(("pre", "\n".join("    " + line for line in raw.strip("\n").splitlines())))
            return
        lines = [" ".join(part.split()) for part in raw.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            return
        depth = max(0, len(self.lists) - 1)
        if kind == "li":
            mark = "- "
            if self.lists and self.lists[-1][0] == "ol":
                mark = f"{self.lists[-1][1]}. "
            first, rest = "  " * depth + mark, "  " * depth + " " * len(mark)
        else:
            first = rest = "  " * len(self.lists)
        text = "\n".join(
            textwrap.fill(
                line,
                self.width,
                initial_indent=first if i == 0 else rest,
                subsequent_indent=rest,
                break_long_words=False,  # an address must stay whole to stay clickable
                break_on_hyphens=False,
            )
            for i, line in enumerate(lines)
        )
        if kind in ("h1", "h2"):
            text += "\n" + ("=" if kind == "h1" else "-") * min(self.width, len(text))
        self.blocks.append((kind, text))


def html_to_text(html: str, base_url: str, width: int = WIDTH) -> str:
    """Rendered HTML → plain text: paragraphs wrapped at ``width``, a blank line between them,
    list items on consecutive lines, and every link's full address in brackets after it."""
    maker = _TextMaker(base_url, width)
    maker.feed(html)
    maker.close()
    maker.flush()
    out: list[str] = []
    previous = ""
    for kind, text in maker.blocks:
        if out:
            out.append("\n" if kind == "li" and previous == "li" else "\n\n")
        out.append(text)
        previous = kind
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# Choosing an edition for `qsite digest`


def choose(digest: Digest, text: str | None, now: datetime, tz: tzinfo) -> Edition:
    """The edition ``qsite digest PERIOD`` means; with no PERIOD, the latest period that has
    ended at ``now``. An unknown or empty period is a usage error naming the nearest editions."""
    where = "qsite digest"
    if text is None:
        period = latest_ended(now, digest.period_kind, tz)
        what = f"the latest {digest.period_kind} that has ended is {period.label}, and it has no edition"
    else:
        parsed = parse_period(text, digest.period_kind)
        if isinstance(parsed, str):
            raise ConfigError([Problem(where, None, parsed)])
        period = parsed
        what = f"there is no edition for {period.label}"
    edition = digest.find(period)
    if edition is not None:
        return edition
    before, after = digest.nearest(period)
    nearest = [e for e in (before, after) if e is not None]
    if not nearest:
        fix = "there are no editions yet: an edition is made for every period with a published post"
    else:
        listed = " and ".join(f"{e.key} ({e.label}, {e.count} post{'' if e.count == 1 else 's'})" for e in nearest)
        are = "s are" if len(nearest) > 1 else " is"
        fix = f"the nearest edition{are} {listed}: run 'qsite digest {nearest[0].key}'"
    raise ConfigError([Problem(where, None, f"{what}: no posts were published then", fix)])


class _File(Protocol):
    """A rendered output (qsite.render.Output), named by shape: render imports this module."""

    path: str
    data: bytes


def email_file(outputs: Iterable[_File], edition: Edition, form: str) -> bytes:
    """The bytes of the built email edition (``html`` or ``text``), exactly as written to disk."""
    wanted = urls.output_file(edition.email_path if form == "html" else edition.text_path)
    return next(o.data for o in outputs if o.path == wanted)
