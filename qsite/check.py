"""``qsite check``: the verdict of a build without its side effects, plus what a build cannot see.

The site is rendered in memory exactly as ``qsite build`` would render it (``render_site``),
nothing is written, and the rendered HTML is then crawled: every internal link, ``#anchor``,
image and file must exist in the rendered site, and every image needs alt text. As Zola's
link checker does, all broken links are collected and reported together, each at the line of
the Markdown file (or template) an editor has to change.

External links are not fetched: CI has no network to them and their health is not the
editor's to fix in a pull request.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

from qsite import search, urls
from qsite.build import BuildResult, Options, configure, render_site
from qsite.problems import ContentError, Problem
from qsite.render import THEME_PATH, template_path
from qsite.urls import url_path

# Attributes that reference another file of the site, by element.
_URL_ATTRS: dict[str, tuple[str, ...]] = {
    "a": ("href",),
    "area": ("href",),
    "link": ("href",),
    "img": ("src",),
    "script": ("src",),
    "source": ("src",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
}
_SRCSET = ("img", "source")
_SKIP_SCHEMES = ("mailto:", "tel:", "javascript:", "data:", "sms:")


@dataclass(frozen=True)
class Ref:
    """One reference found in a page: ``kind`` is "link" or "image"."""

    kind: str
    url: str
    line: int  # line in the rendered HTML, used only to order problems


@dataclass
class PageScan:
    ids: set[str] = field(default_factory=set)
    refs: list[Ref] = field(default_factory=list)
    images_without_alt: list[tuple[str, bool]] = field(default_factory=list)  # (src, attribute missing)
    refresh: str | None = None  # a redirect page's target (<meta http-equiv="refresh">): an alias


# <meta http-equiv="refresh" content="0; url=/posts/new/">: what a redirect page (an alias) says
_REFRESH = re.compile(r"^\s*\d*(?:\.\d*)?\s*[;,]\s*url\s*=\s*['\"]?([^'\"]+)", re.I)
MAX_REDIRECTS = 5


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scan = PageScan()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: (v or "") for k, v in attrs}
        line = self.getpos()[0]
        if "id" in values:
            self.scan.ids.add(values["id"])
        if tag == "a" and "name" in values:
            self.scan.ids.add(values["name"])
        for attr in _URL_ATTRS.get(tag, ()):
            if values.get(attr):
                kind = "image" if tag == "img" else "link"
                self.scan.refs.append(Ref(kind, values[attr].strip(), line))
        if tag in _SRCSET and values.get("srcset"):
            for candidate in values["srcset"].split(","):
                url = candidate.strip().split(" ")[0]
                if url:
                    self.scan.refs.append(Ref("image", url, line))
        if tag == "meta" and values.get("http-equiv", "").lower() == "refresh":
            match = _REFRESH.match(values.get("content", ""))
            if match:  # checked as a link, and followed by links that land here
                self.scan.refresh = match.group(1).strip()
                self.scan.refs.append(Ref("link", self.scan.refresh, line))
        if tag == "img":
            alt = values.get("alt")
            if alt is None or not alt.strip():
                self.scan.images_without_alt.append((values.get("src", ""), alt is None))

    handle_startendtag = handle_starttag


def scan_html(text: str) -> PageScan:
    """The ids, references and alt-less images of one HTML page."""
    scanner = _Scanner()
    scanner.feed(text)
    scanner.close()
    return scanner.scan


@dataclass
class Report:
    """What ``qsite check`` found. ``pages``/``links`` are counts for the summary line."""

    problems: list[Problem]
    pages: int = 0
    links: int = 0
    rendered: bool = True  # False when content problems stopped the site from rendering

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]


def check_site(root: Path, options: Options | None = None) -> Report:
    """Check the site at ``root``. Raises ConfigError (exit 2) for site.yaml or option problems;
    every content problem is returned in the report, nothing is written anywhere."""
    options = options or Options()
    config = configure(root, options)
    try:
        result = render_site(config, options)
    except ContentError as exc:
        return Report(list(exc.problems) + placeholders(config.root), rendered=False)
    problems = list(result.warnings) + placeholders(config.root)
    pages, links, found = check_outputs(result)
    problems += found
    return Report(problems, pages, links)


def placeholders(root: Path) -> list[Problem]:
    """A warning at each line still holding the text ``qsite new`` wrote for the editor to
    replace (``new.PLACEHOLDERS``): it builds, so only ``--strict`` (CI) stops it going live."""
    from qsite.content import find_content
    from qsite.new import PLACEHOLDERS

    found: list[Problem] = []
    for path, rel, _kind in find_content(root).sources:
        text = path.read_text(encoding="utf-8", errors="replace")
        if not any(p in text for p in PLACEHOLDERS):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if any(p in line for p in PLACEHOLDERS):
                found.append(
                    Problem(
                        rel, number, "this is still the placeholder text that 'qsite new' wrote",
                        "replace it with your own words", severity="warning",
                    )
                )
    return found


def _owners(result: BuildResult) -> tuple[dict[str, str], dict[str, str]]:
    """(output file → the post, page or edition file it shows, output file → the template that
    rendered it), as each output's job recorded them: nothing is planned again."""
    sources = {o.path: o.source for o in result.outputs if o.source is not None}
    root = result.config.root  # the site's own template, or the default theme's (render.template_path)
    names = {o.template for o in result.outputs if o.template is not None}
    where = {name: template_path(root, name) for name in names}
    templates = {o.path: where[o.template] for o in result.outputs if o.template is not None}
    return sources, templates


