"""One declarative schema for every YAML file an editor writes, after MkDocs' ``config_options``.

``site.yaml`` and its sections, post and page front matter, digest edition files and comments
are each declared once, here or next to the step that owns them, as a :class:`Schema`: an
ordered tuple of :class:`Field` (name, type, default, required, help). Loading a mapping
against a schema runs every field and reports *every* problem at once as a
``Problem(path, line, message, fix)`` at the YAML line of the offending value (the strict YAML
reader keeps the lines), reports unknown keys with a did-you-mean (the only place that loop is
written), and yields a frozen dataclass carrying its file and line. The same declarations
render the README's field tables (:func:`markdown_table`), so help text lives only here.

What a type alone cannot check (a comment's post exists, duplicate slugs, a pick's period)
stays in the step that owns it, after the schema, working on the typed values.

Public API, for adding a field later: declare a :class:`Field` in the schema of the file it
belongs to (and, for a new attribute, a field of the schema's dataclass); types are
:class:`Text`, :class:`Bool`, :class:`Int`, :class:`Choice`, :class:`Date`, :class:`Day`,
:class:`Timezone`, :class:`URL`, :class:`Slug`, :class:`ThemeRef`, :class:`ListOf`,
:class:`Section` and :class:`Entries`; a new type subclasses :class:`Type` and raises
:class:`Invalid` from ``convert``.
"""

from __future__ import annotations

import dataclasses
import re
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any, Protocol
from urllib.parse import urlsplit

from qsite.problems import Problems, did_you_mean
from qsite.urls import SLUG_RE, slugify

Key = tuple[str | int, ...]

# A URL name longer than this is refused: most file systems refuse a file name of 255 bytes,
# and a URL nobody can read out is no use to an editor anyway.
MAX_SLUG = 100

_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_DAY_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: Any, tz: tzinfo) -> datetime | str:
    """A front-matter date → an aware datetime, or a message saying what is wrong with it.

    Dates without a time are midnight in the site's timezone, so a post "on 31 March" stays on
    31 March for readers of the site, whatever the build machine's zone is. A date with its own
    offset is converted into the site's zone, so the day shown, the archive month and the
    digest period all agree.
    """
    if isinstance(value, datetime):
        return value.astimezone(tz) if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime.combine(value, time(), tz)
    if not isinstance(value, str):
        return f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2020-04-14"
    text = value.strip()
    if not _DATE_SHAPE.match(text):
        return f"{text!r} is not a date; write it as YYYY-MM-DD or YYYY-MM-DD HH:MM, e.g. 2020-04-14"
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        return f"{text!r} is not a real date ({exc})"
    return parsed.astimezone(tz) if parsed.tzinfo else parsed.replace(tzinfo=tz)


class Invalid(Exception):
    """Raised by a type's ``convert``: the value is wrong; the loader reports it at its line."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix


class Lines(Protocol):
    """Anything that knows the file line of a key path (strict_yaml.Document, SourceDoc)."""

    def line(self, *key: str | int) -> int: ...


@dataclass(frozen=True)
class Context:
    """What some types need from outside the file: the site's timezone and theme slugs."""

    tz: tzinfo | None = None
    themes: tuple[str, ...] = ()


@dataclass
class At:
    """Where a value is (file, key path, the name shown to editors), and where its problems go."""

    path: str
    lines: Lines
    problems: Problems
    context: Context = Context()
    key: Key = ()
    name: str = ""

    def line(self, *sub: str | int) -> int:
        return self.lines.line(*self.key, *sub)

    def child(self, sub: str | int, name: str | None = None) -> At:
        # Made directly, not with dataclasses.replace: this runs for every value of every file
        # on every build, and replace's checks were a fifth of reading 5,000 posts' front matter.
        shown = self.name if name is None else name
        return At(self.path, self.lines, self.problems, self.context, (*self.key, sub), shown)

    def report(self, message: str, fix: str | None = None, severity: str = "error") -> None:
        self.problems.add(self.path, self.line(), message, fix, severity)

    @property
    def leaf(self) -> str:
        """The last key (``period`` for ``digest.period``), as an editor types it in a fix."""
        keys = [k for k in self.key if isinstance(k, str)]
        return keys[-1] if keys else self.name

    @property
    def errors(self) -> int:
        return len(self.problems.errors)


