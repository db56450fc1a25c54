"""The pipeline, top to bottom: config → content → model → grouping → plan → render → write → index.

``build`` (to disk) and ``render_site`` (in memory: ``check``, ``serve``, ``digest --print``)
call the same steps, each once, in that order; they differ only in the sink the render step
writes to (``StageSink`` or ``MemorySink``). Neither parses arguments nor prints.

The slow steps go through ``parallel.Workers`` (several processes) and the engine
(``qsite/incremental/engine.py``), which reuses what an earlier build made when its inputs are
unchanged; the steps never build cache keys themselves. Neither changes a byte of the output.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from qsite import authors as profiles
from qsite import cards, digest, images, markup, model, parallel, search
from qsite.comments import read_comments
from qsite.config import SiteConfig
from qsite.content import Asset, SourceDoc, find_content
from qsite.digest import Digest
from qsite.editions import Curation, read_curations
from qsite.grouping import Groups, group
from qsite.incremental import edit, fastpath
from qsite.incremental.cache import FOLDER as CACHE_FOLDER
from qsite.incremental.cache import read_and_parse
from qsite.incremental.cache import remove as remove_cache
from qsite.incremental.engine import Engine, PageRun, valid_until
from qsite.model import (
    Meta,
    Page,
    Post,
    SeriesDef,
    Site,
    check_collisions,
    check_shared_slugs,
    is_published,
    make_page,
    make_post,
    read_meta,
)
from qsite.parallel import Workers
from qsite.plan import plan
from qsite.problems import ContentError, Problem
from qsite.render import Job, Output, Renderer, forbidden_in_xml, static_outputs
from qsite.series import check_series, read_series
from qsite.urls import Urls, page_path, post_path
from qsite.write import Stage, WriteResult, check_output_dir, check_paths, recover, remove_output


@dataclass(frozen=True)
class Options:
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    output: Path | None = None
    now: datetime | None = None  # "today" for scheduled posts; tests and SOURCE_DATE_EPOCH set it
    serve: bool = False
    jobs: int | None = None  # worker processes; None: one per core
    cache: bool = True  # False: ignore .qsite-cache/ and do not write it (--no-cache)
    search: bool = True  # index the written site with Pagefind (`--no-search` skips it)
    quick: bool = False  # skip the whole build if file stats prove nothing changed (qsite/incremental/fastpath.py)


@dataclass
class BuildResult:
    config: SiteConfig
    site: Site | None  # None only for a quick no-change build (``quick``), which loads nothing
    groups: Groups | None
    outputs: list[Output]  # in memory (render_site); empty after build, which streams to disk
    warnings: list[Problem]
    timings: dict[str, float] = field(default_factory=dict)
    written: WriteResult | None = None
    out: Path | None = None
    pages: int = 0  # pages planned by build
    cache_hits: int = 0  # of which reused from the previous output unrendered
    parallel_batches: int = 0  # batches of work spread over worker processes
    assets: list[Asset] = field(default_factory=list)
    digest: Digest | None = None
    search_pages: int | None = None  # pages in the search index, None when not indexed
    search_kept: bool = False  # no page changed, so the previous search index was kept
    search_shards: tuple[str, ...] = ()  # the index's shards (qsite/search.py), primary first
    search_reindexed: tuple[str, ...] = ()  # of which indexed by this build; the rest were kept
    quick: bool = False  # nothing changed, proven from file stats alone: nothing was even planned
    cache_notes: list[str] = field(default_factory=list)  # cache files ignored as unreadable (cachefiles.note)
    post_count: int = 0
    page_count: int = 0
    images_encoded: int = 0  # resized/WebP image files encoded by this build (the rest: .qsite-cache/images/)
    cards_drawn: int = 0  # preview cards drawn by this build (the rest: .qsite-cache/cards/)


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + now - self.last
        self.last = now


def now_for(options: Options) -> datetime:
    return fastpath.now_for(options.now)


def configure(root: Path, options: Options = Options()) -> SiteConfig:
    """site.yaml with the command line's overrides applied (ConfigError, exit 2, if bad)."""
    return fastpath.configure(root, options.base_url, options.output)


def _parse_chunk(_state: None, chunk: list[tuple[Path, str, str]]) -> list[Any]:
    return [read_and_parse(path, rel, kind) for path, rel, kind in chunk]