@dataclass(frozen=True)
class _Finding:
    page: str
    needle: str  # the URL as it appears in the page, to find the line that wrote it
    message: str
    fix: str
    severity: str = "error"
    pattern: re.Pattern[str] | None = None  # a better way to find the line, tried first


def check_outputs(result: BuildResult) -> tuple[int, int, list[Problem]]:
    """Crawl every rendered HTML page: (pages, references checked, problems)."""
    base = result.config.base_path
    origin = result.config.origin
    files = {o.path: o.data for o in result.outputs}
    scans = {
        path: scan_html(data.decode("utf-8", errors="replace"))
        for path, data in sorted(files.items())
        if path.endswith(".html")
    }
    findings: list[_Finding] = []
    count = 0
    for page, scan in scans.items():
        page_url = base + url_path(page)
        for ref in scan.refs:
            target = _internal(ref.url, page_url, origin, base)
            if target is None:
                continue
            count += 1
            rel, fragment = target
            if rel is None:
                findings.append(
                    _Finding(
                        page,
                        ref.url,
                        f"the link {ref.url} points outside the site's folder {base}",
                        "link to a page of this site, or write the full https:// address",
                    )
                )
                continue
            answer = urls.answer(rel, files)
            found = answer.file if answer is not None else None
            if found is None and search.made_by_indexer(rel):
                continue  # the search bundle is written by Pagefind after rendering (qsite/search.py)
            if found is None:
                what = "image" if ref.kind == "image" else "page or file"
                findings.append(
                    _Finding(
                        page,
                        ref.url,
                        f"the {what} {ref.url} does not exist",
                        _fix_for(rel, files, base, ref.kind),
                    )
                )
                continue
            found, moved = _follow(found, scans, files, origin, base)
            if found is None:
                continue  # a redirect to nowhere: reported on the redirect page itself
            if fragment and found in scans and fragment not in scans[found].ids and fragment != "top":
                where = "on this page" if found == page else f"on {base}{url_path(found)}"
                if moved:
                    where += f" (where {ref.url.split('#')[0]} leads)"
                findings.append(
                    _Finding(
                        page,
                        ref.url,
                        f"there is no #{fragment} {where}",
                        _anchor_fix(fragment, scans[found].ids),
                    )
                )
        for src, missing in scan.images_without_alt:
            if missing:
                pattern = re.compile(r"<img\b(?![^>]*\balt=)[^>]*" + re.escape(src), re.I)
                message = f"the image {src} has no alt text"
                findings.append(_Finding(page, src, message, ALT_FIX, pattern=pattern))
            else:
                pattern = re.compile(
                    r"!\[\s*\]\(\s*<?" + re.escape(src) + r"|\balt=[\"']\s*[\"'][^>]*" + re.escape(src)
                )
                message = f"the image {src} has empty alt text, so screen readers say nothing"
                fix = ALT_FIX + "; leave it empty only for pure decoration"
                findings.append(_Finding(page, src, message, fix, "warning", pattern))
    return len(scans), count, _attribute(findings, result)


