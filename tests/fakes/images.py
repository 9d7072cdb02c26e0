"""Image responses of the fake vendors, as each vendor's reference shows them.

- OpenAI (and compatible servers): https://platform.openai.com/docs/api-reference/images/object
  GPT image models: ``{"created", "data": [{"b64_json"}], "background", "output_format",
  "quality", "size", "usage": {"input_tokens", "input_tokens_details": {"text_tokens",
  "image_tokens"}, "output_tokens", "total_tokens"}}``; dall-e models: ``{"created",
  "data": [{"b64_json" or "url", "revised_prompt" (dall-e-3)}]}`` and no usage.

- Edits (https://platform.openai.com/docs/api-reference/images/createEdit): a
  ``multipart/form-data`` request (recorded by ``FakeVendor`` as its text fields plus
  ``_files``) answered with the same ``ImagesResponse``; gpt-image-1 counts the given
  pictures as input ``image_tokens``. ``edit_as_schema`` turns the recorded form into
  what OpenAI's ``CreateImageEditRequest`` schema describes, for validation.

The pictures are real PNGs drawn by the offline image model at 256x256 whatever size
was asked (so tests stay fast), with the prompt and the picture's index drawn in.
"""

from __future__ import annotations

import base64
from typing import Any

from switchboard.providers.offline.image import draw

CREATED = 1_764_806_400
OUTPUT_TOKENS_PER_PICTURE = 1_056  # gpt-image-1, 1024x1024 at medium quality


def openai_images_body(body: dict[str, Any]) -> dict[str, Any]:
    model = str(body.get("model", ""))
    prompt = str(body.get("prompt", ""))
    n = int(body.get("n") or 1)
    pictures = [draw(prompt, "256x256", i) for i in range(n)]
    if model.startswith("gpt-image"):
        text_tokens = len(prompt) // 4 + 1
        return {
            "created": CREATED,
            "data": [{"b64_json": base64.b64encode(p).decode()} for p in pictures],
            "background": body.get("background") or "opaque",
            "output_format": body.get("output_format") or "png",
            "quality": body.get("quality") or "medium",
            "size": body.get("size") or "1024x1024",
            "usage": {"input_tokens": text_tokens,
                      "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 0},
                      "output_tokens": OUTPUT_TOKENS_PER_PICTURE * n,
                      "total_tokens": text_tokens + OUTPUT_TOKENS_PER_PICTURE * n},
        }
    data: list[dict[str, Any]] = []
    for p in pictures:
        item: dict[str, Any] = (
            {"b64_json": base64.b64encode(p).decode()}
            if body.get("response_format") == "b64_json"
            else {"url": "https://oaidalleapiprodscus.blob.core.windows.net/private/img.png"})
        if model == "dall-e-3":
            item["revised_prompt"] = f"A detailed picture of {prompt}"
        data.append(item)
    return {"created": CREATED, "data": data}


IMAGE_TOKENS_PER_INPUT = 323  # what the fake counts for each picture given to edit


def openai_edit_body(form: dict[str, Any]) -> dict[str, Any]:
    pictures = [f for f in form.get("_files", []) if f["name"] in ("image", "image[]")]
    fields = {k: v for k, v in form.items() if k != "_files"}
    body = openai_images_body({**fields, "n": int(fields.get("n") or 1)})
    usage = body.get("usage")
    if usage is not None:
        image_tokens = IMAGE_TOKENS_PER_INPUT * len(pictures)
        usage["input_tokens"] += image_tokens
        usage["input_tokens_details"]["image_tokens"] = image_tokens
        usage["total_tokens"] += image_tokens
    return body


def edit_as_schema(form: dict[str, Any]) -> dict[str, Any]:
    """The recorded form as OpenAI's schema types it: numbers as numbers, each file as
    a (binary) string, ``image[]`` as the ``image`` array."""
    out: dict[str, Any] = {k: (int(v) if k == "n" else v) for k, v in form.items()
                           if k != "_files"}
    files = form.get("_files", [])
    array = [f"<{f['filename']}>" for f in files if f["name"] == "image[]"]
    single = [f"<{f['filename']}>" for f in files if f["name"] == "image"]
    if array:
        out["image"] = array
    elif single:
        out["image"] = single[0]
    masks = [f"<{f['filename']}>" for f in files if f["name"] == "mask"]
    if masks:
        out["mask"] = masks[0]
    unknown = {f["name"] for f in files} - {"image", "image[]", "mask"}
    if unknown:
        out.update({name: "<file>" for name in unknown})
    return out
