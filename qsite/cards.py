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

Drawing and compressing a card takes a couple of milliseconds (~870 of them in a cold 1,000-post
build), so a card is kept in
``.qsite-cache/cards/<key>.png``, the key hashing everything drawn (title, colour, site name,
font, ``VERSION``): a rebuild draws only the cards whose title, theme colour or site name
changed. ``Deck.drawn`` counts the cards drawn by this build.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import struct
import weakref
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qsite import THEME
from qsite.images import write_atomically
from qsite.parallel import Workers
from qsite.problems import Problem

WIDTH, HEIGHT = 1200, 630
VERSION = "cards-3"  # bump when the drawing changes: every card is drawn again
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


def _wrap(draw: Any, text: str, font: Any, width: int) -> tuple[list[str], bool]:
    """The title's words in lines no wider than ``width`` where a line of several words can
    be, and whether every line fits in ``MAX_LINES`` lines. Stops at the line after
    ``MAX_LINES`` (the first ones are then final), and measures a line of several words once:
    its width is that of the last word added to it."""
    lines: list[str] = []
    fits = True
    single = False  # whether the last line is one word, not yet measured
    for word in text.split():
        if lines:
            longer = f"{lines[-1]} {word}"
            if draw.textlength(longer, font=font) <= width:
                lines[-1], single = longer, False
                continue
            if single and draw.textlength(lines[-1], font=font) > width:
                fits = False
            if len(lines) == MAX_LINES:
                return lines, False
        lines.append(word)
        single = True
    if single and draw.textlength(lines[-1], font=font) > width:
        fits = False
    return lines, fits


def _fit(draw: Any, title: str, font_file: str) -> tuple[Any, list[str]]:
    """The largest title size whose wrapped lines fit; at the smallest, the last line is cut with …"""
    width = WIDTH - 2 * MARGIN
    for size in TITLE_SIZES:
        font = _font(font_file, size)
        lines, fits = _wrap(draw, title, font, width)
        if fits:
            return font, lines
    lines = lines[:MAX_LINES]
    last = lines[-1]
    while last and draw.textlength(last + " …", font=font) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    lines[-1] = last + " …"
    return font, lines


# What is drawn on a card: ("text", x, y, text, font) or ("rectangle", x0, y0, x1, y1), white.
_Shape = tuple[Any, ...]


def draw(card: Card) -> bytes:
    """The card as PNG bytes: the theme colour as background, the title in white, the site's
    name under a rule (the theme colours are chosen for AA contrast with white text).

    Drawn as an 8-bit coverage mask whose palette runs from the theme colour to white: only
    two colours and their anti-aliasing shades are ever on a card, so a paletted PNG holds it
    exactly, at a third of the size of an RGB one.

    Most of a card is bare background, and compressing those rows was most of a card's cost
    (zlib takes ~1 ms for 756 KB of zeros, even at level 1): so only the bands of rows where
    something is drawn are drawn and compressed (``_band``), and the blank rows between them
    are put in already compressed (``_png``). The band with the rule and the site's name is the
    same on every card of a site, so it is drawn once. The picture is, pixel for pixel, the one
    of drawing the whole card and letting Pillow save it (``VERSION`` cards-2; tests/test_cards.py)."""
    font, lines = _fit(_measuring_pen(), card.title, card.font)
    line_height = round(font.size * 1.2)
    top = MARGIN + 10
    shapes: list[_Shape] = [("text", MARGIN, top + n * line_height, line, font) for n, line in enumerate(lines)]
    shapes.append(("rectangle", MARGIN, HEIGHT - MARGIN - 70, MARGIN + 120, HEIGHT - MARGIN - 62))
    name_font = _font(card.font.replace(TITLE_FONT, NAME_FONT) if card.font else "", 34)
    shapes.append(("text", MARGIN, HEIGHT - MARGIN - 40, card.site, name_font))
    return _png([_band(first, end, tuple(group)) for first, end, group in _bands(shapes)], card.colour)


@functools.lru_cache(maxsize=1)
def _measuring_pen() -> Any:
    """A pen for measuring text (``textlength``, ``textbbox``), which needs no canvas."""
    from PIL import Image, ImageDraw

    return ImageDraw.Draw(Image.new("L", (1, 1), 0))


def _rows(shape: _Shape) -> tuple[int, int]:
    """The rows a shape draws on (first, after the last): a text's bounding box, which is where
    Pillow pastes its glyphs, or the rectangle's rows."""
    if shape[0] == "text":
        return _text_rows(*shape[1:])
    return shape[2], shape[4] + 1


@functools.lru_cache(maxsize=8)  # the site's name: the same text at the same place on every card
def _text_rows(x: int, y: int, text: str, font: Any) -> tuple[int, int]:
    box = _measuring_pen().textbbox((x, y), text, font=font)
    return box[1], box[3]


def _bands(shapes: list[_Shape]) -> list[tuple[int, int, list[_Shape]]]:
    """The shapes grouped by the rows they draw on, overlapping bands merged, top to bottom:
    (first row, row after the last, its shapes in drawing order). Every other row is background."""
    spans = sorted(
        (max(0, first), min(HEIGHT, end), n) for n, (first, end) in enumerate(map(_rows, shapes)) if end > first
    )
    merged: list[tuple[int, int, list[int]]] = []
    for first, end, n in spans:
        if merged and first <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end), [*merged[-1][2], n])
        elif first < end:
            merged.append((first, end, [n]))
    return [(first, end, [shapes[n] for n in sorted(members)]) for first, end, members in merged]


