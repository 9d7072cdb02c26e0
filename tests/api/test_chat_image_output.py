"""A chat model that answers with pictures (Gemini's image output, on a fake speaking
Gemini's wire): ONE message whose parts interleave text and pictures in order, the
pictures kept in the file store (references, never base64 in the row), priced per
picture, exported in order, and carried into the next turn for a vision model."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import anthropic as anthropic_sdk
import openai as openai_sdk
import pytest
from openai.types.responses import (
    ResponseCompletedEvent,
    ResponseImageGenCallCompletedEvent,
    ResponseImageGenCallGeneratingEvent,
    ResponseImageGenCallInProgressEvent,
)
from openai.types.responses.response_output_item import ImageGenerationCall

from switchboard.db import Database
from switchboard.providers.offline.image import draw
from switchboard.services.keys import set_provider_key
from switchboard.services.provider_models import create_model
from switchboard.services.providers import create_provider, update_provider
from tests.api.chat_support import _with_db, add_provider, client, stream_chat
from tests.api.test_answer_jobs_api import events_of
from tests.conftest import isolate
from tests.fakes import gemini as gemini_fake
from tests.fakes import openai as openai_fake
from tests.fakes.images import edit_as_schema
from tests.fakes.script import Hold, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.together import IMAGE_MODEL as TOGETHER_IMAGE
from tests.fakes.together import TogetherImages
from tests.fakes.vendor import FakeVendor
from tests.png_read import read_panel_text
from tests.server import Running, running_server
from tests.spec_validation import spec_available, validate_component


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module."""
    yield


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeVendor, str, FakeVendor, str]]:
    gemini = FakeVendor(gemini_fake.Wire())
    openai = FakeVendor(openai_fake.Wire())
    with serve_in_thread(gemini) as g, serve_in_thread(openai) as o:
        yield gemini, g, openai, o


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("chat-image-output") / "sb-data")
        with running_server() as running:
            yield running


