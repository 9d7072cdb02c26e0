"""``offline-image``: real PNG pictures with no model, no key, no network.

What it draws: a background and a few overlapping shapes whose colours and places come
from the SHA-256 of the prompt (the same prompt always gives the same bytes, in every
process), and a white panel holding the prompt's words in a 5x7 bitmap font
(``font5x7``), upper case, wrapped, scaled to the picture. So a test or a demo can see
that the picture belongs to its prompt, and a reader can read it. An edit (pictures
given with the prompt) draws them scaled down above the words (``draw_edit``).

How: an RGB canvas in a ``bytearray``, filled span by span (no per-pixel Python loop for
shapes), and a minimal PNG encoder (signature, IHDR, one zlib-compressed IDAT of
filter-0 rows, IEND; https://www.w3.org/TR/png/). No image library is needed: Pillow
would be a 10 MB dependency for what is 150 lines here. A 1024x1024 picture takes about
a tenth of a second, so it is drawn in a worker thread.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from decimal import Decimal

from switchboard.providers.offline.font5x7 import HEIGHT, WIDTH, glyph, printable
from switchboard.providers.offline.png_decode import Pixels, decode_png
from switchboard.spec import GeneratedImage, ImageCapabilities, ImageRequest, ImageResult, Usage

IMAGE_MODEL_ID = "offline-image"
FREE_SIZES = {"256x256": Decimal(0), "512x512": Decimal(0), "1024x1024": Decimal(0)}
IMAGE_CAPABILITIES = ImageCapabilities(prices={"standard": FREE_SIZES}, default_size="512x512",
                                       default_quality="standard", max_n=4, edits=True)
PANEL_LINES = 6
"""At most this many lines of the prompt are drawn; the rest ends in '...'."""
Colour = tuple[int, int, int]
_INK: Colour = (20, 20, 28)
_PAPER: Colour = (250, 250, 246)


class Canvas:
    """An RGB picture being drawn (rows of ``3 * width`` bytes)."""

    def __init__(self, width: int, height: int, fill: Colour) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(bytes(fill) * (width * height))

    def rect(self, x: int, y: int, w: int, h: int, colour: Colour) -> None:
        x0, x1 = max(x, 0), min(x + w, self.width)
        if x1 <= x0:
            return
        span = bytes(colour) * (x1 - x0)
        for row in range(max(y, 0), min(y + h, self.height)):
            start = (row * self.width + x0) * 3
            self.pixels[start:start + len(span)] = span

    def disc(self, cx: int, cy: int, r: int, colour: Colour) -> None:
        for dy in range(-r, r + 1):
            half = int((r * r - dy * dy) ** 0.5)
            self.rect(cx - half, cy + dy, 2 * half + 1, 1, colour)

    def text(self, x: int, y: int, line: str, scale: int, colour: Colour) -> None:
        for i, ch in enumerate(line):
            rows = glyph(ch)
            left = x + i * (WIDTH + 1) * scale
            for r, bits in enumerate(rows):
                for c, bit in enumerate(bits):
                    if bit == "#":
                        self.rect(left + c * scale, y + r * scale, scale, scale, colour)

    def paste(self, picture: Pixels, x: int, y: int, w: int, h: int) -> None:
        """``picture`` scaled (nearest neighbour, aspect kept) to fit the box at (x, y)
        of ``w`` x ``h``, centred in it."""
        scale = min(w / picture.width, h / picture.height)
        pw, ph = max(int(picture.width * scale), 1), max(int(picture.height * scale), 1)
        left, top = x + (w - pw) // 2, y + (h - ph) // 2
        columns = [(c * picture.width // pw) * 3 for c in range(pw)]
        for row in range(ph):
            if not 0 <= top + row < self.height:
                continue
            source = picture.rows[row * picture.height // ph]
            line = b"".join(source[c:c + 3] for c in columns)
            start = ((top + row) * self.width + left) * 3
            self.pixels[start:start + len(line)] = line

    def pattern(self, x: int, y: int, w: int, h: int, digest: bytes) -> None:
        """A 4x4 grid of colours from ``digest``: a picture this cannot read, still
        recognisably the same one every time."""
        for cell in range(16):
            cx, cy = x + (cell % 4) * w // 4, y + (cell // 4) * h // 4
            self.rect(cx, cy, w // 4, h // 4, _colour(digest, cell * 2))

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(b"\x00" + self.pixels[row * stride:(row + 1) * stride]
                       for row in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
                + _chunk(b"IDAT", zlib.compress(raw, 6)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFF_FFFF))


def wrap(prompt: str, columns: int, lines: int = PANEL_LINES) -> list[str]:
    """The prompt's words as at most ``lines`` lines of ``columns`` characters (a word
    longer than a line is cut; text that does not fit ends in '...')."""
    out: list[str] = []
    current = ""
    words = printable(prompt).split()
    for index, word in enumerate(words):
        word = word[:columns]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= columns:
            current = candidate
            continue
        out.append(current)
        current = word
        if len(out) == lines:
            current = ""
            if index < len(words):
                out[-1] = (out[-1][:columns - 3] + "...")
            break
    if current:
        out.append(current)
    return out


def text_scale(width: int) -> int:
    """Pixels per font dot: about 24 characters across the panel at any size."""
    return max(1, width // 160)


def layout(width: int, height: int) -> tuple[int, int, int, int]:
    """(panel x, panel y, scale, columns) of the text panel in a ``width``x``height``
    picture; a test reads the words back from exactly there."""
    scale = text_scale(width)
    margin = width // 16
    columns = (width - 4 * margin) // ((WIDTH + 1) * scale)
    panel_y = height - margin - (PANEL_LINES * (HEIGHT + 3) * scale + 2 * margin)
    return margin, panel_y, scale, columns


def _colour(digest: bytes, at: int) -> Colour:
    return digest[at % 32], digest[(at + 1) % 32], digest[(at + 2) % 32]


def draw(prompt: str, size: str, index: int = 0) -> bytes:
    """The PNG of picture ``index`` for ``prompt`` at ``size`` (``WxH``)."""
    width, height = (int(v) for v in size.split("x"))
    digest = hashlib.sha256(f"{index}:{prompt}".encode()).digest()
    canvas = Canvas(width, height, tuple((c // 2) + 64 for c in _colour(digest, 0)))  # type: ignore[arg-type]
    for shape in range(5):
        b = digest[3 + shape * 5:8 + shape * 5]
        colour = _colour(digest, 3 + shape * 5)
        if b[0] % 2:
            canvas.disc(b[1] * width // 256, b[2] * height // 256,
                        (b[3] % 64 + 16) * width // 256, colour)
        else:
            canvas.rect(b[1] * width // 256, b[2] * height // 256,
                        (b[3] % 96 + 24) * width // 256, (b[4] % 96 + 24) * height // 256, colour)
    _panel(canvas, prompt)
    return canvas.png()


def _panel(canvas: Canvas, prompt: str) -> None:
    """The white panel with the prompt's words (where ``layout`` says)."""
    x, y, scale, columns = layout(canvas.width, canvas.height)
    line_height = (HEIGHT + 3) * scale
    margin = canvas.width // 16
    canvas.rect(x, y, canvas.width - 2 * x, PANEL_LINES * line_height + 2 * margin, _PAPER)
    for i, line in enumerate(wrap(prompt, columns)):
        canvas.text(x + margin, y + margin + i * line_height, line, scale, _INK)


