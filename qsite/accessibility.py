"""The accessibility statement at ``/accessibility/``, which UK public-sector sites must publish.

It is generated from ``site.yaml``'s ``accessibility`` section (contact, date of last review,
known issues) so editors keep it current by changing two lines, not by editing a page.
Without a contact the page asks readers to tell the team that runs the site, and without a
review date it leaves that paragraph out, rather than printing an empty or invented value.
"""

from __future__ import annotations

from datetime import date

from qsite.config import SiteConfig

PATH = "accessibility/"


def settings(config: SiteConfig) -> dict[str, object]:
    return dict(config.extra.get("accessibility") or {})


def reviewed(config: SiteConfig) -> date | None:
    """The review date (already checked by config), or None if it was not given."""
    text = str(settings(config).get("reviewed") or "").strip()
    return date.fromisoformat(text) if text else None

