"""Step 1: ``site.yaml`` → a frozen :class:`SiteConfig`.

The schema below is the reference documentation for every key (MkDocs keeps its defaults the
same way), and it is strict: an unknown key is a mistake with a did-you-mean, never silently
ignored, because a typo in ``posts_per_page`` should not quietly give ten posts a page.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qsite import colours, strict_yaml, urls
from qsite.problems import ConfigError, Problem, Problems
from qsite.schema import (
    URL,
    At,
    Choice,
    Day,
    Entries,
    Field,
    Int,
    Invalid,
    ListOf,
    Schema,
    Seconds,
    Section,
    Slug,
    Text,
    Timezone,
)
from qsite.schema import check_url as _check_url
from qsite.schema import load_partial as _load_partial

MODERATION = "An editor reads every comment before it is published, usually within a few working days."


@dataclass(frozen=True)
class ThemeDef:
    slug: str
    title: str
    description: str = ""
    color: str = ""  # after parse_config, always set: site.yaml's or the palette's (qsite/colours.py)
    line: int = field(default=0, compare=False)

    @property
    def dark_color(self) -> str:
        """The colour in the dark scheme: the same hue, light enough on near-black."""
        return colours.dark_variant(self.color)

    @property
    def tint(self) -> str:
        """A pale background of the same hue (chips, search filters) that keeps ``color`` at AA."""
        return colours.tint(self.color, colours.LIGHT_SURFACE)

    @property
    def dark_tint(self) -> str:
        """The dark scheme's tint: a deep background of the same hue that keeps ``dark_color`` at AA."""
        return colours.tint(self.dark_color, colours.DARK_SURFACE)


@dataclass(frozen=True)
class NavLink:
    title: str
    url: str


@dataclass(frozen=True)
class DigestSettings:
    period: str = "month"
    subscribe_url: str = ""
    unsubscribe_url: str = ""  # empty: subscribe_url (a list's page manages both)
    sender: str = ""  # site.yaml `from`, a Python keyword
    to: str = ""

    @property
    def leave_url(self) -> str:
        return self.unsubscribe_url or self.subscribe_url


@dataclass(frozen=True)
class AccessibilitySettings:
    contact: str = ""
    reviewed: date | None = None
    standard: str = "WCAG 2.2 level AA"
    known_issues: tuple[str, ...] = ()
    testing: str = ""  # how the site is tested; unset, the statement claims no testing


@dataclass(frozen=True)
class CommentSettings:
    submit_url: str = ""
    moderation: str = MODERATION


@dataclass(frozen=True)
class PermalinkSettings:
    post: str = urls.DEFAULT_POST_PERMALINK


@dataclass(frozen=True)
class SiteConfig:
    """Validated settings. ``root`` is the folder holding site.yaml; paths are resolved."""

    root: Path
    title: str
    base_url: str
    themes: tuple[ThemeDef, ...]
    description: str = ""
    language: str = "en-GB"
    timezone: str = "Europe/London"
    author: str = ""
    posts_per_page: int = 10
    markdown_time_limit: float = 5.0
    output_dir: Path = Path("output")
    nav: tuple[NavLink, ...] = ()
    digest: DigestSettings = DigestSettings()
    accessibility: AccessibilitySettings = AccessibilitySettings()
    comments: CommentSettings = CommentSettings()
    permalinks: PermalinkSettings = PermalinkSettings()

    @property
    def base_path(self) -> str:
        """The path part of base_url, always ending in ``/``: ``/q-blog/`` for a sub-path site."""
        return urlsplit(self.base_url).path or "/"

    @property
    def origin(self) -> str:
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)

    @property
    def theme_slugs(self) -> tuple[str, ...]:
        return tuple(t.slug for t in self.themes)

    def theme(self, slug: str) -> ThemeDef | None:
        return next((t for t in self.themes if t.slug == slug), None)


@dataclass(frozen=True)
class _Values:
    """site.yaml as the schema reads it, before paths are resolved against the site folder."""

    title: str = ""
    description: str = ""
    base_url: str = ""
    language: str = "en-GB"
    timezone: str = "Europe/London"
    author: str = ""
    posts_per_page: int = 10
    markdown_time_limit: float = 5.0
    output_dir: str = "output"
    nav: tuple[NavLink, ...] = ()
    themes: tuple[ThemeDef, ...] = ()
    digest: DigestSettings = DigestSettings()
    accessibility: AccessibilitySettings = AccessibilitySettings()
    comments: CommentSettings = CommentSettings()
    permalinks: PermalinkSettings = PermalinkSettings()


BASE_URL = URL(("http", "https"), "https://example.org/q-blog/", folder=True)

