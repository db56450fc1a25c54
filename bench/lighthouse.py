"""``python -m bench.lighthouse`` (``make lighthouse``): Lighthouse's four scores for every page
kind of the example site, at its mobile settings (issue 14).

The example site is built (with its search index) into a temporary folder and served by a
static server on 127.0.0.1, as a host would serve it; Lighthouse, installed by the Makefile
from npm into .tools/lighthouse, drives Debian's Chromium (``CHROME_PATH``, never a browser
download). Prints one row per page: performance, accessibility, best practices, SEO; exits 1
if a score is below ``--target``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.static_host import serving
from qsite.build import Options, build

REPO = Path(__file__).resolve().parent.parent
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
# Every kind of page (as tests/browser/test_reader.py lists them): (name, path).
PAGES = [
    ("home", "/"),
    ("home, page 2", "/page/2/"),
    ("themes", "/themes/"),
    ("theme", "/themes/staff-wellbeing/"),
    ("post with image", "/posts/running-virtual-huddles/"),
    ("post with code", "/posts/run-charts-for-small-teams/"),
    ("post with table", "/posts/second-wave-what-we-kept/"),
    ("tags", "/tags/"),
    ("tag", "/tags/huddles/"),
    ("archive", "/archive/"),
    ("search", "/search/"),
    ("about (page)", "/about/"),
    ("accessibility", "/accessibility/"),
    ("digests", "/digest/"),
    ("digest edition", "/digest/2020-04/"),
    # Lighthouse will not audit a page answered with 404, so the not-found page by its own name
    ("not found", "/404.html"),
]
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking"


def run_lighthouse(lighthouse: str, url: str, out: Path, chrome: str) -> dict[str, int]:
    cmd = [
        lighthouse, url, "--quiet", "--output=json", f"--output-path={out}",
        f"--only-categories={','.join(CATEGORIES)}", "--form-factor=mobile",
        f"--chrome-flags={CHROME_FLAGS}",
    ]
    env = {**os.environ, "CHROME_PATH": chrome}
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not out.is_file():
        raise RuntimeError(f"lighthouse failed on {url}:\n{done.stderr[-2000:]}")
    report = json.loads(out.read_text(encoding="utf-8"))
    return {c: round((report["categories"][c]["score"] or 0) * 100) for c in CATEGORIES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lighthouse", default=str(REPO / ".tools/lighthouse/node_modules/.bin/lighthouse"))
    parser.add_argument("--chrome", default=os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
    parser.add_argument("--target", type=int, default=98)
    parser.add_argument("--only", nargs="*", default=None, help="audit only the pages of these names")
    args = parser.parse_args(argv)
    if not Path(args.lighthouse).exists():
        print(f"{args.lighthouse} not found: run `make lighthouse`, which installs it", file=sys.stderr)
        return 2
    if not Path(args.chrome).exists():
        print(f"{args.chrome} not found: sudo apt-get install chromium", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="qsite-lighthouse-") as tmp:
        root = Path(tmp) / "site"
        root.mkdir()
        shutil.copy(REPO / "site.yaml", root / "site.yaml")
        shutil.copytree(REPO / "content", root / "content")
        if (REPO / "templates").is_dir():
            shutil.copytree(REPO / "templates", root / "templates")
        build(root, Options(output=root / "public"))
        with serving(root / "public") as base:
            version = subprocess.run([args.lighthouse, "--version"], capture_output=True, text=True).stdout.strip()
            load = ", ".join(f"{x:.1f}" for x in os.getloadavg())  # performance scores drop on a busy machine
            print(f"Lighthouse {version}, mobile, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()} "
                  f"({platform.machine()}, {os.cpu_count()} cores, load average {load})")
            header = f"| {'page':<18} | " + " | ".join(f"{c:>14}" for c in CATEGORIES) + " |"
            print(header)
            print("|" + "|".join("-" * (len(part) + 0) for part in header.split("|")[1:-1]) + "|")
            below: list[str] = []
            for name, path in [p for p in PAGES if args.only is None or p[0] in args.only]:
                try:
                    scores = run_lighthouse(args.lighthouse, base + path, Path(tmp) / "report.json", args.chrome)
                except (RuntimeError, subprocess.TimeoutExpired) as exc:
                    print(f"| {name:<18} | {exc}".splitlines()[0] + " |")
                    below.append(f"{name}: not measured")
                    continue
                print(f"| {name:<18} | " + " | ".join(f"{scores[c]:>14}" for c in CATEGORIES) + " |", flush=True)
                below += [f"{name} {c} {scores[c]}" for c in CATEGORIES if scores[c] < args.target]
    if below:
        print(f"below {args.target}: " + "; ".join(below))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