def _parse_and_markdown_chunk(
    markdown: tuple[str, float], _state: None, chunk: list[tuple[Path, str, str]]
) -> list[Any]:
    """``_parse_chunk``, and in a worker each post's and page's Markdown too, in the same pass
    (bench/PROFILE.md C3): the body is rendered where it was read, not sent back to the build's
    process and out to a second pool of workers once its front matter is validated. A draft's
    body is rendered for nothing, and a body the cache already holds again: both rare in the
    big batches that go to workers. In the build's own process (small batches: one edited
    post) only the files the Markdown step needs are rendered, by it (``Engine.bodies``)."""
    results = _parse_chunk(None, chunk)
    if not parallel.in_worker():
        return results
    base_path, limit = markdown
    for n, parsed in enumerate(results):
        doc = parsed[3]
        if isinstance(doc, SourceDoc) and doc.kind in ("post", "page"):
            results[n] = (*parsed, _markdown_chunk(None, [(doc.body, base_path, limit)])[0])
    return results


def _markdown_chunk(_state: None, chunk: list[tuple[str, str, float]]) -> list[markup.Rendered | markup.MarkdownError]:
    results: list[markup.Rendered | markup.MarkdownError] = []
    for body, base_path, limit in chunk:
        try:
            results.append(markup.render_markdown(body, base_path, limit))
        except markup.MarkdownError as exc:  # reported against the file by the caller
            results.append(exc)
    return results


@dataclass
class Content:
    """The content step's result: every file read, validated and rendered to HTML."""

    metas: list[Meta]  # every post and page, published or not (for the digest and the clock)
    published: list[Meta]
    bodies: list[markup.Rendered | None]  # published's rendered Markdown, in the same order
    curations: list[Curation]  # the learning digest's edition files (qsite/editions.py)
    comments: Any
    assets: list[Asset]
    warnings: list[Problem]
    seen: list[str]  # every source file, for the engine to forget deleted ones
    authors: dict[str, Any] = field(default_factory=dict)  # profile id → authors.Author
    series: dict[str, SeriesDef] = field(default_factory=dict)  # content/series/ (qsite/series.py)
    gallery: images.Gallery | None = None  # set by make_site: the images the bodies show
    deck: cards.Deck | None = None  # set by media_outputs: the posts' preview cards


def _forbidden_in_feeds(doc: SourceDoc) -> list[Problem]:
    """Feeds leave out characters XML forbids (``render.xml_safe``): say which file had one."""
    if doc.kind not in ("post", "digest"):
        return []
    found = forbidden_in_xml(doc.body)
    if found is None:
        return []
    line, char = found
    return [Problem(
        doc.rel,
        doc.body_line + line,
        f"this line contains an invisible control character (U+{ord(char):04X}), which feeds "
        "cannot carry: it is left out of them",
        "delete the character (often pasted from Word with Shift+Enter)",
        severity="warning",
    )]


def _unknown_callouts(doc: SourceDoc) -> list[Problem]:
    """``!!! waring``: shown as a neutral callout, so a warning at its line (markup.CALLOUTS)."""
    if doc.kind not in ("post", "page", "digest"):
        return []
    kinds = ", ".join([*markup.CALLOUTS, markup.PULLQUOTE])
    return [
        Problem(
            doc.rel, doc.body_line + line, f"'!!! {word}' is not a kind of callout, so it is shown plainly",
            f"did you mean '!!! {guess}'?" if guess else f"use one of: {kinds}", severity="warning",
        )
        for line, word, guess in markup.unknown_callouts(doc.body)
    ]


