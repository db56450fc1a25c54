"""``python -m bench.micro``: two small measurements behind bench/PROFILE.md's recommendations.

* **Front matter**: ``qsite.strict_yaml.load`` composes with libyaml (``yaml.cyaml.CParser``)
  whenever the pure-Python path would read the text the same way (C4), and ``load_pure`` is
  PyYAML's pure-Python scanner, parser and composer, the authority for every message and line.
  Both are timed on the generated corpus's front matter, and again with an ``&`` in every
  title ("A&E", as NHS sites write it), and must give equal values and lines; the count of
  texts the fast path took is printed.
* **Template lookup**: ``Renderer.render`` calls ``env.get_template`` for every page; with
  Jinja's default ``auto_reload=True`` each call stats the template's file to see whether it
  changed. Timed: 2,000 lookups of ``post.html`` with ``auto_reload`` on and off.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from bench.corpus import generate
from qsite import THEME, strict_yaml
from qsite.render import make_env

REPO = Path(__file__).resolve().parent.parent
_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.S)


def best_of(runs: int, fn: object, *args: object) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        fn(*args)  # type: ignore[operator]
        best = min(best, time.process_time() - start)
    return best


def front_matter(site: Path, runs: int) -> str:
    texts = []
    for path in sorted((site / "content" / "posts").glob("*.md")):
        found = _FRONT.match(path.read_text(encoding="utf-8"))
        if found:
            texts.append(found.group(1))
    lines = []
    ampersands = [t.replace('title: "', 'title: "A&E: ', 1) for t in texts]
    for label, group in (("", texts), (" with an & in each title", ampersands)):
        for text in group:
            a, b = strict_yaml.load_pure(text, 1), strict_yaml.load(text, 1)
            if (a.value, a.lines) != (b.value, b.lines):
                raise SystemExit(f"libyaml gives another value or other lines for:\n{text}")
        fast = sum(strict_yaml.load_libyaml(text, 1) is not None for text in group)
        pure = best_of(runs, lambda group=group: [strict_yaml.load_pure(t, 1) for t in group])
        c = best_of(runs, lambda group=group: [strict_yaml.load(t, 1) for t in group])
        lines.append(
            f"Front matter of {len(group)} posts{label} (CPU, best of {runs}): load_pure {pure:.3f} s, "
            f"load {c:.3f} s ({pure / c:.1f}x faster; libyaml read {fast}; same values and lines)"
        )
    return "\n".join(lines)


def template_lookup(runs: int) -> str:
    results = []
    for auto_reload in (True, False):
        env = make_env(THEME)  # qsite's environment, with its filters
        env.auto_reload = auto_reload
        env.get_template("post.html")
        results.append(best_of(runs, lambda env=env: [env.get_template("post.html") for _ in range(2000)]))
    return (f"2,000 get_template('post.html') (CPU, best of {runs}): auto_reload on {results[0] * 1000:.0f} ms, "
            f"off {results[1] * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.micro", description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/qsite-micro"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    site = args.work / "posts-1000"
    if not (site / "site.yaml").is_file():
        generate(site, 1000, seed=2020)
    print(front_matter(site, args.runs))
    print(template_lookup(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