def _say(template: str, at: At, value: Any = None, **more: Any) -> str:
    """Fill a message template: ``{name}`` (``digest.period``), ``{key}`` (``period``), ``{top}``
    (``digest``, or ``themes`` for a theme's field), ``{value}`` and ``{themes}`` (the site's)."""
    top = at.key[0] if at.key else at.name
    return template.format(
        name=at.name, key=at.leaf, top=top, value=value, themes=", ".join(at.context.themes), **more
    )


# ---------------------------------------------------------------------------------------------
# Types


class Type:
    """Validates and converts one raw YAML value. ``null_is_absent``: ``key:`` with no value
    counts as not given (a list or date left empty), rather than as a wrong value."""

    null_is_absent = True

    def convert(self, value: Any, at: At) -> Any:
        raise NotImplementedError


def _not_text(value: Any, at: At) -> Invalid | None:
    """Item 10 of issue 9: a text field that YAML read as a number, true/false or null is
    never silently turned into other text (``title: 1.10`` would become "1.1")."""
    quote = f'put it in quotes so it stays as you typed it: {at.leaf}: "…"'
    if value is None:
        return Invalid(f"'{at.name}' has no value (YAML reads an empty value, ~ or null as nothing)", quote)
    if isinstance(value, bool):
        return Invalid(f"'{at.name}' is read as {str(value).lower()}, not as text", quote)
    if isinstance(value, int | float):
        return Invalid(f"'{at.name}' is read as the number {value!r}, not as text", quote)
    return None


class Text(Type):
    """A line of text, stripped (and with inner whitespace collapsed if ``collapse``)."""

    null_is_absent = False

    def __init__(self, message: str = "'{name}' should be text, not {value!r}", fix: str | None = None,
                 *, collapse: bool = False):
        self.message, self.fix, self.collapse = message, fix, collapse

    def convert(self, value: Any, at: At) -> Any:
        problem = _not_text(value, at)
        if problem is not None:
            raise problem
        if not isinstance(value, str) or not value.strip():
            raise Invalid(_say(self.message, at, value), self.fix and _say(self.fix, at, value))
        return " ".join(value.split()) if self.collapse else value.strip()


class Bool(Type):
    null_is_absent = False

    def convert(self, value: Any, at: At) -> Any:
        if not isinstance(value, bool):
            raise Invalid(f"{at.name} should be true or false, not {value!r}", f"{at.leaf}: true")
        return value


