"""``offline-image``: a real PNG, deterministic from the prompt, with its words legible
(read back from the pixels with the same font, by a PNG reader that checks every CRC)."""

from __future__ import annotations

import struct
import zlib

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.providers.offline.image import draw, draw_edit, picture_area, wrap
from switchboard.providers.offline.png_decode import decode_png
from switchboard.spec import GeneratedImage, ImageRequest, InvalidRequestError
from tests.png_read import read_panel_text, read_png

PROMPT = "A red fox jumping over a lazy dog in the moonlight, watercolor"


@pytest.mark.parametrize("size", ["256x256", "512x512", "1024x1024"])
def test_a_png_of_the_size_with_the_prompts_words(size: str) -> None:
    data = draw(PROMPT, size)
    width, height, _ = read_png(data)
    assert f"{width}x{height}" == size
    assert " ".join(read_panel_text(data)) == PROMPT.upper()


def test_deterministic_and_different_per_prompt_and_index() -> None:
    assert draw(PROMPT, "256x256") == draw(PROMPT, "256x256")
    assert draw(PROMPT, "256x256") != draw(PROMPT + "!", "256x256")
    assert draw(PROMPT, "256x256", 0) != draw(PROMPT, "256x256", 1)


def test_long_prompts_are_cut_with_an_ellipsis() -> None:
    lines = wrap("word " * 400, 20)
    assert len(lines) == 6 and lines[-1].endswith("...")
    assert read_panel_text(draw("word " * 400, "256x256"))[-1].endswith("...")
    assert wrap("Crème brûlée ☕", 20) == ["CREME BRULEE ?"]


async def test_the_model_answers_n_pictures() -> None:
    model = OfflineProvider().image_model("offline-image")
    result = await model.generate_images(ImageRequest(PROMPT, n=2, size="256x256"))
    assert [i.media_type for i in result.images] == ["image/png", "image/png"]
    assert result.images[0].data != result.images[1].data
    assert result.size == "256x256" and result.model == "offline-image"
    with pytest.raises(InvalidRequestError, match="cannot make images"):
        OfflineProvider().image_model("offline-chat")
    with pytest.raises(InvalidRequestError, match="an image model"):
        OfflineProvider().chat_model("offline-image")


def _png(width: int, height: int, colour: int, rows: bytes, *, extra: bytes = b"",
         depth: int = 8, interlace: int = 0) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFF_FFFF))
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFF_FFFF))


def test_png_decoding_of_the_common_kinds_and_refusals() -> None:
    # grey, Sub-filtered: 10, 10+5, 10+5+5
    grey = decode_png(_png(3, 1, 0, b"\x01" + bytes((10, 5, 5))))
    assert grey is not None and grey.rows == [bytes((10,) * 3 + (15,) * 3 + (20,) * 3)]
    # palette with a half-transparent first entry (composited over white)
    palette = _chunk(b"PLTE", bytes((0, 0, 0, 255, 0, 0))) + _chunk(b"tRNS", bytes((0,)))
    paletted = decode_png(_png(2, 1, 3, b"\x00" + bytes((0, 1)), extra=palette))
    assert paletted is not None and paletted.rows == [bytes((255, 255, 255, 255, 0, 0))]
    # RGBA, Paeth then Average rows
    rows = b"\x04" + bytes((1, 2, 3, 255)) + b"\x03" + bytes((0, 0, 0, 128))
    rgba = decode_png(_png(1, 2, 6, rows))
    assert rgba is not None and rgba.rows == [bytes((1, 2, 3)), bytes((0, 1, 1))]
    assert decode_png(b"\xff\xd8\xff\xe0 a JPEG") is None
    assert decode_png(_png(1, 1, 2, b"\x00" + bytes(6), depth=16)) is None
    assert decode_png(_png(1, 1, 2, b"\x00" + bytes(3), interlace=1)) is None
    assert decode_png(_png(5000, 5000, 2, b"\x00" * 10)) is None  # too many pixels
    bomb = decode_png(_png(4, 4, 2, b"\x00" * 10_000_000))  # inflated only as promised
    assert bomb is not None and [len(r) for r in bomb.rows] == [12] * 4
    broken = bytearray(_png(1, 1, 2, b"\x00" + bytes(3)))
    broken[-20] ^= 1
    assert decode_png(bytes(broken)) is None  # a bad CRC


async def test_an_edit_draws_the_pictures_under_the_words() -> None:
    blue = _png(2, 2, 2, (b"\x00" + bytes((0, 0, 200)) * 2) * 2)
    model = OfflineProvider().image_model("offline-image")
    result = await model.edit_images(ImageRequest("make it blue", size="256x256",
                                                  images=(GeneratedImage(blue, "image/png"),)))
    data = result.images[0].data
    width, height, rows = read_png(data)
    x, y, w, h = picture_area(width, height)
    assert rows[y + h // 2][(x + w // 2) * 3:(x + w // 2) * 3 + 3] == bytes((0, 0, 200))
    assert " ".join(read_panel_text(data)) == "MAKE IT BLUE"
    assert data == draw_edit("make it blue", "256x256", (blue,))
    jpeg = b"\xff\xd8\xff\xe0" + bytes(64)  # not read here: a pattern from its digest
    patterned = draw_edit("make it blue", "256x256", (jpeg,))
    assert patterned == draw_edit("make it blue", "256x256", (jpeg,))
    assert patterned != data and patterned != draw("make it blue", "256x256")
