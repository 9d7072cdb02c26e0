"""``generate_image``: a picture from a prompt, for any model — the cross-modal tool.

A text-only model asked to "draw a lighthouse" calls this; the picture is made by an
image model through the ONE pipeline (``Pipeline.images``: admission reserves its price
against the user's budgets and rate limits, one usage row is metered), kept in the file
store for the user (``services.files``) and handed back as an ``ImagePart`` of the tool
result, so the answer shows it and a vision model later in the conversation sees it.
Its cost and model go on the ``ToolOutput`` so the loop adds them to the turn.

Which image model (decision 0098): ``SWITCHBOARD_TOOLS_IMAGE_MODEL`` when the
administrator named one; else the first enabled, usable image model of the catalog that
is not the offline one; else ``offline:offline-image``, which draws a real PNG with no
key and no network (so the tool works on a fresh install, and in tests).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from switchboard.db import Database
from switchboard.services import files, flags
from switchboard.services.file_bytes import FileRoot
from switchboard.services.pipeline import Imaged, Pipeline
from switchboard.services.policy import CallSpec
from switchboard.services.tools.contract import ToolContext, ToolOutput, ToolSpec
from switchboard.spec import ImageRequest, SwitchboardError
from switchboard.spec.limits import MAX_IMAGE_PROMPT_CHARS
from switchboard.spec.messages import ImagePart

OFFLINE_IMAGE_MODEL = "offline:offline-image"
MAX_PROMPT_CHARS = min(4_000, MAX_IMAGE_PROMPT_CHARS)
SIZES = ("1024x1024", "1536x1024", "1024x1536", "512x512", "256x256")

SPEC = ToolSpec(
    name="generate_image",
    description=(
        "Create a picture from a text description and show it to the user. Use it when "
        "the user asks you to draw, paint, illustrate or make an image. Describe the "
        "picture fully in 'prompt' (subject, style, colours, composition); the image "
        "model does not see the conversation. 'size' is width x height in pixels "
        "(default square). The result says which model drew it; the picture itself is "
        "attached to the result and shown in the answer, so do not describe it as a URL."
    ),
    parameters={
        "type": "object",
        "properties": {
            "prompt": {"type": "string", "minLength": 1, "maxLength": MAX_PROMPT_CHARS,
                       "description": "What to draw, in detail"},
            "size": {"type": "string", "enum": list(SIZES),
                     "description": "Width x height; 1024x1024 when not given"},
        },
        "required": ["prompt"],
        "additionalProperties": False,
    },
    source="builtin",
    flag="image_generation",
    timeout_s=120.0,
    max_result_chars=2_000,
)


class GenerateImage:
    """The ``generate_image`` tool. ``model``: the administrator's choice (None: the
    catalog's, see the module docstring)."""

    spec = SPEC

    def __init__(self, pipeline: Pipeline, db: Database, data_dir: FileRoot,
                 model: str | None = None) -> None:
        self.pipeline = pipeline
        self.db = db
        self.data_dir = data_dir
        self.model = model

    async def image_model(self) -> str:
        """The ref of the model that draws (see the module docstring)."""
        if self.model:
            return self.model
        registry = await self.pipeline.registry_source()
        for entry in registry.catalog():
            if entry.type == "image" and entry.enabled and entry.configured \
                    and entry.kind != "offline":
                return entry.ref
        return OFFLINE_IMAGE_MODEL

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        prompt = arguments.get("prompt")
        size = arguments.get("size")
        if not isinstance(prompt, str) or not prompt.strip():
            return ToolOutput("generate_image needs a 'prompt' describing the picture",
                              is_error=True)
        if len(prompt) > MAX_PROMPT_CHARS:
            return ToolOutput(f"generate_image: the prompt has {len(prompt):,} characters; "
                              f"at most {MAX_PROMPT_CHARS:,}", is_error=True)
        if size is not None and size not in SIZES:
            return ToolOutput(f"generate_image: size must be one of {', '.join(SIZES)}",
                              is_error=True)
        if not flags.enabled("image_generation", context.principal):  # an admin's switch
            return ToolOutput("generate_image: image generation is turned off on this server",
                              is_error=True)
        try:
            ref = await self.image_model()
            done, note = await self._draw(context, ref, prompt, size)
        except SwitchboardError as exc:  # refused (budget, rate limit) or the vendor failed
            return ToolOutput(f"generate_image could not make the picture: {exc}",
                              is_error=True)
        return await self._output(context, done, prompt, note)

    async def _draw(self, context: ToolContext, ref: str, prompt: str,
                    size: str | None) -> tuple[Imaged, str | None]:
        """One picture; a size the model does not make falls back to its default (the
        refusal comes before admission, so nothing is reserved twice)."""
        def call(size: str | None) -> CallSpec:
            return CallSpec(context.principal, "chat", ImageRequest(prompt=prompt, n=1,
                                                                    size=size),
                            ref, stream=False)
        try:
            return await self.pipeline.images(call(size)), None
        except SwitchboardError as exc:
            if size is None or getattr(exc, "param", None) != "size":
                raise
            done = await self.pipeline.images(call(None))
            return done, f"{ref} does not make {size} pictures; it drew {done.result.size}"

    async def _output(self, context: ToolContext, done: Imaged, prompt: str,
                      note: str | None) -> ToolOutput:
        images: list[ImagePart] = []
        stored: list[dict[str, Any]] = []
        for picture in done.result.images:
            images.append(ImagePart.from_bytes(picture.data, picture.media_type))
            if context.principal.user_id > 0:  # the CLI's local operator has no account
                kept = await files.store(self.db, self.data_dir, context.principal.user_id,
                                         picture.data, picture.media_type)
                stored.append({"sha256": kept.sha256, "media_type": kept.media_type,
                               "size": kept.size, "url": f"/api/files/{kept.sha256}"})
        revised = done.result.images[0].revised_prompt if done.result.images else None
        text = (f"The picture was generated by {done.model.ref} at {done.result.size} "
                "and is shown to the user with this answer.")
        if note:
            text += f" Note: {note}."
        if revised:
            text += f" The model drew it from this prompt: {revised[:500]}"
        return ToolOutput(
            text, images=images, cost=done.cost if done.cost is not None else Decimal(0),
            model=done.model.ref,
            structured={"model": done.model.ref, "size": done.result.size,
                        "files": stored},
            meta={"prompt": prompt[:500], "size": done.result.size, "files": stored,
                  "cost_known": done.cost is not None})
