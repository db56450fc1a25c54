"""The example site's output is the recorded one, byte for byte (bench/proof.py; ``make proof``
also checks the 1,000-post benchmark site). A change that alters the output on purpose records
it again with ``make proof-record`` in the same commit."""

from __future__ import annotations

import json
from pathlib import Path

from bench import proof


def test_example_site_output_is_the_recorded_build(tmp_path: Path) -> None:
    site = proof.make_site("example", tmp_path)
    out = tmp_path / "out"
    proof.build(site, out)
    recorded = json.loads((proof.RECORDS / "example.json").read_text(encoding="utf-8"))
    assert proof.differences(recorded, proof.digest(out)) == []


def test_a_changed_byte_is_a_difference(tmp_path: Path) -> None:
    out = tmp_path / "out"
    (out / "posts").mkdir(parents=True)
    (out / "posts" / "a.html").write_text("<p>a</p>", encoding="utf-8")
    before = proof.digest(out)
    (out / "posts" / "a.html").write_text("<p>b</p>", encoding="utf-8")
    (out / "b.html").write_text("", encoding="utf-8")
    assert proof.differences(before, proof.digest(out)) == ["new:     b.html", "changed: posts/a.html"]
