"""The pipeline, top to bottom: configuration → content → model → grouping → planning → rendering → writing.

``build`` only wires the steps together and collects their problems; it neither parses
arguments nor prints, so ``check``, ``serve`` and the tests call it the same way the CLI does.
The slow steps go through ``parallel.Workers`` (several processes) and ``cache.Cache`` (work
done by an earlier build); neither changes a byte of the output.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from qsite import digest, fastpath, markup, parallel, search
from qsite.cache import FOLDER as CACHE_FOLDER
from qsite.cache import Cache, Fingerprints, TemplateDeps, page_key, read_and_parse
from qsite.cache import remove as remove_cache
from qsite.comments import read_comments
from qsite.config import SiteConfig
from qsite.content import Asset, SourceDoc, find_content
from qsite.digest import Digest
from qsite.editions import Curation, read_curations
from qsite.grouping import Groups, group
from qsite.model import Meta, Page, Post, Site, check_collisions, is_published, make_page, make_post, read_meta
from qsite.parallel import Workers
from qsite.plan import plan
from qsite.problems import ContentError, Problem, Problems
from qsite.render import Job, Output, Renderer, forbidden_in_xml, static_outputs
from qsite.urls import Urls
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
    quick: bool = False  # skip the whole build if file stats prove nothing changed (qsite/fastpath.py)


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


def _markdown_chunk(_state: None, chunk: list[tuple[str, str, float]]) -> list[markup.Rendered | markup.MarkdownError]:
    results: list[markup.Rendered | markup.MarkdownError] = []
    for body, base_path, limit in chunk:
        try:
            results.append(markup.render_markdown(body, base_path, limit))
        except markup.MarkdownError as exc:  # reported against the file by the caller
            results.append(exc)
    return results


@dataclass
class Loaded:
    """What ``load_site`` gives the render step."""

    site: Site
    groups: Groups
    digest: Digest
    warnings: list[Problem]
    assets: list[Asset]
    seen: list[str]  # every source file, for the cache to forget deleted ones
    fingerprints: Fingerprints  # seeded with the bodies' cache keys: pages need not hash their HTML
    valid_until: datetime | None  # when "now" next changes the site (a post due, an edition ending)


def _warn_forbidden_in_feeds(docs: list[SourceDoc | None], problems: Problems) -> None:
    """Feeds leave out characters XML forbids (``render.xml_safe``): say which file had one."""
    for doc in docs:
        if doc is None or doc.kind not in ("post", "digest"):
            continue
        found = forbidden_in_xml(doc.body)
        if found is not None:
            line, char = found
            problems.add(
                doc.rel,
                doc.body_line + line,
                f"this line contains an invisible control character (U+{ord(char):04X}), which feeds "
                "cannot carry: it is left out of them",
                "delete the character (often pasted from Word with Shift+Enter)",
                severity="warning",
            )


def load_site(config: SiteConfig, options: Options, cache: Cache, workers: Workers, clock: _Clock) -> Loaded:
    """Content → model → groups; parsed files and Markdown come from ``cache`` when unchanged."""
    site_urls = Urls(config.base_url)
    now = now_for(options)
    found = find_content(config.root)
    problems = found.problems
    docs: list[SourceDoc | None] = [None] * len(found.sources)
    doc_keys: list[str] = [""] * len(found.sources)
    to_parse: list[int] = []
    for i, (path, rel, kind) in enumerate(found.sources):
        file_hash = cache.known_digest(path) or cache.hash_file(path)
        doc_keys[i] = Cache.doc_key(file_hash, rel, kind) if file_hash else ""
        doc = cache.docs.get(doc_keys[i]) if file_hash else None
        if doc is None:
            to_parse.append(i)
        else:
            docs[i] = doc
    parsed = workers.map(_parse_chunk, [found.sources[i] for i in to_parse])
    for i, (file_hash, stat, checked, result) in zip(to_parse, parsed, strict=True):
        path, rel, kind = found.sources[i]
        if isinstance(result, Problem):
            problems.items.append(result)
            continue
        cache.record_file(path, stat, checked, file_hash)
        doc_keys[i] = Cache.doc_key(file_hash, rel, kind)
        cache.docs.put(doc_keys[i], result)
        docs[i] = result
    fingerprints = Fingerprints()
    config_key = fingerprints.of(config).hex()
    metas: list[Meta] = []
    meta_keys: dict[int, str] = {}  # id(meta) → its key: a meta is read from its file and site.yaml only
    known_metas, cache.metas = cache.metas, {}  # kept in memory only (qsite serve): the last build's
    for doc, doc_key in zip(docs, doc_keys, strict=True):
        if doc is not None and doc.kind not in ("digest", "comment"):  # read below by their own steps
            key = Cache.derived_key("meta", doc_key, config_key)
            known = known_metas.get(key)
            if known is None:
                mine = Problems()
                known = (read_meta(doc, config, mine), tuple(mine.items))
            cache.metas[key] = known
            meta, met = known
            problems.extend(met)
            if meta is not None:
                metas.append(meta)
                meta_keys[id(meta)] = key
    check_collisions(metas, problems)
    curations: list[Curation] = read_curations(  # the learning digest's edition files (qsite/editions.py)
        [d for d in docs if d is not None and d.kind == "digest"], metas, config, problems,
        now=now, drafts=options.drafts, future=options.future,
    )
    _warn_forbidden_in_feeds(docs, problems)
    comment_docs = [d for d in docs if d is not None and d.kind == "comment"]
    comments = read_comments(comment_docs, {m.slug for m in metas if m.kind == "post"}, config, problems, cache)
    if problems:
        raise ContentError(problems.items)
    published = [m for m in metas if is_published(m, now, options.drafts, options.future)]
    clock.lap("load")

    base_path = config.base_path
    keys = [Cache.markdown_key(m.body, base_path) for m in published]
    bodies: list[markup.Rendered | None] = [cache.markdown.get(k) for k in keys]
    missing = [i for i, b in enumerate(bodies) if b is None]
    limit = config.markdown_time_limit
    rendered = workers.map(_markdown_chunk, [(published[i].body, base_path, limit) for i in missing])
    for i, body in zip(missing, rendered, strict=True):
        if isinstance(body, markup.MarkdownError):
            problems.add(published[i].source, published[i].line, body.message, body.fix)
            continue
        cache.markdown.put(keys[i], body)
        bodies[i] = body
    if problems:
        raise ContentError(problems.items)
    for key, body in zip(keys, bodies, strict=True):
        fingerprints.seed(body, key)
    clock.lap("markdown")

    # A post is made from its meta (its file and site.yaml), its body and now (is it future?):
    # its fingerprint is a hash of those keys, so no page has to hash the post's fields.
    posts = []
    for m, b, key in zip(published, bodies, keys, strict=True):
        if b is not None and m.kind == "post":
            post = make_post(m, b, site_urls, now)
            fingerprints.seed(post, Cache.derived_key("post", meta_keys[id(m)], key, config_key, str(post.future)))
            posts.append(post)
    posts.sort(key=lambda p: p.sort_key, reverse=True)
    pairs = [(m, b) for m, b in zip(published, bodies, strict=True) if b is not None]
    pages: list[Page] = sorted((make_page(m, b, site_urls) for m, b in pairs if m.kind == "page"), key=lambda p: p.slug)
    site = Site(config, tuple(posts), tuple(pages), site_urls, comments)
    groups = group(site, known_related=cache.related_for(site))
    cache.remember_related(site, groups)
    editions = digest.assemble(site, groups, curations, now)
    seen = [str(path) for path, _rel, _kind in found.sources]
    moments = [m.date for m in metas if m.date is not None]  # scheduled posts become due
    moments += [e.end for e in editions.editions]  # editions in progress become complete
    moments += [c.period.end(config.tz) for c in curations] + [c.period.start(config.tz) for c in curations]
    valid_until = min((t for t in moments if t > now), default=None)
    return Loaded(site, groups, editions, problems.warnings, found.assets, seen, fingerprints, valid_until)


def render_site(config: SiteConfig, options: Options = Options(), cache: Cache | None = None) -> BuildResult:
    """Everything but writing, in memory: raises ContentError (exit 1) with every problem found.

    ``cache``: one kept across calls (``qsite serve`` keeps one) also reuses the bytes of every
    page whose key has not changed since the last call, so a one-post edit renders few pages.
    """
    clock = _Clock()
    workers = Workers(options.jobs)
    memory = cache if cache is not None else Cache()
    loaded = load_site(config, options, memory, workers, clock)
    site, groups, editions, assets, seen, fingerprints = (
        loaded.site, loaded.groups, loaded.digest, loaded.assets, loaded.seen, loaded.fingerprints
    )
    jobs = plan(site, groups, editions)
    renderer = Renderer(
        site, groups, config.root / "templates", serve=options.serve, search=options.search,
        bytecode_cache=memory.compiled,
    )
    if cache is None:
        outputs = renderer.render_all(jobs)
    else:
        deps = TemplateDeps(renderer.env, memory.templates)
        config_fp = fingerprints.of(config)
        keys = [
            page_key(deps, fingerprints, renderer.env, config_fp, job.template, job.path, job.context) for job in jobs
        ]
        reused: dict[int, Output] = {}
        for i, (job, key) in enumerate(zip(jobs, keys, strict=True)):
            previous = cache.memory_pages.get(job.path)
            if key is not None and previous is not None and previous[0] == key:
                reused[i] = previous[1]
        # emails are finished (CSS inlined) once, when rendered: reused ones are kept finished
        fresh = iter(renderer.render_all([job for i, job in enumerate(jobs) if i not in reused]))
        outputs = [reused[i] if i in reused else next(fresh) for i in range(len(jobs))]
        cache.memory_pages = {
            job.path: (key, output) for job, key, output in zip(jobs, keys, outputs, strict=True) if key is not None
        }
        cache.save(seen)
    outputs += static_outputs(config.root, assets)
    clock.lap("render")
    return BuildResult(
        config, site, groups, outputs, loaded.warnings, clock.timings, assets=assets, digest=editions,
        post_count=len(site.posts), page_count=len(site.pages),
    )


def _render_chunk(state: tuple[Renderer, list[Job]], chunk: list[int]) -> list[bytes | list[Problem]]:
    renderer, jobs = state
    results: list[bytes | list[Problem]] = []
    for i in chunk:
        try:
            results.append(renderer.render(jobs[i]).data)
        except ContentError as exc:
            results.append(list(exc.problems))
    return results


def build(root: Path, options: Options = Options(), cache: Cache | None = None) -> BuildResult:
    """Build the site at ``root`` and swap it into the output folder, or change nothing.

    ``cache``: pass one to keep it in memory across builds (``qsite serve``); by default it is
    read from and saved to ``.qsite-cache/`` (or not used at all with ``options.cache`` off).
    """
    clock = _Clock()
    options = replace(options, now=now_for(options))  # one "now" for the whole build
    assert options.now is not None
    on_disk = cache is None and options.cache
    notes: list[str] = []  # cache files found unreadable: ignored, rebuilt, and named in one line
    sources = fastpath.snapshot_sources(root) if on_disk else None  # before reading any source
    config = configure(root, options)
    out = check_output_dir(config.output_dir, config.root)  # before any work: fail fast, exit 2
    recover(out)  # finish or undo what a killed build left (qsite/write.py)
    if on_disk:
        if options.quick:
            key = fastpath.options_key(options.drafts, options.future, options.base_url, options.search, out)
            last = fastpath.unchanged(config.root, out, key, options.now, notes)
            if last is not None:
                return _unchanged(config, out, last, clock, options.search)
        fastpath.forget(config.root)  # recorded again only once this build has succeeded
    if cache is None:
        cache = Cache.open(config.root) if options.cache else Cache()
    workers = Workers(options.jobs)
    loaded = load_site(config, options, cache, workers, clock)
    site, groups, editions, warnings, assets, seen, fingerprints = (
        loaded.site, loaded.groups, loaded.digest, loaded.warnings, loaded.assets, loaded.seen, loaded.fingerprints
    )

    jobs = plan(site, groups, editions)
    renderer = Renderer(
        site, groups, config.root / "templates", serve=options.serve, search=options.search,
        bytecode_cache=cache.compiled if options.cache else None,
    )
    statics = static_outputs(config.root, assets)
    files = [job.file for job in jobs]
    origins = {a.out: a.source.relative_to(config.root).as_posix() for a in assets}  # to name a colliding file
    check_paths(files + [o.path for o in statics], origins)
    deps = TemplateDeps(renderer.env, cache.templates)
    config_fp = fingerprints.of(config)
    result = BuildResult(
        config, site, groups, [], warnings, clock.timings, out=out, pages=len(jobs), assets=assets, digest=editions,
        post_count=len(site.posts), page_count=len(site.pages),
        cache_notes=notes + cache.notes,
    )
    pages: dict[str, tuple[str, Any]] = {}
    with Stage(out) as stage:
        todo: list[int] = []
        keys: list[str | None] = []
        for i, job in enumerate(jobs):
            key = page_key(deps, fingerprints, renderer.env, config_fp, job.template, job.path, job.context)
            keys.append(key)
            previous = cache.pages.get(files[i])
            if key is not None and previous is not None and previous[0] == key and stage.keep(files[i], previous[1]):
                pages[files[i]] = previous
                result.cache_hits += 1
            else:
                todo.append(i)
        problems: list[Problem] = []
        if workers.jobs > 1 and len(todo) >= parallel.MIN_PARALLEL:  # compiled once here, inherited by the workers
            renderer.compile(t for template in {jobs[i].template for i in todo} for t in deps.members(template))
        for i, data in zip(todo, workers.map(_render_chunk, todo, state=(renderer, jobs)), strict=True):
            if isinstance(data, list):
                problems.extend(data)
                continue
            stamp = stage.put(files[i], data)
            key = keys[i]
            if key is not None:
                pages[files[i]] = (key, stamp)
        if problems:
            raise ContentError(dict.fromkeys(problems))
        clock.lap("render")
        for output in statics:
            stage.put(output.path, output.data)
        clock.lap("write")
        indexed: search.Indexed | None = None
        manifest = cache.folder / search.MANIFEST if cache.folder is not None else None
        if options.search:  # staged with the pages, so a failed index changes nothing (qsite/search.py)
            indexed = search.index_stage(stage, search.post_years(site.posts), manifest, workers.jobs)
            clock.lap("search")
        result.written = stage.commit()
        committed = stage.stamps
    if indexed is not None:
        result.search_pages = indexed.pages
        result.search_shards = indexed.shards
        result.search_reindexed = indexed.reindexed
        result.search_kept = not indexed.reindexed
        if manifest is not None and indexed.manifest:
            search.save_manifest(manifest, indexed.manifest)
    clock.lap("write")
    result.parallel_batches = workers.parallel_batches
    cache.pages = pages
    cache.save(seen)
    if sources is not None:
        output = fastpath.output_after(out, committed, search.BUNDLE if options.search else None)
        if output is not None:
            record = fastpath.Record(
                fastpath.options_key(options.drafts, options.future, options.base_url, options.search, out),
                options.now, loaded.valid_until, sources.started_ns,
                sources.stats, sources.racy, output, len(site.posts), len(site.pages), len(jobs), tuple(warnings),
                result.written.written + result.written.unchanged,
            )
            fastpath.record(config.root, record)
    clock.lap("write")
    return result


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


__all__ = ["BuildResult", "Options", "Post", "build", "clean", "configure", "load_site", "render_site"]
