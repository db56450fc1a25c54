"""Step 6, rendering: the planned jobs (qsite/plan.py) → a list of output files, in memory.

Rendering never writes: it returns ``Output`` values and ``write`` decides what reaches disk,
which is what lets a failed build leave the previous site untouched. Every URL was decided by
the model before this step; templates only print them. A job that asks for it (``Job.mail``) is
finished here as an email edition (qsite/email.py): nothing looks outputs up afterwards.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from markupsafe import Markup, escape
from pygments.formatters import HtmlFormatter

from qsite import THEME, __version__, email, sharing, urls
from qsite.content import link_problem, walk
from qsite.grouping import MONTHS, Groups
from qsite.model import Site
from qsite.problems import ContentError, Problem, Problems

LIGHT_CODE_STYLE = "default"
DARK_CODE_STYLE = "github-dark"


@dataclass(frozen=True)
class Output:
    """One file of the built site: ``path`` is relative to the output folder.

    A rendered page also carries what made it (its job's template, source file and URL), so
    ``qsite check`` can send an editor to the file behind a broken link without planning again.
    Static files carry none of them."""

    path: str
    data: bytes
    template: str | None = None  # "post.html"
    source: str | None = None  # the content file the page shows: a post, a page, an edition file
    url: str | None = None  # site-relative URL path, "posts/a/"
    # a file whose bytes this output's are (``data`` is then empty), read only when it is
    # written: a kept preview card, so a build never holds thousands of PNGs at once
    copy_of: Path | None = None

    def contents(self) -> bytes:
        return self.data if self.copy_of is None else self.copy_of.read_bytes()


@dataclass(frozen=True)
class Job:
    """One template rendered with one context to one URL path, planned by qsite/plan.py."""

    template: str
    path: str  # site-relative URL path, "posts/a/" or "feed.xml"
    context: dict[str, Any] = field(hash=False)
    source: str | None = None  # the post, page or edition file the page shows; None for lists
    mail: str | None = None  # an email edition: finished for mail against this web address

    @functools.cached_property
    def file(self) -> str:
        """The file in the output folder: ``posts/a/`` → ``posts/a/index.html``. Made once: the
        build asks it of each page about eight times, and keeps it in several records (the
        stage's, the engine's, the search digests'), which then share one text, not one each
        (30,000 pages at 20,000 posts)."""
        return urls.output_file(self.path)


class RefusedLink(jinja2.TemplateNotFound):
    """A template (or a folder on its way) is a symlink that ``content.link_problem`` refuses."""

    def __init__(self, problem: Problem):
        super().__init__(problem.path, problem.message)
        self.problem = problem


class SiteLoader(jinja2.FileSystemLoader):
    """The site's own ``templates/`` first, then the default theme (``qsite/theme/``): a site
    overrides the theme file by file, as Hugo's layouts override a theme's and MkDocs'
    ``custom_dir`` overrides its theme's.

    Jinja's FileSystemLoader follows any symlink; this one first applies the site's rule for
    links (``content.link_problem``) to the site's template and every folder on its way, so a
    template or partial linked from outside the site, or from ``.git/``, is never read (nor
    silently replaced by the theme's). The theme's files are qsite's own."""

    def __init__(self, templates: Path):
        super().__init__([str(templates), str(THEME)])
        self.templates = templates

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        path = self.templates
        for part in jinja2.loaders.split_template_path(template):
            path = path / part
            if path.is_symlink():
                problem = link_problem(self.templates.parent, path)
                if problem is not None:
                    raise RefusedLink(problem)
        return super().get_source(environment, template)


# How problems name a template of the default theme (the site's own are "templates/NAME").
THEME_PATH = "qsite/theme"


def template_path(root: Path, name: str) -> str:
    """Where the site at ``root`` takes template ``name`` from, as problems name it: its own
    ``templates/NAME`` if it has one, else the default theme's ``qsite/theme/NAME``."""
    return f"templates/{name}" if (root / "templates" / name).is_file() else f"{THEME_PATH}/{name}"


def make_env(templates: Path, bytecode_cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=SiteLoader(templates),
        bytecode_cache=bytecode_cache,  # compiled templates, checked against their source by Jinja
        # one environment renders one build (a Renderer each), so a template is read once: Jinja's
        # default would stat its file again at every page that uses it (~5 stats a post page)
        auto_reload=False,
        autoescape=jinja2.select_autoescape(["html", "xml"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["date_long"] = date_long
    env.filters["month_year"] = lambda d: f"{MONTHS[d.month - 1]} {d.year}"
    env.filters["iso"] = lambda d: d.isoformat()
    env.filters["absolute_links"] = absolute_links
    env.filters["names"] = names
    env.filters["byline_names"] = byline_names
    env.filters.update(sharing.FILTERS)
    return env


def date_long(value: datetime) -> str:
    """``14 April 2020``: written out so it never depends on the machine's locale."""
    return f"{value.day} {MONTHS[value.month - 1]} {value.year}"


def names(items: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``: author names often contain commas themselves, so
    the last pair is always joined with "and"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def byline_names(post: Any) -> Markup:
    """A post's names as ``names`` joins them, each with a profile (qsite/authors.py) linked
    to its author page and followed by its role: ``<a href="/authors/penny/">Penny</a> (Head of Q)``.
    Free-text names print exactly as ``names`` prints them."""
    parts = []
    for credit in post.credits or ():
        text = escape(credit.name)
        if credit.url:
            text = Markup('<a class="author-link" href="{}">{}</a>').format(credit.url, credit.name)
        if credit.role:
            text += Markup(' <span class="author-role">({})</span>').format(credit.role)
        parts.append(text)
    if not parts:
        return escape(names(post.authors))
    return Markup(names([str(p) for p in parts]))


_ROOT_LINK = re.compile(r'(\s(?:href|src))="/(?!/)')


def absolute_links(html: str, origin: str) -> str:
    """Feeds are read away from the site, so root-relative links get the origin in front."""
    return _ROOT_LINK.sub(lambda m: f'{m.group(1)}="{origin}/', html)


# What one ``Once`` keeps at most, in characters of rendered output (~1 KB a post's card, ~9 KB
# a feed entry with the post's whole HTML). A build's forked render workers each filled their
# own, unbounded: at 20,000 posts each worker held every card and feed entry it had rendered,
# a third of its private memory, for the whole render step (bench/memory.py). A 1,000-post
# site's cards and feed entries (~7 M characters) all fit, so nothing is rendered twice there.
ONCE_LIMIT = 12_000_000


class Once:
    """``once(macro, item, *args)`` in a template: the macro's output for these arguments,
    rendered the first time and then reused. A post's card is the same on each of the ~10 list
    pages and related lists showing it, and rendering ~10,000 cards was the largest cost of
    rendering a 1,000-post site (bench/PROFILE.md, C6).

    Reuse is safe because one ``Once`` lives only as long as its Renderer, i.e. one build,
    whose posts are frozen and whose template globals (``theme_index``…) are fixed: the output
    of a macro imported without context depends on its arguments and those alone. Items are
    looked up by identity and kept alive while their output is kept, so a key is never another
    object's reused ``id``. Which pages hold which values is unchanged, so page keys
    (qsite/incremental/cache.py) are too.

    At most ``limit`` characters of output are kept: past it, the outputs used least recently
    are let go (and rendered again if asked for again, the same text), so memory stays
    bounded on a big site while a small one keeps everything."""

    def __init__(self, limit: int | None = None) -> None:
        self._done: dict[tuple[int, int, tuple[Any, ...]], tuple[object, object, Any]] = {}
        self.limit = ONCE_LIMIT if limit is None else limit
        self.held = 0  # characters of output kept

    def __reduce__(self) -> tuple[type, tuple[()]]:
        # Page keys fingerprint the globals a template uses by pickling them: what has been
        # rendered so far is no input of any page, so every Once has the same fingerprint.
        return (Once, ())

    def __call__(self, macro: Callable[..., Any], item: object, *args: Any) -> Any:
        key = (id(macro), id(item), args)
        done = self._done
        hit = done.pop(key, None)  # put back last: the most recently used come last
        if hit is not None and hit[0] is macro and hit[1] is item:
            done[key] = hit
            return hit[2]
        if hit is not None:
            self.held -= len(hit[2])
        result = macro(item, *args)
        done[key] = (macro, item, result)
        self.held += len(result)
        while self.held > self.limit and done:
            oldest = next(iter(done))
            self.held -= len(done.pop(oldest)[2])
        return result


class Renderer:
    """Holds the Jinja environment and the context every page shares."""

    def __init__(
        self,
        site: Site,
        groups: Groups,
        templates: Path,
        *,
        serve: bool = False,
        search: bool = True,
        bytecode_cache: jinja2.BytecodeCache | None = None,
    ):
        self.site = site
        self.templates = templates
        self.env = make_env(templates, bytecode_cache)
        config = site.config
        self.env.globals.update(
            site=config,
            themes=groups.themes,
            # slug → ThemeLink: a dict lookup per chip instead of a filter over the themes, and
            # no posts inside, so a page showing chips does not depend on every post
            theme_index={t.slug: t.link for t in groups.themes},
            theme_list=tuple(t.summary for t in groups.themes),  # with counts, for lists of themes
            tags=groups.tags,
            tag_list=tuple(t.summary for t in groups.tags),  # with counts, without posts
            authors_listed=bool(groups.authors),  # /authors/ exists (qsite/plan.py): the footer links it
            archive=groups.archive,
            pages=site.pages,
            posts=site.posts,
            url=site.urls.url,
            absolute=site.urls.absolute,
            origin=site.urls.origin,
            qsite_version=__version__,
            serve_mode=serve,
            search_enabled=search,  # False with --no-search: /search/ then says search is unavailable
        )
        self.env.filters["as_text"] = email.html_to_text  # the editor's introduction, in email.txt
        self.env.globals["once"] = Once()

    def compile(self, names: Iterable[str]) -> None:
        """Compile these templates now, before the build forks its workers, so that they
        inherit them compiled instead of each compiling its own (or loading them from the
        per-user folder outside the site: qsite/incremental/cache.py, CompiledTemplates). A
        broken template is left for ``render`` to report with its file and line."""
        for name in sorted(set(names)):
            with contextlib.suppress(Exception):  # render reports it, naming the page
                self.env.get_template(name)

    def render(self, job: Job) -> Output:
        """Raises ContentError with the template's file and line if the template fails."""
        try:
            template = self.env.get_template(job.template)
            text = template.render(job.context, path=job.path, canonical=self.site.urls.absolute(job.path))
        except jinja2.TemplateSyntaxError as exc:
            problem = _template_problem(exc.filename, exc.lineno, exc.message or str(exc), self.templates)
            raise ContentError([problem]) from None
        except RefusedLink as exc:
            raise ContentError([exc.problem]) from None
        except jinja2.TemplateNotFound as exc:
            filename, line = _template_frame(exc.__traceback__, self.templates)
            raise ContentError([_missing_template(job.template, exc.name, filename, line, self.templates)]) from None
        except Exception as exc:  # any error raised inside a template is the template's to fix
            filename, line = _template_frame(exc.__traceback__, self.templates)
            message = f"{type(exc).__name__}: {exc}"
            raise ContentError([_template_problem(filename or job.template, line, message, self.templates)]) from None
        if job.mail is not None:  # mail-ready: inlined CSS, no scripts, absolute links
            text = email.finish(text, job.mail)
        if job.path.endswith(".xml"):
            text = xml_safe(text)
        return Output(job.file, text.encode("utf-8"), job.template, job.source, job.path)

    def render_all(self, jobs: Iterable[Job]) -> list[Output]:
        outputs: list[Output] = []
        problems: list[Problem] = []
        failed_templates: set[str] = set()
        for job in jobs:
            if job.template in failed_templates:
                continue
            try:
                outputs.append(self.render(job))
            except ContentError as exc:
                problems.extend(exc.problems)
                failed_templates.add(job.template)  # one report per broken template, not per page
        if problems:
            raise ContentError(dict.fromkeys(problems))
        return outputs


# Characters XML 1.0 forbids even as character references (its ``Char`` production): C0
# controls but tab and newlines, surrogates, U+FFFE and U+FFFF. One of them (a \x0b pasted
# from Word) makes a whole feed unreadable to a strict reader. Written as the forbidden
# characters, not as the negation of the allowed ones ("[^\x09\x0a\x0d\x20-\ud7ff…]"): the
# same set of code points (tests/test_startup_imports.py checks every one), but compiling the
# negated form with its huge ranges cost 4.5 ms of every ``qsite build``'s start (issue 10).
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 forbids. The build warns about each source
    file that holds one (``forbidden_in_xml``), so nothing is dropped silently."""
    return XML_FORBIDDEN.sub("", text) if XML_FORBIDDEN.search(text) else text


def forbidden_in_xml(text: str) -> tuple[int, str] | None:
    """(0-based line, the character) of the first character of ``text`` XML forbids."""
    match = XML_FORBIDDEN.search(text)
    if match is None:
        return None
    return text.count("\n", 0, match.start()), match.group()


def _template_problem(filename: str | None, line: int | None, message: str, templates: Path) -> Problem:
    name = filename or "templates"
    resolved = Path(name).resolve()
    if resolved.is_relative_to(templates.resolve()):
        name = resolved.relative_to(templates.resolve().parent).as_posix()
    elif resolved.is_relative_to(THEME):
        name = f"{THEME_PATH}/{resolved.relative_to(THEME).as_posix()}"
    elif not name.startswith("templates"):
        name = template_path(templates.parent, name)
    return Problem(name, line, f"template error: {message}")


def _missing_template(
    name: str, missing: str | None, filename: str | None, line: int | None, templates: Path
) -> Problem:
    """``missing`` is in neither the site's templates/ nor the default theme. Named by who asked
    for it: a site's own template (a typo, or a partial it has not copied yet), or the default
    theme itself (an incomplete installation of qsite, which git cannot restore)."""
    missing = missing or name
    asked_by = (
        _template_problem(filename, None, "", templates).path if filename else template_path(templates.parent, name)
    )
    message = f"template not found: {missing}"
    if asked_by.startswith("templates/"):
        return Problem(
            asked_by, line, message,
            f"correct the name, or create templates/{missing} (`qsite theme copy NAME` copies one of the "
            "default theme's templates into templates/ to start from)",
        )
    return Problem(
        asked_by, line, message,
        f"qsite's default theme has no {missing}: reinstall qsite (pip install --force-reinstall qsite), "
        f"or put your own {missing} in templates/",
    )


def _template_frame(tb: TracebackType | None, templates: Path) -> tuple[str | None, int | None]:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    found: tuple[str | None, int | None] = (None, None)
    roots = (str(templates.resolve()), str(THEME))
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(roots) or filename.endswith((".html", ".xml", ".txt")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def static_outputs(root: Path, assets: Iterable[Any]) -> list[Output]:
    """The CSS/JS of the default theme's static/ and the site's templates/static/ (a site's
    file replaces the theme's of the same name), the code-highlighting CSS, and content's files."""
    files: dict[str, Path] = {}
    theme = THEME / "static"
    for path in walk(THEME, theme, Problems()):
        files[path.relative_to(theme).as_posix()] = path
    static = root / "templates" / "static"
    problems = Problems()
    for path in walk(root, static, problems):  # the site's rule for links (content.link_problem)
        files[path.relative_to(static).as_posix()] = path
    if problems.items:
        raise ContentError(problems.items)
    outputs = [Output("static/" + rel, path.read_bytes()) for rel, path in files.items()]
    outputs.append(Output("static/pygments.css", pygments_css().encode()))
    for asset in assets:  # its source names the file to fix when ``qsite check`` finds a broken link in it
        source = asset.source.relative_to(root).as_posix() if asset.source.is_relative_to(root) else None
        outputs.append(Output(asset.out, asset.source.read_bytes(), source=source))
    return outputs


def pygments_css() -> str:
    light = HtmlFormatter(style=LIGHT_CODE_STYLE).get_style_defs(".highlight")
    # dark: the system's dark scheme unless the reader chose light, or the reader chose dark
    # (the header's switch sets data-scheme on <html>: qsite/theme/partials/scheme.html)
    system = HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(':root:not([data-scheme="light"]) .highlight')
    system = "\n".join("  " + line for line in system.splitlines())
    chosen = HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(':root[data-scheme="dark"] .highlight')
    return (
        f"/* Code highlighting by Pygments: {LIGHT_CODE_STYLE}, and {DARK_CODE_STYLE} for dark mode. */\n"
        f"{light}\n@media (prefers-color-scheme: dark) {{\n{system}\n}}\n{chosen}\n"
    )

