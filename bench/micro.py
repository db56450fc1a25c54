"""``python -m bench.micro``: two small measurements behind bench/PROFILE.md's recommendations.

* **Front matter**: qsite reads every post's front matter with ``qsite.strict_yaml`` (PyYAML's
  pure-Python scanner, parser and composer, for its line numbers and its refusals). PyYAML
  also ships libyaml's C parser and composer (``yaml.cyaml.CParser``), whose nodes carry the same
  marks: composing with it and building values with qsite's own ``_build`` (same line numbers,
  same checks of tags, keys and duplicates) is timed against ``strict_yaml.load`` on the
  generated corpus's front matter, and both must give equal values and lines.
* **Template lookup**: ``Renderer.render`` calls ``env.get_template`` for every page; with
  Jinja's default ``auto_reload=True`` each call stats the template's file to see whether it
  changed. Timed: 2,000 lookups of ``post.html`` with ``auto_reload`` on and off.

Nothing here changes qsite: it measures what a change would save.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from yaml.cyaml import CParser

from bench.corpus import generate
from qsite import THEME, strict_yaml
from qsite.render import make_env

REPO = Path(__file__).resolve().parent.parent
_FRONT = re.compile(r"\A---\n(.*?\n)---\n", re.S)


class _CLoader(CParser, strict_yaml._Resolver12):  # type: ignore[misc]
    """libyaml's parser and composer with qsite's YAML 1.2 resolver."""

    def __init__(self, text: str):
        CParser.__init__(self, text)
        strict_yaml._Resolver12.__init__(self)


def load_with_libyaml(text: str, line_offset: int = 0) -> strict_yaml.Document:
    """``strict_yaml.load`` with the composing done in C (aliases would need a walk for
    shared nodes, and depth a walk too, both cheap: not needed for this measurement)."""
    loader = _CLoader(text)
    try:
        node = loader.get_single_node()
    finally:
        loader.dispose()
    lines: dict[strict_yaml.Key, int] = {}
    if node is None:
        return strict_yaml.Document(None, lines, line_offset + 1)
    return strict_yaml.Document(strict_yaml._build(node, (), lines, line_offset), lines, line_offset + 1)


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
    for text in texts:
        a, b = strict_yaml.load(text, 1), load_with_libyaml(text, 1)
        if (a.value, a.lines) != (b.value, b.lines):
            raise SystemExit(f"libyaml gives another value or other lines for:\n{text}")
    pure = best_of(runs, lambda: [strict_yaml.load(t, 1) for t in texts])
    c = best_of(runs, lambda: [load_with_libyaml(t, 1) for t in texts])
    return (f"Front matter of {len(texts)} posts (CPU, best of {runs}): strict_yaml.load {pure:.3f} s, "
            f"libyaml composer + the same _build {c:.3f} s ({pure / c:.1f}× faster; same values and lines)")


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
