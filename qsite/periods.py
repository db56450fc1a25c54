"""The digest's calendar: months and ISO weeks, in the site's timezone.

Owns no pipeline step of its own: grouping (``digest.assemble``), the edition files' reader and
``qsite digest``'s picker all ask it which period a moment falls in, so they agree on where one
period ends and the next begins.

Periods are computed in the *site's* timezone: a post at 23:30 on 31 March in London belongs to
March even though it is already 1 April in UTC+2, and one stamped ``2020-03-31T23:30:00Z``
belongs to April, because it was 00:30 on 1 April in London.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from qsite.config import SiteConfig
from qsite.grouping import MONTHS


@dataclass(frozen=True, order=True)
class Period:
    """A calendar month (``2020-04``) or an ISO week (``2020-W16``, Monday to Sunday)."""

    kind: str  # "month" or "week"
    year: int
    number: int  # 1-12 for a month, 1-53 for an ISO week

    @property
    def key(self) -> str:
        if self.kind == "week":
            return f"{self.year}-W{self.number:02d}"
        return f"{self.year}-{self.number:02d}"

    @property
    def first_day(self) -> date:
        if self.kind == "week":
            return date.fromisocalendar(self.year, self.number, 1)
        return date(self.year, self.number, 1)

    @property
    def last_day(self) -> date:
        if self.is_last:
            return date.max
        return self.next().first_day - timedelta(days=1)

    @property
    def is_last(self) -> bool:
        """The period holding 9999-12-31 (the usual "never publish" date): the calendar of
        Python's ``date`` ends there, so the period after it cannot be made."""
        try:
            _ = self.next().first_day
        except (ValueError, OverflowError):
            return True
        return False

    def start(self, tz: tzinfo) -> datetime:
        """The first instant of the period in ``tz`` (midnight, local time)."""
        return datetime.combine(self.first_day, time(), tz)

    def end(self, tz: tzinfo) -> datetime:
        """The first instant *after* the period: periods are half-open, so none overlap.
        The last period ends at the end of time rather than in a year 10000 that cannot be."""
        if self.is_last:
            return datetime.max.replace(tzinfo=UTC)
        return self.next().start(tz)

    def next(self) -> Period:
        if self.kind == "week":
            following = self.first_day + timedelta(days=7)
            iso = following.isocalendar()
            return Period("week", iso.year, iso.week)
        if self.number == 12:
            return Period("month", self.year + 1, 1)
        return Period("month", self.year, self.number + 1)

    def previous(self) -> Period:
        if self.kind == "week":
            iso = (self.first_day - timedelta(days=7)).isocalendar()
            return Period("week", iso.year, iso.week)
        if self.number == 1:
            return Period("month", self.year - 1, 12)
        return Period("month", self.year, self.number - 1)

    @property
    def label(self) -> str:
        """``April 2020`` or ``Week 16, 2020``: what readers call the period."""
        if self.kind == "week":
            return f"Week {self.number}, {self.year}"
        return f"{MONTHS[self.number - 1]} {self.year}"

    @property
    def date_range(self) -> str:
        """``1–30 April 2020``, ``30 March – 5 April 2020``, ``28 December 2020 – 3 January 2021``."""
        first, last = self.first_day, self.last_day
        if first.year != last.year:
            return f"{_day_month(first)} {first.year} – {_day_month(last)} {last.year}"
        if first.month != last.month:
            return f"{_day_month(first)} – {_day_month(last)} {last.year}"
        return f"{first.day}–{last.day} {MONTHS[last.month - 1]} {last.year}"


def _day_month(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]}"


def period_of(moment: datetime, kind: str, tz: tzinfo) -> Period:
    """The period holding ``moment`` as a reader of the site sees it, in the site's timezone."""
    local = moment.astimezone(tz) if moment.tzinfo else moment.replace(tzinfo=tz)
    if kind == "week":
        iso = local.isocalendar()
        return Period("week", iso.year, iso.week)
    return Period("month", local.year, local.month)


def latest_ended(now: datetime, kind: str, tz: tzinfo) -> Period:
    """The most recent period that is over at ``now``: the one before the current period."""
    return period_of(now, kind, tz).previous()


_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK_RE = re.compile(r"^(\d{4})-[Ww](\d{1,2})$")


def parse_period(text: str, kind: str) -> Period | str:
    """``2020-04`` or ``2020-W16`` → a Period; anything else → a message saying what to write."""
    text = text.strip()
    month, week = _MONTH_RE.match(text), _WEEK_RE.match(text)
    if kind == "week":
        if week:
            year, number = int(week.group(1)), int(week.group(2))
            weeks = date(year, 12, 28).isocalendar().week  # 28 December is always in the last week
            if 1 <= number <= weeks:
                return Period("week", year, number)
            return f"{year} has ISO weeks 1 to {weeks}, so there is no week {number}"
        if month:
            return (
                f"'{text}' is a month, but this site's digest is weekly (digest.period: week); "
                "write the ISO week, e.g. 2020-W16"
            )
        return f"'{text}' is not an ISO week; write it as YYYY-Wnn, e.g. 2020-W16"
    if month:
        year, number = int(month.group(1)), int(month.group(2))
        if 1 <= number <= 12:
            return Period("month", year, number)
        return f"'{text}' is not a month: the month number must be 01 to 12"
    if week:
        return (
            f"'{text}' is a week, but this site's digest is monthly (digest.period: month); "
            "write the month, e.g. 2020-04"
        )
    return f"'{text}' is not a month; write it as YYYY-MM, e.g. 2020-04"


def period_kind(config: SiteConfig) -> str:
    """``digest.period`` from site.yaml, validated by config's schema."""
    return config.digest.period
