"""An independent link checker for tests: every href/src in the built HTML must resolve to a
file in the output folder (a folder URL to its index.html), with the base path stripped."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("href", "src") and value is not None:
                self.links.append(value)
            if name == "id" and value:
                self.ids.add(value)


def dangling_links(out: Path, origin: str, base_path: str) -> list[str]:
    """``file: link`` for each internal link or asset that does not resolve, anchors included."""
    pages: dict[str, _Links] = {}
    for html in sorted(out.rglob("*.html")):
        parser = _Links()
        parser.feed(html.read_text(encoding="utf-8"))
        pages[html.relative_to(out).as_posix()] = parser
    broken: list[str] = []
    for rel, parser in pages.items():
        page_url = base_path + (rel.removesuffix("index.html") if rel.endswith("index.html") else rel)
        for link in parser.links:
            target = urljoin(origin + page_url, link)
            parts = urlsplit(target)
            if f"{parts.scheme}://{parts.netloc}" != origin:
                continue  # another site
            path = unquote(parts.path)
            if not path.startswith(base_path):
                broken.append(f"{rel}: {link} (outside the base path {base_path})")
                continue
            file = path[len(base_path) :]
            if file == "" or file.endswith("/"):
                file += "index.html"
            if not (out / file).is_file():
                broken.append(f"{rel}: {link}")
            elif parts.fragment and file.endswith(".html"):
                target_page = pages.get(file)
                if target_page is not None and parts.fragment not in target_page.ids:
                    broken.append(f"{rel}: {link} (no such anchor)")
    return broken
