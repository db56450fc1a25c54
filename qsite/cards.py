"""Preview cards: the 1200×630 PNG a chat app or social site shows when someone shares a post.

One card per post, published beside it (``posts/<slug>/card.png``) and named by its
``og:image``, ``twitter:image`` and JSON-LD ``image`` when the post has no raster image of its own
(``sharing.preview_image``). It shows the post's title (wrapped, shrunk to fit, cut with an
ellipsis if it is very long), the site's name, and the colour of the post's first theme: its
``color`` in site.yaml, or the palette's (``qsite/colours.py``), the colour its chips and pages
wear, checked for AA contrast with white text.

Fonts: DejaVu Sans, from Debian's ``fonts-dejavu-core`` (installed with the system, never
downloaded). Without it the cards are drawn in Pillow's own built-in font and the build says
so once, as a warning with the fix.

Drawing and compressing a card takes tens of milliseconds, so a card is kept in
``.qsite-cache/cards/<key>.png``, the key hashing everything drawn (title, colour, site name,
font, ``VERSION``): a rebuild draws only the cards whose title, theme colour or site name
changed. ``Deck.drawn`` counts the cards drawn by this build.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qsite import THEME
from qsite.images import write_atomically
from qsite.parallel import Workers
from qsite.problems import Problem

WIDTH, HEIGHT = 1200, 630
VERSION = "cards-2"  # bump when the drawing changes: every card is drawn again
DEFAULT_COLOUR = "#005eb8"  # the header blue (site.css --link), for a post without a theme
FONT_FOLDERS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
TITLE_FONT, NAME_FONT = "DejaVuSans-Bold.ttf", "DejaVuSans.ttf"
MARGIN = 80
TITLE_SIZES = (72, 64, 56, 50, 44)  # px, largest that fits in MAX_LINES
MAX_LINES = 5
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"  # a PNG file's first bytes


def missing_font() -> Problem:
    return Problem(
        "(preview cards)", None,
        f"the DejaVu fonts were not found (looked in {', '.join(map(str, FONT_FOLDERS))}), so the preview "
        "cards use Pillow's plain built-in font",
        "install them: apt-get install fonts-dejavu-core", severity="warning",
    )


def font_path(name: str) -> Path | None:
    return next((folder / name for folder in FONT_FOLDERS if (folder / name).is_file()), None)


def card_path(post: Any) -> str:
    """Where a post's card is published: beside its page."""
    return post.path + "card.png"


def theme_colours(config: Any) -> dict[str, str]:
    """Theme slug → its light-scheme colour (site.yaml's ``color``, or the palette's)."""
    return {theme.slug: theme.color for theme in config.themes}


@dataclass(frozen=True)
class Card:
    """Everything drawn on one card: its cache key hashes all of it."""

    title: str
    colour: str
    site: str
    font: str  # the title font's file, or "" for Pillow's built-in one

    @functools.cached_property  # computed once: a build asks each card's key several times (5,000 cards)
    def key(self) -> str:
        drawn = json.dumps([VERSION, self.title, self.colour, self.site, self.font])
        return hashlib.sha256(drawn.encode()).hexdigest()[:32]


@functools.lru_cache(maxsize=32)
def _font(path: str, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, size) if path else ImageFont.load_default(size)


def _wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _fit(draw: Any, title: str, font_file: str) -> tuple[Any, list[str]]:
    """The largest title size whose wrapped lines fit; at the smallest, the last line is cut with …"""
    width = WIDTH - 2 * MARGIN
    for size in TITLE_SIZES:
        font = _font(font_file, size)
        lines = _wrap(draw, title, font, width)
        if len(lines) <= MAX_LINES and all(draw.textlength(line, font=font) <= width for line in lines):
            return font, lines
    lines = lines[:MAX_LINES]
    last = lines[-1]
    while last and draw.textlength(last + " …", font=font) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    lines[-1] = last + " …"
    return font, lines


def draw(card: Card) -> bytes:
    """The card as PNG bytes: the theme colour as background, the title in white, the site's
    name under a rule (the theme colours are chosen for AA contrast with white text).

    Drawn as an 8-bit coverage mask whose palette runs from the theme colour to white: only
    two colours and their anti-aliasing shades are ever on a card, so a paletted PNG holds it
    exactly, at a third of the size and a fraction of the compression time of an RGB one.

    Compressed at zlib's level 1: a cold build draws every post's card, and at level 6 the
    compression alone took 4.3 ms of a card's 7 ms (bench/PROFILE.md §8), against 1.8 ms at
    level 1, for 27 KB instead of 20 KB: a card is fetched once by a social site, never by a
    reader, so a build's time matters more than those 7 KB."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (WIDTH, HEIGHT), 0)
    pen = ImageDraw.Draw(image)
    font, lines = _fit(pen, card.title, card.font)
    line_height = round(font.size * 1.2)
    top = MARGIN + 10
    for n, line in enumerate(lines):
        pen.text((MARGIN, top + n * line_height), line, font=font, fill=255)
    name_font = _font(card.font.replace(TITLE_FONT, NAME_FONT) if card.font else "", 34)
    pen.rectangle((MARGIN, HEIGHT - MARGIN - 70, MARGIN + 120, HEIGHT - MARGIN - 62), fill=255)
    pen.text((MARGIN, HEIGHT - MARGIN - 40), card.site, font=name_font, fill=255)
    r, g, b = (int(card.colour[i : i + 2], 16) for i in (1, 3, 5))
    image = image.convert("P")
    image.putpalette([round(c + (255 - c) * level / 255) for level in range(256) for c in (r, g, b)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


def _draw_chunk(_state: None, chunk: list[Card]) -> list[bytes]:
    return [draw(card) for card in chunk]


@dataclass
class Deck:
    """The cards of one build and where they are kept (``folder``, else ``memory``)."""

    folder: Path | None
    memory: dict[str, bytes] = field(default_factory=dict)
    colours: dict[str, str] = field(default_factory=dict)
    drawn: int = 0  # cards drawn by this build; the rest came from the cache
    cards: dict[str, Card] = field(default_factory=dict)  # output path → its card (set by ``outputs``)
    warnings: list[Problem] = field(default_factory=list)

    def find(self, key: str) -> bytes | Path | None:
        """A kept card without holding it: on disk, the cache file (checked to be a PNG by its
        first bytes, read whole only when it is written into the output, in a render worker);
        in memory, its bytes. A cold build of 5,000 posts kept all its cards' bytes (120 MB)
        in memory until they were written, which made the build's peak memory."""
        if self.folder is None:
            return self.memory.get(key)
        path = self.folder / f"{key}.png"
        try:
            with open(path, "rb") as f:
                head = f.read(8)
        except OSError:
            return None
        return path if head == PNG_SIGNATURE else None

    def put(self, key: str, data: bytes) -> None:
        self.drawn += 1
        if self.folder is None:
            self.memory[key] = data
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        write_atomically(self.folder / f"{key}.png", data)