def picture_area(width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) where an edit draws the pictures it was given: above the panel."""
    margin = width // 16
    _, panel_y, _, _ = layout(width, height)
    return margin, margin, width - 2 * margin, max(panel_y - 2 * margin, 1)


def draw_edit(prompt: str, size: str, sources: tuple[bytes, ...], index: int = 0) -> bytes:
    """An edit, deterministic from the prompt and the pictures: each given picture scaled
    down side by side above the prompt's words (a PNG this reads, ``png_decode``; any
    other picture as a pattern of colours from its bytes' digest), on a background from
    the digest of both. The mask is not used: nothing here is painted in."""
    width, height = (int(v) for v in size.split("x"))
    seed = hashlib.sha256(f"{index}:{prompt}".encode())
    for source in sources:
        seed.update(hashlib.sha256(source).digest())
    digest = seed.digest()
    canvas = Canvas(width, height, tuple((c // 2) + 64 for c in _colour(digest, 0)))  # type: ignore[arg-type]
    x, y, w, h = picture_area(width, height)
    column = w // max(len(sources), 1)
    for i, source in enumerate(sources):
        pixels = decode_png(source)
        if pixels is None:
            canvas.pattern(x + i * column, y, column, h, hashlib.sha256(source).digest())
        else:
            canvas.paste(pixels, x + i * column, y, column, h)
    _panel(canvas, prompt)
    return canvas.png()


def generate(request: ImageRequest) -> ImageResult:
    """All of ``request``'s pictures (pure CPU: the caller decides where it runs); an
    edit (``request.images``) draws over the pictures it was given (``draw_edit``)."""
    size = request.size or IMAGE_CAPABILITIES.default_size or "512x512"
    sources = tuple(image.data for image in request.images)
    images = [GeneratedImage(draw_edit(request.prompt, size, sources, i) if sources
                             else draw(request.prompt, size, i), "image/png")
              for i in range(request.n)]
    return ImageResult(images, Usage(input_tokens=0, output_tokens=0), IMAGE_MODEL_ID, size,
                       request.quality or IMAGE_CAPABILITIES.default_quality)