THEME = Schema(
    "a theme",
    (
        Field("slug", Slug("theme slug {value!r} is not a valid slug", "use '{suggestion}'"),
                "The theme's URL name, `/themes/<slug>/`, and what posts name in `themes:`.", "", required=True),
        Field("title", Text("'{key}' in {top} should be non-empty text"), "The theme's name.", "", required=True),
        Field("description", Text("'{key}' in {top} should be non-empty text"),
                "A sentence shown on the theme's page and the themes list."),
        Field("color", colours.ThemeColour(),
                "The theme's colour, `\"#RRGGBB\"` in quotes, for its chips and headings; it must meet WCAG 2.2 AA "
                "contrast (a failing one is reported with a passing one). Default: a distinct colour from "
                "qsite's palette.", "", default_doc="from the palette"),
    ),
    ThemeDef,
    unknown="unknown key '{key}' in {parent}",
    listing="use {names}",
    missing=("this entry of '{parent}' has no '{key}'", None),
)

NAV = Schema(
    "a link",
    (
        Field("title", Text("'{key}' in {top} should be non-empty text"), "The link's text.", "", required=True),
        Field("url", Text("'{key}' in {top} should be non-empty text"),
                "Where it goes; a `url` starting with `/` is within the site.", "", required=True),
    ),
    NavLink,
    unknown="unknown key '{key}' in {parent}",
    listing="use {names}",
    missing=("this entry of '{parent}' has no '{key}'", None),
)

class Address(Text):
    """One email address, optionally with a name: ``Learning Together <digest@example.org>``."""

    def convert(self, value: Any, at: At) -> Any:
        from email.utils import parseaddr  # here, not at start-up: it imports socket, calendar… (~9 ms)

        text = super().convert(value, at)
        _name, addr = parseaddr(text)
        if "\n" in text or "\r" in text or "@" not in addr or " " in addr or addr.startswith("@") or addr.endswith("@"):
            raise Invalid(f"{at.name} should be an email address, not {text!r}",
                          f'for example: {at.leaf}: "Learning Together <digest@example.org>"')
        return text


DIGEST = Schema(
    "digest",
    (
        Field("period", Choice("month", "week"),
                "How often a learning digest edition is made: `month` (2020-04) or ISO `week` (2020-W16).", "month"),
        Field("subscribe_url", URL(("http", "https", "mailto"), "https://lists.example.org/digest"),
                "Where readers subscribe to the digest by email (a mailing list's page, a form or a `mailto:` "
                "link): shown on the home page, edition pages and in the email.", ""),
        Field("unsubscribe_url", URL(("http", "https", "mailto"), "mailto:digest-leave@example.org"),
                "Where subscribers leave: the email's unsubscribe line and `List-Unsubscribe` header. "
                "Default: `subscribe_url`.", ""),
        Field("from", Address(), "The sender of `qsite digest --eml/--send`, e.g. "
                "`Learning Together <digest@example.org>`.", "", attr="sender"),
        Field("to", Address(), "Where `qsite digest --eml/--send` sends the digest: the mailing list's address.", ""),
    ),
    DigestSettings,
    listing="known: {names}",
)

ACCESSIBILITY = Schema(
    "accessibility",
    (
        Field("contact", Text(),
                "Email address or URL where readers report an accessibility problem, or a page of the site "
                "(`/about/#contact`). `qsite check --strict` warns while it is unset.", ""),
        Field("reviewed", Day(), "Date the statement was last reviewed, YYYY-MM-DD.", None),
        Field("standard", Text(), "The standard the site aims to meet.", "WCAG 2.2 level AA"),
        Field("known_issues", ListOf(Text("each of {name} should be a line of text")),
                "Parts of the site known not to meet the standard, one line each.", ()),
        Field("testing", Text(collapse=True),
                "How the site is tested for accessibility, in a sentence or two, printed as written. Without it "
                "the statement says the site has not been tested, rather than claim a test nobody ran.", ""),
    ),
    AccessibilitySettings,
    listing="known: {names}",
)

COMMENTS = Schema(
    "comments",
    (
        Field("submit_url", URL(("http", "https", "mailto"), "mailto:editors@example.org"),
                "Where readers leave a comment: a form, an issue template or a `mailto:` link.", ""),
        Field("moderation", Text(), "The sentence under *Leave a comment* saying how moderation works.",
                MODERATION, default_doc="*An editor reads every comment…*"),
    ),
    CommentSettings,
    listing="known: {names}",
)

class Permalink(Text):
    """A post address scheme such as ``/:year/:month/:slug/`` (``urls.permalink_problem``)."""

    def convert(self, value: Any, at: Any) -> Any:
        text = super().convert(value, at)
        problem = urls.permalink_problem(text)
        if problem is not None:
            raise Invalid(*problem)
        return text


PERMALINKS = Schema(
    "permalinks",
    (
        Field("post", Permalink(), "The address of each post, from `:year`, `:month`, `:day` (of its date) and "
              "`:slug`, which it must contain: e.g. `/:year/:month/:day/:slug/`, for a blog whose posts of "
              "different years share a URL name. Changing it moves every post: see *Renaming a post*.",
              urls.DEFAULT_POST_PERMALINK),
    ),
    PermalinkSettings,
    listing="known: {names}",
)