def read_content(config: SiteConfig, options: Options, engine: Engine, workers: Workers, clock: _Clock) -> Content:
    """Content: find, parse and validate every file, then render the published ones' Markdown.
    Raises ContentError (exit 1) with every problem found."""
    now = now_for(options)
    found = engine.found(config.root, find_content)  # serve: walked again only if a file came or went
    problems = found.problems
    parse = functools.partial(_parse_and_markdown_chunk, (config.base_path, config.markdown_time_limit))
    docs = engine.documents(found.sources, parse, workers, problems)
    metas = engine.metas(  # digest editions and comments are read below, by their own steps
        [d for d in docs if d is not None and d.kind not in ("digest", "comment", "author", "series")],
        lambda doc, mine: read_meta(doc, config, mine),
        problems,
    )
    check_collisions(metas, problems, config.permalinks.post)
    series_docs = [d for d in docs if d is not None and d.kind == "series"]
    series = read_series(series_docs, config.base_path, config.markdown_time_limit, problems, engine.html)
    check_series(metas, series, problems)
    check_shared_slugs(metas, [d for d in docs if d is not None], problems)
    rejected = model.rejected_posts(found.sources, docs, metas)  # their errors are reported once, above
    curations = read_curations(
        [d for d in docs if d is not None and d.kind == "digest"], metas, config, problems,
        now=now, drafts=options.drafts, future=options.future, rejected=rejected,
    )
    parsed = [d for d in docs if d is not None]
    problems.extend(engine.checked(parsed, _forbidden_in_feeds, _unknown_callouts))  # kept while a file is unchanged
    authors = profiles.read_authors([d for d in docs if d is not None and d.kind == "author"], config, problems)
    profiles.check_names(metas, {d.rel: d for d in docs if d is not None}, authors, problems)
    comment_docs = [d for d in docs if d is not None and d.kind == "comment"]
    comments = read_comments(
        comment_docs, profiles.on_posts(metas, authors), config, problems, engine, authors, rejected
    )
    if problems:
        raise ContentError(problems.items)
    published = [m for m in metas if is_published(m, now, options.drafts, options.future)]
    clock.lap("load")
    bodies = engine.bodies(
        published, config.base_path, config.markdown_time_limit, _markdown_chunk, workers, problems
    )
    if problems:
        raise ContentError(problems.items)
    clock.lap("markdown")
    seen = [str(path) for path, _rel, _kind in found.sources]
    return Content(
        metas, published, bodies, curations, comments, found.assets, problems.warnings, seen, authors, series
    )


def make_site(config: SiteConfig, options: Options, content: Content, engine: Engine) -> Site:
    """Model: posts and pages made from their metas and bodies (their images sized: images.py)."""
    urls = Urls(config.base_url)
    now = now_for(options)
    posts = []
    content.gallery = images.gallery(engine, config, content.assets, CACHE_FOLDER)
    pairs = []
    for m, b in zip(content.published, content.bodies, strict=True):
        if b is not None:
            path = post_path(m.slug, m.date, config.permalinks.post) if m.kind == "post" else page_path(m.slug)
            sized = content.gallery.rewrite(b, urls.url(path))
            if sized is not b:
                engine.rebodied(m, sized)
            pairs.append((m, sized))
    bylines: dict[tuple[str, ...], tuple[Any, str]] = {}  # names → (credits, repr): most posts share a few
    for m, b in pairs:
        if m.kind == "post":
            byline = bylines.get(m.authors)
            if byline is None:
                found = profiles.credits(m.authors, content.authors)
                byline = bylines[m.authors] = (found, repr(found))
            credits = byline[0]
            assert m.date is not None  # read_meta sees to it for posts
            post = engine.post(  # profiles are no part of the post's file: their credits are keyed too
                m, m.date > now, lambda m=m, b=b, credits=credits: make_post(
                    m, b, urls, now, config.permalinks.post, credits
                ), byline[1],
            )
            posts.append(post)
    posts.sort(key=lambda p: p.sort_key, reverse=True)
    pages: list[Page] = sorted((make_page(m, b, urls) for m, b in pairs if m.kind == "page"), key=lambda p: p.slug)
    return Site(config, tuple(posts), tuple(pages), urls, content.comments, content.authors, content.series)


def group_site(site: Site, content: Content, options: Options, engine: Engine) -> tuple[Groups, Digest]:
    """Grouping: themes, tags, archive and related posts, then the digest's editions."""
    groups = engine.groups(site, lambda known: group(site, known_related=known))
    editions = digest.assemble(site, groups, content.curations, now_for(options))
    return groups, editions


