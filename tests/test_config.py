"""site.yaml validation: every mistake at once, with lines and did-you-mean; exit 2."""

from pathlib import Path

import pytest

from qsite.config import parse_config
from qsite.problems import ConfigError

from conftest import SITE_YAML


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/site"))
    return [p.format() for p in info.value.problems]


def test_defaults_and_values():
    config = parse_config(SITE_YAML, Path("/site"))
    assert config.language == "en-GB"
    assert config.timezone == "Europe/London"
    assert config.posts_per_page == 10
    assert config.output_dir == Path("/site/output")
    assert [t.slug for t in config.themes] == [
        "health-inequalities",
        "staff-wellbeing",
        "space-to-learn",
        "collaborative-improvement",
    ]


def test_sub_path_base_url_gets_trailing_slash():
    config = parse_config(SITE_YAML.replace("https://example.org/", "https://example.org/q-blog"), Path("/s"))
    assert config.base_url == "https://example.org/q-blog/"
    assert config.base_path == "/q-blog/"
    assert config.origin == "https://example.org"


def test_unknown_key_has_line_and_suggestion():
    text = SITE_YAML + "post_per_page: 5\n"
    line = text.count("\n")
    assert problems_of(text) == [
        f"site.yaml:{line}: error: unknown setting 'post_per_page'\n    fix: did you mean 'posts_per_page'?"
    ]


def test_all_problems_reported_together():
    text = SITE_YAML.replace("posts_per_page: 10", "posts_per_page: ten") + "langauge: fr\ntimezone: Mars/Base\n"
    messages = problems_of(text)
    assert len(messages) == 3
    assert any("'posts_per_page' should be a whole number" in m for m in messages)
    assert any("did you mean 'language'?" in m for m in messages)
    assert any("unknown timezone 'Mars/Base'" in m for m in messages)


def test_duplicate_theme_slug_names_first_line():
    text = SITE_YAML + "  - slug: staff-wellbeing\n    title: Again\n"
    lines = text.splitlines()
    first = lines.index("  - slug: staff-wellbeing") + 1
    (message,) = problems_of(text)
    assert message.startswith(f"site.yaml:{len(lines) - 1}: error: theme 'staff-wellbeing' is listed twice (first on line {first})")


def test_relative_base_url_refused():
    (message,) = problems_of(SITE_YAML.replace("https://example.org/", "/blog/"))
    assert "base_url must be an absolute http(s) URL" in message


def test_missing_required_keys():
    messages = problems_of("title: Only a title\n")
    assert any("'base_url' is required" in m for m in messages)
    assert any("'themes' is required" in m for m in messages)


def test_theme_entry_typo():
    text = SITE_YAML.replace("    description: Improving together.", "    descripton: Improving together.")
    (message,) = problems_of(text)
    assert "unknown key 'descripton' in themes" in message and "did you mean 'description'?" in message


def test_yaml_syntax_error_has_line():
    text = SITE_YAML + "nav:\n  - title: About: us\n"
    (message,) = problems_of(text)
    assert message.startswith(f"site.yaml:{text.count(chr(10))}: error: this is not valid YAML")
