"""``GET /api/files/{sha256}``: a stored file, to its owner only (decision 0081).

Served so that no stored file can run in the page: ``X-Content-Type-Options: nosniff``,
a sandboxing ``Content-Security-Policy``, and only raster pictures shown inline with
their own type; anything else (HTML, SVG, scripts, unknown) is a download of
``application/octet-stream``, whatever it was stored as; ``Cross-Origin-Resource-Policy:
same-origin`` keeps other sites from embedding it. Another user's file, a malformed name
and a missing one are all the same 404.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from switchboard.api.auth import current_principal, state_of
from switchboard.api.tokens import Principal
from switchboard.services import files

router = APIRouter(tags=["files"])

INLINE = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}


MAX_NAME = 120
_UNSAFE = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;]+')


def safe_name(name: str | None) -> str | None:
    """A file name to save as, from the caller's ``name`` (the attachment's own name the
    page knows): no path, quote, control or header-breaking character, at most
    ``MAX_NAME`` characters, never a dot file. None when nothing usable is left. The
    bytes are served as before whatever the name says (an ``.html`` name does not make a
    page: the type and the sandbox come from the stored file)."""
    if not name:
        return None
    cleaned = _UNSAFE.sub("_", unicodedata.normalize("NFC", name)).strip(" ._")
    return cleaned[:MAX_NAME] or None


def disposition(kind: str, name: str) -> str:
    """``Content-Disposition`` with an ASCII ``filename`` and, for any other name, the
    UTF-8 ``filename*`` (RFC 6266 / RFC 5987) browsers prefer."""
    ascii_name = name.encode("ascii", "replace").decode().replace("?", "_")
    if ascii_name == name:
        return f'{kind}; filename="{name}"'
    return f"{kind}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name, safe='')}"


_BINARY = {"schema": {"type": "string", "format": "binary"}}


@router.get("/api/files/{sha256}", response_class=Response, responses={200: {
    "description": "The file's bytes: a picture inline, anything else as a download",
    "content": {**{t: _BINARY for t in INLINE}, "application/octet-stream": _BINARY}}})
async def get_file(sha256: str, request: Request,
                   name: str | None = Query(default=None, max_length=MAX_NAME * 4,
                                            description="The name to save it as (an "
                                            "attachment's own name); made safe"),
                   who: Principal = Depends(current_principal)) -> Response:
    state = state_of(request)
    ref, data = await files.read(state.db, state.files, who.user_id, sha256)
    extension = INLINE.get(ref.media_type)
    fallback = f"{ref.sha256[:16]}.{extension or 'bin'}"
    headers = {
        "content-disposition": disposition("inline" if extension else "attachment",
                                           safe_name(name) or fallback),
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "cache-control": "private, max-age=31536000, immutable",
        # Another site (even a sibling subdomain, to which SameSite=Lax still sends the
        # session cookie) cannot embed it to learn whether the visitor has a file.
        "cross-origin-resource-policy": "same-origin",
    }
    media_type = ref.media_type if extension else "application/octet-stream"
    return Response(data, media_type=media_type, headers=headers)