class Int(Type):
    null_is_absent = False

    def __init__(self, minimum: int | None = None, maximum: int | None = None):
        self.minimum, self.maximum = minimum, maximum

    def convert(self, value: Any, at: At) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(f"'{at.name}' should be a whole number, not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise Invalid(f"{at.name} must be at least {self.minimum}")
        if self.maximum is not None and value > self.maximum:
            raise Invalid(f"{at.name} must be at most {self.maximum}")
        return value


class Seconds(Type):
    """A duration in seconds, above 0 and under a day: a whole or decimal number."""

    null_is_absent = False

    def convert(self, value: Any, at: At) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Invalid(f"'{at.name}' should be a number of seconds, not {value!r}", f"{at.leaf}: 5")
        if not 0 < value < 86400:
            raise Invalid(f"{at.name} must be a number of seconds above 0", f"{at.leaf}: 5")
        return float(value)


class Choice(Type):
    null_is_absent = False

    def __init__(self, *choices: str):
        self.choices = choices

    def convert(self, value: Any, at: At) -> Any:
        if value in self.choices:
            return value
        guess = did_you_mean(str(value), self.choices)
        raise Invalid(
            f"'{at.name}' should be one of {', '.join(self.choices)}, not {value!r}",
            f"did you mean '{guess}'?" if guess else None,
        )


class Date(Type):
    """A date, or a date and time, read in the site's timezone (``Context.tz``)."""


    def convert(self, value: Any, at: At) -> Any:
        assert at.context.tz is not None, "a Date field needs the site's timezone in its Context"
        parsed = parse_date(value, at.context.tz)
        if isinstance(parsed, str):
            raise Invalid(parsed)
        return parsed


class Day(Type):
    """A calendar day, ``YYYY-MM-DD``, with no time or zone (a review date)."""

    null_is_absent = False

    def convert(self, value: Any, at: At) -> Any:
        text = value.strip() if isinstance(value, str) else ""
        if _DAY_SHAPE.match(text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        raise Invalid(f"{at.name} should be a date, not {value!r}", f"for example: {at.leaf}: 2024-03-01")


class Timezone(Text):
    def convert(self, value: Any, at: At) -> Any:
        text = super().convert(value, at)
        try:
            zoneinfo.ZoneInfo(text)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"unknown timezone {text!r}", "for example: Europe/London") from None
        return text


class URL(Text):
    """An absolute URL with one of ``schemes``. ``folder``: the URL is a folder, never a
    query or #fragment, and always ends in ``/`` (a site's base URL)."""

    def __init__(self, schemes: tuple[str, ...] = ("http", "https"), example: str = "https://example.org/",
                 *, folder: bool = False):
        super().__init__()
        self.schemes, self.example, self.folder = schemes, example, folder

    def convert(self, value: Any, at: At) -> Any:
        text = super().convert(value, at)
        return check_url(text, at.name, self.schemes, f"for example: {at.leaf}: {self.example}", folder=self.folder)


def check_url(text: str, name: str, schemes: tuple[str, ...], fix: str | None, *, folder: bool = False) -> str:
    """The URL checks of :class:`URL`, for values that come from elsewhere (``--base-url``)."""
    parts = urlsplit(text)
    web = all(s in ("http", "https") for s in schemes)
    if parts.scheme not in schemes or (parts.scheme in ("http", "https") and not parts.netloc):
        kinds = "an absolute http(s) URL" if web else f"an {' or '.join(_schemes(schemes))} link"
        verb = "must be" if folder else "should be"
        raise Invalid(f"{name} {verb} {kinds}, not {text!r}", fix)
    if folder:
        if parts.query or parts.fragment:
            raise Invalid(f"{name} cannot have a query or #fragment")
        return text if text.endswith("/") else text + "/"
    return text


def _schemes(schemes: tuple[str, ...]) -> list[str]:
    named = ["http(s)"] if "https" in schemes else []
    return named + [f"{s}:" for s in schemes if s not in ("http", "https")]


class Slug(Type):
    """A URL name: lower-case letters, digits and single hyphens, at most ``MAX_SLUG`` long."""

    null_is_absent = False

    def __init__(self, message: str = "{key} {value!r} can only have lower-case letters, digits and single hyphens",
                 fix: str = "{key}: {suggestion}"):
        self.message, self.fix = message, fix

    def convert(self, value: Any, at: At) -> Any:
        problem = _not_text(value, at)
        if problem is not None:
            raise problem
        if not isinstance(value, str) or not SLUG_RE.match(value):
            suggestion = short_slug(slugify(str(value)))
            raise Invalid(
                _say(self.message, at, value),
                _say(self.fix, at, value, suggestion=suggestion) if suggestion else f"remove the {at.leaf} line",
            )
        if len(value) > MAX_SLUG:
            raise Invalid(too_long(at.leaf, value), f"{at.leaf}: {short_slug(value)}")
        return value


def too_long(what: str, slug: str) -> str:
    return f"{what} {slug[:20]}… is {len(slug)} characters long; a URL name can have at most {MAX_SLUG}"


def short_slug(slug: str) -> str:
    """``slug`` cut to ``MAX_SLUG`` at a hyphen, for a fix an editor can paste."""
    if len(slug) <= MAX_SLUG:
        return slug
    cut = slug[: MAX_SLUG + 1]
    return cut[: cut.rfind("-")] if "-" in cut else slug[:MAX_SLUG]


class ThemeRef(Type):
    """The slug of one of the site's themes (``Context.themes``)."""

    null_is_absent = False

    def convert(self, value: Any, at: At) -> Any:
        themes = at.context.themes
        if not isinstance(value, str) or value not in themes:
            guess = did_you_mean(slugify(str(value)), themes) if value is not None else None
            fix = f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(themes)}"
            raise Invalid(f"there is no theme {value!r}", fix)
        return value


