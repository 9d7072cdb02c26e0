"""Files in messages (images, attached PDFs and text files) kept as references to the
file store, not as base64 in the row.

The stored shape of such a part (decision 0141) is the spec's image or file part with a
``file`` reference in place of its ``data``::

    {"type": "image", "media_type": "image/png",
     "file": {"sha256": "<64 hex>", "size": 1234},
     "meta": {"prompt": "...", "size": "1024x1024", "revised_prompt": "..."}}
    {"type": "file", "media_type": "application/pdf", "filename": "report.pdf",
     "text": "<extracted text>", "pages": 3,
     "file": {"sha256": "<64 hex>", "size": 56789}}

``meta`` is only on pictures an image model drew (what the page shows under them); an
attachment keeps its name and the text read from it (``services.attachments``, what a
model that cannot read the file is shown) next to the reference (decision 0186).
The browser reads the bytes from ``/api/files/{sha256}`` (the owner's access check);
a model is shown them inline: ``inline_files`` reads each referenced file once per
turn and ``resolve`` turns the part back into the spec's ``ImagePart`` / ``FilePart``
(``data``), so every adapter keeps its one way of sending inline bytes. The spec does
not learn about the store: ``/v1`` callers never see a reference. Rows written before
(base64 ``data`` in the part) are read as they are.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from switchboard.db import Database
from switchboard.services import files
from switchboard.services.attachments import PDF
from switchboard.services.errors import NotFound
from switchboard.services.file_bytes import FileRoot
from switchboard.spec import SwitchboardError
from switchboard.spec.image import GeneratedImage

Part = dict[str, Any]


def file_sha256(part: Part) -> str | None:
    """The sha256 a stored part references (None: an inline part, or no file)."""
    ref = part.get("file")
    if isinstance(ref, dict) and isinstance(ref.get("sha256"), str):
        return str(ref["sha256"])
    return None


def reference(ref: files.FileRef, meta: dict[str, Any] | None = None, *,
              kind: str = "image", fields: dict[str, Any] | None = None) -> Part:
    """The stored part (``kind``: ``image`` or ``file``) for a file kept in the store;
    ``fields``: what the part keeps besides (an attachment's filename, text, pages)."""
    part: Part = {"type": kind, "media_type": ref.media_type, **(fields or {}),
                  "file": {"sha256": ref.sha256, "size": ref.size}}
    if meta:
        part["meta"] = meta
    return part


async def keep_file(db: Database, root: FileRoot, owner_id: int, data: bytes, media_type: str,
                    meta: dict[str, Any] | None = None, *, kind: str = "image",
                    fields: dict[str, Any] | None = None) -> Part:
    """Store ``data`` for ``owner_id`` and give the part that references it."""
    return reference(await files.store(db, root, owner_id, data, media_type), meta,
                     kind=kind, fields=fields)


async def keep_image(db: Database, root: FileRoot, owner_id: int, data: bytes, media_type: str,
                     meta: dict[str, Any] | None = None) -> Part:
    """A picture kept in the store (``keep_file`` of kind ``image``)."""
    return await keep_file(db, root, owner_id, data, media_type, meta)


async def keep_pictures(db: Database, root: FileRoot, owner_id: int,
                        pictures: Sequence[GeneratedImage], *, prompt: str,
                        size: str | None) -> list[Part]:
    """An image model's pictures as stored parts, each with what it was drawn from."""
    parts: list[Part] = []
    for picture in pictures:
        meta: dict[str, Any] = {"prompt": prompt[:2_000], "size": size}
        if picture.revised_prompt:
            meta["revised_prompt"] = picture.revised_prompt[:2_000]
        parts.append(await keep_image(db, root, owner_id, picture.data, picture.media_type,
                                      meta))
    return parts


@dataclass(frozen=True, slots=True)
class ImageKept:
    """A picture a chat model answered with (Gemini's image output), kept in the file
    store while the answer streams: the page shows it in its place among the text
    (SSE event ``image``) without waiting for the answer to end."""

    part: Part

    def sse(self) -> tuple[str, dict[str, Any]]:
        return "image", {"part": self.part}


async def keep_answer_images(db: Database, root: FileRoot, owner_id: int,
                             parts: Sequence[Part]) -> list[Part]:
    """An answer's stored parts with each inline picture kept in the file store and
    referenced instead (decision 0141; the same bytes kept while streaming are the same
    file). A picture the store refuses (the owner's quota) becomes a line of text
    saying so: the answer is still saved, in order."""
    stored: list[Part] = []
    for part in parts:
        data = part.get("data")
        if part.get("type") != "image" or not isinstance(data, str):
            stored.append(part)
            continue
        try:
            stored.append(await keep_image(db, root, owner_id, base64.b64decode(data),
                                           str(part.get("media_type") or "image/png")))
        except SwitchboardError as exc:
            stored.append({"type": "text", "text": f"\n[a picture was not kept: {exc.message}]\n"})
    return stored


def _wanted(part: Part, documents: bool) -> str | None:
    """The sha256 to read for ``part``: every picture; an attachment only when the model
    is sent documents themselves (``documents``) and it is a PDF — the others are shown
    their text, kept in the part, so their bytes are not read for nothing."""
    if part.get("type") == "file" and not (documents and part.get("media_type") == PDF):
        return None
    return file_sha256(part)


async def inline_files(db: Database, root: FileRoot, owner_id: int,
                       rows: Sequence[Sequence[Part]], *, documents: bool = False,
                       ) -> dict[str, Part]:
    """Each file the rows reference, read once, as its media type and base64 ``data``
    (keyed by sha256; ``resolve`` makes the part of it). A file that is gone (deleted,
    another owner's) is left out: the history then says so instead of failing the turn.
    ``documents``: the model reads PDFs itself (else attachments are not read)."""
    wanted = {sha for parts in rows for p in parts if (sha := _wanted(p, documents))}
    inline: dict[str, Part] = {}
    for sha in sorted(wanted):
        try:
            ref, data = await files.read(db, root, owner_id, sha)
        except NotFound:
            continue
        inline[sha] = {"type": "image", "media_type": ref.media_type,
                       "data": base64.b64encode(data).decode("ascii")}
    return inline


def resolve(part: Part, inline: dict[str, Part]) -> Part | None:
    """A stored part as the spec takes it: a referenced image becomes the inline image
    (None when its file is missing); a referenced attachment gets its ``data`` back
    (without it when not read or missing: its kept text still stands for it); other
    parts pass unchanged."""
    sha = file_sha256(part)
    if sha is None:
        return part
    found = inline.get(sha)
    if part.get("type") == "file":
        shown = {k: v for k, v in part.items() if k != "file"}
        if found is not None:
            shown["data"] = found["data"]
        return shown
    if found is None:
        return None
    return {"type": "image", "media_type": found["media_type"], "data": found["data"]}