def _follow(
    found: str, scans: dict[str, PageScan], files: dict[str, bytes], origin: str, base: str
) -> tuple[str | None, bool]:
    """(the page a link to ``found`` ends on, whether it was redirected): a link to an alias
    lands on its redirect page, and a browser goes on to the target, where its #anchor must be.
    None when a redirect leads nowhere in the site; a redirect out of the site ends there."""
    moved = False
    for _ in range(MAX_REDIRECTS):
        scan = scans.get(found)
        if scan is None or scan.refresh is None:
            return found, moved
        target = _internal(scan.refresh, base + url_path(found), origin, base)
        if target is None or target[0] is None:
            return found, moved
        answer = urls.answer(target[0], files)
        if answer is None:
            return None, moved
        found, moved = answer.file, True
    return found, moved


# The fixes suggested most often, named so tests and docs/editing.md can quote them.
ALT_FIX = "describe the image inside the square brackets: ![What the picture shows](...)"
ADDRESS_FIX = "check the address: a post is at /posts/<its file name without the date and .md>/"
IMAGE_FIX = "put the file in content/images/ and link to it as /images/<name>"
ANCHOR_FIX = "headings get an anchor made from their words: '## What we learned' → #what-we-learned"
SUMMARY_FIX = "in the first paragraph, write links in full from the site's root: /posts/<slug>/#anchor"


def _attribute(findings: list[_Finding], result: BuildResult) -> list[Problem]:
    """Send each finding to the file that has to change. A link typed in a post is the post's
    (once, even though its first paragraph is repeated on list pages and in digest emails, there
    made absolute); anything else came from site.yaml or a template and is reported once,
    however many pages show it."""
    root = result.config.root
    origin = result.config.origin
    finder = _LineFinder(root, result.config.base_path)
    sources, templates = _owners(result)
    problems: dict[tuple[str, str, str], Problem] = {}
    typed: set[tuple[str, str]] = set()  # (post, URL as typed) already reported
    elsewhere: list[_Finding] = []
    for f in findings:
        source = sources.get(f.page)  # the post, page or edition file the page's job was made from
        needle, message = f.needle, f.message
        line = finder.line(source, needle, f.pattern) if source else None
        if source and line is None and needle.startswith(origin + "/"):
            # an email edition shows the editor's text with absolute links: look for it as typed
            needle = needle[len(origin) :]
            message = message.replace(f.needle, needle)
            line = finder.line(source, needle, f.pattern)
        if source and line is not None:
            problem = Problem(source, line, message, f.fix, f.severity)
            problems.setdefault((source, needle, message), problem)
            typed.add((source, needle))
        else:
            elsewhere.append(f)

    # Lists repeat each post's first paragraph, where a link relative to the post breaks
    # (markup.rebase_links resolves them against the post; this catches what is broken anyway)
    summary_refs = [
        (item.source, item.url, ref.url) for item in result.site.posts for ref in scan_html(item.summary_html).refs
    ]
    leftover: dict[tuple[str, str], list[_Finding]] = {}
    elsewhere.sort(key=lambda f: (f.page != "index.html", f.page))  # the home page as the example
    for f in elsewhere:
        owners = [
            (source, url, ref)
            for source, url, ref in summary_refs
            if f.needle == ref or (ref.startswith(("/", "#")) and f.needle.endswith(ref))
        ]
        if owners:
            for source, url, ref in owners:
                if (source, ref) in typed or any(s == source and urljoin(url, t) == ref for s, t in typed):
                    continue  # the same broken link, already reported on the post itself
                message = f"the link {ref} in the first paragraph breaks where lists repeat it" + (
                    f", e.g. on {result.config.base_path}{url_path(f.page)}"
                )
                problem = Problem(source, finder.line(source, ref), message, SUMMARY_FIX, f.severity)
                problems.setdefault((source, ref, "summary"), problem)
            continue
        plain = f.needle[len(origin) :] if f.needle.startswith(origin + "/") else f.needle
        leftover.setdefault((plain, f.message.replace(f.needle, plain)), []).append(f)

    # site.yaml first: its nav links are printed by templates on every page
    written = [root / "site.yaml"]
    if (root / "templates").is_dir():
        written += sorted((root / "templates").rglob("*.html"))
    for (plain, _), group in leftover.items():
        first = group[0]
        pages = sorted({g.page for g in group}, key=lambda p: (p != "index.html", p))
        where, line = _written_in(written, root, finder, plain)
        if where is None:  # made by a template expression, not typed: name the likeliest
            shared = len({templates.get(p) for p in pages}) > 1  # several templates: their base
            base = template_path(root, "base.html")  # the default theme's pages all extend its base
            own = base.startswith("templates/") or templates.get(first.page, "").startswith(THEME_PATH)
            where = base if shared and own else templates.get(first.page, "templates")
        message = first.message
        if len(pages) > 1:
            message += f" (on {len(pages)} pages, e.g. {result.config.base_path}{url_path(pages[0])})"
        problems[(where, plain, first.message)] = Problem(where, line, message, first.fix, first.severity)
    return list(problems.values())


