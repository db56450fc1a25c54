"""The editor's commands, ``new``, ``check`` and ``serve``: argument parsing and printing only.

They live beside ``cli.py`` rather than in it so that the shared file only gains one line to
register them (``cli.EXTENSIONS``); the work is done by ``qsite.new``, ``qsite.check`` and
``qsite.serve``, which neither print nor exit.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TextIO

from qsite import cli
from qsite.problems import ConfigError, Problem


def register(commands: argparse._SubParsersAction) -> None:
    new = commands.add_parser(
        "new",
        help="start a new post in content/posts/",
        description="Write content/posts/YYYY-MM-DD-<title>.md with front matter to fill in, "
        "and print its path. It never overwrites a file.",
    )
    new.add_argument("title", help='the post\'s title, in quotes: "What we learned from huddles"')
    new.add_argument(
        "--theme",
        "-t",
        action="append",
        default=[],
        metavar="SLUG",
        help="a theme slug from site.yaml; repeat for several (asked for if left out)",
    )
    new.add_argument(
        "--tag", action="append", default=[], metavar="TAG", help="a tag; repeat for several"
    )
    new.add_argument(
        "--author",
        action="append",
        default=[],
        metavar="NAME",
        help="who wrote it; repeat for several",
    )
    new.add_argument(
        "--draft", action="store_true", help="mark it as a draft, so it is not published"
    )
    new.add_argument("--slug", metavar="NAME", help="the URL name, if not made from the title")
    cli.add_source_option(new)
    new.set_defaults(handler=cmd_new)

    check = commands.add_parser(
        "check",
        help="check the whole site without writing anything",
        description="Check site.yaml, every post and page, and every internal link, anchor, "
        "image and alt text in the rendered site, without writing to the output folder. "
        "Exit 0 when clean, 1 for content problems, 2 for configuration problems.",
    )
    cli.add_site_options(check)
    check.add_argument(
        "--strict", action="store_true", help="fail on warnings as well as errors (CI uses this)"
    )
    check.set_defaults(handler=cmd_check)

    serve = commands.add_parser(
        "serve",
        help="preview the site, rebuilding and reloading as you edit",
        description="Build the site in memory, with drafts and scheduled posts, serve it, and "
        "rebuild when content/, templates/ or site.yaml change. Open pages reload by themselves. "
        "The output folder is not touched. Stop with Ctrl-C.",
    )
    cli.add_source_option(serve)
    serve.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: 127.0.0.1, this computer only)",
    )
    serve.add_argument(
        "--port",
        "-p",
        type=_port,
        default=8000,
        help="port to listen on (default: 8000; 0 picks a free one)",
    )
    serve.set_defaults(handler=cmd_serve)


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


# -- new ----------------------------------------------------------------------------------------


def ask_themes(slugs: list[str], titles: list[str], stdin: TextIO = sys.stdin) -> list[str]:
    """Ask on the terminal, by number or slug; asks again until the answer is usable."""
    print("Which themes is this post about?")
    for number, (slug, title) in enumerate(zip(slugs, titles, strict=True), 1):
        print(f"  {number}. {title} ({slug})")
    while True:
        try:
            answer = input("Theme numbers or slugs, separated by spaces or commas: ")
        except EOFError:
            raise ConfigError(
                [
                    Problem(
                        "--theme",
                        None,
                        "no theme chosen",
                        f"use --theme with one of: {', '.join(slugs)}",
                    )
                ]
            ) from None
        chosen: list[str] = []
        unknown: list[str] = []
        for word in answer.replace(",", " ").split():
            if word.isdigit() and 1 <= int(word) <= len(slugs):
                chosen.append(slugs[int(word) - 1])
            elif word in slugs:
                chosen.append(word)
            else:
                unknown.append(word)
        if chosen and not unknown:
            return chosen
        if unknown:
            print(
                f"Not a theme: {', '.join(unknown)}. Type numbers from 1 to {len(slugs)}, or slugs."
            )
        else:
            print("Choose at least one theme.")


def cmd_new(args: argparse.Namespace) -> int:
    from qsite.build import Options, configure, now_for
    from qsite.new import NewPost, new_post

    config = configure(args.source)
    themes: list[str] = args.theme
    if not themes:
        slugs = [t.slug for t in config.themes]
        if sys.stdin is None or not sys.stdin.isatty():  # None: started with standard input closed
            raise ConfigError(
                [
                    Problem(
                        "--theme",
                        None,
                        "no theme given",
                        f"add --theme with one of: {', '.join(slugs)} (repeat --theme for several)",
                    )
                ]
            )
        themes = ask_themes(slugs, [t.title for t in config.themes])
    today = now_for(Options()).astimezone(config.tz).date()
    post = NewPost(
        args.title, tuple(themes), tuple(args.tag), tuple(args.author), args.draft, args.slug
    )
    rel = new_post(args.source, config, post, today)
    print(rel.as_posix())
    return cli.EXIT_OK


# -- check --------------------------------------------------------------------------------------


def annotation(problem: Problem, root: Path) -> str:
    """A GitHub Actions workflow command, so the problem shows on the pull request's diff.
    ``file`` is relative to the repository (the workspace), where the site may be a subfolder."""
    path = Path(problem.path)
    full = path if path.is_absolute() else root / path
    props = []
    if not problem.path.startswith("-") and full.is_file():
        workspace = Path(os.environ.get("GITHUB_WORKSPACE") or Path.cwd()).resolve()
        try:
            file = full.resolve().relative_to(workspace).as_posix()
        except ValueError:
            file = full.resolve().as_posix()
        props.append(f"file={_escape_property(file)}")
        if problem.line:
            props.append(f"line={problem.line}")
    message = problem.message + (f"\nFix: {problem.fix}" if problem.fix else "")
    if not props:
        message = f"{problem.path}: {message}"
    kind = "error" if problem.severity == "error" else "warning"
    where = " " + ",".join(props) if props else ""
    return f"::{kind}{where}::{_escape_data(message)}"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def cmd_check(args: argparse.Namespace) -> int:
    from qsite.build import Options
    from qsite.check import check_site

    options = Options(drafts=args.drafts, future=args.future, base_url=args.base_url)
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    try:
        report = check_site(args.source, options)
    except ConfigError as exc:
        _report(exc.problems, args.source, github)
        return exc.exit_code
    problems = sorted(report.problems, key=lambda p: (p.path, p.line or 0, p.message))
    _report(problems, args.source, github)
    if not report.rendered:
        print(
            "Links, anchors and images were not checked: fix the problems above first.",
            file=sys.stderr,
        )
    elif not problems:
        print(f"Checked {report.pages} pages and {report.links} internal links: no problems.")
    else:
        print(f"Checked {report.pages} pages and {report.links} internal links.", file=sys.stderr)
    if report.errors or (args.strict and report.warnings):
        if not report.errors:
            print("Failing because of --strict: warnings count as errors.", file=sys.stderr)
        return cli.EXIT_CONTENT
    return cli.EXIT_OK


def _report(problems: list[Problem], root: Path, github: bool) -> None:
    cli.print_problems(problems)
    if github:
        for problem in problems:
            print(annotation(problem, root))
        sys.stdout.flush()


# -- serve --------------------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from qsite.serve import serve

    def log(line: str) -> None:
        print(line, flush=True)

    def ready(url: str) -> None:
        print(
            f"Serving the site at {url} (with drafts and scheduled posts). Press Ctrl-C to stop.",
            flush=True,
        )

    try:
        serve(args.source, args.host, args.port, log, ready)
    except KeyboardInterrupt:
        print("Stopped.", flush=True)
    return cli.EXIT_OK
