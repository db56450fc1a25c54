"""Markdown → HTML, the most expensive step of a build, so it is kept pure and cacheable.

One ``Markdown`` instance is reused per process and per base path (``reset()`` between
documents): building the extension stack costs more than converting a short post.

Python-Markdown is not linear on every input: 20 KB of ``[`` took 55 s, 10,000 footnote
references 83 s, and lists nested a thousand deep exhaust the recursion limit. So each
document converts under a time budget (``time_budget``) and both failures become a
``MarkdownError`` that the build reports against the file, instead of a hung build or a traceback.

Callouts and pull-quotes are Python-Markdown's ``admonition`` blocks (``!!! note "Title"``,
``!!! quote "Name, role"``), rewritten by ``_Callouts`` into accessible markup (see there).
The settings of the converter are one value, ``SETTINGS``, part of every Markdown cache key.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from html import unescape
from typing import Any
from urllib.parse import urljoin
from xml.etree.ElementTree import Element

import markdown
from markdown.extensions import Extension
from markdown.extensions.admonition import AdmonitionProcessor
from markdown.treeprocessors import InlineProcessor, Treeprocessor

MORE = "<!-- more -->"
WORDS_PER_MINUTE = 200

# Seconds one document may take to convert; site.yaml's ``markdown_time_limit`` overrides it.
DEFAULT_TIME_LIMIT = 5.0

# The callout kinds an editor can type after ``!!!``, and the title each gets when none is given.
# Another word (``!!! danger``) still makes a callout, in the neutral style, titled with the word.
CALLOUTS = {"note": "Note", "tip": "Tip", "warning": "Warning", "finding": "Key finding"}
CALLOUT_ALIASES = {"key-finding": "finding"}
PULLQUOTE = "quote"  # ``!!! quote "Name, role"``: a pull-quote, the title its attribution

TOC_MIN_SECTIONS = 3  # second-level headings from which a post shows its contents

_EXTENSIONS = (
    "tables", "fenced_code", "footnotes", "attr_list", "sane_lists", "codehilite", "toc", "admonition",
)
_EXTENSION_CONFIGS = {
    "codehilite": {"css_class": "highlight", "guess_lang": False},
    "toc": {"permalink": "#", "permalink_class": "heading-anchor", "permalink_title": "Link to this section"},
    "footnotes": {"BACKLINK_TITLE": "Back to the text of footnote %d"},
}
# Everything that decides the HTML of a given text, as one string: part of the Markdown cache
# key (``cache.Cache.markdown_key``), so HTML cached under other settings is never reused.
# Bump the first item when qsite's own tree processors below change what they write.
SETTINGS = json.dumps(
    ["callouts-1", "image-links-1", _EXTENSIONS, _EXTENSION_CONFIGS, CALLOUTS, CALLOUT_ALIASES, PULLQUOTE],
    sort_keys=True,
)


class MarkdownError(Exception):
    """A document that cannot be converted: too slow, or nested too deeply. No line: the
    caller reports it at the first line of the body."""

    def __init__(self, message: str, fix: str):
        super().__init__(message, fix)  # both in args: it is pickled back from worker processes
        self.message = message
        self.fix = fix


class _OverBudget(BaseException):
    """Raised into the converting code when its time is up. A BaseException, so no
    ``except Exception`` inside Python-Markdown or an extension can swallow it."""


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise ``_OverBudget`` inside the block once it has run ``seconds`` (None: no limit).

    In a process's main thread (a one-process build, a forked worker of qsite/parallel.py:
    workers run their tasks in their main thread) this is a ``SIGALRM`` timer, two system calls.
    Signals reach only the main thread, so elsewhere (``qsite serve`` rebuilds in its watcher
    thread) a timer thread raises the exception into the converting thread instead.
    """
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _alarm(seconds):
            yield
    else:
        with _async_raise(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def over(_signum: int, _frame: object) -> None:
        raise _OverBudget

    previous = signal.signal(signal.SIGALRM, over)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _set_async_exc(thread: int, exc: object) -> int:
    """``PyThreadState_SetAsyncExc``; ``exc`` None clears a pending exception. ``ctypes`` is
    imported here, not at the top: only a conversion outside the main thread (``qsite serve``)
    needs it, and every ``qsite build`` would pay for its import (issue 10)."""
    import ctypes

    call = ctypes.pythonapi.PyThreadState_SetAsyncExc
    call.argtypes = (ctypes.c_ulong, ctypes.py_object)
    return int(call(thread, ctypes.py_object() if exc is None else exc))


@contextmanager
def _async_raise(seconds: float) -> Iterator[None]:
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def over() -> None:
        with lock:
            if not state["done"]:
                state["fired"] = True
                _set_async_exc(target, _OverBudget)

    timer = threading.Timer(seconds, over)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["done"] = True
            timer.cancel()
            if state["fired"]:  # fired as the block ended: withdraw it if not yet delivered
                _set_async_exc(target, None)  # NULL clears a pending exception


def _too_slow(seconds: float) -> MarkdownError:
    return MarkdownError(
        f"the text took more than {seconds:g} seconds to convert from Markdown, so it was stopped",
        "look for a long run of '[' or '*', or thousands of footnotes, and simplify it; "
        "if the text is right, raise markdown_time_limit in site.yaml",
    )


_TOO_DEEP = MarkdownError(
    "the text is nested too deeply (lists or quotes inside each other hundreds of levels deep)",
    "flatten the nesting: no reader can follow more than a few levels",
)


def convert(md: markdown.Markdown, text: str, time_limit: float | None) -> str:
    """``md.convert(text)`` within the budget; raises ``MarkdownError``. A converter that
    was interrupted may hold half a document, so callers drop it (see ``_converter``)."""
    try:
        with time_budget(time_limit):
            return md.convert(text)
    except _OverBudget:
        raise _too_slow(time_limit or 0) from None
    except RecursionError:
        raise MarkdownError(_TOO_DEEP.message, _TOO_DEEP.fix) from None


@dataclass(frozen=True)
class Rendered:
    html: str
    summary_html: str  # what lists show: before <!-- more -->, else the first ordinary paragraph
    has_more: bool
    words: int
    toc: tuple[tuple[int, str, str], ...]  # (level, id, text) of each heading

    @property
    def reading_minutes(self) -> int:
        return max(1, -(-self.words // WORDS_PER_MINUTE))

    @cached_property  # not a field: the build cache stores and fingerprints fields only
    def has_code(self) -> bool:
        """Whether the page holds code Pygments highlighted: only such a page links
        ``pygments.css`` (issue 14). Found once per document, from the HTML itself."""
        return _HIGHLIGHT in self.html


@dataclass(frozen=True)
class TocEntry:
    """One line of a post's table of contents: a second-level heading and the third-level
    headings under it."""

    anchor: str
    text: str
    children: tuple[TocEntry, ...] = ()


def contents(toc: tuple[tuple[int, str, str], ...], wanted: bool | None) -> tuple[TocEntry, ...]:
    """The table of contents a post shows, from the headings its Markdown already has (and
    their anchors): shown from ``TOC_MIN_SECTIONS`` second-level headings on, unless the front
    matter's ``toc`` (``wanted``) says otherwise. Empty when there is none to show.

    A third-level heading with no second-level one above it is listed at the top level: a short
    post divided only by ``###`` headings, given ``toc: true``, would otherwise show nothing."""
    if wanted is False or (wanted is None and sum(level == 2 for level, _a, _t in toc) < TOC_MIN_SECTIONS):
        return ()  # decided before any entry is made: most posts show none, and every rebuild asks
    sections: list[tuple[str, str, list[TocEntry]]] = []
    second_level = 0
    for level, anchor, text in toc:
        if level == 2 or (level == 3 and not second_level):
            sections.append((anchor, text, []))
            second_level += level == 2
        elif level == 3:
            sections[-1][2].append(TocEntry(anchor, text))
    show = wanted if wanted is not None else second_level >= TOC_MIN_SECTIONS
    if not show:
        return ()
    return tuple(TocEntry(anchor, text, tuple(children)) for anchor, text, children in sections)


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


_CALLOUT_LINE = re.compile(r"^ {0,3}!!! ?([\w-]+)")
_FENCE = re.compile(r"^\s*(```|~~~)")


def unknown_callouts(text: str) -> list[tuple[int, str, str | None]]:
    """(line within ``text``, from 0; the word; the nearest kind) for each ``!!! word`` naming
    no kind qsite styles. It still renders, as a neutral callout, so the build only warns: a
    typo (``!!! waring``) would otherwise lose its colour without anyone noticing."""
    if "!!!" not in text:
        return []
    from qsite.problems import did_you_mean

    known = [*CALLOUTS, *CALLOUT_ALIASES, PULLQUOTE]
    found: list[tuple[int, str, str | None]] = []
    fenced = False
    for number, line in enumerate(text.splitlines()):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else _CALLOUT_LINE.match(line)
        if match and match.group(1).lower() not in known:
            found.append((number, match.group(1), did_you_mean(match.group(1), known)))
    return found


class _Admonitions(AdmonitionProcessor):
    """The admonition extension's block parser, with our titles: ``!!! finding`` is titled
    "Key finding", and a pull-quote has no title unless it names whom it quotes."""

    def get_class_and_title(self, match: re.Match[str]) -> tuple[str, str | None]:
        klass = self.RE_SPACES.sub(" ", match.group(1).lower())
        kind = klass.split(" ", 1)[0]
        kind = CALLOUT_ALIASES.get(kind, kind)
        title = match.group(2)
        if title is None:
            title = None if kind == PULLQUOTE else CALLOUTS.get(kind, kind.replace("-", " ").capitalize())
        return kind, title or None


class _Callouts(Treeprocessor):
    """``<div class="admonition note">`` → accessible callouts and pull-quotes.

    A callout is ``<div class="callout callout-KIND" role="note">`` named by its title
    (``aria-labelledby``). ``role=note`` rather than ``<aside>``: a callout is part of the
    argument where it stands (a warning, a key finding), not content aside from it, and an
    ``aside`` inside the page's ``main`` is a complementary *landmark* when named, so every
    callout would crowd the list of landmarks screen-reader users jump between. The title's id
    is made from the callout's text, so two posts shown on one page (a digest) keep distinct ids.

    A pull-quote is ``<figure class="pullquote"><blockquote>…</blockquote><figcaption>— Name,
    role</figcaption></figure>``: the figure's caption is its accessible name and says whom it
    quotes, and the class sits on the figure, never on an inner paragraph.
    """

    def run(self, root: Element) -> None:
        seen: dict[str, int] = {}  # id → how many callouts had it, for the next one's suffix
        for parent in list(root.iter()):
            for el in list(parent):
                classes = (el.get("class") or "").split()
                if el.tag == "div" and classes[:1] == ["admonition"] and len(classes) > 1:
                    if classes[1] == PULLQUOTE:
                        self._pullquote(parent, el)
                    else:
                        self._callout(el, classes[1:], seen)

    @staticmethod
    def _title(el: Element) -> Element | None:
        first = el[0] if len(el) else None
        return first if first is not None and first.get("class") == "admonition-title" else None

    def _callout(self, el: Element, classes: list[str], seen: dict[str, int]) -> None:
        kind = classes[0]
        el.set("class", " ".join(["callout", f"callout-{kind}", *classes[1:]]))
        el.set("role", "note")
        title = self._title(el)
        if title is None:
            el.set("aria-label", CALLOUTS.get(kind, kind.replace("-", " ").capitalize()))
            return
        text = "".join(el.itertext())
        anchor = "callout-" + hashlib.sha1(text.encode()).hexdigest()[:8]
        seen[anchor] = n = seen.get(anchor, 0) + 1
        anchor += "" if n == 1 else f"-{n}"
        title.set("class", "callout-title")
        title.set("id", anchor)
        el.set("aria-labelledby", anchor)

    def _pullquote(self, parent: Element, el: Element) -> None:
        title = self._title(el)
        figure = Element("figure", {"class": "pullquote"})
        quote = Element("blockquote")
        quote.extend(child for child in el if child is not title)
        figure.append(quote)
        if title is not None:
            caption = Element("figcaption")
            caption.text = "\u2014 " + (title.text or "")
            caption.extend(title)
            figure.append(caption)
        figure.tail = el.tail
        parent[list(parent).index(el)] = figure


class _CalloutExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.parser.blockprocessors.register(_Admonitions(md.parser), "admonition", 105)
        md.treeprocessors.register(_Callouts(md), "qsite_callouts", 15)  # after inline (20)


class _ImageLinks(Treeprocessor):
    """An image alone in its paragraph links to itself (issue 14): on a phone a diagram is shrunk
    to the column, and a tap opens it at full size. An image already inside a link is left alone.
    Runs before ``_BasePath``, which then rebases the link with the image."""

    def run(self, root: Element) -> None:
        for p in root.iter("p"):
            children = list(p)
            alone = len(children) == 1 and not (p.text or "").strip() and not (children[0].tail or "").strip()
            if not alone or children[0].tag != "img":
                continue
            img = children[0]
            link = Element("a", {"class": "image-link", "href": img.get("src", "")})
            p.remove(img)
            img.tail = None
            link.append(img)
            p.append(link)


class _ImageLinksExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_ImageLinks(md), "qsite_image_links", 1)


# Python-Markdown's own inline patterns, by the name they are registered under: the exact
# regular expression each has in the version qsite was measured with, and the characters one
# of which any match of it contains (each expression starts with, or requires, a literal one).
_INLINE_NEEDS = {
    "backtick": (r"(?:(?<!\\)((?:\\{2})+)(?=`+)|(?<!\\)`)", "`"),
    "escape": (r"\\(.)", "\\"),
    "footnote": (r"\[\^([^\]]*)\]", "["),
    "reference": (r"(?<!\!)\[", "["),
    "link": (r"(?<!\!)\[", "["),
    "image_link": (r"\!\[", "["),
    "image_reference": (r"\!\[", "["),
    "short_reference": (r"(?<!\!)\[", "["),
    "short_image_ref": (r"\!\[", "["),
    "autolink": (r"<([A-Za-z][A-Za-z0-9+.-]*://[^<>]*)>", "<"),
    "automail": (r"<([^<> !]+@[^@<> ]+)>", "<"),
    "linebreak": (r"  \n", "\n"),
    "html": (
        r"""(<(\/?+[a-zA-Z][^\s"'<>@]*+(?:\s+[^\s"'=<>]++(?:\s*+=\s*+(?:"[^"]*+"|'[^']*+'|[^\s"'=<>]++))?+)*+"""
        r"""\s*+/?|!--(?:(?!<!--|-->).)*--|[?](?:(?!<[?]|[?]>).)*[?]|!\[CDATA\[(?:(?!<!\[CDATA\[|\]\]>).)*\]\])>)""",
        "<",
    ),
    "entity": (r"(&(?:\#[0-9]+|\#x[0-9a-fA-F]+|[a-zA-Z0-9]+);)", "&"),
    "em_strong": (r"\*|_", "*_"),
}


class _QuickInline(InlineProcessor):
    """Python-Markdown's inline step, skipping the patterns that cannot match a text.

    The inline step tries each of its ~15 patterns on each run of text, one Python call per
    pattern and text even when the text holds none of the characters the pattern starts with;
    that was about a quarter of converting a post (bench/PROFILE.md). A pattern of
    ``_INLINE_NEEDS`` whose expression is exactly the one recorded there is skipped for a text
    without any of its characters: it would have found no match, and a pattern that finds none
    changes nothing, so the HTML is the same. Any other pattern (an extension's, or one a newer
    Python-Markdown changed) is always tried, as before."""

    def __init__(self, md: markdown.Markdown):
        super().__init__(md)
        self._seen: tuple[int, ...] = ()  # the patterns ``_needs`` was made for
        self._needs: list[re.Pattern[str] | None] = []  # by pattern index

    def run(self, tree: Element, ancestors: list[str] | None = None) -> Element:
        registry = self.md.inlinePatterns
        patterns = list(registry)  # indexed ~600 times a post: a list, not the registry
        if tuple(map(id, patterns)) != self._seen:
            self._seen = tuple(map(id, patterns))
            self._needs = [None] * len(patterns)
            for name in _INLINE_NEEDS:
                if name in registry:
                    self._needs[registry.get_index_for_name(name)] = _needs(name, registry[name])
        self.inlinePatterns = patterns  # type: ignore[assignment]
        try:
            return super().run(tree, ancestors)
        finally:
            self.inlinePatterns = registry

    def _InlineProcessor__applyPattern(  # overrides InlineProcessor.__applyPattern
        self, pattern: Any, data: str, patternIndex: int, startIndex: int = 0
    ) -> tuple[str, bool, int]:
        needed = self._needs[patternIndex]
        if needed is not None and needed.search(data) is None:
            return data, False, 0  # what the pattern returns when it finds no match
        return super()._InlineProcessor__applyPattern(pattern, data, patternIndex, startIndex)  # type: ignore[misc]


def _needs(name: str, pattern: Any) -> re.Pattern[str] | None:
    """A search for the characters one of which a match of ``pattern`` holds, or None if unknown."""
    known = _INLINE_NEEDS.get(name)
    regex = getattr(pattern, "compiled_re", None)
    if known is None or regex is None or regex.pattern != known[0]:
        return None
    return re.compile("[" + re.escape(known[1]) + "]")


class _QuickInlineExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.treeprocessors.register(_QuickInline(md), "inline", 20)  # in place of Python-Markdown's own


_instances: dict[str, markdown.Markdown] = {}


def _converter(base_path: str) -> markdown.Markdown:
    md = _instances.get(base_path)
    if md is None:
        md = _instances[base_path] = make_converter(base_path)
    return md


def make_converter(base_path: str, quick_inline: bool = True) -> markdown.Markdown:
    """A converter with qsite's settings (``SETTINGS``); ``quick_inline=False`` leaves
    Python-Markdown's own inline step in place, which tests compare ``_QuickInline`` with."""
    # Python-Markdown's own extensions, made from their modules: given by name, Markdown first
    # looks each name up among every installed package's entry points, which imports
    # importlib.metadata and reads them all (~20 ms of each process that converts Markdown).
    builtin = [
        importlib.import_module(f"markdown.extensions.{name}").makeExtension(**_EXTENSION_CONFIGS.get(name, {}))
        for name in _EXTENSIONS
    ]
    ours: list[Extension] = [_CalloutExtension(), _ImageLinksExtension(), _BasePathExtension(base_path)]
    return markdown.Markdown(
        extensions=[*builtin, *ours, *([_QuickInlineExtension()] if quick_inline else [])], output_format="html"
    )


_HIGHLIGHT = '<div class="highlight">'  # codehilite's wrapper (css_class above)
_FIRST_P = re.compile(r"<p>.*?</p>", re.S)
_TAGS = re.compile(r"<[^>]+>")
# The tags that open or close a callout or a pull-quote (and the blocks nested in them), and
# a bare paragraph: what ``first_paragraph`` walks through.
_BLOCKS = re.compile(r"<(/?)(div|figure)\b([^>]*)>|<p>")
_ASIDE = re.compile(r'class="(?:callout\b|pullquote")')


def first_paragraph(html: str) -> str:
    """The first ordinary paragraph: a post that opens with a key finding or a pull-quote is
    summarised by what it says next, since a list shows the summary without the callout's
    title or the quote's attribution, and the words would read as the author's own. With no
    paragraph outside a callout, the first paragraph at all is better than no summary."""
    opened: list[bool] = []  # each open div or figure: is it a callout or a pull-quote?
    asides = 0  # how many of them are
    for match in _BLOCKS.finditer(html):
        closing, tag, attrs = match.groups()
        if tag is None:  # <p>
            found = None if asides else _FIRST_P.match(html, match.start())
            if found:
                return found.group(0)
        elif closing:
            asides -= opened.pop() if opened else 0
        else:
            opened.append(bool(_ASIDE.search(attrs)))
            asides += opened[-1]
    match = _FIRST_P.search(html)
    return match.group(0) if match else ""


def render_markdown(text: str, base_path: str = "/", time_limit: float | None = DEFAULT_TIME_LIMIT) -> Rendered:
    """Raises ``MarkdownError`` for a document too slow to convert or nested too deeply."""
    md = _converter(base_path)
    md.reset()
    try:
        html = convert(md, text, time_limit)
    except MarkdownError:
        _instances.pop(base_path, None)
        raise
    toc = tuple(_flatten(getattr(md, "toc_tokens", [])))
    if MORE in html:
        summary = html.split(MORE, 1)[0].strip()
        has_more = True
    else:
        summary = first_paragraph(html)
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
    try:
        html = convert(md, text, DEFAULT_TIME_LIMIT)
    except MarkdownError:
        _instances.pop("/", None)
        raise
    return html.removeprefix("<p>").removesuffix("</p>")


_IMG = re.compile(r"<img\b([^>]*?)\s*/?>", re.I)
_IMG_ATTR = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def rewrite_images(html: str, rewrite: Callable[[dict[str, str], int], str | None]) -> str:
    """Each ``<img>`` of one rendered body handed to ``rewrite`` as its attributes (values as
    written, entities kept) and its position (0 for the first); its answer replaces the tag,
    None keeps it. Run once per body, right after the Markdown step (qsite/images.py)."""
    count = iter(range(len(html)))

    def one(match: re.Match[str]) -> str:
        attrs = {m.group(1).lower(): next((v for v in m.groups()[1:] if v is not None), "")
                 for m in _IMG_ATTR.finditer(match.group(1))}
        return rewrite(attrs, next(count)) or match.group(0)

    return _IMG.sub(one, html)


def img_tag(attrs: dict[str, str]) -> str:
    """An ``<img>`` from attributes as ``rewrite_images`` hands them (already escaped)."""
    return "<img " + " ".join(f'{k}="{v.replace(chr(34), "&quot;")}"' for k, v in attrs.items()) + ">"