def _written_in(files: list[Path], root: Path, finder: _LineFinder, needle: str) -> tuple[str | None, int | None]:
    for path in files:
        rel = path.relative_to(root).as_posix()
        line = finder.line(rel, needle)
        if line is not None:
            return rel, line
    return None, None


def _internal(url: str, page_url: str, origin: str, base: str) -> tuple[str | None, str] | None:
    """(site-relative path or None if outside the base path, fragment) for a link into this
    site; None for external links and schemes that are not pages."""
    if not url or url.lower().startswith(_SKIP_SCHEMES):
        return None
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        if f"{parts.scheme}://{parts.netloc}" != origin or parts.scheme not in ("http", "https"):
            return None
        path = parts.path or "/"
    elif parts.path:
        path = parts.path if parts.path.startswith("/") else posixpath.join(posixpath.dirname(page_url), parts.path)
    else:
        path = page_url  # "#anchor" or "?query": this page
    trailing = path.endswith("/")
    path = posixpath.normpath(unquote(path))
    if trailing and not path.endswith("/"):
        path += "/"
    if path == base.rstrip("/"):
        path = base
    if not path.startswith(base):
        return (None, parts.fragment)
    return (path[len(base) :], unquote(parts.fragment))


def _fix_for(rel: str, files: dict[str, bytes], base: str, kind: str) -> str:
    """A did-you-mean among the files of its folder: ``/posts/bee/`` → ``/posts/bee-keeping/``."""
    trailing = rel.endswith("/")
    folder, _, name = rel.rstrip("/").rpartition("/")
    prefix = f"{folder}/" if folder else ""
    if trailing:
        names = {
            url_path(p)[len(prefix) :].rstrip("/") for p in files if p.endswith("index.html") and p.startswith(prefix)
        }
    else:
        names = {p[len(prefix) :] for p in files if p.startswith(prefix)}
    guess = _closest(name, sorted(n for n in names if n and "/" not in n))
    if guess:
        return f"did you mean {base}{prefix}{guess}{'/' if trailing else ''}?"
    return IMAGE_FIX if kind == "image" else ADDRESS_FIX


def _closest(name: str, options: list[str]) -> str | None:
    """Close by spelling, else the one starting with what was typed: ``bee`` → ``bee-keeping``."""
    import difflib

    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    if close:
        return close[0]
    longer = [o for o in options if len(name) >= 3 and o.startswith(name)]
    return longer[0] if len(longer) == 1 else None


def _anchor_fix(fragment: str, ids: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(fragment, sorted(ids), n=1, cutoff=0.6)
    if close:
        return f"did you mean #{close[0]}?"
    return ANCHOR_FIX


class _LineFinder:
    """The first line of a source file that mentions a link, so the editor is sent there."""

    def __init__(self, root: Path, base: str):
        self.root = root
        self.base = base
        self.cache: dict[str, list[str] | None] = {}

    def line(self, source: str, needle: str, pattern: re.Pattern[str] | None = None) -> int | None:
        if source not in self.cache:
            try:
                self.cache[source] = (self.root / source).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self.cache[source] = None
        lines = self.cache[source]
        if not lines or not needle:
            return None
        if pattern is not None:
            for number, text in enumerate(lines, 1):
                if pattern.search(text):
                    return number
        # Markdown links to /x get the base path added when rendered: look for what was typed
        candidates = [needle]
        if self.base != "/" and needle.startswith(self.base):
            candidates.append("/" + needle[len(self.base) :])
        candidates.append(needle.replace("&", "&amp;"))
        for candidate in candidates:
            for number, text in enumerate(lines, 1):
                if candidate in text:
                    return number
        return None
