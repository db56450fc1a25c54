"""Step 5: the site model and its groups → a list of output files, in memory.

Rendering never writes: it returns ``Output`` values and ``write`` decides what reaches disk,
which is what lets a failed build leave the previous site untouched. Every URL was decided by
the model before this step; templates only print them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from pygments.formatters import HtmlFormatter

from qsite import __version__, accessibility, sharing, urls
from qsite.content import link_problem, walk
from qsite.grouping import MONTHS, Groups, paginate
from qsite.model import Post, Site
from qsite.problems import ContentError, Problem, Problems

LIGHT_CODE_STYLE = "default"
DARK_CODE_STYLE = "github-dark"


@dataclass(frozen=True)
class Output:
    """One file of the built site: ``path`` is relative to the output folder."""

    path: str
    data: bytes


@dataclass(frozen=True)
class Job:
    """One template rendered with one context to one URL path."""

    template: str
    path: str  # site-relative URL path, "posts/a/" or "feed.xml"
    context: dict[str, Any] = field(hash=False)


class RefusedLink(jinja2.TemplateNotFound):
    """A template (or a folder on its way) is a symlink that ``content.link_problem`` refuses."""

    def __init__(self, problem: Problem):
        super().__init__(problem.path, problem.message)
        self.problem = problem


class SiteLoader(jinja2.FileSystemLoader):
    """Jinja's FileSystemLoader follows any symlink; this one first applies the site's rule for
    links (``content.link_problem``) to the template's file and every folder on its way, so a
    template or partial linked from outside the site, or from ``.git/``, is never read."""

    def __init__(self, templates: Path):
        super().__init__(str(templates))
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


def make_env(templates: Path, bytecode_cache: jinja2.BytecodeCache | None = None) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=SiteLoader(templates),
        bytecode_cache=bytecode_cache,  # compiled templates, checked against their source by Jinja
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


_ROOT_LINK = re.compile(r'(\s(?:href|src))="/(?!/)')


def absolute_links(html: str, origin: str) -> str:
    """Feeds are read away from the site, so root-relative links get the origin in front."""
    return _ROOT_LINK.sub(lambda m: f'{m.group(1)}="{origin}/', html)


def plan(site: Site, groups: Groups) -> list[Job]:
    """Every page of the site, as (template, URL, context). Lists are sliced, never re-filtered."""
    config = site.config
    per_page = config.posts_per_page
    jobs: list[Job] = []

    for pager in paginate(site.posts, per_page, ""):
        jobs.append(Job("index.html", pager.path, {"pager": pager, "title": None}))
    for post in site.posts:
        jobs.append(
            Job(
                "post.html",
                post.path,
                {
                    "post": post,
                    "title": post.title,
                    "neighbours": groups.neighbours[post.slug],
                    "related": groups.related[post.slug],
                    "comments": site.comments.get(post.slug, ()),
                },
            )
        )
    for page in site.pages:
        jobs.append(Job("page.html", page.path, {"page": page, "title": page.title}))
    jobs.append(Job("themes.html", "themes/", {"title": "Themes"}))
    for theme in groups.themes:
        for pager in paginate(theme.posts, per_page, theme.path):
            # the theme's header (with its count), not the Theme: a page holds only what it shows
            jobs.append(Job("theme.html", pager.path, {"theme": theme.summary, "pager": pager, "title": theme.title}))
        jobs.append(feed_job(theme.path, f"{config.title}: {theme.title}", theme.posts))
    jobs.append(Job("tags.html", "tags/", {"title": "Tags"}))
    for tag in groups.tags:
        for pager in paginate(tag.posts, per_page, tag.path):
            context = {"tag": tag.summary, "pager": pager, "title": f"Tagged “{tag.name}”"}
            jobs.append(Job("tag.html", pager.path, context))
    jobs.append(Job("archive.html", "archive/", {"title": "Archive"}))
    jobs.append(Job("404.html", "404.html", {"title": "Page not found"}))
    jobs.append(Job("search.html", "search/", {"title": "Search"}))
    jobs.append(
        Job(
            "accessibility.html",
            accessibility.PATH,
            {
                "title": "Accessibility statement",
                "statement": accessibility.settings(config),
                "reviewed": accessibility.reviewed(config),
            },
        )
    )
    jobs.append(feed_job("", config.title, site.posts))
    jobs.append(Job("sitemap.xml", "sitemap.xml", {"entries": sitemap_entries(site, groups)}))
    jobs.append(Job("robots.txt", "robots.txt", {}))
    return jobs


FEED_ENTRIES = 20
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def feed_job(path: str, title: str, posts: Sequence[Post]) -> Job:
    """An Atom feed of the newest posts. Its ``updated`` comes from the posts, never the clock,
    so an unchanged site builds to the same bytes."""
    entries = posts[:FEED_ENTRIES]
    updated = max((p.updated or p.date for p in entries), default=EPOCH)
    return Job(
        "feed.xml",
        path + "feed.xml",
        {"feed_title": title, "feed_posts": entries, "feed_path": path, "feed_updated": updated},
    )


def sitemap_entries(site: Site, groups: Groups) -> list[tuple[str, datetime | None]]:
    newest = site.posts[0].date if site.posts else None
    entries: list[tuple[str, datetime | None]] = [("", newest), ("themes/", newest)]
    entries += [(p.path, p.updated or p.date) for p in site.posts]
    entries += [(p.path, p.updated) for p in site.pages]
    entries += [(t.path, t.posts[0].date if t.posts else None) for t in groups.themes]
    entries += [("tags/", newest)] + [(t.path, t.posts[0].date) for t in groups.tags]
    entries.append(("archive/", newest))
    entries.append((accessibility.PATH, None))
    return entries


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
            problem = Problem(
                f"templates/{job.template}", None, f"template not found: {exc.name}", "restore it from git"
            )
            raise ContentError([problem]) from None
        except Exception as exc:  # any error raised inside a template is the template's to fix
            filename, line = _template_frame(exc.__traceback__, self.templates)
            message = f"{type(exc).__name__}: {exc}"
            raise ContentError([_template_problem(filename or job.template, line, message, self.templates)]) from None
        return Output(urls.output_file(job.path), text.encode("utf-8"))

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


def _template_problem(filename: str | None, line: int | None, message: str, templates: Path) -> Problem:
    name = filename or "templates"
    try:
        name = Path(name).resolve().relative_to(templates.resolve().parent).as_posix()
    except ValueError:
        name = f"templates/{name}" if not name.startswith("templates") else name
    return Problem(name, line, f"template error: {message}")


def _template_frame(tb: TracebackType | None, templates: Path) -> tuple[str | None, int | None]:
    """Jinja rewrites tracebacks so template frames carry the template's file and line."""
    found: tuple[str | None, int | None] = (None, None)
    root = str(templates.resolve())
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(root) or filename.endswith((".html", ".xml", ".txt")):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def static_outputs(root: Path, assets: Iterable[Any]) -> list[Output]:
    """The CSS/JS shipped in templates/static, the code-highlighting CSS, and content's files."""
    outputs: list[Output] = []
    static = root / "templates" / "static"
    problems = Problems()
    for path in walk(root, static, problems):  # the site's rule for links (content.link_problem)
        outputs.append(Output("static/" + path.relative_to(static).as_posix(), path.read_bytes()))
    if problems.items:
        raise ContentError(problems.items)
    outputs.append(Output("static/pygments.css", pygments_css().encode()))
    for asset in assets:
        outputs.append(Output(asset.out, asset.source.read_bytes()))
    return outputs


def pygments_css() -> str:
    light = HtmlFormatter(style=LIGHT_CODE_STYLE).get_style_defs(".highlight")
    dark = HtmlFormatter(style=DARK_CODE_STYLE).get_style_defs(".highlight")
    dark = "\n".join("  " + line for line in dark.splitlines())
    return (
        f"/* Code highlighting by Pygments: {LIGHT_CODE_STYLE}, and {DARK_CODE_STYLE} for dark mode. */\n"
        f"{light}\n@media (prefers-color-scheme: dark) {{\n{dark}\n}}\n"
    )

