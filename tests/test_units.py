"""Unit tests where the logic is subtle: slugs, YAML 1.2 rules, dates at timezone edges."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from qsite import strict_yaml
from qsite.grouping import paginate
from qsite.problems import did_you_mean
from qsite.schema import parse_date
from qsite.urls import Answer, answer, output_file, slugify, url_path

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Café – “Huddles”", "cafe-huddles"),
        ("Mental Health", "mental-health"),
        ("mental-health", "mental-health"),
        ("What’s new?", "whats-new"),
        ("Straße & Ærø", "strasse-and-aero"),
        ("  --Roma  and   Traveller-- ", "roma-and-traveller"),
        ("../../etc/passwd", "etc-passwd"),
        ("日本語", ""),
    ],
)
def test_slugify(text, slug):
    assert slugify(text) == slug


@pytest.mark.parametrize(
    ("yaml_text", "value"),
    [
        ("a: no", "no"),
        ("a: on", "on"),
        ("a: NO", "NO"),
        ("a: yes", "yes"),
        ("a: 10:30", "10:30"),
        ("a: true", True),
        ("a: False", False),
        ("a: 2020-04-14", "2020-04-14"),
        ("a: 012", 12),
        ("a: 0o12", 10),
        ("a: 1.5", 1.5),
        ("a: ~", None),
        ("a: 'true'", "true"),
    ],
)
def test_yaml_1_2_scalars(yaml_text, value):
    assert strict_yaml.load(yaml_text).value == {"a": value}


def test_yaml_lines_are_file_lines():
    doc = strict_yaml.load("title: A\nthemes:\n  - x\n  - y\n", line_offset=4)
    assert doc.line("title") == 5
    assert doc.line("themes", 1) == 8
    assert doc.line("missing") == 5


def test_dates_are_read_in_the_site_timezone():
    assert parse_date("2020-03-31", LONDON) == datetime(2020, 3, 31, tzinfo=LONDON)
    summer = parse_date("2020-04-01 00:30", LONDON)
    assert isinstance(summer, datetime) and summer.astimezone(UTC) == datetime(2020, 3, 31, 23, 30, tzinfo=UTC)
    assert parse_date("2020-04-01T00:30:00Z", LONDON) == datetime(2020, 4, 1, 0, 30, tzinfo=UTC)
    assert parse_date("2020-02-30", LONDON) == "'2020-02-30' is not a real date (day is out of range for month)"
    assert isinstance(parse_date(20200401, LONDON), str)


def test_did_you_mean():
    assert did_you_mean("theme", ["title", "themes", "tags"]) == "themes"
    assert did_you_mean("Title", ["title", "themes"]) == "title"
    assert did_you_mean("staff-welbeing", ["staff-wellbeing", "space-to-learn"]) == "staff-wellbeing"
    assert did_you_mean("zzz", ["title"]) is None
    assert did_you_mean("bee", ["b", "c"]) is None


def test_paginate():
    pages = paginate(list(range(25)), 10, "themes/x/")
    assert [p.path for p in pages] == ["themes/x/", "themes/x/page/2/", "themes/x/page/3/"]
    assert pages[2].items == (20, 21, 22, 23, 24)
    assert pages[0].prev_path is None and pages[0].next_path == "themes/x/page/2/"
    assert pages[1].prev_path == "themes/x/"
    assert len(paginate([], 10, "")) == 1


@pytest.mark.parametrize(
    ("url", "file"),
    [("", "index.html"), ("posts/a/", "posts/a/index.html"), ("feed.xml", "feed.xml"), ("404.html", "404.html"),
     ("digest/2020-04/email.html", "digest/2020-04/email.html")],
)
def test_url_path_and_output_file_are_inverses(url, file):
    assert output_file(url) == file
    assert url_path(file) == url


def test_a_request_is_answered_as_a_static_host_answers_it():
    """One rule for `qsite serve` and `qsite check` (GitHub Pages' behaviour)."""
    files = {"index.html", "posts/a/index.html", "about.html", "feed.xml"}
    assert answer("", files) == Answer("index.html")
    assert answer("posts/a/", files) == Answer("posts/a/index.html")
    assert answer("posts/a", files) == Answer("posts/a/index.html", redirect=True)
    assert answer("about", files) == Answer("about.html")
    assert answer("feed.xml", files) == Answer("feed.xml")
    assert answer("posts/b/", files) is None
    assert answer("about/", files) is None
