"""The command line: the only module that prints or exits.

Exit codes: 0 success; 1 content an editor can fix; 2 usage, configuration or environment.
Each command is a small function that wires steps together; add one with ``_command``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from qsite import __version__
from qsite.interrupt import STOP_SIGNALS, exit_status, stop_on
from qsite.problems import Problem, QsiteError

if TYPE_CHECKING:
    from qsite.build import BuildResult

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2

Handler = Callable[[argparse.Namespace], int]


def print_problems(problems: Sequence[Problem], stream: TextIO | None = None) -> None:
    stream = stream or sys.stderr
    for problem in problems:
        print(problem.format(), file=stream)
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    parts = [f"{errors} error{'s' if errors != 1 else ''}"] if errors else []
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if parts:
        print(f"Found {' and '.join(parts)}.", file=stream)


def _source(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is not a folder")
    return path.resolve()


def add_source_option(parser: argparse.ArgumentParser) -> None:
    """``--source``: every command works on one site folder, found the same way."""
    parser.add_argument(
        "--source",
        "-s",
        type=_source,
        default=Path.cwd(),
        metavar="DIR",
        help="the site's folder, holding site.yaml (default: the current folder)",
    )


def add_site_options(parser: argparse.ArgumentParser) -> None:
    add_source_option(parser)
    parser.add_argument("--drafts", action="store_true", help="include posts marked draft: true")
    parser.add_argument("--future", action="store_true", help="include posts dated in the future")
    parser.add_argument("--base-url", metavar="URL", help="publish at this URL instead of site.yaml's base_url")


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def add_speed_options(parser: argparse.ArgumentParser) -> None:
    """--jobs and --no-cache, for every command that builds."""
    parser.add_argument("--jobs", "-j", type=_jobs, metavar="N", help="worker processes to use (default: one per core)")
    parser.add_argument(
        "--no-cache", action="store_true", help="neither use nor update the build cache (.qsite-cache/)"
    )


def summary(result: BuildResult) -> str:
    """One line: what was written, what was reused, and where the time went."""
    written = result.written
    stages = ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in result.timings.items())
    return (
        f"Built {result.post_count} posts and {result.page_count} pages into {result.out}: "
        f"{written.written if written else 0} files written, {written.unchanged if written else 0} unchanged, "
        f"{result.cache_hits} of {result.pages} pages from the cache ({stages})."
    )


def cmd_build(args: argparse.Namespace) -> int:
    if not args.no_cache and _unchanged(args):
        return EXIT_OK
    from qsite.build import Options, build  # the whole pipeline: imported only when there is work

    options = Options(
        drafts=args.drafts,
        future=args.future,
        base_url=args.base_url,
        output=args.output,
        jobs=args.jobs,
        cache=not args.no_cache,
        search=not args.no_search,
    )
    result = build(args.source, options)
    if result.warnings:
        print_problems(result.warnings)
    if not args.quiet:
        print(summary(result))
        if result.search_pages is not None:
            shards, again = len(result.search_shards), len(result.search_reindexed)
            print(
                f"Search: indexed {result.search_pages} pages in {shards} shards; "
                + (f"re-indexed {again} in {result.timings['search'] * 1000:.0f} ms." if again
                   else "no page changed, so every shard was kept.")
            )
        else:
            print("Search: not indexed (--no-search).")
    return EXIT_OK


def _unchanged(args: argparse.Namespace) -> bool:
    """True, after printing what a build would, if nothing changed since the last build
    (qsite/fastpath.py): then nothing is loaded, rendered or written, nor even imported."""
    import time

    from qsite import fastpath

    start = time.perf_counter()
    found = fastpath.quick(
        args.source, drafts=args.drafts, future=args.future, base_url=args.base_url, output=args.output,
        search=not args.no_search,
    )
    if found is None:
        return False
    last, out = found
    if last.warnings:
        print_problems(list(last.warnings))
    if not args.quiet:
        print(
            f"Built {last.posts} posts and {last.pages} pages into {out}: 0 files written, {last.files} unchanged, "
            f"{last.planned} of {last.planned} pages from the cache (nothing changed: checked in "
            f"{(time.perf_counter() - start) * 1000:.0f} ms)."
        )
        print("Search: no page changed, so the index was kept." if not args.no_search
              else "Search: not indexed (--no-search).")
    return True


def cmd_clean(args: argparse.Namespace) -> int:
    from qsite.build import clean

    for path in clean(args.source, args.output):
        print(f"Removed {path}")
    return EXIT_OK


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qsite",
        description="Build the learning digest site from site.yaml, content/ and templates/.",
    )
    parser.add_argument("--version", action="version", version=f"qsite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    build = commands.add_parser(
        "build",
        help="build the site into the output folder",
        description="Build the site into the output folder. "
        "The previous output is replaced only if the whole build succeeds.",
    )
    add_site_options(build)
    build.add_argument("--output", "-o", type=Path, metavar="DIR", help="write here instead of site.yaml's output_dir")
    build.add_argument("--quiet", "-q", action="store_true", help="print nothing but problems")
    build.add_argument("--no-search", action="store_true", help="skip the search index, for quicker local builds")
    add_speed_options(build)
    build.set_defaults(handler=cmd_build)

    clean = commands.add_parser(
        "clean",
        help="delete the output folder and the build cache",
        description="Delete the output folder and the build cache (.qsite-cache/), so the next build starts afresh.",
    )
    add_source_option(clean)
    clean.add_argument("--output", "-o", type=Path, metavar="DIR", help="the output folder, if not output_dir")
    clean.set_defaults(handler=cmd_clean)

    for extend in EXTENSIONS:
        extend(commands)
    return parser


# Later commands register themselves here: each adds its subparser with set_defaults(handler=…).
EXTENSIONS: list[Callable[[argparse._SubParsersAction], None]] = []

from qsite import editor_commands  # noqa: E402 - it uses the helpers above

EXTENSIONS.append(editor_commands.register)  # new, check, serve


# --- qsite digest (the learning digest, issue 3; the logic is in qsite/digest.py) -------------


def add_digest_command(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "digest",
        help="build the site and show where one learning digest edition is",
        description=(
            "Build the site, then print where one digest edition's web page and email files are. "
            "With --print, build in memory only and write the email edition to standard output, "
            "byte for byte the file the build writes, for piping into a mail tool."
        ),
    )
    parser.add_argument(
        "period",
        nargs="?",
        metavar="PERIOD",
        help="the edition's month, e.g. 2020-04 (or ISO week, e.g. 2020-W16, with digest.period: week); "
        "default: the latest period that has ended",
    )
    parser.add_argument(
        "--print",
        dest="print_as",
        choices=("html", "text"),
        help="write the email edition (HTML, or its plain-text alternative) to standard output",
    )
    add_site_options(parser)
    parser.add_argument("--output", "-o", type=Path, metavar="DIR", help="write here instead of site.yaml's output_dir")
    parser.set_defaults(handler=cmd_digest)


def cmd_digest(args: argparse.Namespace) -> int:
    from qsite import digest
    from qsite.build import Options, build, configure, now_for, render_site

    options = Options(drafts=args.drafts, future=args.future, base_url=args.base_url, output=args.output)
    # With --print: nothing but the email on stdout, and nothing written to disk.
    result = render_site(configure(args.source, options), options) if args.print_as else build(args.source, options)
    if result.warnings:
        print_problems(result.warnings)
    assert result.digest is not None  # render_site always assembles the digest
    edition = digest.choose(result.digest, args.period, now_for(options), result.config.tz)
    if not edition.complete:
        print(
            f"note: {edition.label} has not ended yet, so this edition may still grow",
            file=sys.stderr,
        )
    if args.print_as:
        sys.stdout.flush()
        sys.stdout.buffer.write(digest.email_file(result.outputs, edition, args.print_as))
        sys.stdout.flush()
        return EXIT_OK
    out = result.out or result.config.output_dir
    print(f"The {edition.label} edition: {edition.count} post{'' if edition.count == 1 else 's'}, “{edition.title}”")
    print(f"  web page:    {out / edition.path / 'index.html'}  ({edition.permalink})")
    print(f"  email HTML:  {out / edition.email_path}")
    print(f"  email text:  {out / edition.text_path}")
    print(f"  send it:     qsite digest {edition.key} --print html | your-mail-tool")
    return EXIT_OK


EXTENSIONS.append(add_digest_command)


def main(argv: Sequence[str] | None = None) -> int:
    parser = make_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.handler
    try:
        with stop_on(STOP_SIGNALS, keep_ignored=True):
            return handler(args)
    except QsiteError as exc:
        print_problems(exc.problems)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(args, exc)


def interrupted(args: argparse.Namespace, exc: KeyboardInterrupt) -> int:
    """Ctrl-C or SIGTERM (``qsite/interrupt.py``): one line, and the status a shell gives a
    process the signal killed (130, 143), so scripts and CI see it was interrupted.

    A build is only ever swapped in whole (``qsite/write.py``), so whenever the signal came the
    output folder holds a complete site: the previous one, or this one if it was already in place.
    """
    if getattr(args, "command", None) in ("build", "digest"):
        print("Interrupted: the output folder still holds the last complete build.", file=sys.stderr)
    else:
        print("Stopped.", file=sys.stderr)
    return exit_status(exc)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