class StageSink:
    """Rendered pages written into the staging tree (``qsite build``).

    A page is written where it is rendered (``write``: in a worker, into the staging folder the
    workers inherited), and only its stamp goes back to the parent (``take``), so a big site's
    pages (41 MB at 1,000 posts) are neither pickled through a pipe nor written one by one by
    the parent while the workers wait (bench/PROFILE.md, C2)."""

    in_memory = False

    def __init__(self, stage: Stage, search_on: bool = False):
        self.stage = stage
        # Each written page's hash of what Pagefind reads, taken while its HTML is in memory,
        # so the index step does not read the site back from disk (qsite/search.py).
        self.digests: dict[str, str | None] | None = {} if search_on else None
        self.early: search.Early | None = None  # told of each page staged (``index_early``)

    def write(self, index: int, job: Job, data: bytes) -> tuple[bool, Any, str | None] | OSError:
        """In the worker that rendered the page: write it, and hash what Pagefind will read of it
        while its HTML is in memory."""
        digest = search.digest(data) if self.digests is not None and job.file.endswith(".html") else None
        try:
            return (*self.stage.write(job.file, data), digest)
        except OSError as exc:  # the parent abandons the stage and reports it (``take``)
            return exc

    def take(self, index: int, job: Job, written: tuple[bool, Any, str | None] | OSError) -> Any:
        if isinstance(written, OSError):
            self._failed(written)
        staged, stamp, digest = written
        if self.digests is not None and job.file.endswith(".html"):
            self.digests[job.file] = digest
        recorded = self.stage.record(job.file, staged, stamp)
        if self.early is not None and digest is not None:
            self.early.rendered(job.file, digest)
        return recorded

    def put(self, index: int, job: Job, data: bytes) -> Any:
        return self.take(index, job, self.write(index, job, data))

    def write_file(self, path: str, data: bytes) -> tuple[bool, Any] | OSError:
        try:
            return self.stage.write(path, data)
        except OSError as exc:
            return exc

    def take_file(self, path: str, written: tuple[bool, Any] | OSError) -> Any:
        if isinstance(written, OSError):
            self._failed(written)
        return self.stage.record(path, *written)

    def _failed(self, exc: OSError) -> None:
        if self.early is not None:
            self.early.stop()  # no Pagefind run left writing into the stage it abandons
        self.stage.failed(exc)

    def keep(self, index: int, job: Job, token: Any) -> bool:
        return self.stage.keep(job.file, token)

    def keep_files(self, files: list[tuple[str, Any]]) -> list[bool]:
        """Copied files the engine vouches for (``Engine.copies``): each kept unread if still as stamped."""
        return self.stage.keep_each(files)


class MemorySink:
    """Rendered pages kept in memory, in the order of their jobs (check, serve, digest --print)."""

    in_memory = True

    def __init__(self, jobs: int):
        self.outputs: list[Output | None] = [None] * jobs

    def write(self, index: int, job: Job, data: bytes) -> bytes:
        return data  # the page itself goes back to the parent

    def take(self, index: int, job: Job, data: bytes) -> Any:
        return self.put(index, job, data)

    def put(self, index: int, job: Job, data: bytes) -> Any:
        output = self.outputs[index] = Output(job.file, data, job.template, job.source, job.path)
        return output

    def keep(self, index: int, job: Job, token: Any) -> bool:
        self.outputs[index] = token  # emails are kept finished (CSS inlined), as rendered
        return True


class _Failed(list):  # type: ignore[type-arg]
    """A page's template failed: its problems, instead of what the sink wrote."""


def _render_chunk(
    state: tuple[Renderer, list[Job], StageSink | MemorySink, PageRun, list[Output]], chunk: list[int]
) -> list[tuple[str | None, Any]]:
    """Render pages, hand each to the sink's ``write`` and make its key if the engine left
    that to the render (``PageRun.key``): here, in the worker. A negative item ``~n`` is the
    n-th file copied as it is (a theme file, an image, a preview card), written here too."""
    renderer, jobs, sink, run, files = state
    results: list[tuple[str | None, Any]] = []
    for i in chunk:
        if i < 0:
            results.append((None, sink.write_file(files[~i].path, files[~i].contents())))
            continue
        try:
            data = renderer.render(jobs[i]).data
        except ContentError as exc:
            results.append((None, _Failed(exc.problems)))
            continue
        results.append((run.key(i), sink.write(i, jobs[i], data)))
    return results


