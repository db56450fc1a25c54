"""qsite: a static site generator for a health-care improvement community's learning digest."""

from pathlib import Path

__version__ = "0.1.0"

# The default theme: templates and static files shipped inside the package (and the wheel). A
# site's own templates/ overrides it file by file (qsite/render.py, ``make_env`` and ``static_outputs``).
THEME = Path(__file__).resolve().parent / "theme"
