"""An honest accessibility statement (issue 13): it claims testing only when site.yaml's
``accessibility.testing`` describes it, and ``qsite check --strict`` warns while
``accessibility.contact`` is unset. Built with the default theme's accessibility.html."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite.build import Options, build
from qsite.cli import main

from conftest import NOW, post, write_files

SITE = """\
title: Another community
base_url: https://example.org/
themes:
  - slug: mental-health
    title: Mental health
"""


def _statement(tmp_path: Path, accessibility: str = "") -> str:
    root = tmp_path / "site"
    write_files(root, {
        "site.yaml": SITE + accessibility,
        "content/posts/a.md": post("A", "2020-04-01", themes="[mental-health]"),
        "content/pages/about.md": "---\ntitle: About\n---\n## Contact\n\nWrite to the editors.\n",
    })
    build(root, Options(now=NOW, search=False))
    return (root / "output/accessibility/index.html").read_text(encoding="utf-8")


def test_without_a_testing_sentence_the_statement_claims_no_testing(tmp_path: Path) -> None:
    page = _statement(tmp_path)
    assert "We have not tested this website for accessibility yet." in page
    assert "It has not been tested against the standard yet" in page
    assert "real browser" not in page and "axe" not in page and "We test this website" not in page


def test_the_testing_sentence_is_printed_as_written(tmp_path: Path) -> None:
    page = _statement(tmp_path, "accessibility:\n  testing: We check every page with NVDA before publishing.\n")
    assert "<p>We check every page with NVDA before publishing.</p>" in page
    assert "We test this website against WCAG 2.2 level AA" in page
    assert "We have not tested" not in page


def test_a_contact_page_of_the_site_is_linked_and_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    page = _statement(tmp_path, "accessibility:\n  contact: /about/#contact\n")
    assert '<a href="/about/#contact">contact us</a>' in page
    assert main(["check", "--strict", "--source", str(tmp_path / "site")]) == 0
    (tmp_path / "site/site.yaml").write_text(SITE + "accessibility:\n  contact: /about/#write-to-us\n")
    assert main(["check", "--strict", "--source", str(tmp_path / "site")]) == 1
    assert "#write-to-us" in capsys.readouterr().err


def test_check_strict_warns_while_the_contact_is_unset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _statement(tmp_path)
    root = str(tmp_path / "site")
    assert main(["check", "--source", root]) == 0  # a warning, not an error
    assert "site.yaml: warning: accessibility.contact is not set" in capsys.readouterr().err
    assert main(["check", "--strict", "--source", root]) == 1
    (tmp_path / "site/site.yaml").write_text(SITE + "accessibility:\n  contact: access@example.org\n")
    assert main(["check", "--strict", "--source", root]) == 0
