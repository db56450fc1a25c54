"""What starting qsite costs (issue 10): modules a build may not need are imported when needed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import SITE_YAML, post

TESTS = Path(__file__).resolve().parent


def test_a_rebuild_finishing_no_email_edition_never_imports_css_inline(build_site) -> None:
    """css_inline (a compiled extension, ~0.04 s to import) is only needed to finish an email
    edition; a rebuild after an edit that no email shows, like most edits, does without it."""
    site = build_site({"site.yaml": SITE_YAML, "content/posts/a.md": post("A", "2020-04-01")})
    assert site.exists("digest/2020-04/email.html")
    (site.root / "content/pages/about.md").parent.mkdir(parents=True)
    (site.root / "content/pages/about.md").write_text("---\ntitle: About\n---\nAbout us.\n", encoding="utf-8")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qsite.build import Options, build\n"
        "from conftest import NOW\n"
        f"result = build(Path({str(site.root)!r}), Options(output=Path({str(site.out)!r}), now=NOW))\n"
        "assert 0 < result.cache_hits < result.pages, (result.cache_hits, result.pages)\n"
        "print('css_inline' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=TESTS, check=False)
    assert proc.returncode == 0, proc.stderr
    assert site.exists("about/")
    assert proc.stdout.strip() == "False"