def test_text_and_pictures_in_one_answer_then_a_vision_model_sees_them(
        server: Running, fakes: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    gemini, g_url, openai, o_url = fakes
    banana = add_provider(server, "gem", "gemini", g_url, gemini_fake.IMAGE_MODEL,
                          vision=True, image_output=True)
    gpt = add_provider(server, "gptv", "openai", o_url, openai_fake.MODEL, vision=True)
    http = client(server, server.make_user("mixer"))

    events = stream_chat(http, {"model": banana, "text": "a blue whale"})
    names = [name for name, _ in events]
    assert names[0] == "start" and names[-1] == "done", names
    shown = [n for n in names if n in ("delta", "image")]
    assert shown == ["delta", "delta", "image", "delta"], "the picture streams in its place"
    asked = gemini.chat_requests()[-1].body
    assert asked["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]

    message: dict[str, Any] = events[-1][1]["message"]
    parts = message["parts"]
    assert [p["type"] for p in parts] == ["text", "image", "text"]
    picture = parts[1]
    assert "data" not in picture and picture["media_type"] == "image/png"
    streamed = next(data for name, data in events if name == "image")["part"]
    assert streamed["file"]["sha256"] == picture["file"]["sha256"]
    assert message["text"] == "Here is a blue whale: I hope you like it."
    [(stored,)] = server.query(f"SELECT parts FROM messages WHERE id = {message['id']}")
    assert "iVBOR" not in str(stored), "a reference in the row, never base64"
    png = http.get(f"/api/files/{picture['file']['sha256']}")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    # 12 prompt tokens at $0.30, 12 text tokens at $2.50, one picture at $0.039 (its 1290
    # tokens are not counted again)
    assert Decimal(str(message["cost"])) == (
        (12 * Decimal("0.30") + 12 * Decimal("2.50")) / 1_000_000 + Decimal("0.039"))

    cid = events[-1][1]["conversation"]["id"]
    exported = http.get(f"/api/conversations/{cid}/export", params={"format": "markdown"})
    text = exported.text
    assert text.index("Here is a blue whale:") < text.index("_[image: image/png]_") \
        < text.index("I hope you like it.")

    openai.then(Reply(chunks=["A whale."]))
    answer = stream_chat(http, {"conversation_id": cid, "model": gpt,
                                "text": "What is in the picture?"})
    assert answer[-1][0] == "done"
    sent = openai.chat_requests()[-1].body["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"] == "Here is a blue whale: I hope you like it."
    urls = [c["image_url"]["url"] for c in sent[2]["content"] if c["type"] == "image_url"]
    assert urls == ["data:image/png;base64," + base64.b64encode(png.content).decode()]


def test_reattaching_mid_answer_replays_the_pictures_already_answered(
        server: Running, fakes: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    """The page reloads while a model that draws is still answering: following the
    answer again (``GET /api/messages/{id}/stream``) replays the picture it already
    answered with, in its place among the text, before the rest streams."""
    gemini, g_url, _, _ = fakes
    banana = add_provider(server, "gemreload", "gemini", g_url, gemini_fake.IMAGE_MODEL,
                          vision=True, image_output=True)
    hold = Hold(Reply(chunks=["Here is ", "a whale:", " and", " more."],
                      pictures={1: "a whale"}, output_tokens=12), after=2)
    gemini.then(hold)
    http = client(server, server.make_user("reloader"))
    try:
        with http.stream("POST", "/api/chat/stream",
                         json={"model": banana, "text": "a whale"}) as r:
            seen = []
            for event in events_of(r):
                seen.append(event)
                if event[1] == "image":
                    break  # the tab is reloaded here
        answer = seen[0][2]["assistant_message_id"]
        picture = seen[-1][2]["part"]
        with http.stream("GET", f"/api/messages/{answer}/stream") as r:
            replay = events_of(r)
            first = [next(replay) for _ in range(4)]
            assert [n for _, n, _ in first] == ["start", "delta", "delta", "image"]
            assert first[3][2]["part"] == picture and "data" not in picture
            hold.release.set()
            rest = [n for _, n, _ in replay]
        assert rest[-1] == "done" and "image" not in rest
        after_start = http.get(f"/api/messages/{answer}/stream",
                               headers={"last-event-id": seen[2][0] or ""})
        names = [line.removeprefix("event: ") for line in after_start.text.splitlines()
                 if line.startswith("event: ")]
        assert names[0] == "image" and names[-1] == "done", names
    finally:
        hold.release.set()


def test_a_picture_sent_to_an_image_model_that_edits_is_an_edit(
        server: Running, fakes: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    _, _, openai, o_url = fakes

    async def configure(db: Database) -> None:
        await update_provider(db, "openai", base_url=f"{o_url}/v1", enabled=True,
                              settings={"max_retries": 0})
        await set_provider_key(db, "openai", "key-openai-000000000000001234")

    asyncio.run(_with_db(server.settings, configure))
    http = client(server, server.make_user("retoucher"))
    cat = draw("a cat", "256x256")
    events = stream_chat(http, {"model": "openai:gpt-image-1", "text": "give it a hat",
                                "images": [{"media_type": "image/png",
                                            "data": base64.b64encode(cat).decode()}]})
    assert events[-1][0] == "done", events[-1]
    [edit] = [r for r in openai.requests if r.path.endswith("/images/edits")]
    assert [f["name"] for f in edit.body["_files"]] == ["image[]"]
    assert edit.body["_files"][0]["data"] == cat and edit.body["prompt"] == "give it a hat"
    if spec_available("openai"):
        validate_component("openai", "CreateImageEditRequest", edit_as_schema(edit.body))
    [part] = events[-1][1]["message"]["parts"]
    assert part["type"] == "image" and part["meta"]["prompt"] == "give it a hat"
    cost = Decimal(str(events[-1][1]["message"]["cost"]))
    assert cost > Decimal("0.042"), "the picture plus the counted input tokens"

    # dall-e-3 does not edit: a picture sent to it is refused in words
    refused = http.post("/api/chat/stream", json={
        "model": "openai:dall-e-3", "text": "edit this",
        "images": [{"media_type": "image/png", "data": base64.b64encode(cat).decode()}]})
    assert refused.status_code == 422, refused.text


def test_an_openai_compatible_image_model_draws_in_the_chat_and_on_v1(
        server: Running) -> None:
    together = TogetherImages()
    with serve_in_thread(together) as t_url:  # type: ignore[arg-type]
        async def configure(db: Database) -> None:
            await create_provider(db, name="tg", kind="openai_compatible",
                                  base_url=f"{t_url}/v1",
                                  settings={"max_retries": 0, "image_response_format": None,
                                            "image_size_fields": True})
            await set_provider_key(db, "tg", "tg-key-0000000000000000")
            await create_model(db, "tg", TOGETHER_IMAGE, model_type="image",
                               capabilities={"image_output": True})

        asyncio.run(_with_db(server.settings, configure))
        ref = f"tg:{TOGETHER_IMAGE}"
        token = server.make_user("flux")
        http = client(server, token)
        events = stream_chat(http, {"model": ref, "text": "a paper boat"})
        assert events[-1][0] == "done", events[-1]
        [part] = events[-1][1]["message"]["parts"]
        picture = http.get(f"/api/files/{part['file']['sha256']}")
        assert read_panel_text(picture.content) == ["A PAPER BOAT"]  # fetched from its URL
        assert "size" not in together.requests[-1] and "width" not in together.requests[-1]

        sdk = openai_sdk.OpenAI(base_url=server.v1, api_key=token, max_retries=0,
                                _strict_response_validation=True)
        got = sdk.images.generate(model=ref, prompt="a paper plane", size="1024x1024")
        assert got.data is not None
        png = base64.b64decode(got.data[0].b64_json or "")
        assert read_panel_text(png) == ["A PAPER PLANE"]
        assert together.requests[-1]["width"] == 1024 and together.requests[-1]["height"] == 1024


def test_v1_chat_completions_carries_the_pictures_as_images(
        server: Running, fakes: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    _, g_url, _, _ = fakes
    ref = add_provider(server, "gem2", "gemini", g_url, gemini_fake.IMAGE_MODEL, vision=True,
                       image_output=True)
    sdk = openai_sdk.OpenAI(base_url=server.v1, api_key=server.make_user("api-painter"),
                            max_retries=0, _strict_response_validation=True)
    done = sdk.chat.completions.create(model=ref, messages=[{"role": "user",
                                                             "content": "a green frog"}])
    message = done.choices[0].message
    assert message.content == "Here is a green frog: I hope you like it."
    images = (message.model_extra or {})["images"]
    assert [i["type"] for i in images] == ["image_url"]
    png = base64.b64decode(images[0]["image_url"]["url"].split(",", 1)[1])
    assert read_panel_text(png) == ["A GREEN FROG"]

    streamed = [c.choices[0].delta for c in sdk.chat.completions.create(
        model=ref, stream=True, messages=[{"role": "user", "content": "a green frog"}])
        if c.choices]
    with_images = [d for d in streamed if (d.model_extra or {}).get("images")]
    assert len(with_images) == 1
    text = "".join(d.content or "" for d in streamed)
    assert text == "Here is a green frog: I hope you like it."


def _costs(server: Running, username: str, calls: int) -> list[Decimal]:
    """The usage rows' costs of ``username``'s calls, once the recorder wrote them all."""
    query = ("SELECT usage_events.cost FROM usage_events JOIN users ON users.id = "
             f"usage_events.user_id WHERE users.username = '{username}'")
    for _ in range(100):  # the recorder writes in batches (every 0.5 s)
        rows = server.query(query)
        if len(rows) >= calls:
            break
        time.sleep(0.05)
    return [Decimal(str(cost)) for (cost,) in rows]


ImageGenEvents = (ResponseImageGenCallInProgressEvent, ResponseImageGenCallGeneratingEvent,
                  ResponseImageGenCallCompletedEvent)
ImageGenEvents = (ResponseImageGenCallInProgressEvent, ResponseImageGenCallGeneratingEvent,
                  ResponseImageGenCallCompletedEvent)
# 12 prompt tokens at $0.30, 12 text tokens at $2.50, one picture at $0.039: what a
# drawing answer costs on every surface (the test above, through the web chat)
DRAWING = (12 * Decimal("0.30") + 12 * Decimal("2.50")) / 1_000_000 + Decimal("0.039")


def test_v1_responses_carries_the_pictures_as_image_generation_calls(
        server: Running, fakes: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    _, g_url, _, _ = fakes
    ref = add_provider(server, "gem3", "gemini", g_url, gemini_fake.IMAGE_MODEL,
                       vision=True, image_output=True)
    sdk = openai_sdk.OpenAI(base_url=server.v1, api_key=server.make_user("responder"),
                            max_retries=0, _strict_response_validation=True)
    done = sdk.responses.create(model=ref, input="a green frog")
    assert [o.type for o in done.output] == ["message", "image_generation_call", "message"]
    assert done.output_text == "Here is a green frog: I hope you like it."
    picture = done.output[1]
    assert isinstance(picture, ImageGenerationCall) and picture.status == "completed"
    assert picture.id.startswith("ig_") and picture.output_format == "png"
    assert read_panel_text(base64.b64decode(picture.result or "")) == ["A GREEN FROG"]
    if spec_available("openai"):
        validate_component("openai", "Response", done.model_dump(mode="json",
                                                                 exclude_unset=True))

    events = list(sdk.responses.create(model=ref, input="a green frog", stream=True))
    assert [e.sequence_number for e in events] == list(range(len(events)))
    drawn = [e for e in events if isinstance(e, ImageGenEvents)]
    assert [e.type for e in drawn] == ["response.image_generation_call.in_progress",
                                       "response.image_generation_call.generating",
                                       "response.image_generation_call.completed"]
    assert {(e.output_index, e.item_id) for e in drawn} == {(1, drawn[0].item_id)}
    final = events[-1]
    assert isinstance(final, ResponseCompletedEvent)
    assert [o.type for o in final.response.output] == [
        "message", "image_generation_call", "message"]
    streamed = final.response.output[1]
    assert isinstance(streamed, ImageGenerationCall) and streamed.result == picture.result

    with sdk.responses.stream(model=ref, input="a green frog", store=False) as stream:
        text = "".join(e.delta for e in stream if e.type == "response.output_text.delta")
        assembled = stream.get_final_response()
    assert text == "Here is a green frog: I hope you like it."
    assert assembled.output[1].type == "image_generation_call"

    # the picture goes back with the conversation: stored (previous_response_id) and
    # sent by the client as input, it reaches Gemini as the model's own inlineData
    gemini = fakes[0]
    sdk.responses.create(model=ref, input="now a red one", previous_response_id=done.id)
    sdk.responses.create(model=ref, input=[
        {"role": "user", "content": "a green frog"},
        *[o.model_dump(exclude_none=True) for o in done.output],  # type: ignore[list-item]
        {"role": "user", "content": "now a red one"}])
    for request in gemini.chat_requests()[-2:]:
        model_turn = request.body["contents"][1]
        assert model_turn["role"] == "model"
        assert [next(iter(p)) for p in model_turn["parts"]] == ["text", "inlineData", "text"]
        assert model_turn["parts"][1]["inlineData"]["data"] == picture.result
    assert _costs(server, "responder", 5) == [DRAWING] * 5, "priced as on every surface"


def test_v1_messages_carries_the_pictures_as_image_blocks(
        server: Running, fakes: tuple[FakeVendor, str, FakeVendor, str]) -> None:
    _, g_url, _, _ = fakes
    ref = add_provider(server, "gem4", "gemini", g_url, gemini_fake.IMAGE_MODEL,
                       vision=True, image_output=True)
    # the SDK's default validation: its strict mode refuses any block type it does not
    # know, and Anthropic has no block for a picture a model made (decision 0232)
    sdk = anthropic_sdk.Anthropic(base_url=server.url, api_key=server.make_user("painter"),
                                  max_retries=0)
    ask: dict[str, Any] = {"model": ref, "max_tokens": 1024,
                           "messages": [{"role": "user", "content": "a green frog"}]}
    done = sdk.messages.create(**ask)
    assert [b.type for b in done.content] == ["text", "image", "text"]
    source = (done.content[1].model_extra or {})["source"]
    assert source["type"] == "base64" and source["media_type"] == "image/png"
    assert read_panel_text(base64.b64decode(source["data"])) == ["A GREEN FROG"]
    assert "".join(b.text for b in done.content if b.type == "text") == \
        "Here is a green frog: I hope you like it."

    with sdk.messages.stream(**ask) as stream:
        events = list(stream)
        final = stream.get_final_message()
    starts = [e for e in events if e.type == "content_block_start"]
    assert [(e.index, e.content_block.type) for e in starts] == [
        (0, "text"), (1, "image"), (2, "text")]
    assert [e.index for e in events if e.type == "content_block_stop"] == [0, 1, 2]
    assert [b.type for b in final.content] == ["text", "image", "text"]
    assert (final.content[1].model_extra or {})["source"] == source

    # the answer goes back as the assistant's turn: Gemini gets its picture back
    gemini = fakes[0]
    sdk.messages.create(model=ref, max_tokens=1024, messages=[
        {"role": "user", "content": "a green frog"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True)
                                          for b in done.content]},
        {"role": "user", "content": "now a red one"}])
    model_turn = gemini.chat_requests()[-1].body["contents"][1]
    assert [next(iter(p)) for p in model_turn["parts"]] == ["text", "inlineData", "text"]
    assert model_turn["parts"][1]["inlineData"]["data"] == source["data"]
    assert _costs(server, "painter", 3) == [DRAWING] * 3, "priced as on every surface"
