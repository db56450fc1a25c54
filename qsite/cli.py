"""The command line: one table of commands (``COMMANDS``), and the only module that prints or exits.

Exit codes: 0 success; 1 content an editor can fix; 2 usage, configuration or environment.

Each command is one row of the table: its name, its help, the shared options it takes (defined
once below: ``--source``, the site options, ``--output``, the speed options), a function adding
its own arguments, and a function that runs it and returns an exit code. A command only wires
steps together: the work is done by ``qsite.build``, ``qsite.check``, ``qsite.new``,
``qsite.serve`` and ``qsite.digest``, and what it says is worded in ``qsite/summaries.py``,
``qsite/annotations.py`` and ``qsite/theme_prompt.py``. No other module imports this one
(``tests/test_imports.py``), so the steps never depend on their caller.

Steps are imported inside the command that needs them: ``qsite build`` with nothing changed
answers from ``qsite/incremental/fastpath.py`` without importing the pipeline at all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from qsite import __version__, summaries
from qsite.interrupt import STOP_SIGNALS, exit_status, stop_on
from qsite.problems import ConfigError, Problem, QsiteError

if TYPE_CHECKING:  # imported by the commands that need them, not at start-up
    from qsite.build import BuildResult
    from qsite.digest import Edition
    from qsite.mailer import Smtp

EXIT_OK, EXIT_CONTENT, EXIT_USAGE = 0, 1, 2

AddArguments = Callable[[argparse.ArgumentParser], None]


def print_problems(problems: Sequence[Problem]) -> None:
    """Every problem, then how many there were, on standard error."""
    for problem in problems:
        print(problem.format(), file=sys.stderr)
    count = summaries.problem_count(problems)
    if count:
        print(count, file=sys.stderr)


# -- the shared options, each defined once ------------------------------------------------------


def _folder(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value} is not a folder")
    return path.resolve()


def source_option(parser: argparse.ArgumentParser) -> None:
    """``--source``: every command works on one site folder, found the same way."""
    parser.add_argument(
        "--source",
        "-s",
        type=_folder,
        default=Path.cwd(),
        metavar="DIR",
        help="the site's folder, holding site.yaml (default: the current folder)",
    )


def site_options(parser: argparse.ArgumentParser) -> None:
    """Which posts are in, and where the site is published: for every command that renders."""
    parser.add_argument("--drafts", action="store_true", help="include posts marked draft: true")
    parser.add_argument("--future", action="store_true", help="include posts dated in the future")
    parser.add_argument("--base-url", metavar="URL", help="publish at this URL instead of site.yaml's base_url")


def output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output", "-o", type=Path, metavar="DIR", help="the output folder, instead of site.yaml's output_dir"
    )


def _jobs(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return int(value)


def speed_options(parser: argparse.ArgumentParser) -> None:
    """``--jobs`` and ``--no-cache``, for the command that writes a build."""
    parser.add_argument("--jobs", "-j", type=_jobs, metavar="N", help="worker processes to use (default: one per core)")
    parser.add_argument(
        "--no-cache", action="store_true", help="neither use nor update the build cache (.qsite-cache/)"
    )


# -- qsite build --------------------------------------------------------------------------------


def build_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="print nothing but problems")
    parser.add_argument("--no-search", action="store_true", help="skip the search index, for quicker local builds")


def run_build(args: argparse.Namespace) -> int:
    from qsite.incremental.cachefiles import note

    notes: list[str] = []  # unreadable cache files: ignored and rebuilt, named in one line
    if not args.no_cache and _unchanged(args, notes):
        return EXIT_OK
    from qsite.parallel import collector_paused

    # The whole pipeline, imported only when there is work, with the cyclic garbage collector
    # paused as the build itself pauses it: the imports make thousands of lasting objects
    # (modules, classes, ~500 functions generated for dataclasses) and only a few hundred
    # garbage ones, so the collector's passes over them cost ~8 ms CPU of every build's start
    # (issue 10); what garbage there is waits for the collector's next pass after the build.
    with collector_paused():
        from qsite.build import Options, build

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
    line = note(notes + result.cache_notes)
    if line:
        print(line, file=sys.stderr)
    if result.warnings:
        print_problems(result.warnings)
    if not args.quiet:
        print(summaries.built(result))
        print(summaries.searched(result))
    return EXIT_OK


def _unchanged(args: argparse.Namespace, notes: list[str]) -> bool:
    """True, after printing what a build would, if nothing changed since the last build
    (qsite/incremental/fastpath.py): then nothing is loaded, rendered or written, nor even imported."""
    from qsite.incremental import fastpath

    start = time.perf_counter()
    found = fastpath.quick(
        args.source, drafts=args.drafts, future=args.future, base_url=args.base_url, output=args.output,
        search=not args.no_search, notes=notes,
    )
    if found is None:
        return False
    last, out = found
    if last.warnings:
        print_problems(list(last.warnings))
    if not args.quiet:
        for line in summaries.unchanged(last, out, time.perf_counter() - start, search=not args.no_search):
            print(line)
    return True


# -- qsite clean --------------------------------------------------------------------------------


def run_clean(args: argparse.Namespace) -> int:
    from qsite.build import clean

    for path in clean(args.source, args.output):
        print(f"Removed {path}")
    return EXIT_OK


# -- qsite new ----------------------------------------------------------------------------------


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date written YYYY-MM-DD") from None


def new_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "words", nargs="+", metavar="[post|digest|comment] TITLE|PERIOD|POST",
        help='a post\'s title, in quotes: "What we learned from huddles"; or digest and its period: digest 2020-04; '
        "or comment and the slug of the post it is on",
    )
    parser.add_argument("--date", type=_day, metavar="YYYY-MM-DD", help="date the post this day (default: today)")
    parser.add_argument(
        "--theme",
        "-t",
        action="append",
        default=[],
        metavar="SLUG",
        help="a theme slug from site.yaml; repeat for several (asked for if left out)",
    )
    parser.add_argument("--tag", action="append", default=[], metavar="TAG", help="a tag; repeat for several")
    parser.add_argument(
        "--author", action="append", default=[], metavar="NAME", help="who wrote it; repeat for several"
    )
    parser.add_argument("--draft", action="store_true", help="mark it as a draft, so it is not published")
    parser.add_argument("--slug", metavar="NAME", help="the URL name, if not made from the title")
    parser.add_argument("--reply-to", metavar="NAME", help="comment: the file name (no .md) of the comment it answers")
    parser.add_argument("--role", metavar="TEXT", help="comment: shown beside the commenter's name")


def _post_options(args: argparse.Namespace) -> dict[str, object]:
    """The options of ``qsite new`` only a post takes, by name, as given."""
    return {"--theme": args.theme, "--tag": args.tag, "--draft": args.draft, "--slug": args.slug, "--date": args.date}


def run_new_comment(args: argparse.Namespace, post: str) -> int:
    """``qsite new comment POST --author NAME [--reply-to NAME] [--role TEXT]`` (qsite/new.py)."""
    from qsite.build import Options, configure, now_for
    from qsite.new import NewComment, new_comment, refuse_post_options

    refuse_post_options(_post_options(args))
    if len(args.author) != 1:
        print_problems([Problem("--author", None, "give the commenter's name once: --author NAME")])
        return EXIT_USAGE
    config = configure(args.source)
    today = now_for(Options()).astimezone(config.tz).date()
    comment = NewComment(post, args.author[0], args.reply_to, args.role)
    print(new_comment(args.source, config, comment, today).as_posix())
    return EXIT_OK


def run_new(args: argparse.Namespace) -> int:
    from qsite.new import kind_of

    kind, words = kind_of(args.words)
    if kind == "comment" and len(words) == 1:
        return run_new_comment(args, words[0])
    if kind == "comment" or args.reply_to is not None or args.role is not None:
        print_problems([Problem("qsite new", None, "a comment is on one post, named by its slug; --reply-to and "
                                "--role are for comments", "qsite new comment POST --author NAME")])
        return EXIT_USAGE
    from qsite.build import Options, configure, now_for
    from qsite.new import NewPost, digest_editor, new_post, plan_digest, write_post
    from qsite.theme_prompt import ask_themes

    if kind == "digest":
        editor = digest_editor(_post_options(args), args.author)
        rel, text = plan_digest(" ".join(words), configure(args.source), editor)
        print(write_post(args.source, rel, text).relative_to(args.source).as_posix())
        return EXIT_OK
    config = configure(args.source)
    terminal = sys.stdin is not None and sys.stdin.isatty()  # None: started with standard input closed
    choices = [(t.slug, t.title) for t in config.themes]
    themes: list[str] = args.theme or ask_themes(choices, input if terminal else None, print)
    today = args.date or now_for(Options()).astimezone(config.tz).date()
    post = NewPost(" ".join(words), tuple(themes), tuple(args.tag), tuple(args.author), args.draft, args.slug)
    print(new_post(args.source, config, post, today).as_posix())
    return EXIT_OK


# -- qsite check --------------------------------------------------------------------------------


def check_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--strict", action="store_true", help="fail on warnings as well as errors (CI uses this)")


def run_check(args: argparse.Namespace) -> int:
    from qsite.build import Options
    from qsite.check import check_site

    options = Options(drafts=args.drafts, future=args.future, base_url=args.base_url)
    github = os.environ.get("GITHUB_ACTIONS") == "true"  # annotate the pull request's diff too
    try:
        report = check_site(args.source, options)
    except ConfigError as exc:
        _report(exc.problems, args.source, github)
        return exc.exit_code
    problems = sorted(report.problems, key=lambda p: (p.path, p.line or 0, p.message))
    _report(problems, args.source, github)
    clean = report.rendered and not problems
    print(summaries.checked(report), file=sys.stdout if clean else sys.stderr)
    if report.errors or (args.strict and report.warnings):
        if not report.errors:
            print(summaries.STRICT, file=sys.stderr)
        return EXIT_CONTENT
    return EXIT_OK


def _report(problems: Sequence[Problem], root: Path, github: bool) -> None:
    print_problems(problems)
    if github:
        from qsite.annotations import annotation

        for problem in problems:
            print(annotation(problem, root))
        sys.stdout.flush()


# -- qsite serve --------------------------------------------------------------------------------


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def serve_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this computer only)"
    )
    parser.add_argument(
        "--port", "-p", type=_port, default=8000, help="port to listen on (default: 8000; 0 picks a free one)"
    )


def run_serve(args: argparse.Namespace) -> int:
    # serve reads site.yaml through qsite.build.configure, exactly as build does (tests/test_cli.py).
    from qsite.serve import serve

    def log(line: str) -> None:
        print(line, flush=True)

    def ready(url: str) -> None:
        print(f"Serving the site at {url} (with drafts and scheduled posts). Press Ctrl-C to stop.", flush=True)

    try:
        serve(args.source, args.host, args.port, log, ready)
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
    return EXIT_OK


# -- qsite digest -------------------------------------------------------------------------------


def digest_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "period",
        nargs="?",
        metavar="PERIOD",
        help="the edition's month, e.g. 2020-04 (or ISO week, e.g. 2020-W16, with digest.period: week); "
        "default: the latest period that has ended",
    )
    form = parser.add_mutually_exclusive_group()
    form.add_argument(
        "--print",
        dest="print_as",
        choices=("html", "text"),
        help="write the email edition (HTML, or its plain-text alternative) to standard output",
    )
    # Mailing (qsite/mailer.py): built in memory, nothing written to the output folder.
    form.add_argument("--eml", type=Path, metavar="FILE", help="write the edition as a complete email (.eml) to FILE")
    parser.add_argument("--send", action="store_true",
                        help="send the edition over SMTP (QSITE_SMTP_* environment variables); a finished edition only")
    parser.add_argument("--again", action="store_true", help="with --send: send an edition that was sent before")


def run_digest(args: argparse.Namespace) -> int:
    from qsite import email
    from qsite.build import Options, build, configure, now_for, render_site

    mailing = bool(args.eml or args.send)
    smtp = _digest_smtp(args)  # before building: a missing setting costs nothing
    options = Options(drafts=args.drafts, future=args.future, base_url=args.base_url, output=args.output)
    # With --print (or --eml/--send): nothing written to the output folder.
    in_memory = bool(args.print_as or mailing)
    result = render_site(configure(args.source, options), options) if in_memory else build(args.source, options)
    if result.warnings:
        print_problems(result.warnings)
    assert result.digest is not None  # render_site always assembles the digest
    if args.send and args.period is None and result.digest.latest is not None:
        edition = result.digest.latest  # the newest finished edition, even if last month had none
    else:
        edition = email.choose(result.digest, args.period, now_for(options), result.config.tz)
    if not edition.complete:
        if args.send:
            last = edition.period.last_day.isoformat()
            raise ConfigError([Problem(edition.key, None, f"the {edition.label} edition is still in progress (until "
                                       f"{last}), so it is not sent", "send it once the period has ended, or send "
                                       "the latest finished edition: qsite digest --send")])
        print(summaries.edition_not_ended(edition), file=sys.stderr)
    if args.print_as:
        sys.stdout.flush()
        sys.stdout.buffer.write(email.email_file(result.outputs, edition, args.print_as))
        sys.stdout.flush()
        return EXIT_OK
    if mailing:
        return _mail_digest(args, result, edition, smtp)
    for line in summaries.edition_files(edition, result.out or result.config.output_dir):
        print(line)
    return EXIT_OK


def _digest_smtp(args: argparse.Namespace) -> Smtp | None:
    """The mail server for --send (from the environment), after refusing what cannot be sent."""
    if args.again and not args.send:
        raise ConfigError([Problem("--again", None, "--again only goes with --send")])
    if not args.send:
        return None
    if args.drafts or args.future:
        raise ConfigError([Problem("--send", None, "a digest that is sent holds published posts only",
                                   "leave out --drafts and --future")])
    from qsite import mailer

    return mailer.smtp_from_env()


def _mail_digest(args: argparse.Namespace, result: BuildResult, edition: Edition, smtp: Smtp | None) -> int:
    from datetime import UTC, datetime

    from qsite import email, mailer

    now = datetime.now(UTC)  # the Date header: when it is really sent, whatever SOURCE_DATE_EPOCH says
    html, text = (email.email_file(result.outputs, edition, form) for form in ("html", "text"))
    message = mailer.compose(result.config, edition, html, text, now)
    if args.eml:
        try:
            args.eml.write_bytes(mailer.eml_bytes(message))
        except OSError as exc:
            raise ConfigError([Problem(str(args.eml), None, f"cannot write the email: {exc.strerror}")]) from None
        print(f"Wrote {args.eml}: “{message['Subject']}” to {message['To']}")
    if args.send:
        sent = mailer.sendings_of(mailer.read_sent(args.source), edition.key)
        if sent and not args.again:
            raise ConfigError([Problem(mailer.SENT_FILE, None, f"the {edition.label} edition was already sent "
                                       f"({sent[-1].sent}, to {sent[-1].to})", "add --again to send it once more")])
        assert smtp is not None  # _digest_smtp made it for --send
        mailer.send(message, smtp)
        record = mailer.Sending(edition.key, now.isoformat(timespec="seconds"), message["To"], message["Message-ID"])
        path = mailer.record_sent(args.source, record)
        print(f"Sent “{message['Subject']}” to {message['To']}; recorded in {path.name}: commit it.")
    return EXIT_OK


# -- qsite diff ---------------------------------------------------------------------------------


def diff_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("old", type=Path, metavar="OLD_OUTPUT", help="the output folder before the change")
    parser.add_argument("new", type=Path, metavar="NEW_OUTPUT", help="the output folder after it")


def run_diff(args: argparse.Namespace) -> int:
    from qsite.diff import compare, markdown

    print(markdown(compare(args.old, args.new)), end="")
    return EXIT_OK


# -- qsite theme ---------------------------------------------------------------------------------


def theme_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=("copy", "list"), help="copy templates into templates/, or list them")
    parser.add_argument(
        "names", nargs="*", metavar="NAME", help="templates or folders to copy: post.html, partials… (default: all)"
    )


def run_theme(args: argparse.Namespace) -> int:
    from qsite import scaffold

    if args.action == "list":
        mine = scaffold.overridden(args.source, scaffold.theme_files())
        for rel in scaffold.theme_files():
            print(f"{rel}  (overridden by templates/{rel})" if rel in mine else rel)
        return EXIT_OK
    written = scaffold.copy_theme(args.source, args.names)
    for rel in written.created:
        print(f"Copied {rel}")
    for rel in written.kept:
        print(f"Kept {rel}: it exists, and qsite theme copy never overwrites a file", file=sys.stderr)
    return EXIT_OK


# -- qsite init ----------------------------------------------------------------------------------


def init_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", nargs="?", type=Path, default=Path("."), metavar="DIR",
                        help="where to start the site (default: the current folder)")
    parser.add_argument("--title", default="", help="the site's name")
    parser.add_argument("--base-url", default="", metavar="ADDRESS", help="the address it will be published at")
    parser.add_argument("--theme", action="append", default=[], metavar='"SLUG=Title"',
                        help="a theme of the site; repeat for several")
    parser.add_argument("--contact", default="", metavar="EMAIL_OR_URL",
                        help="where readers report an accessibility problem (default: the About page)")
    parser.add_argument("--force", action="store_true",
                        help="add the missing files to a folder that is not empty (nothing is overwritten)")


def run_init(args: argparse.Namespace) -> int:
    from qsite import scaffold
    from qsite.build import Options, now_for

    site = scaffold.NewSite(args.title, args.base_url, tuple(scaffold.parse_theme(t) for t in args.theme), args.contact)
    if not (site.title and site.base_url and site.themes) and sys.stdin is not None and sys.stdin.isatty():
        site = scaffold.ask_new_site(site, input, print)
    today = now_for(Options()).astimezone(scaffold.TIMEZONE).date()  # site.yaml's timezone
    written = scaffold.init_site(args.folder, site, today, force=args.force)
    for rel in written.created:
        print(f"Created {(args.folder / rel).as_posix()}")
    for rel in written.kept:
        print(f"Kept {(args.folder / rel).as_posix()}: it exists; qsite init never overwrites a file", file=sys.stderr)
    print(f"Next: cd {args.folder} && qsite serve (preview), then read README.md to publish on GitHub Pages.")
    return EXIT_OK


# -- qsite import -------------------------------------------------------------------------------


def import_arguments(parser: argparse.ArgumentParser) -> None:
    from qsite.importers.command import add_arguments

    add_arguments(parser)


def run_import(args: argparse.Namespace) -> int:
    from qsite.importers.command import run

    return run(args, print)


# -- the table ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    """One ``qsite NAME``: ``shared`` options first, then its own ``arguments``; ``run`` returns
    the exit code."""

    name: str
    help: str
    description: str
    run: Callable[[argparse.Namespace], int]
    shared: tuple[AddArguments, ...] = (source_option,)
    arguments: AddArguments | None = None


COMMANDS = (
    Command(
        "init",
        "start a new site in a folder",
        "Write a new site: site.yaml (commented), a welcome post per theme, an About page, .gitignore, "
        "requirements.txt pinning this qsite, the GitHub workflows that check and publish it, and a README "
        "for its editors. Asks on a terminal for what the options leave out. Refuses a folder that is not "
        "empty unless --force, and never overwrites a file.",
        run_init,
        (),
        init_arguments,
    ),
    Command(
        "build",
        "build the site into the output folder",
        "Build the site into the output folder. The previous output is replaced only if the whole build succeeds.",
        run_build,
        (source_option, site_options, output_option, speed_options),
        build_arguments,
    ),
    Command(
        "clean",
        "delete the output folder and the build cache",
        "Delete the output folder and the build cache (.qsite-cache/), so the next build starts afresh.",
        run_clean,
        (source_option, output_option),
    ),
    Command(
        "new",
        "start a post in content/posts/, a digest edition or a comment",
        "Write content/posts/YYYY-MM-DD-<title>.md with front matter to fill in, and print its path; "
        "'qsite new digest 2020-04' writes content/digests/2020-04.md; "
        "'qsite new comment POST --author NAME [--reply-to NAME] [--role TEXT]' writes a comment on the post "
        "with that slug in content/comments/POST/. It never overwrites a file.",
        run_new,
        (source_option,),
        new_arguments,
    ),
    Command(
        "check",
        "check the whole site without writing anything",
        "Check site.yaml, every post and page, and every internal link, anchor, image and alt text in the "
        "rendered site, without writing to the output folder. "
        "Exit 0 when clean, 1 for content problems, 2 for configuration problems.",
        run_check,
        (source_option, site_options),
        check_arguments,
    ),
    Command(
        "serve",
        "preview the site, rebuilding and reloading as you edit",
        "Build the site in memory, with drafts and scheduled posts, serve it, and rebuild when content/, "
        "templates/ or site.yaml change. Open pages reload by themselves. The output folder is not touched. "
        "Stop with Ctrl-C (or SIGTERM).",
        run_serve,
        (source_option,),
        serve_arguments,
    ),
    Command(
        "digest",
        "build the site and show where one learning digest edition is",
        "Build the site, then print where one digest edition's web page and email files are. "
        "With --print, build in memory only and write the email edition to standard output, "
        "byte for byte the file the build writes, for piping into a mail tool.",
        run_digest,
        (source_option, site_options, output_option),
        digest_arguments,
    ),
    Command("diff", "list the pages two builds differ in, as Markdown",
            "Compare two output folders (before and after a change) and print, as Markdown, the pages added, "
            "changed and removed, with their titles and addresses: the pull-request preview's summary. "
            "Exit 0 (also when they differ); 2 if a folder is missing.",
            run_diff, (), diff_arguments),
    Command(
        "theme",
        "copy default templates into templates/ to customise them",
        "qsite theme copy [NAME ...]: copy templates of qsite's default theme (all of them without a NAME) "
        "into the site's templates/, where each file replaces the theme's of the same name. Existing files "
        "are never overwritten. qsite theme list: every template, and which the site overrides.",
        run_theme,
        (source_option,),
        theme_arguments,
    ),
    Command(
        "import",
        "bring posts, comments and authors in from WordPress or Jekyll",
        "Read a WordPress export (WXR) or a Jekyll site folder and write its posts, pages, comments and "
        "authors into content/, keeping every old address as an alias. Never overwrites a file; with --force "
        "it replaces only files an earlier import wrote. Exit 1 for malformed input (nothing is written).",
        run_import,
        (source_option,),
        import_arguments,
    ),
)


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qsite",
        description="Build the learning digest site from site.yaml, content/ and templates/.",
    )
    parser.add_argument("--version", action="version", version=f"qsite {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.description)
        for add in command.shared:
            add(sub)
        if command.arguments:
            command.arguments(sub)
        sub.set_defaults(handler=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return its exit code (the ``qsite`` script exits with it)."""
    parser = make_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error: argparse has printed it
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        with stop_on(STOP_SIGNALS, keep_ignored=True):
            return args.handler(args)
    except QsiteError as exc:
        print_problems(exc.problems)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        return interrupted(args, exc)
    except BrokenPipeError:
        return reader_gone()


def reader_gone() -> int:
    """``qsite build | head -1``: the reader closed the pipe before we finished writing. That is
    the reader's choice, not a mistake, so no traceback: stdout is pointed at /dev/null (so the
    flush at exit cannot fail again) and the status is the one a shell gives a process that
    SIGPIPE stopped (141), as ``git log | head`` gets. Whenever it happens, the output folder
    holds a complete build, the old one or the new (``qsite/write.py``)."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + int(signal.SIGPIPE)


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
