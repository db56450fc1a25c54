"""Theme colours from site.yaml (issue 13): each theme's ``color`` is checked against WCAG 2.2
AA in the light scheme, its dark-scheme variant passes by construction, themes without one get
distinct palette colours, and the site's CSS and the email edition use them, for any slugs."""

from __future__ import annotations

from pathlib import Path

import pytest

from qsite import colours
from qsite.build import Options, build
from qsite.cli import main
from qsite.config import parse_config

from conftest import NOW, post, write_files

THEMES_YAML = """\
title: Colours
base_url: https://example.org/
themes:
  - slug: mental-health
    title: Mental health
    color: "{first}"
  - slug: primary-care
    title: Primary care
  - slug: social-care
    title: Social care
"""


def _site(root: Path, first: str = "#1d4f91") -> Path:
    write_files(root, {
        "site.yaml": THEMES_YAML.format(first=first),
        "content/posts/a.md": post("Alpha", "2020-04-01", themes="[mental-health, social-care]"),
    })
    return root


def test_wcag_contrast_matches_the_standard_s_reference_values() -> None:
    assert colours.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert colours.contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)  # the classic near-miss
    assert colours.contrast("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("color", [*colours.PALETTE, *(colours._spread(i) for i in range(12)), "#000000", "#1d4f91"])
def test_palette_and_dark_variants_pass_every_pairing(color: str) -> None:
    assert colours.failures(color, colours.LIGHT) == []
    assert colours.failures(colours.dark_variant(color), colours.DARK) == []


def test_a_too_light_colour_is_reported_at_its_line_with_a_passing_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _site(tmp_path / "site", first="#ffcc00")
    assert main(["build", "--source", str(root)]) == 2
    err = capsys.readouterr().err
    assert "site.yaml:6: error: theme colour #ffcc00 is too light for text: 1.51:1 against white chip text" in err
    suggestion = err.split('use color: "')[1][:7]
    assert colours.failures(suggestion) == []  # the suggestion itself passes...
    (root / "site.yaml").write_text(THEMES_YAML.format(first=suggestion), encoding="utf-8")
    assert main(["build", "--source", str(root), "--no-search", "-q"]) == 0  # ...and builds


def test_an_unquoted_colour_is_a_yaml_comment_and_says_so() -> None:
    text = THEMES_YAML.replace('color: "{first}"', "color: #1d4f91")
    with pytest.raises(Exception) as info:
        parse_config(text, Path("/site"))
    [problem] = info.value.problems  # type: ignore[attr-defined]
    assert problem.line == 6 and "comment" in problem.message and 'color: "#' in (problem.fix or "")


def test_themes_without_a_colour_get_distinct_palette_colours_not_the_ones_in_use() -> None:
    config = parse_config(THEMES_YAML.format(first=colours.PALETTE[0]), Path("/site"))
    found = [t.color for t in config.themes]
    assert found == [colours.PALETTE[0], colours.PALETTE[1], colours.PALETTE[2]]
    config = parse_config(THEMES_YAML.format(first=colours.PALETTE[1]), Path("/site"))
    assert [t.color for t in config.themes] == [colours.PALETTE[1], colours.PALETTE[0], colours.PALETTE[2]]


def test_the_css_and_the_email_use_the_configured_colours_for_any_slugs(tmp_path: Path) -> None:
    root = _site(tmp_path / "site")
    build(root, Options(now=NOW, search=False))
    out = root / "output"
    config = parse_config((root / "site.yaml").read_text(), root)
    css = (out / "static/themes.css").read_text()
    light, dark = css.split("@media (prefers-color-scheme: dark)")
    for theme in config.themes:
        assert f".theme-{theme.slug} {{ --theme: {theme.color}; --theme-tint: {theme.tint}; }}" in light
        both = f".theme-{theme.slug} {{ --theme: {theme.dark_color}; --theme-tint: {theme.dark_tint}; }}"
        assert f':root:not([data-scheme="light"]) {both}' in dark  # the system's dark scheme
        assert f':root[data-scheme="dark"] {both}' in dark  # the reader's switch
        assert colours.contrast(theme.color, theme.tint) >= colours.AA
        assert colours.contrast(theme.dark_color, theme.dark_tint) >= colours.AA
    assert ".theme-mental-health { --theme: #1d4f91;" in light
    site_css = (out / "static/site.css").read_text()
    assert "health-inequalities" not in site_css and "staff-wellbeing" not in site_css  # no slug is built in
    assert 'href="/static/themes.css"' in (out / "posts/a/index.html").read_text()
    [email] = list(out.glob("digest/*/email.html"))
    html = email.read_text()
    assert 'class="theme-mental-health" href="https://example.org/themes/mental-health/" style="color: #1d4f91;"' in html
    social = config.themes[2].color
    assert f'href="https://example.org/themes/social-care/" style="color: {social};"' in html


def test_every_custom_property_the_stylesheet_uses_is_defined() -> None:
    """No colour of the default theme may hang on a theme slug (issue 13): each var(--x) in
    site.css is set in site.css itself or, for --theme, by themes.css from site.yaml."""
    import re

    from qsite import THEME

    css = (THEME / "static/site.css").read_text(encoding="utf-8")
    defined = set(re.findall(r"(--[a-z-]+)\s*:", css + (THEME / "themes.css").read_text(encoding="utf-8")))
    used = set(re.findall(r"var\((--[a-z-]+)", css))
    assert used - defined == set()
