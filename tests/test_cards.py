"""Preview cards drawn band by band (issue 10): the same picture as drawing the whole card and
letting Pillow save it, for less work.

``cards-2`` drew every card on a full 1200×630 canvas and had Pillow compress all of it; about
half of a card's time went on compressing rows of bare background. ``cards-3`` draws and
compresses only the rows where something is drawn. The PNG bytes differ (hence the new
``VERSION``); the picture may not: each card here is compared, decoded pixel by decoded pixel
and palette entry by palette entry, with the ``cards-2`` drawing, kept below as it was."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import pytest
from PIL import Image, ImageDraw

from qsite import cards

# --- the cards-2 drawing, as it was (qsite/cards.py before the change) ---------------------------


def _old_wrap(draw: Any, text: str, font: Any, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=font) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _old_fit(draw: Any, title: str, font_file: str) -> tuple[Any, list[str]]:
    width = cards.WIDTH - 2 * cards.MARGIN
    for size in cards.TITLE_SIZES:
        font = cards._font(font_file, size)
        lines = _old_wrap(draw, title, font, width)
        if len(lines) <= cards.MAX_LINES and all(draw.textlength(line, font=font) <= width for line in lines):
            return font, lines
    lines = lines[: cards.MAX_LINES]
    last = lines[-1]
    while last and draw.textlength(last + " …", font=font) > width:
        last = last.rsplit(" ", 1)[0] if " " in last else last[:-1]
    lines[-1] = last + " …"
    return font, lines


def old_draw(card: cards.Card) -> bytes:
    W, H, M = cards.WIDTH, cards.HEIGHT, cards.MARGIN
    image = Image.new("L", (W, H), 0)
    pen = ImageDraw.Draw(image)
    font, lines = _old_fit(pen, card.title, card.font)
    line_height = round(font.size * 1.2)
    for n, line in enumerate(lines):
        pen.text((M, M + 10 + n * line_height), line, font=font, fill=255)
    name_font = cards._font(card.font.replace(cards.TITLE_FONT, cards.NAME_FONT) if card.font else "", 34)
    pen.rectangle((M, H - M - 70, M + 120, H - M - 62), fill=255)
    pen.text((M, H - M - 40), card.site, font=name_font, fill=255)
    r, g, b = (int(card.colour[i : i + 2], 16) for i in (1, 3, 5))
    image = image.convert("P")
    image.putpalette([round(c + (255 - c) * level / 255) for level in range(256) for c in (r, g, b)])
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False, compress_level=1)
    return buffer.getvalue()


# --------------------------------------------------------------------------------------------------

DEJAVU = str(cards.font_path(cards.TITLE_FONT) or "")
TITLES = [
    "Huddles that stuck: what a ward learned in six weeks",
    "A",
    "",  # no title: the rule and the site's name only
    # five lines at the largest size: the last line runs into the rule and the site's name
    "Huddles, handovers and the quiet work of keeping a busy ward safe through winter pressures in 2024",
    "Word " * 80,  # wrapped, then cut with an ellipsis at the smallest size
    "Tiny " * 30,
    "x" * 200,  # one word wider than the card: cut letter by letter
    "Averyveryverylongwordthatdoesnotfitonalineatallnotevenatthesmallestsize and then more words",
    "Ünïcödé ÉÀÇ gjpqy Ågång — “quotes” ½ " * 3,  # accents above, descenders below
    "Waiting lists, referrals & the 2nd (of 3) phone calls: a test of change",
]
CARDS = [
    *(cards.Card(t, "#005eb8", "Benchmark Site", DEJAVU) for t in TITLES),
    *(cards.Card(t, "#873e63", "Ågång gjpqy", DEJAVU) for t in TITLES[:4]),
    *(cards.Card(t, "#00703c", "", DEJAVU) for t in TITLES[:2]),
    *(cards.Card(t, "#6a1f48", "Site", "") for t in TITLES),  # Pillow's built-in font
]


def idat(data: bytes) -> bytes:
    """The PNG's image data, inflated: raises if a chunk's CRC or the stream's Adler-32 is wrong
    (zlib checks it), so the file is checked beyond what a lenient decoder reads."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, found = 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(body, zlib.crc32(kind)), kind
        if kind == b"IDAT":
            found += body
        at += 12 + length
    return zlib.decompress(found)