def render(
    jobs: list[Job], renderer: Renderer, sink: StageSink | MemorySink, engine: Engine, workers: Workers,
    files: list[Output] | None = None,
) -> int:
    """Render: every page whose inputs changed, into ``sink``; the others are kept as they
    are. Returns how many were kept. A broken template is reported once, not once per page.
    ``files`` (``StageSink`` only) are staged along with the pages, by the same workers."""
    run = engine.pages(jobs, renderer, sink)
    files = files or []
    origins = [_origin(f) for f in files]
    copy = engine.copies([f.path for f in files], origins, sink.keep_files) if files else []  # type: ignore[union-attr]
    items = run.todo + [~n for n in copy]
    if workers.jobs > 1 and len(items) >= parallel.MIN_PARALLEL:  # compiled once here, inherited by the workers
        renderer.compile(run.templates({jobs[i].template for i in run.todo}))
    problems: list[Problem] = []
    failed: set[str] = set()
    # closed before the stage is: no worker may still be writing into a staging folder being removed
    state = (renderer, jobs, sink, run, files)
    with contextlib.closing(workers.map(_render_chunk, items, state=state)) as results:
        for i, (key, written) in zip(items, results, strict=True):
            if i < 0:
                engine.copied(files[~i].path, origins[~i], sink.take_file(files[~i].path, written))  # type: ignore[union-attr]
            elif isinstance(written, _Failed):
                if jobs[i].template not in failed:
                    failed.add(jobs[i].template)
                    problems.extend(written)
            else:
                run.rendered(i, sink.take(i, jobs[i], written), key)
    if problems:
        raise ContentError(dict.fromkeys(problems))
    engine.rendered(run, sink)
    return run.hits


def media_outputs(config: SiteConfig, site: Site, content: Content, engine: Engine, workers: Workers) -> list[Output]:
    """The resized and WebP copies of the images posts show, and each post's preview card. A
    card the output holds already (by the engine's record) is not even looked up in the cache
    (``cards.outputs``): most often it is kept unread (``render``)."""
    images = content.gallery.outputs() if content.gallery is not None else []
    content.deck = deck = cards.deck(engine, config, CACHE_FOLDER)
    known = engine.copies_known()
    kept = {path: origin[len(_CARD):] for path, (origin, _) in known.items() if origin.startswith(_CARD)}
    made = cards.outputs(site, deck, workers, kept)
    content.warnings.extend(deck.warnings)
    return [Output(path, data) for path, data in images] + [
        CardOutput(path, data, card=deck.cards[path]) if isinstance(data, bytes)
        else CardOutput(path, b"", copy_of=data, card=deck.cards[path])
        for path, data in made
    ]


_CARD = "card "  # a copied file's origin (``_origin``): a preview card, by its key


@dataclass(frozen=True)
class CardOutput(Output):
    """A post's preview card: what it is made from is its card's key (``_origin``), and its
    bytes are read from the cards' cache only when it is written, or drawn again if that file
    is gone by then (``cards.contents``)."""

    card: cards.Card | None = None

    def contents(self) -> bytes:
        if self.card is None:
            return super().contents()
        return cards.contents(self.card, self.data if self.copy_of is None else self.copy_of)


def _origin(output: Output) -> str | None:
    """What a copied file is made from, for the engine's record (``Engine.copies``): a card's
    key, or a hash of the bytes (theme and site files, image copies: small, and read already);
    None (written every time) for a file given by another file that is not a card."""
    if isinstance(output, CardOutput) and output.card is not None:
        return _CARD + output.card.key
    if output.copy_of is not None:
        return None
    return "bytes " + hashlib.blake2b(output.data, digest_size=20).hexdigest()


def index_early(
    stage: Stage, site: Site, options: Options, engine: Engine, workers: Workers, sink: StageSink, jobs: list[Job]
) -> contextlib.AbstractContextManager[search.Early | None]:
    """Index, begun before the render: each posts shard whose pages this build renders is
    indexed as soon as the last of them is staged, while the rest still render (``search.Early``)."""
    if not options.search:
        return contextlib.nullcontext()
    years = search.post_years(site.posts)
    sink.early = search.Early(
        stage, years, engine.search_manifest(), workers.jobs, [job.file for job in jobs], engine.search_links()
    )
    return sink.early


def index(
    stage: Stage, site: Site, options: Options, engine: Engine, workers: Workers, sink: StageSink
) -> search.Indexed | None:
    """Index: the staged site's pages into the search index, staged with them, so a failed
    index changes nothing (qsite/search.py); the shards begun early (``index_early``) are taken."""
    if not options.search:
        return None
    years = sink.early.years if sink.early is not None else search.post_years(site.posts)
    return search.index_stage(
        stage, years, engine.search_manifest(), workers.jobs, sink.digests, links=engine.search_links(),
        early=sink.early,
    )