_kept: weakref.WeakKeyDictionary[Any, dict[str, bytes]] = weakref.WeakKeyDictionary()


def deck(engine: Any, config: Any, cache_folder: str) -> Deck:
    """On disk in ``.qsite-cache/cards/`` for ``qsite build``; in memory while a ``serve`` lives."""
    root = getattr(engine, "root", None)
    made = Deck(Path(root) / cache_folder / "cards") if root is not None else Deck(None, _kept.setdefault(engine, {}))
    made.colours = theme_colours(config)
    return made


def outputs(
    site: Any, deck: Deck, workers: Workers, kept: Mapping[str, str] | None = None
) -> list[tuple[str, bytes | Path]]:
    """(path, PNG) of every post's card, drawing (in parallel) only those not cached; a card
    kept on disk is given as its cache file (``Deck.find``), read when it is written. Each
    post's ``Card`` is left in ``deck.cards`` (path → card).

    ``kept``: path → the key of the card the output already holds there (the engine's record
    of copied files). Such a card is most likely kept unread, so it is given as the cache file
    its key names without opening it (5,000 opens at 5,000 posts); ``contents`` draws it
    again should that file turn out to be gone or damaged when it is read after all."""
    title_font = font_path(TITLE_FONT)
    if title_font is None or font_path(NAME_FONT) is None:
        title_font = None
        deck.warnings.append(missing_font())
    kept = kept if kept is not None and deck.folder is not None else {}
    wanted = []
    for post in site.posts:
        colour = next((deck.colours[s] for s in post.themes if s in deck.colours), DEFAULT_COLOUR)
        wanted.append((card_path(post), Card(post.title, colour, site.config.title, str(title_font or ""))))
    found: dict[str, bytes | Path | None] = {}
    checked: set[str] = set()  # keys looked up with ``Deck.find``
    for path, card in wanted:
        key = card.key
        if kept.get(path) == key and deck.folder is not None:
            found.setdefault(key, deck.folder / f"{key}.png")
        elif key not in checked:
            checked.add(key)
            found[key] = deck.find(key)
    todo = list({card.key: card for _path, card in wanted if found[card.key] is None}.values())
    for card, data in zip(todo, workers.map(_draw_chunk, todo), strict=True):
        deck.put(card.key, data)
        found[card.key] = deck.find(card.key) or data  # its cache file, if it could be kept
    deck.cards = dict(wanted)
    return [(path, found[card.key]) for path, card in wanted]  # type: ignore[misc]


def contents(card: Card, given: bytes | Path) -> bytes:
    """The PNG of ``card`` as ``outputs`` gave it: its bytes, or read from its cache file, or
    drawn again if that file is gone or is no PNG (given unread, ``kept``, and removed or
    damaged since: an editor may delete ``.qsite-cache/`` at any time)."""
    if isinstance(given, bytes):
        return given
    try:
        data = given.read_bytes()
    except OSError:
        data = b""
    return data if data.startswith(PNG_SIGNATURE) else draw(card)


LOGO_SIZE = 512  # px; schema.org's publisher logo (Google asks for at least 112)


def draw_logo() -> bytes:
    """The site mark of favicon.svg as a PNG, for JSON-LD ``publisher.logo`` (which must be a
    raster image). Shipped as the theme's static/logo.png; run ``python -m qsite.cards`` to
    draw it again after changing the mark."""
    from PIL import Image, ImageDraw

    scale = LOGO_SIZE // 32
    image = Image.new("RGBA", (LOGO_SIZE, LOGO_SIZE), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, LOGO_SIZE - 1, LOGO_SIZE - 1), radius=6 * scale, fill=DEFAULT_COLOUR)
    for x, y, w, h in ((9, 9, 6, 14), (17, 9, 6, 6), (17, 17, 6, 6)):
        pen.rectangle((x * scale, y * scale, (x + w) * scale - 1, (y + h) * scale - 1), fill="#ffffff")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


if __name__ == "__main__":
    (THEME / "static" / "logo.png").write_bytes(draw_logo())
