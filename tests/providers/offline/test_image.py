"""``offline-image``: a real PNG, deterministic from the prompt, with its words legible
(read back from the pixels with the same font, by a PNG reader that checks every CRC)."""

from __future__ import annotations

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.providers.offline.image import draw, wrap
from switchboard.spec import ImageRequest, InvalidRequestError
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