@parallel.collector_paused()
def render_site(config: SiteConfig, options: Options = Options(), engine: Engine | None = None) -> BuildResult:
    """Everything but writing, in memory: raises ContentError (exit 1) with every problem found.

    ``engine``: one kept across calls (``qsite serve`` keeps ``Engine.in_memory()``) also reuses
    the bytes of every page whose inputs have not changed, so a one-post edit renders few pages.
    """
    clock = _Clock()
    options = replace(options, now=now_for(options))
    engine = engine if engine is not None else Engine.throwaway()

    def result(site: Site, groups: Groups, editions: Digest, outputs: list[Output], hits: int) -> BuildResult:
        clock.lap("render")
        return BuildResult(
            config, site, groups, outputs, list(kept.warnings), clock.timings, pages=len(kept.jobs), cache_hits=hits,
            assets=kept.assets, digest=editions, post_count=len(site.posts), page_count=len(site.pages),
        )

    kept = engine.kept_model  # serve: a save that changed only posts' bodies (qsite/incremental/edit.py)
    if kept is not None and (edited := edit.rebuild(engine, config, options, result)) is not None:
        return edited  # type: ignore[no-any-return]
    engine.forget_model()
    engine.begin(config, options, None)
    workers = Workers(options.jobs)
    content = read_content(config, options, engine, workers, clock)
    site = make_site(config, options, content, engine)
    groups, editions = group_site(site, content, options, engine)
    jobs = plan(site, groups, editions)
    engine.planned(site, groups, editions)  # what the jobs were made from: see Engine.pages
    renderer = Renderer(
        site, groups, config.root / "templates", serve=options.serve, search=options.search,
        bytecode_cache=engine.compiled,
    )
    sink = MemorySink(len(jobs))
    hits = render(jobs, renderer, sink, engine, workers)
    outputs = [o for o in sink.outputs if o is not None] + static_outputs(config.root, content.assets)
    # in memory the cards are served from bytes: a card kept on disk is read here (one given as
    # bytes is that already: no copy of 5,000 cards' outputs on every serve rebuild)
    media = media_outputs(config, site, content, engine, workers)
    outputs += [o if o.copy_of is None else replace(o, data=o.contents(), copy_of=None) for o in media]
    engine.finish(content.seen)
    clock.lap("render")
    built = BuildResult(
        config, site, groups, outputs, content.warnings, clock.timings, pages=len(jobs), cache_hits=hits,
        assets=content.assets, digest=editions, post_count=len(site.posts), page_count=len(site.pages),
        **_media(content),
    )
    if engine.keeps_model:  # the base of serve's next rebuilds
        until = valid_until(options.now, content.metas, editions.editions, content.curations, config.tz)
        checks = (_forbidden_in_feeds, _unknown_callouts)
        edit.keep(engine, config, options, built, jobs, renderer, content, until, checks)
    return built


