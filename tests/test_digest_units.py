"""Unit tests for the subtle parts of the digest: period arithmetic across years, ISO weeks and
daylight saving, and HTML → plain text for the text email."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from qsite.email import absolutize, html_to_text
from qsite.periods import Period, latest_ended, parse_period, period_of

LONDON = ZoneInfo("Europe/London")


@pytest.mark.parametrize(
    ("moment", "kind", "key"),
    [
        (datetime(2020, 3, 31, 23, 30, tzinfo=LONDON), "month", "2020-03"),
        (datetime(2020, 3, 31, 23, 30, tzinfo=UTC), "month", "2020-04"),  # 00:30 BST
        (datetime(2020, 12, 31, 23, 59, tzinfo=UTC), "month", "2020-12"),  # GMT = UTC in winter
        (datetime(2020, 4, 19, 23, 30, tzinfo=LONDON), "week", "2020-W16"),  # a Sunday
        (datetime(2020, 4, 19, 23, 30, tzinfo=UTC), "week", "2020-W17"),  # Monday in London
        (datetime(2021, 1, 3, 12, 0, tzinfo=LONDON), "week", "2020-W53"),
        (datetime(2019, 12, 30, 12, 0, tzinfo=LONDON), "week", "2020-W01"),
    ],
)
def test_period_of_a_moment_is_taken_in_the_site_timezone(moment: datetime, kind: str, key: str) -> None:
    assert period_of(moment, kind, LONDON).key == key


def test_months_and_weeks_step_across_years() -> None:
    assert Period("month", 2020, 12).next() == Period("month", 2021, 1)
    assert Period("month", 2021, 1).previous() == Period("month", 2020, 12)
    assert Period("week", 2020, 53).next() == Period("week", 2021, 1)
    assert Period("week", 2021, 1).previous() == Period("week", 2020, 53)
    assert Period("week", 2019, 52).next() == Period("week", 2020, 1)


def test_period_bounds_are_local_midnights_and_half_open() -> None:
    march = Period("month", 2020, 3)
    assert march.start(LONDON).isoformat() == "2020-03-01T00:00:00+00:00"
    assert march.end(LONDON).isoformat() == "2020-04-01T00:00:00+01:00"  # clocks went forward
    assert march.end(LONDON) == Period("month", 2020, 4).start(LONDON)


@pytest.mark.parametrize(
    ("period", "label", "days"),
    [
        (Period("month", 2020, 2), "February 2020", "1–29 February 2020"),
        (Period("week", 2020, 16), "Week 16, 2020", "13–19 April 2020"),
        (Period("week", 2020, 14), "Week 14, 2020", "30 March – 5 April 2020"),
        (Period("week", 2020, 53), "Week 53, 2020", "28 December 2020 – 3 January 2021"),
    ],
)
def test_labels_and_date_ranges(period: Period, label: str, days: str) -> None:
    assert (period.label, period.date_range) == (label, days)


def test_latest_ended_period_is_the_one_before_now() -> None:
    now = datetime(2020, 5, 1, 0, 30, tzinfo=LONDON)
    assert latest_ended(now, "month", LONDON).key == "2020-04"
    # 23:30 UTC on 30 April is already May in London: April has ended there.
    assert latest_ended(datetime(2020, 4, 30, 23, 30, tzinfo=UTC), "month", LONDON).key == "2020-04"
    assert latest_ended(datetime(2020, 4, 30, 22, 30, tzinfo=UTC), "month", LONDON).key == "2020-03"
    assert latest_ended(datetime(2021, 1, 4, 9, 0, tzinfo=LONDON), "week", LONDON).key == "2020-W53"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("2020-04", "month", Period("month", 2020, 4)),
        ("2020-4", "month", Period("month", 2020, 4)),
        ("2020-W16", "week", Period("week", 2020, 16)),
        ("2020-w5", "week", Period("week", 2020, 5)),
        ("2020-13", "month", "'2020-13' is not a month: the month number must be 01 to 12"),
        ("2021-W53", "week", "2021 has ISO weeks 1 to 52, so there is no week 53"),
        ("April", "month", "'April' is not a month; write it as YYYY-MM, e.g. 2020-04"),
        ("2020-04", "week", "'2020-04' is a month, but this site's digest is weekly (digest.period: week); "
         "write the ISO week, e.g. 2020-W16"),
    ],
)
def test_parse_period(text: str, kind: str, expected: Period | str) -> None:
    assert parse_period(text, kind) == expected


def test_html_to_text_wraps_paragraphs_and_spells_out_links() -> None:
    html = (
        "<h2>What changed</h2>\n"
        '<p>We read <a href="/posts/a/">a post</a>, see <a href="https://x.org/">https://x.org/</a> '
        'and <a href="#notes">our notes</a>. ' + "word " * 20 + "</p>\n"
        "<ol><li>first</li><li>second, which is a long item that has to wrap onto the next line "
        "of the text</li></ol>\n<pre>keep   this\n  as is</pre>"
    )
    text = html_to_text(html, "https://example.org/digest/2020-04/", width=60)
    assert text == (
        "What changed\n"
        "------------\n"
        "\n"
        "We read a post (https://example.org/posts/a/), see\n"
        "https://x.org/ and our notes. word word word word word word\n"
        "word word word word word word word word word word word word\n"
        "word word\n"
        "\n"
        "1. first\n"
        "2. second, which is a long item that has to wrap onto the\n"
        "   next line of the text\n"
        "\n"
        "    keep   this\n"
        "      as is"
    )


def test_absolutize_resolves_every_kind_of_link_against_the_page() -> None:
    html = (
        '<a href="/a/">1</a><a href="b/">2</a><a href=\'../c?x=1&amp;y=2\'>3</a>'
        '<a href="#top">4</a><a href="mailto:ed@example.org">5</a><img src="//cdn.example.org/i.png">'
    )
    assert absolutize(html, "https://example.org/digest/2020-04/") == (
        '<a href="https://example.org/a/">1</a><a href="https://example.org/digest/2020-04/b/">2</a>'
        '<a href="https://example.org/digest/c?x=1&amp;y=2">3</a>'
        '<a href="https://example.org/digest/2020-04/#top">4</a><a href="mailto:ed@example.org">5</a>'
        '<img src="https://cdn.example.org/i.png">'
    )