class ListOf(Type):
    """A list of ``item`` values, as a tuple. ``one_ok``: a single value counts as a list of one.
    Bad items are reported at their own line and left out. Messages are templates taking
    ``{name}``, ``{key}``, ``{themes}``, ``{count}``, ``{max}`` and (duplicates) ``{item}``."""

    def __init__(
        self,
        item: Type,
        message: str = "'{name}' should be a list",
        fix: str | None = None,
        *,
        one_ok: bool = False,
        empty: tuple[str, str | None] | None = None,
        maximum: int | None = None,
        too_many: str = "there are {count} items; keep it to {max} at most",
        duplicate: str | None = None,
        duplicate_fix: str | None = None,
    ):
        self.item, self.message, self.fix, self.one_ok = item, message, fix, one_ok
        self.empty, self.maximum, self.too_many = empty, maximum, too_many
        self.duplicate, self.duplicate_fix = duplicate, duplicate_fix

    def convert(self, value: Any, at: At) -> Any:
        keyed = isinstance(value, list)
        if not keyed and self.one_ok and not isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            raise Invalid(_say(self.message, at), self.fix and _say(self.fix, at))
        if not value and self.empty:
            raise Invalid(_say(self.empty[0], at), self.empty[1] and _say(self.empty[1], at))
        if self.maximum is not None and len(value) > self.maximum:
            raise Invalid(_say(self.too_many, at, count=len(value), max=self.maximum))
        items: list[Any] = []
        for i, raw in enumerate(value):
            where = at.child(i) if keyed else at
            try:
                item = self.item.convert(raw, where)
            except Invalid as exc:
                if not isinstance(exc, _Reported):
                    where.report(exc.message, exc.fix)
                continue
            if self.duplicate is not None and item in items:
                where.report(_say(self.duplicate, at, item=item), self.duplicate_fix)
                continue
            items.append(item)
        return tuple(items)


class Section(Type):
    """A nested mapping with a schema of its own (``digest:`` in site.yaml)."""

    def __init__(self, schema: Schema):
        self.schema = schema

    def convert(self, value: Any, at: At) -> Any:
        if not isinstance(value, dict):
            raise Invalid(f"'{at.name}' should be a mapping of 'key: value' lines")
        return self.schema.load_partial(value, at)

    def default(self) -> Any:
        return self.schema.make({}, None)


class Entries(ListOf):
    """A list of small mappings, each checked against ``schema`` (themes, nav links)."""

    def __init__(self, schema: Schema, empty: tuple[str, str | None] | None = None):
        super().__init__(_Entry(schema), empty=empty)
        self.schema = schema


class _Entry(Type):
    null_is_absent = False

    def __init__(self, schema: Schema):
        self.schema = schema

    def convert(self, value: Any, at: At) -> Any:
        names = ", ".join(f.name for f in self.schema.fields)
        if not isinstance(value, dict):
            raise Invalid(f"each entry of '{at.name}' needs {names}")
        before = at.errors
        record = self.schema.load_partial(value, at)
        if at.errors > before:
            raise _Reported()
        return record


class _Reported(Invalid):
    """An entry whose problems were already reported one by one: only leave it out."""

    def __init__(self) -> None:
        super().__init__("")


# ---------------------------------------------------------------------------------------------
# Fields and schemas

@dataclass(frozen=True)
class Field:
    """One key. ``default`` is used when the key is absent (and, for a required key, as a
    placeholder while its problem is reported); ``missing`` is (message, fix) when a required
    key is absent; ``required_doc`` says in the README when a key that is not always required
    is ("unless the file name starts with it")."""

    name: str
    type: Type
    help: str
    default: Any = None
    required: bool = False
    missing: tuple[str, str | None] | None = None
    required_doc: str | None = None
    default_doc: str | None = None
    required_with: str | None = None  # required whenever this other field is given (image → image_alt)
    attr: str | None = None  # the dataclass attribute, where the key is a Python keyword (``from``)

    @property
    def attribute(self) -> str:
        return self.attr or self.name

    def default_value(self) -> Any:
        if isinstance(self.type, Section):
            return self.type.default()
        return self.default