SITE = Schema(
    "site.yaml",
    (
        Field("title", Text(), "The site's name, shown in the header, feeds and browser tab.", "", required=True),
        Field("description", Text(), "One sentence about the site, for the home page, feeds and link previews.", ""),
        Field("base_url", BASE_URL,
                "The absolute URL the site is published at, e.g. `https://example.org/q-blog/` (a sub-path works). "
                "`--base-url` overrides it.", "", required=True),
        Field("language", Text(), "Language tag (BCP 47) for `<html lang>` and feeds.", "en-GB"),
        Field("timezone", Timezone(), "The IANA zone in which dates are read and periods begin.", "Europe/London"),
        Field("author", Text(), "Author of posts that name none.", ""),
        Field("posts_per_page", Int(minimum=1), "Posts per page on the home, theme and tag lists.", 10),
        Field(
            "markdown_time_limit",
            Seconds(),
            "Seconds one post, page, comment or digest intro may take to convert from Markdown before the "
            "build stops with an error naming it (pathological text can take minutes).",
            5.0,
        ),
        Field("output_dir", Text(), "Where to build, relative to `site.yaml`. `--output` overrides it.", "output"),
        Field("nav", Entries(NAV), "Extra header links, each `{title, url}`.", ()),
        Field("themes", Entries(THEME, empty=("'themes' needs at least one theme", None)),
                "The ordered list of themes, each `{slug, title, description}`.", (), required=True),
        Field("digest", Section(DIGEST), "The learning digest: see *The learning digest*."),
        Field("accessibility", Section(ACCESSIBILITY), "The accessibility statement at `/accessibility/`."),
        Field("comments", Section(COMMENTS), "Readers' comments: see *Comments* under *Readers*."),
        Field("permalinks", Section(PERMALINKS), "The address scheme of posts."),
    ),
    _Values,
)


def parse_config(text: str, root: Path, path: str = "site.yaml") -> SiteConfig:
    """Validate every key at once; raises ConfigError listing all problems."""
    problems = Problems()
    try:
        doc = strict_yaml.load(text)
    except strict_yaml.YamlProblem as exc:
        raise ConfigError([Problem(path, exc.line, exc.message, exc.fix)]) from None
    if not isinstance(doc.value, dict):
        raise ConfigError([Problem(path, 1, "site.yaml must be a list of 'key: value' settings")])
    values: _Values = _load_partial(SITE, doc.value, path, doc, problems)
    _check_themes(values.themes, path, problems)
    if problems:
        raise ConfigError(problems.items)
    out = Path(values.output_dir)
    return SiteConfig(
        root=root,
        title=values.title,
        description=values.description,
        base_url=values.base_url,
        language=values.language,
        timezone=values.timezone,
        author=values.author,
        posts_per_page=values.posts_per_page,
        markdown_time_limit=values.markdown_time_limit,
        output_dir=out if out.is_absolute() else root / out,
        nav=values.nav,
        themes=colours.assign(values.themes),
        digest=values.digest,
        accessibility=values.accessibility,
        comments=values.comments,
        permalinks=values.permalinks,
    )


def _check_themes(themes: tuple[ThemeDef, ...], path: str, problems: Problems) -> None:
    """Site-wide, after the schema: a theme slug listed twice names the first line."""
    seen: dict[str, int] = {}
    for theme in themes:
        if theme.slug in seen:
            first = seen[theme.slug]
            problems.add(path, theme.line, f"theme '{theme.slug}' is listed twice (first on line {first})",
                         "remove one")
        else:
            seen[theme.slug] = theme.line


def check_base_url(url: str, where: str = "--base-url") -> str:
    """``url`` checked as site.yaml's base_url is (the same field type), with its trailing slash;
    raises ConfigError (exit 2) naming ``where``. For --base-url and qsite serve's address."""
    try:
        return _check_url(url, "base_url", BASE_URL.schemes, f"for example: {where} https://example.org/q-blog/",
                           folder=True)
    except Invalid as exc:
        raise ConfigError([Problem(where, None, exc.message, exc.fix)]) from None


def with_base_url(config: SiteConfig, url: str, where: str) -> SiteConfig:
    """``config`` published at ``url`` instead (checked by :func:`check_base_url`)."""
    return replace(config, base_url=check_base_url(url, where))


def load_config(root: Path, overrides: dict[str, Any] | None = None) -> SiteConfig:
    """Read ``root/site.yaml``; ``overrides`` come from the command line (base_url, output_dir)."""
    path = root / "site.yaml"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(
            [Problem(str(path), None, "there is no site.yaml here",
                     "run qsite in the site's folder, or pass --source DIR")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([Problem(str(path), None, f"cannot read site.yaml: {exc}")]) from None
    config = parse_config(text.replace("\r\n", "\n"), root.resolve())
    if overrides:
        changes = dict(overrides)
        if "base_url" in changes:
            changes["base_url"] = check_base_url(changes["base_url"])
        if "output_dir" in changes:
            out = Path(changes["output_dir"])
            changes["output_dir"] = out if out.is_absolute() else Path.cwd() / out
        config = replace(config, **changes)
    return config
