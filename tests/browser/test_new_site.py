"""A site from ``qsite init`` (issue 13), with more themes than the palette has colours and one
colour of its editor's choosing, checked by axe-core in a real browser in both schemes: the
colour checks in qsite/colours.py must agree with the browser's."""

from __future__ import annotations

import pytest

from bench.static_host import serving
from qsite.build import Options, build
from qsite.cli import main

from .test_reader import AXE_TAGS, SCHEMES, open_page

THEMES = [f"theme-{n}=Theme number {n}" for n in range(1, 11)]


@pytest.fixture(scope="module")
def new_site(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("new") / "site"
    args = ["init", str(root), "--title", "Ten themes", "--base-url", "https://example.org/"]
    assert main(args + [a for t in THEMES for a in ("--theme", t)]) == 0
    yaml = (root / "site.yaml").read_text(encoding="utf-8")
    assert 'color: "#873e63"' in yaml  # the palette's first colour, replaced by an editor's own
    (root / "site.yaml").write_text(yaml.replace('color: "#873e63"', 'color: "#876c00"'), encoding="utf-8")
    build(root, Options(output=root / "public", search=False))  # now: the welcome posts are dated today
    with serving(root / "public") as url:
        yield url, root


@pytest.mark.parametrize("scheme", SCHEMES)
def test_a_new_site_s_theme_colours_pass_axe_in_both_schemes(chromium, new_site, scheme):
    from axe_playwright_python.sync_playwright import Axe

    base_url, root = new_site
    axe = Axe()
    posts = sorted(p.stem for p in (root / "content/posts").glob("*.md"))
    paths = ["/", "/themes/", "/themes/theme-1/", "/accessibility/", f"/posts/{posts[0][11:]}/"]
    context = chromium.new_context(color_scheme=scheme, viewport={"width": 1280, "height": 900})
    problems: list[str] = []
    try:
        for path in paths:
            page, watch = open_page(context, base_url, path)
            results = axe.run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
            if results.violations_count:
                problems.append(f"{path} ({scheme}):\n{results.generate_report()}")
            watch.assert_clean(f"{path} ({scheme})")
            page.close()
    finally:
        context.close()
    assert not problems, "\n\n".join(problems)