_ROW = WIDTH + 1  # a PNG row: its filter byte (0: none), then one byte a pixel


# The bands of the rule and of the site's name recur on every card. Each card's title lines
# (up to MAX_LINES bands, never seen again) pass through this cache too, so it holds more than
# them: with 4 places, a title of three lines or more pushed the rule's and the name's bands
# out, and every card drew and compressed them again.
@functools.lru_cache(maxsize=2 * MAX_LINES + 4)
def _band(first: int, end: int, shapes: tuple[_Shape, ...]) -> tuple[int, bytes, bytes]:
    """(first row, its rows as PNG rows, those deflated and sync-flushed) of the rows ``first``
    to ``end`` with ``shapes`` drawn on them. Drawn one column to the right, on a canvas one
    column wider: column 0 is then each row's filter byte, 0, and ``tobytes`` gives PNG rows."""
    from PIL import Image, ImageDraw

    image = Image.new("L", (_ROW, end - first), 0)
    pen = ImageDraw.Draw(image)
    for shape in shapes:
        if shape[0] == "text":
            _kind, x, y, text, font = shape
            pen.text((x + 1, y - first), text, font=font, fill=255)
        else:
            _kind, x0, y0, x1, y1 = shape
            pen.rectangle((x0 + 1, y0 - first, x1 + 1, y1 - first), fill=255)
    rows = image.tobytes()
    packer = zlib.compressobj(1, zlib.DEFLATED, -15)
    return first, rows, packer.compress(rows) + packer.flush(zlib.Z_SYNC_FLUSH)


_FINAL_BLOCK = b"\x03\x00"  # an empty last deflate block: ends the stream after sync-flushed parts
_blank_rows: dict[int, bytes] = {}  # k → 2**k blank rows, deflated and sync-flushed (made once)


def _deflated_blank(rows: int) -> bytes:
    """``rows`` blank rows as deflate data that more can follow: made of runs of a power of
    two rows, each compressed once per process."""
    parts = []
    k = 0
    while rows:
        if rows & 1:
            if k not in _blank_rows:
                packer = zlib.compressobj(1, zlib.DEFLATED, -15)
                _blank_rows[k] = packer.compress(bytes(_ROW << k)) + packer.flush(zlib.Z_SYNC_FLUSH)
            parts.append(_blank_rows[k])
        rows >>= 1
        k += 1
    return b"".join(parts)


@functools.lru_cache(maxsize=64)
def _palette(colour: str) -> bytes:
    """Index ``level`` is ``level``/255 of the way from the theme colour to white."""
    rgb = [int(colour[i : i + 2], 16) for i in (1, 3, 5)]
    return bytes(round(c + (255 - c) * level / 255) for level in range(256) for c in rgb)


def _png(bands: list[tuple[int, bytes, bytes]], colour: str) -> bytes:
    """A paletted 8-bit PNG of WIDTH × HEIGHT from its drawn bands (``_band``), every other
    row being palette index 0.

    The image data is one zlib stream made of deflate parts that each end on a byte boundary
    (a sync flush), so blank runs come from ``_deflated_blank``; the stream's Adler-32 is carried
    over a blank run arithmetically (a zero byte adds the running sum ``a`` to ``b``)."""
    parts = [b"\x78\x01"]  # zlib header: deflate, 32 KB window, fastest
    a, b = 1, 0  # Adler-32
    row = 0
    for first, rows, deflated in [*bands, (HEIGHT, b"", b"")]:
        if first > row:
            parts.append(_deflated_blank(first - row))
            b = (b + (first - row) * _ROW * a) % 65521
        if rows:
            checksum = zlib.adler32(rows, (b << 16) | a)
            a, b = checksum & 0xFFFF, checksum >> 16
            parts.append(deflated)
        row = first + len(rows) // _ROW
    parts += [_FINAL_BLOCK, struct.pack(">I", (b << 16) | a)]
    return b"".join((
        b"\x89PNG\r\n\x1a\n",
        _chunk(b"IHDR", struct.pack(">IIBBBBB", WIDTH, HEIGHT, 8, 3, 0, 0, 0)),  # 8-bit, paletted
        _chunk(b"PLTE", _palette(colour)),
        _chunk(b"IDAT", b"".join(parts)),
        _chunk(b"IEND", b""),
    ))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


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
    # (title, colour, site title, font) → its Card, key computed: kept while a serve lives, so
    # a rebuild does not make and hash 5,000 unchanged cards again (``outputs``)
    known: dict[tuple[str, str, str, str], Card] = field(default_factory=dict)

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
_kept_cards: weakref.WeakKeyDictionary[Any, dict[tuple[str, str, str, str], Card]] = weakref.WeakKeyDictionary()


def deck(engine: Any, config: Any, cache_folder: str) -> Deck:
    """On disk in ``.qsite-cache/cards/`` for ``qsite build``; in memory while a ``serve`` lives."""
    root = getattr(engine, "root", None)
    made = Deck(Path(root) / cache_folder / "cards") if root is not None else Deck(None, _kept.setdefault(engine, {}))
    if root is None:
        made.known = _kept_cards.setdefault(engine, {})
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
    last, known = dict(deck.known), deck.known
    known.clear()  # holds this build's cards only
    site_title, font = site.config.title, str(title_font or "")
    for post in site.posts:
        colour = next((deck.colours[s] for s in post.themes if s in deck.colours), DEFAULT_COLOUR)
        shape = (post.title, colour, site_title, font)
        card = known.get(shape) or last.get(shape) or Card(*shape)
        known[shape] = card
        wanted.append((card_path(post), card))
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
