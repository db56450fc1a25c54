"""``qsite serve``'s shortcut for the common save: a post's body edited, nothing else.

A serve rebuild through the whole pipeline costs what the site is big (~0.55 s CPU at 5,000
posts, most of it steps that only carry the last rebuild's values over: grouping, the digest,
the plan, every page's key). When the files touched since the last full rebuild (the *base*)
are only posts whose front matter is unchanged, byte for byte in what it parses to, the model
has the base's shape: every list, group, edition, job and page holds the same posts in the same
places, and only what is made from those posts' bodies differs (their ``Rendered``, summary and
table of contents, which ``plan`` and ``group`` never copy out of the post: qsite/plan.py). So
the rebuild is the base with each edited post swapped for its new one, by identity, in the
site, its groups, the digest and the template globals (``Swap``), and only the pages that show
one of them rendered again: those whose context held the post or its body (the base's page
record names them, ``PlanRecord.trails``) and those whose template reads a global that holds it.

Each shortcut keeps what it made as the model the next one starts from, so a rebuild renders
the pages of its own edits only. The files touched since the base (the engine keeps gathering
them until a full rebuild reads the files) are read again each time and compared with the last
parse of each: one saved again unchanged costs a read, not a render. Anything else (a new,
deleted or renamed file, a changed title, date, tag or any front-matter field, site.yaml, a
template, an image in the body, a warning that would change, the clock passing a post's date or
an edition's end) takes the whole pipeline, which then becomes the base.
tests/test_serve_edit.py checks each against a fresh build.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import re
import stat
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from pathlib import PurePath
from typing import Any

from qsite.incremental.cache import read_and_parse
from qsite.incremental.engine import trails_holding
from qsite.markup import MarkdownError, Rendered
from qsite.model import Post, Site, make_post
from qsite.problems import ContentError, Problem
from qsite.render import Job, Once, Output, Renderer

# Post fields made from its body: the only ones an edit through this shortcut may change.
FROM_BODY = frozenset({"body", "summary", "summary_html", "toc"})
_SAME_FIELDS = tuple(f.name for f in dataclasses.fields(Post) if f.name not in FROM_BODY)


@dataclass
class Model:
    """What a full serve rebuild made, for the next ones to start from (``rebuild``)."""

    config: Any
    flags: tuple[bool, ...]  # the options that shape the site: drafts, future, serve, search
    now: datetime
    valid_until: datetime | None  # when "now" next changes the site (``engine.valid_until``)
    site: Site
    groups: Any
    digest: Any
    jobs: list[Job]
    outputs: list[Output]  # the jobs' pages in plan order, then every other file
    warnings: list[Problem]
    assets: list[Any]
    renderer: Renderer
    deps: Any  # the base's TemplateDeps: which names each template reads
    record: Any  # the base's PlanRecord: which content files each page's context held
    checks: tuple[Callable[[Any], Iterable[Problem]], ...]  # the per-file checks of the content step
    limit: float  # Markdown's time limit
    metas: dict[str, Any]  # a post's file → its validated front matter
    docs: dict[str, Any] = field(default_factory=dict)  # a post's file → its parse, if edited since the base
    posts: dict[str, int] = field(default_factory=dict)  # a post's file → its index in site.posts
    rendered: int = 0  # pages this model's rebuild rendered (the base: none, for this count)

    def __post_init__(self) -> None:
        if not self.posts:
            self.posts = {post.source: i for i, post in enumerate(self.site.posts)}

    def showing(self, source: str) -> set[int]:
        """The indexes of the jobs whose context held ``source``'s post or body (its trail),
        found as ``Engine._carried`` finds them."""
        number = self.record.numbers.get(source)
        return trails_holding(self.record.trails, [number]) if number is not None else set()

def keep(
    engine: Any, config: Any, options: Any, result: Any, jobs: list[Job], renderer: Renderer, content: Any,
    valid_until: datetime | None, checks: tuple[Callable[[Any], Iterable[Problem]], ...],
) -> None:
    """Keep a full rebuild as the base of the next ones, if its engine lives on (serve's) and
    it recorded every page's trail."""
    run = engine.last_run
    record = engine.kept_plan()
    if record is None or run is None or run.deps is None or record.files != [job.file for job in jobs]:
        return
    engine.keep_model(Model(
        config, _flags(options), options.now, valid_until, result.site, result.groups, result.digest, jobs,
        list(result.outputs), list(result.warnings), result.assets, renderer, run.deps, record, checks,
        config.markdown_time_limit, {m.source: m for m in content.metas if m.kind == "post"},
    ))


def _flags(options: Any) -> tuple[bool, ...]:
    return (options.drafts, options.future, options.serve, options.search)


def rebuild(engine: Any, config: Any, options: Any, result: Callable[..., Any]) -> Any:
    """The build a full rebuild would make, from the kept model (``keep``, or the last
    shortcut's), if only posts' bodies changed since the base; else None. ``result(...)``
    makes the ``BuildResult``."""
    model: Model | None = engine.kept_model
    if model is None or config != model.config or _flags(options) != model.flags:
        return None
    now = options.now
    if now < model.now or (model.valid_until is not None and now >= model.valid_until):
        return None
    touched = engine.touched_since_read()
    if touched is None:
        return None
    edited: dict[int, tuple[Post, Post]] = {}
    docs = dict(model.docs)
    for rel in sorted(touched):
        if rel not in model.posts:
            if engine.no_source(rel):  # beside the sources, or an editor's temporary file gone again
                continue
            return None
        swapped = _edited_post(engine, model, rel, now)
        if swapped is None:
            return None
        old, new, docs[rel] = swapped
        if new is not old:
            edited[id(old)] = (old, new)
    if not edited:
        return result(model.site, model.groups, model.digest, list(model.outputs), len(model.jobs))
    made = _swapped(model, edited)
    if made is None:
        return None
    model = dataclasses.replace(made, docs=docs)
    engine.keep_model(model)  # the next save starts from this one: only its own edits are swapped
    return result(model.site, model.groups, model.digest, list(model.outputs), len(model.jobs) - made.rendered)


def _edited_post(engine: Any, model: Model, rel: str, now: datetime) -> tuple[Post, Post, Any] | None:
    """(the model's post of ``rel``, the post its file makes now, its parse): the same post if
    its file is as the model read it; None if the edit is more than the body's."""
    old = model.site.posts[model.posts[rel]]
    before = model.docs.get(rel) or engine.kept_document(rel, "post")
    path = model.config.root / rel
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None  # a link or a folder now: the walk decides what it is (content.link_problem)
        _hash, _stat, _checked, doc = read_and_parse(path, rel, "post")
    except OSError:
        return None
    if before is None or isinstance(doc, Problem):
        return None
    if not _same_front(before, doc):
        return None
    if doc.body == before.body:
        return old, old, before
    for check in model.checks:  # the warnings of the file's body: the base's must still hold
        if [str(p) for p in check(before)] != [str(p) for p in check(doc)]:
            return None
    meta = model.metas.get(rel)
    if meta is None:
        return None
    body = engine.markdown(doc.body, model.config.base_path, model.limit)
    if isinstance(body, MarkdownError) or "<img" in body.html or "<img" in old.body.html:
        return None  # images are sized and copied by the pages showing them (qsite/images.py)
    new = make_post(
        dataclasses.replace(meta, body=doc.body), body, model.site.urls, now, model.config.permalinks.post,
        old.credits,
    )
    if any(getattr(new, name) != getattr(old, name) for name in _SAME_FIELDS):
        return None
    return old, new, doc


def _same_front(before: Any, after: Any) -> bool:
    """Whether two parses of one file have the same front matter: the same values of the same
    types (``repr``: YAML's ``1`` and ``true`` are equal in Python), at the same lines."""
    return (
        before.rel == after.rel and before.kind == after.kind and before.body_line == after.body_line
        and before.front_line == after.front_line and before.lines == after.lines
        and repr(before.meta) == repr(after.meta)
    )


def _swapped(model: Model, edited: dict[int, tuple[Post, Post]]) -> Model | None:
    """``model`` with the ``edited`` posts swapped in (old post's id → (it, the new one)) and
    the pages showing them rendered again (``Model.rendered``: how many), or None if a value
    cannot be swapped or a page fails (the whole pipeline then says why, as a fresh build would)."""
    swap = Swap(edited)
    try:
        site = dataclasses.replace(model.site, posts=swap(model.site.posts))
        groups = swap(model.groups)
        digest = swap(model.digest)
        base = model.renderer.env.globals
        globals_ = {name: swap(value) for name, value in base.items()}
    except Unswappable:
        return None
    changed = {name for name, value in globals_.items() if value is not base[name]}
    renderer = Renderer(
        site, groups, model.renderer.templates, serve=model.renderer.env.globals["serve_mode"],
        search=model.renderer.env.globals["search_enabled"], bytecode_cache=model.renderer.env.bytecode_cache,
    )
    renderer.env.globals.update(globals_)
    renderer.env.globals["once"] = Once()  # what it keeps was made with the base's globals
    todo: set[int] = set()
    for old, _new in edited.values():
        todo.update(model.showing(old.source))
    if changed:
        reads: dict[str, bool] = {}
        for i, job in enumerate(model.jobs):
            uses = reads.get(job.template)
            if uses is None:
                uses = reads[job.template] = bool(changed & model.deps.of(job.template)[1])
            if uses:
                todo.add(i)
    outputs = list(model.outputs)
    jobs = list(model.jobs)
    try:
        for i in sorted(todo):
            job = jobs[i]
            context = swap(job.context)
            if context is not job.context:
                job = jobs[i] = Job(job.template, job.path, context, job.source, job.mail)
            outputs[i] = renderer.render(job)
    except (ContentError, Unswappable):
        return None
    made = dataclasses.replace(
        model, site=site, groups=groups, digest=digest, jobs=jobs, outputs=outputs, renderer=renderer,
    )
    made.rendered = len(todo)
    return made


class Unswappable(Exception):
    """A value ``Swap`` cannot look inside: the rebuild takes the whole pipeline."""


_LEAF_TYPES = {str, int, float, bool, type(None), bytes, datetime, date, time, timedelta}
_LEAF_CLASSES = (str, int, float, bytes, date, time, timedelta, tzinfo, PurePath, enum.Enum, re.Pattern)
# what ``Swap`` does with a value, by its type
_LEAF, _QUIET, _POST, _TUPLE, _LIST, _DICT, _SET, _DATA, _UNKNOWN = range(9)
_KINDS: dict[type, int] = {cls: _LEAF for cls in _LEAF_TYPES}
_KINDS[Post] = _POST
_CALM: set[type] = {*_LEAF_TYPES, Post}  # types whose values are posts or hold none


def _kind(cls: type) -> int:
    kind = _KINDS.get(cls)
    if kind is None:
        if cls is tuple or cls is list or cls is dict or cls is set or cls is frozenset:
            kind = {tuple: _TUPLE, list: _LIST, dict: _DICT}.get(cls, _SET)
        elif dataclasses.is_dataclass(cls):
            kind = _QUIET if _holds_no_post(cls) else _DATA
        elif issubclass(cls, (*_LEAF_CLASSES, type)) or (
            any("__call__" in vars(c) for c in cls.__mro__) and not issubclass(cls, Mapping | Sequence)
        ):
            kind = _LEAF  # texts, dates, paths, classes, and the globals' functions and their Once
        else:
            kind = _UNKNOWN
        _KINDS[cls] = kind
        if kind in (_LEAF, _QUIET):
            _CALM.add(cls)
    return kind


class Swap:
    """``swap(value)``: ``value`` with each edited post in it replaced by its new one, and every
    tuple, list, dict and dataclass on the way to one made again; anything holding none of them
    is returned as it is (the same object), so a caller tells what changed by identity.
    Memoised by identity, so a value shared by many (a theme, an edition) is made once and
    stays shared. A dataclass field whose type cannot hold a post (a theme's links, a post's
    neighbours) is not looked into. Raises ``Unswappable`` for an object it cannot look inside."""

    def __init__(self, edited: dict[int, tuple[Post, Post]]):
        self.edited = edited
        # by id alone: the old posts are alive (``edited`` holds them), so no other object has their ids
        self.news = {key: new for key, (_old, new) in edited.items()}
        self.memo: dict[int, tuple[object, object]] = {}

    def post(self, value: Post) -> Post:
        return self.news.get(id(value), value)

    def __call__(self, value: Any) -> Any:
        cls = type(value)
        kind = _KINDS.get(cls)
        if kind is None:
            kind = _kind(cls)
        if kind <= _QUIET:
            return value
        if kind == _POST:
            return self.post(value)
        known = self.memo.get(id(value))
        if known is not None and known[0] is value:
            return known[1]
        new = self._made(value, kind)
        self.memo[id(value)] = (value, new)
        return new

    def _items(self, items: Any) -> list[Any] | None:
        """The items swapped, or None if none changed. Items that are all posts or hold none
        (a theme's posts, a list of links) are checked by their ids in one pass."""
        if _CALM.issuperset(map(type, items)):
            if self.edited.keys().isdisjoint(map(id, items)):
                return None
            made = list(map(self.news.get, map(id, items), items))
        else:
            made = [self(item) for item in items]
        return None if all(a is b for a, b in zip(made, items, strict=True)) else made

    def _made(self, value: Any, kind: int) -> Any:
        if kind in (_TUPLE, _LIST):
            items = self._items(value)
            return value if items is None else type(value)(items)
        if kind == _DICT:
            if not _CALM.issuperset(map(type, value)):
                raise Unswappable("a dict keyed by more than texts")
            values = self._items(list(value.values()))
            return value if values is None else dict(zip(value, values, strict=True))
        if kind == _SET:
            if self._items(list(value)) is not None:
                raise Unswappable("a post in a set")
            return value
        if kind == _DATA:
            cls = type(value)
            names = _post_fields(cls)
            try:  # every field in the instance's dict (no slots), as ``made`` below puts them back
                olds = [value.__dict__[name] for name in names]
                news = [self(item) for item in olds]
                if all(a is b for a, b in zip(news, olds, strict=True)):
                    return value
                made = object.__new__(cls)  # as the dataclass made it, with the swapped fields; no cached properties
                made.__dict__.update((f.name, value.__dict__[f.name]) for f in dataclasses.fields(cls))
            except (AttributeError, KeyError):
                raise Unswappable(f"{cls.__name__} keeps a field outside its dict") from None
            made.__dict__.update(zip(names, news, strict=True))
            return made
        raise Unswappable(f"cannot look inside a {type(value).__name__}")


_NO_POST: dict[type, bool] = {}
_POST_FIELDS: dict[type, list[str]] = {}


def _post_fields(cls: type) -> list[str]:
    """The fields of the dataclass ``cls`` whose type may hold a post: all of them if its
    annotations cannot be read."""
    names = _POST_FIELDS.get(cls)
    if names is None:
        fields = [f.name for f in dataclasses.fields(cls)]
        try:
            hints = typing.get_type_hints(cls)
            names = [name for name in fields if not _type_holds_no_post(hints[name])]
        except Exception:  # an annotation naming what is imported for type checking only
            names = fields
        _POST_FIELDS[cls] = names
    return names


def _holds_no_post(cls: type) -> bool:
    """Whether no value of the dataclass ``cls`` can hold a post, by its fields' types (a field
    typed ``Any``, a type variable or a name that does not resolve may hold anything)."""
    known = _NO_POST.get(cls)
    if known is None:
        _NO_POST[cls] = False  # while working it out (a class holding itself): may hold one, so looked inside
        known = _NO_POST[cls] = not _post_fields(cls)
    return known


def _type_holds_no_post(hint: Any) -> bool:
    if hint is Any or hint is Post or isinstance(hint, typing.TypeVar):
        return False
    args = typing.get_args(hint)
    if typing.get_origin(hint) is not None:
        return all(arg is Ellipsis or _type_holds_no_post(arg) for arg in args)
    if not isinstance(hint, type):
        return False
    if hint in _LEAF_TYPES or issubclass(hint, _LEAF_CLASSES) or hint is Rendered:
        return True
    if dataclasses.is_dataclass(hint):
        return _holds_no_post(hint)
    return False
