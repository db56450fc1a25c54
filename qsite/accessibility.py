"""The accessibility statement at ``/accessibility/``, which UK public-sector sites must publish.

It is generated from ``site.yaml``'s ``accessibility`` section (contact, date of last review,
known issues) so editors keep it current by changing two lines, not by editing a page.
Without a contact the page asks readers to tell the team that runs the site, and without a
review date it leaves that paragraph out, rather than printing an empty or invented value.
"""

from __future__ import annotations

from datetime import date

from qsite.config import AccessibilitySettings, SiteConfig

PATH = "accessibility/"


def settings(config: SiteConfig) -> AccessibilitySettings:
    """The ``accessibility`` section of site.yaml, typed and checked by config's schema."""
    return config.accessibility


def reviewed(config: SiteConfig) -> date | None:
    """The review date, or None if it was not given."""
    return config.accessibility.reviewed