@pytest.mark.parametrize("card", CARDS, ids=lambda c: f"{c.title[:20]!r}-{c.site[:6]!r}-{'dejavu' if c.font else 'builtin'}")
def test_a_card_is_the_same_picture_as_before_pixel_for_pixel(card: cards.Card) -> None:
    new, old = cards.draw(card), old_draw(card)
    assert new != old  # a different file (cards-3)...
    with Image.open(io.BytesIO(new)) as a, Image.open(io.BytesIO(old)) as b:
        assert (a.format, a.mode, a.size) == (b.format, b.mode, b.size) == ("PNG", "P", (1200, 630))
        assert a.getpalette() == b.getpalette()
        assert a.tobytes() == b.tobytes()  # ...of the same picture
        assert a.convert("RGB").tobytes() == b.convert("RGB").tobytes()
        expected = b.tobytes()
    rows = idat(new)  # every row: filter byte 0, then the palette indexes
    assert len(rows) == 630 * 1201
    assert rows[:: 1201] == bytes(630)
    assert b"".join(rows[n * 1201 + 1 : (n + 1) * 1201] for n in range(630)) == expected


def test_the_cards_above_include_a_title_drawn_over_the_rule() -> None:
    # where the title's last line runs into the rule, they are drawn in one band, in order
    font, lines = cards._fit(cards._measuring_pen(), TITLES[3], DEJAVU)
    assert (font.size, len(lines)) == (72, 5)
    shapes = [("text", cards.MARGIN, cards.MARGIN + 10 + n * 86, line, font) for n, line in enumerate(lines)]
    shapes.append(("rectangle", cards.MARGIN, 480, cards.MARGIN + 120, 488))
    assert [kinds for _first, _end, kinds in cards._bands(shapes)][-1] == shapes[-2:]


def test_the_theme_colour_is_the_background_and_white_the_text() -> None:
    with Image.open(io.BytesIO(cards.draw(cards.Card("Hello", "#873e63", "Site", DEJAVU)))) as card:
        rgb = card.convert("RGB")
        assert rgb.getpixel((5, 5)) == (0x87, 0x3E, 0x63)
        assert rgb.getpixel((cards.MARGIN + 5, cards.HEIGHT - cards.MARGIN - 66)) == (255, 255, 255)  # the rule


def test_only_the_rows_something_is_drawn_on_are_compressed_for_each_card(monkeypatch: pytest.MonkeyPatch) -> None:
    # issue 10: compressing a card's bare background (~1 ms of zeros a card) was half its cost
    cards.draw(cards.Card("Warm-up", "#005eb8", "Site", DEJAVU))  # blank runs, once per process
    fed: list[int] = []
    real = zlib.compressobj

    class Counting:
        def __init__(self, *args: Any) -> None:
            self.packer = real(*args)

        def compress(self, data: bytes) -> bytes:
            fed.append(len(data))
            return self.packer.compress(data)

        def flush(self, *args: Any) -> bytes:
            return self.packer.flush(*args)

    monkeypatch.setattr(zlib, "compressobj", Counting)
    data = cards.draw(cards.Card("A title of two lines, long enough to wrap onto a second line", "#005eb8", "Other", DEJAVU))
    with Image.open(io.BytesIO(data)) as card:
        card.load()
    drawn_rows = sum(fed) // 1201
    assert 0 < drawn_rows < 630 // 2, fed


def test_the_bands_every_card_shares_are_drawn_once_however_many_lines_titles_have() -> None:
    # the rule's and the site name's bands recur on every card; a title of three lines or more
    # pushed them out of the bands' cache, so every card drew and compressed them again
    titles = [
        "Improving patient flow through daily huddles on every ward of the hospital, one at a time",
        "Reducing harm from falls with a learning community of nurses, porters and pharmacists",
    ]
    pen = cards._measuring_pen()
    assert all(len(cards._fit(pen, title, DEJAVU)[1]) >= 3 for title in titles)
    cards.draw(cards.Card(titles[0], "#005eb8", "Shared Site", DEJAVU))
    bands, rows = cards._band.cache_info().hits, cards._text_rows.cache_info().hits
    second = cards.draw(cards.Card(titles[1], "#005eb8", "Shared Site", DEJAVU))
    assert cards._band.cache_info().hits - bands == 2  # the rule's band and the name's
    assert cards._text_rows.cache_info().hits - rows == 1  # the name's rows, measured once
    cards._band.cache_clear()
    cards._text_rows.cache_clear()
    assert cards.draw(cards.Card(titles[1], "#005eb8", "Shared Site", DEJAVU)) == second  # the same bytes
