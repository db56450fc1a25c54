"""The accessibility statement at ``/accessibility/``, which UK public-sector sites must publish.

It is generated from ``site.yaml``'s ``accessibility`` section (contact, date of last review,
known issues) so editors keep it current by changing two lines, not by editing a page. A
statement nobody can act on is worse than none, so a missing contact or review date is a
warning on every build until it is filled in.
"""

from __future__ import annotations

from datetime import date

from qsite.config import SiteConfig
from qsite.problems import Problem

PATH = "accessibility/"


def settings(config: SiteConfig) -> dict[str, object]:
    return dict(config.extra.get("accessibility") or {})


def reviewed(config: SiteConfig) -> date | None:
    """The review date (already checked by config), or None if it was not given."""
    text = str(settings(config).get("reviewed") or "").strip()
    return date.fromisoformat(text) if text else None


def statement_problems(config: SiteConfig) -> list[Problem]:
    """Warnings for a statement that lacks what readers and the regulations need."""
    found = settings(config)
    problems: list[Problem] = []
    if not str(found.get("contact") or "").strip():
        problems.append(
            Problem(
                "site.yaml",
                None,
                "the accessibility statement has no contact for reporting problems",
                "add 'accessibility:' with 'contact: accessibility@example.org' "
                "(an email address or a URL)",
                severity="warning",
            )
        )
    if reviewed(config) is None:
        problems.append(
            Problem(
                "site.yaml",
                None,
                "the accessibility statement has no date of last review",
                "add 'reviewed: YYYY-MM-DD' under 'accessibility:'",
                severity="warning",
            )
        )
    return problems
