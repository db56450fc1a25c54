"""The arguments of ``qsite import`` and what it prints: kept here so that ``qsite/cli.py``
holds only its row in the command table.

Everything else is imported only when an import runs: every ``qsite`` command builds the
whole parser, and the readers (BeautifulSoup, markdownify, defusedxml) took 0.8 s to import."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from qsite.problems import ConfigError, Problem

KINDS = ("jekyll", "wordpress")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("kind", choices=KINDS, help="what the old blog ran on")
    parser.add_argument("path", type=Path, help="the WordPress export file (.xml), or the Jekyll site's folder")
    parser.add_argument(
        "--theme-map", action="append", default=[], metavar='"CATEGORY=THEME"',
        help='put posts of a category under a theme: --theme-map "Staff wellbeing=staff-wellbeing"; repeat',
    )
    parser.add_argument("--default-theme", metavar="SLUG", help="the theme for posts no --theme-map names")
    parser.add_argument("--force", action="store_true", help="replace files an earlier import wrote (never others)")
    parser.add_argument("--dry-run", action="store_true", help="say what would be imported, and write nothing")
    parser.add_argument("--report", type=Path, metavar="FILE", help="also write the report as Markdown to FILE")


def run(args: argparse.Namespace, say: Callable[[str], None]) -> int:
    from qsite.importers.run import Options, check_theme, parse_theme_map, read_site
    from qsite.importers.run import run as run_import

    if not args.path.exists():
        raise ConfigError([Problem(str(args.path), None, "there is no such file or folder")])
    if args.kind == "jekyll" and not args.path.is_dir():
        raise ConfigError([Problem(str(args.path), None, "a Jekyll site is a folder",
                                   "name the folder that holds _config.yml")])
    if args.kind == "wordpress" and args.path.is_dir():
        raise ConfigError([Problem(str(args.path), None, "a WordPress export is a file",
                                   "in WordPress use Tools → Export → All content, and name the .xml file")])
    if args.report and not args.report.parent.is_dir():  # found before importing, not after
        raise ConfigError([Problem(str(args.report), None, "the report's folder does not exist")])
    site = read_site(args.source)
    options = Options(
        theme_map=parse_theme_map(args.theme_map, site.themes),
        default_theme=check_theme(args.default_theme, site.themes, "--default-theme") if args.default_theme else None,
        force=args.force,
        dry_run=args.dry_run,
    )
    if args.kind == "wordpress":
        from qsite.importers.wordpress import plan
    else:
        from qsite.importers.jekyll import plan
    report = run_import(args.kind, args.path, args.source, options, plan)
    if args.dry_run:
        say("Dry run: nothing was written.")
    for line in report.summary():
        say(line)
    if args.report:
        args.report.write_text(report.markdown(), encoding="utf-8")
        say(f"Report written to {args.report}")
    return 0
