"""What the three chat wires — OpenAI's Chat Completions (``api/openai``), its Responses
(``api/responses``) and Anthropic's Messages (``api/anthropic``) — do alike when they turn
a caller's content parts and tools into neutral ones: reading a ``data:`` URL, refusing
inline data that is broken or too large, guessing a linked image's media type, and the
parameters of a tool declared without any. Each wire keeps what differs: its part and
block types, its error paths and wording, which roles may hold what.
"""

from __future__ import annotations

import re
from typing import Any

from switchboard.spec import InvalidRequestError
from switchboard.spec.limits import inline_data_problem

DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[^,]*)?;base64,(.*)$", re.S)
"""``data:<media type>[;params];base64,<data>``: group 1 the media type (may be missing),
group 3 the base64 data."""

_IMAGE_EXTENSIONS = ((".jpg", "image/jpeg"), (".jpeg", "image/jpeg"), (".gif", "image/gif"),
                     (".webp", "image/webp"))


def check_inline(data: str, where: str, what: str | None = None) -> None:
    """Refuse inline base64 that is broken or too large (``spec.limits``), naming the
    part (``where``) and what it holds (``what``: "image", "file"; None says just "the
    data"): a vendor would refuse it too, but only after the call was paid for."""
    problem = inline_data_problem(data)
    if problem is not None:
        noun = f"{what} data" if what else "data"
        raise InvalidRequestError(f"{where}: the {noun} {problem}", param=where)


def url_media_type(url: str) -> str:
    """A linked image's media type by its extension (query string ignored); PNG when it
    names none — the vendor fetches the picture and reads it either way."""
    lower = url.lower().split("?", 1)[0]
    return next((media for ext, media in _IMAGE_EXTENSIONS if lower.endswith(ext)),
                "image/png")


def tool_parameters(schema: dict[str, Any] | None) -> dict[str, Any]:
    """A tool's JSON Schema, or an object with no properties when it declares none (the
    OpenAI wires allow that; every vendor wants a schema)."""
    return schema or {"type": "object", "properties": {}}
