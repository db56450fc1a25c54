"""The pipeline, top to bottom: configuration → content → model → grouping → rendering → writing.

``build`` only wires the steps together and collects their problems; it neither parses
arguments nor prints, so ``check``, ``serve`` and the tests call it the same way the CLI does.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from qsite import digest, markup
from qsite.config import SiteConfig, load_config
from qsite.content import load_content
from qsite.digest import Digest
from qsite.grouping import Groups, group
from qsite.model import Meta, Page, Post, Site, check_collisions, is_published, make_page, make_post, read_meta
from qsite.problems import ContentError, Problem
from qsite.render import Output, Renderer, plan, static_outputs
from qsite.urls import Urls
from qsite.write import WriteResult, check_output_dir, write_site


@dataclass(frozen=True)
class Options:
    drafts: bool = False
    future: bool = False
    base_url: str | None = None
    output: Path | None = None
    now: datetime | None = None  # "today" for scheduled posts; tests and SOURCE_DATE_EPOCH set it
    serve: bool = False


@dataclass
class BuildResult:
    config: SiteConfig
    site: Site
    groups: Groups
    outputs: list[Output]
    warnings: list[Problem]
    timings: dict[str, float] = field(default_factory=dict)
    written: WriteResult | None = None
    out: Path | None = None
    digest: Digest | None = None


def now_for(options: Options) -> datetime:
    if options.now is not None:
        return options.now
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC)
    return datetime.now(UTC)


def configure(root: Path, options: Options = Options()) -> SiteConfig:
    """site.yaml with the command line's overrides applied (ConfigError, exit 2, if bad)."""
    overrides: dict[str, object] = {}
    if options.base_url:
        overrides["base_url"] = options.base_url
    if options.output:
        overrides["output_dir"] = options.output
    return load_config(root, overrides)


def render_site(config: SiteConfig, options: Options = Options()) -> BuildResult:
    """Everything but writing: raises ContentError (exit 1) with every problem found."""
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = timings.get(stage, 0.0) + now - clock
        clock = now

    site_urls = Urls(config.base_url)
    now = now_for(options)

    loaded = load_content(config.root)
    problems = loaded.problems
    metas: list[Meta] = []
    for doc in loaded.docs:
        if doc.kind == "digest":
            continue  # edition files are the digest's, read below
        meta = read_meta(doc, config, problems)
        if meta is not None:
            metas.append(meta)
    check_collisions(metas, problems)
    curations = digest.read_curations(  # the learning digest's edition files (qsite/digest.py)
        [d for d in loaded.docs if d.kind == "digest"], metas, config, problems,
        now=now, drafts=options.drafts, future=options.future,
    )
    if problems:
        raise ContentError(problems.items)
    published = [m for m in metas if is_published(m, now, options.drafts, options.future)]
    lap("load")

    bodies = [markup.render_markdown(m.body, config.base_path) for m in published]
    lap("markdown")

    posts = sorted(
        (make_post(m, b, site_urls, now) for m, b in zip(published, bodies, strict=True) if m.kind == "post"),
        key=lambda p: p.sort_key,
        reverse=True,
    )
    pages: list[Page] = sorted(
        (make_page(m, b, site_urls) for m, b in zip(published, bodies, strict=True) if m.kind == "page"),
        key=lambda p: p.slug,
    )
    site = Site(config, tuple(posts), tuple(pages), site_urls)
    groups = group(site)
    renderer = Renderer(site, groups, config.root / "templates", serve=options.serve)
    # The learning digest (qsite/digest.py): editions join the site's jobs, emails are finished.
    editions = digest.assemble(site, groups, curations, now)
    digest.install(renderer.env, editions)
    outputs = renderer.render_all(digest.plan(editions, plan(site, groups)))
    outputs = digest.finish(outputs, editions)
    outputs += static_outputs(config.root, loaded.assets)
    lap("render")
    return BuildResult(config, site, groups, outputs, problems.warnings, timings, digest=editions)


def build(root: Path, options: Options = Options()) -> BuildResult:
    """Build the site at ``root`` and swap it into the output folder, or change nothing."""
    config = configure(root, options)
    out = check_output_dir(config.output_dir, config.root)  # before any work: fail fast, exit 2
    result = render_site(config, options)
    start = time.perf_counter()
    result.written = write_site(result.outputs, out)
    result.timings["write"] = time.perf_counter() - start
    result.out = out
    return result


__all__ = ["BuildResult", "Options", "Post", "build", "configure", "render_site"]