@dataclass(frozen=True)
class Schema:
    """An ordered declaration of fields, and the dataclass a loaded mapping becomes.

    ``unknown`` and ``listing`` word the problem for a key the schema does not have (templates
    taking ``{key}``, ``{full}`` (dotted) and ``{names}``); ``missing`` the default problem for
    an absent required key. ``make``'s dataclass may have ``source`` and ``line`` fields: they
    get the file and the line of the mapping.
    """

    title: str
    fields: tuple[Field, ...]
    make_type: Callable[..., Any]
    unknown: str = "unknown setting '{full}'"
    listing: str = "known settings: {names}"
    missing: tuple[str, str | None] = ("'{full}' is required", "add a line '{key}: …'")

    def __post_init__(self) -> None:
        """A field the dataclass cannot hold would be read, checked and then silently dropped:
        refuse the declaration instead, when qsite is imported."""
        holds = {f.name for f in dataclasses.fields(self.make_type)}
        lost = [f.name for f in self.fields if f.attribute not in holds]
        if lost:
            raise TypeError(f"{self.make_type.__name__} has no field for {', '.join(lost)} of the {self.title} schema")
        names = self.names()
        if len(set(names)) != len(names):
            raise TypeError(f"the {self.title} schema declares a field twice")

    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def make(self, values: Mapping[str, Any], at: At | None) -> Any:
        wanted = {f.name for f in dataclasses.fields(self.make_type)}
        kwargs = {k: v for k, v in values.items() if k in wanted}
        if at is not None and "source" in wanted:
            kwargs["source"] = at.path
        if at is not None and "line" in wanted:
            kwargs["line"] = at.line()
        return self.make_type(**kwargs)

    def load(self, data: Any, at: At) -> Any | None:
        """The typed value of ``data``, or None after reporting every problem to ``at``."""
        before = at.errors
        if data is not None and not isinstance(data, dict):
            at.report(f"{self.title} must be 'key: value' lines")
            return None
        record = self.load_partial(data or {}, at)
        return None if at.errors > before else record

    def load_partial(self, data: Mapping[str, Any], at: At) -> Any:
        """Like :meth:`load`, but always a value: a bad or missing field takes its default, so
        the caller can go on to its own cross-field checks and report those too."""
        fields = {f.name: f for f in self.fields}
        prefix = "".join(f"{k}." for k in at.key if isinstance(k, str))
        for key in data:
            if key not in fields:
                guess = did_you_mean(key, fields)
                at.child(key).report(
                    self.unknown.format(key=key, full=prefix + key, parent=at.name),
                    f"did you mean '{guess}'?" if guess else self.listing.format(names=", ".join(fields)),
                )
        values: dict[str, Any] = {}
        for f in self.fields:
            where = at.child(f.name, prefix + f.name)
            raw = data.get(f.name)
            if f.name not in data or (raw is None and f.type.null_is_absent):
                if f.required:
                    message, fix = f.missing or self.missing
                    words = {"key": f.name, "full": prefix + f.name, "parent": at.name,
                             "themes": ", ".join(at.context.themes)}
                    (where if f.name in data else at).report(message.format(**words), fix and fix.format(**words))
                values[f.attribute] = f.default_value()
                continue
            try:
                values[f.attribute] = f.type.convert(raw, where)
            except Invalid as exc:
                if not isinstance(exc, _Reported):
                    where.report(exc.message, exc.fix)
                values[f.attribute] = f.default_value()
        for f in self.fields:  # a field needed only beside another: reported at the other's line
            if f.required_with and f.name not in data and data.get(f.required_with) is not None:
                at.child(f.required_with).report(
                    f"'{prefix + f.name}' is required when '{prefix + f.required_with}' is given",
                    f"add a line '{f.name}: …'",
                )
        return self.make(values, at)


def load(schema: Schema, data: Any, path: str, lines: Lines, problems: Problems, context: Context = Context()) -> Any:
    """Load a whole file's mapping; every problem goes to ``problems``; None if there were any."""
    return schema.load(data, At(path, lines, problems, context))


def load_partial(
    schema: Schema, data: Mapping[str, Any], path: str, lines: Lines, problems: Problems, context: Context = Context()
) -> Any:
    return schema.load_partial(data, At(path, lines, problems, context))


# ---------------------------------------------------------------------------------------------
# Documentation


def markdown_table(schema: Schema) -> str:
    """The README table of ``schema``: one row per key (nested keys as ``digest.period`` and
    ``themes[].slug``), with its default (or when it is required) and its help."""
    rows = ["| key | default | what it is |", "| --- | --- | --- |"]
    rows += _rows(schema, "")
    return "\n".join(rows) + "\n"


def _rows(schema: Schema, prefix: str) -> list[str]:
    rows = []
    for f in schema.fields:
        name = prefix + f.name
        rows.append(f"| `{name}` | {_default_doc(f)} | {f.help} |")
        if isinstance(f.type, Section):
            rows += _rows(f.type.schema, name + ".")
        elif isinstance(f.type, Entries):
            rows += _rows(f.type.schema, name + "[].")
    return rows


def _default_doc(f: Field) -> str:
    if f.required_doc:
        return f.required_doc
    if f.required:
        return "required"
    if f.required_with:
        return f"required with `{f.required_with}`"
    if f.default_doc is not None:
        return f.default_doc
    if isinstance(f.type, Section | Entries) or f.default in (None, ()):
        return "none"
    if isinstance(f.default, bool):
        return f"`{str(f.default).lower()}`"
    if f.default == "":
        return '`""`'
    return f"`{f.default}`"