@parallel.collector_paused()
def build(root: Path, options: Options = Options(), engine: Engine | None = None) -> BuildResult:
    """Build the site at ``root`` and swap it into the output folder, or change nothing.

    ``engine``: by default ``.qsite-cache/`` (``Engine.on_disk``), or nothing remembered with
    ``options.cache`` off; pass one to keep it in memory across builds.
    """
    clock = _Clock()
    options = replace(options, now=now_for(options))  # one "now" for the whole build
    if engine is None:  # on disk: stats every source now, before any is read
        engine = Engine.on_disk(root) if options.cache else Engine.throwaway()
    config = configure(root, options)
    out = check_output_dir(config.output_dir, config.root)  # before any work: fail fast, exit 2
    recover(out)  # finish or undo what a killed build left (qsite/write.py)
    last = engine.begin(config, options, out)
    if last is not None:
        return _unchanged(config, out, last, clock, options.search)
    workers = Workers(options.jobs)

    content = read_content(config, options, engine, workers, clock)
    engine.content_read()  # its cache kept on disk now, not in memory until the end
    site = make_site(config, options, content, engine)
    groups, editions = group_site(site, content, options, engine)
    jobs = plan(site, groups, editions)
    engine.planned(site, groups, editions)  # what the jobs were made from: see Engine.pages
    statics = static_outputs(config.root, content.assets) + media_outputs(config, site, content, engine, workers)
    check_paths([job.file for job in jobs] + [o.path for o in statics], _origins(config, content.assets))
    renderer = Renderer(
        site, groups, config.root / "templates", serve=options.serve, search=options.search,
        bytecode_cache=engine.compiled,
    )
    with Stage(out) as stage:
        sink = StageSink(stage, options.search)
        with index_early(stage, site, options, engine, workers, sink, jobs):
            hits = render(jobs, renderer, sink, engine, workers, files=statics)
            clock.lap("render")
            indexed = index(stage, site, options, engine, workers, sink)
            if indexed is not None:
                clock.lap("search")
        sink.early = None
        written = stage.commit()
    # Rendered and committed: the jobs (each page's context), the renderer and the sink's
    # digests are not needed to finish, the moment the parent is at its largest at 20,000
    # posts (bench/memory.py). The engine keeps only the count of the pages its run rendered.
    planned = len(jobs)
    del jobs, renderer, sink, statics
    _done_with_jobs(engine.last_run)
    engine.finish(content.seen, indexed)
    engine.record(
        config, options, out, stage.stamps,
        valid_until(options.now, content.metas, editions.editions, content.curations, config.tz),
        (len(site.posts), len(site.pages), planned), content.warnings, written.written + written.unchanged,
    )
    clock.lap("write")
    return BuildResult(
        config, site, groups, [], content.warnings, clock.timings, written=written, out=out, pages=planned,
        cache_hits=hits, parallel_batches=workers.parallel_batches, assets=content.assets, digest=editions,
        post_count=len(site.posts), page_count=len(site.pages), cache_notes=engine.all_notes,
        **_search_result(indexed), **_media(content),
    )


def _done_with_jobs(run: PageRun | None) -> None:
    """Let the engine's record of the render step (``Engine.last_run``: how many pages it
    planned, rendered and keyed, for tests and bench) let go of the jobs, and with them every
    page's context, and of what keyed them (the Jinja environment): ``Engine.rendered`` took
    what the next build needs (the pages' keys and their record) already."""
    if run is not None:
        run.jobs = [None] * len(run.jobs)  # type: ignore[list-item]  # only counted from now on
        run.key_inputs = None


def _origins(config: SiteConfig, assets: list[Asset]) -> dict[str, str]:
    """Output file → the content file it is copied from, to name a colliding file."""
    return {a.out: a.source.relative_to(config.root).as_posix() for a in assets}


def _media(content: Content) -> dict[str, int]:
    return {
        "images_encoded": content.gallery.encoded if content.gallery else 0,
        "cards_drawn": content.deck.drawn if content.deck else 0,
    }


def _search_result(indexed: search.Indexed | None) -> dict[str, Any]:
    if indexed is None:
        return {}
    return {
        "search_pages": indexed.pages, "search_shards": indexed.shards, "search_reindexed": indexed.reindexed,
        "search_kept": not indexed.reindexed,
    }


def _unchanged(config: SiteConfig, out: Path, last: fastpath.Record, clock: _Clock, search: bool) -> BuildResult:
    """The result of a build that ``fastpath`` proved would change nothing: the last build's
    counts and warnings (an editor sees the same warnings on every build)."""
    clock.lap("check")
    return BuildResult(
        config, None, None, [], list(last.warnings), clock.timings, written=WriteResult(0, last.files), out=out,
        pages=last.planned, cache_hits=last.planned, search_kept=search, quick=True,
        post_count=last.posts, page_count=last.pages,
    )


def clean(root: Path, output: Path | None = None) -> list[Path]:
    """Delete the output folder (only if qsite made it) and the build cache; returns what went."""
    config = configure(root, Options(output=output))
    out = check_output_dir(config.output_dir, config.root)  # refuses a folder qsite did not make
    recover(out)  # also deletes the staging folders killed builds left beside it
    removed = []
    if out.is_dir():
        remove_output(out)  # a mount point is emptied, not removed
        removed.append(out)
    if remove_cache(config.root):
        removed.append(config.root / CACHE_FOLDER)
    return removed


__all__ = ["BuildResult", "Engine", "Options", "Post", "build", "clean", "configure", "render_site"]
