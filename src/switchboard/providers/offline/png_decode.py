"""Reading a PNG's pixels, for the offline image model's edits (no image library).

What it reads: non-interlaced 8-bit PNGs in the common colour types — grey (0), RGB (2),
palette (3), grey+alpha (4), RGBA (6) — as RGB rows, alpha composited over white
(https://www.w3.org/TR/png/: chunks, the five row filters, PLTE). Anything else (16-bit,
interlaced, a JPEG or WebP) is ``None``: the caller draws from the bytes' digest instead.

Bounded, since the picture is the user's: at most ``MAX_PIXELS`` pixels, the
decompressed data checked against the size the header promises (a zlib bomb stops
there), every chunk's CRC. Pure Python, about a second per megapixel with filtered rows:
the caller runs it in a worker thread.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

MAX_PIXELS = 2048 * 2048
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


@dataclass(frozen=True, slots=True)
class Pixels:
    """An RGB picture: ``rows[y][3 * x : 3 * x + 3]`` is the pixel at (x, y)."""

    width: int
    height: int
    rows: list[bytes]


def decode_png(data: bytes) -> Pixels | None:
    """The picture's RGB pixels, or None when it is not a PNG this reads."""
    try:
        return _decode(data)
    except (struct.error, zlib.error, ValueError, IndexError):
        return None


def _decode(data: bytes) -> Pixels | None:
    if not data.startswith(_SIGNATURE):
        return None
    pos, header, palette, alpha = 8, b"", b"", b""
    idat: list[bytes] = []
    while pos + 12 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        if len(body) != length or crc != zlib.crc32(kind + body) & 0xFFFF_FFFF:
            return None
        if kind == b"IHDR":
            header = body
        elif kind == b"PLTE":
            palette = body
        elif kind == b"tRNS":
            alpha = body
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    channels = _CHANNELS.get(colour)
    if depth != 8 or interlace or channels is None or not 0 < width * height <= MAX_PIXELS:
        return None
    stride = width * channels
    expected = height * (stride + 1)
    inflater = zlib.decompressobj()
    raw = inflater.decompress(b"".join(idat), expected)
    if len(raw) != expected:
        return None
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        line = _unfilter(raw[start], bytearray(raw[start + 1:start + 1 + stride]),
                         previous, channels)
        rows.append(_rgb(bytes(line), colour, palette, alpha))
        previous = line
    return Pixels(width, height, rows)


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> bytearray:
    if kind == 0:
        return line
    if kind == 2:  # Up: one vectorised add, no per-byte loop
        return bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
    for i in range(len(line)):
        left = line[i - bpp] if i >= bpp else 0
        up = previous[i]
        if kind == 1:
            line[i] = (line[i] + left) & 0xFF
        elif kind == 3:
            line[i] = (line[i] + (left + up) // 2) & 0xFF
        elif kind == 4:
            corner = previous[i - bpp] if i >= bpp else 0
            p = left + up - corner
            pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
            line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc
                                  else corner)) & 0xFF
        else:
            raise ValueError("unknown row filter")
    return line


def _over_white(value: int, a: int) -> int:
    return (value * a + 255 * (255 - a)) // 255


def _rgb(line: bytes, colour: int, palette: bytes, alpha: bytes) -> bytes:
    if colour == 2:
        return line
    if colour == 0:
        return bytes(v for g in line for v in (g, g, g))
    if colour == 4:
        return bytes(v for i in range(0, len(line), 2)
                     for v in (_over_white(line[i], line[i + 1]),) * 3)
    if colour == 6:
        return bytes(_over_white(line[i + c], line[i + 3])
                     for i in range(0, len(line), 4) for c in range(3))
    out = bytearray()  # palette: PLTE entries, tRNS alphas for the first ones
    for index in line:
        r, g, b = palette[3 * index:3 * index + 3]
        a = alpha[index] if index < len(alpha) else 255
        out += bytes((_over_white(r, a), _over_white(g, a), _over_white(b, a)))
    return bytes(out)
