"""A minimal PNG reader for tests (8-bit RGB, non-interlaced, any row filter), so
tests check pictures without an image library: the chunks' CRCs, the header, and the
pixels; and ``read_panel_text`` reads the offline model's words back with its font."""

from __future__ import annotations

import struct
import zlib

from switchboard.providers.offline.font5x7 import HEIGHT, WIDTH, glyph
from switchboard.providers.offline.image import PANEL_LINES, layout

Pixels = list[bytes]  # rows of RGB bytes


def read_png(data: bytes) -> tuple[int, int, Pixels]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFF_FFFF, f"bad CRC in {kind!r}"
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) == (8, 2, 0), "only 8-bit RGB is read here"
    raw, stride, rows = zlib.decompress(idat), width * 3, []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride if kind else 0):  # filter 0: the bytes as they are
            left = line[i - 3] if i >= 3 else 0
            up, corner = previous[i], previous[i - 3] if i >= 3 else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(line))
        previous = line
    return width, height, rows


def read_panel_text(data: bytes) -> list[str]:
    """The lines of words the offline image model drew, read from the pixels."""
    width, height, rows = read_png(data)
    x, y, scale, columns = layout(width, height)
    margin = width // 16
    known = {tuple(glyph(chr(c))): chr(c) for c in range(0x20, 0x5B)}
    lines: list[str] = []
    for line in range(PANEL_LINES):
        top = y + margin + line * (HEIGHT + 3) * scale
        text = ""
        for col in range(columns):
            left = x + margin + col * (WIDTH + 1) * scale
            shape = tuple("".join(
                "#" if rows[top + r * scale][(left + c * scale) * 3] < 128 else "."
                for c in range(WIDTH)) for r in range(HEIGHT))
            text += known.get(shape, "\ufffd")
        if text.strip():
            lines.append(text.rstrip())
    return lines
