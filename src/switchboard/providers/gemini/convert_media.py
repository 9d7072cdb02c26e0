"""Images and files -> Gemini ``inlineData`` / ``fileData`` parts.

https://ai.google.dev/gemini-api/docs/file-input-methods

- Inline bytes (and ``data:`` URLs, decoded here) become ``inlineData {mimeType, data}``.
- Any other URL becomes ``fileData {mimeType, fileUri}``: Google's servers fetch it. Gemini
  accepts Files API URIs, YouTube links, registered ``gs://`` objects and (since January
  2026, not on the Gemini 2.0 family and older) public or signed HTTPS URLs. We never
  download a URL ourselves (that would make the gateway fetch arbitrary addresses on a
  caller's behalf); instead we warn when the URL is one the chosen model is unlikely to
  fetch: plain ``http://``, or any external URL on a pre-2.5 model.
- ``fileData`` needs a MIME type. When the caller did not set ``media_type`` explicitly we
  guess it from the URL's extension rather than trust the ``image/png`` default.
- ``ImagePart.detail`` has no per-part equivalent in the Gemini API (v1beta); it is
  reported as unsupported.
"""

from __future__ import annotations

import mimetypes
import re
from typing import Any

from switchboard.spec import CallWarning, FilePart, ImagePart, InvalidRequestError

_DATA_URL = re.compile(r"^data:(?P<mime>[\w.+-]+/[\w.+-]+)?(?P<params>(;[^,;]*)*?);base64,",
                       re.IGNORECASE)
_GOOGLE_HOSTED = ("https://generativelanguage.googleapis.com/", "gs://",
                  "https://www.youtube.com/", "https://youtube.com/", "https://youtu.be/")
_OLD_MODELS = re.compile(r"^(models/)?gemini-(1(\.\d+)?|2\.0)-")


def convert_media(part: ImagePart | FilePart, model_id: str,
                  warnings: list[CallWarning]) -> dict[str, Any]:
    if isinstance(part, ImagePart) and part.detail not in (None, "auto"):
        warnings.append(CallWarning(
            "unsupported-setting",
            f"image detail {part.detail!r} has no per-image equivalent in the Gemini API; "
            "the image is sent at the model's default resolution",
            setting="detail",
        ))
    if part.data is not None:
        return {"inlineData": {"mimeType": part.media_type, "data": part.data}}
    url = part.url or ""
    match = _DATA_URL.match(url)
    if match:
        mime = match.group("mime") or part.media_type
        return {"inlineData": {"mimeType": mime, "data": url[match.end():]}}
    if url.lower().startswith("data:"):
        raise InvalidRequestError(
            "a data: URL must be base64-encoded (data:<type>;base64,<data>) to be sent to "
            "Gemini; re-encode it or send the bytes in 'data'",
            param="url",
        )
    _warn_about_url(url, model_id, warnings)
    return {"fileData": {"mimeType": _mime_for_url(part, url), "fileUri": url}}


def _mime_for_url(part: ImagePart | FilePart, url: str) -> str:
    if "media_type" in part.model_fields_set:
        return part.media_type
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    if guessed and (not isinstance(part, ImagePart) or guessed.startswith("image/")):
        return guessed
    return part.media_type


def _warn_about_url(url: str, model_id: str, warnings: list[CallWarning]) -> None:
    if url.startswith(_GOOGLE_HOSTED):
        return
    if url.lower().startswith("http://"):
        reason = "Gemini fetches external files over HTTPS only"
    elif _OLD_MODELS.match(model_id):
        reason = (f"{model_id} reads only Files API, YouTube and gs:// URIs, "
                  "not external links")
    else:
        return
    shown = url if len(url) <= 80 else url[:77] + "..."
    warnings.append(CallWarning(
        "unsupported-part",
        f"{reason}: {shown} may be refused; send the file inline (base64) or upload it "
        "with the Gemini Files API",
    ))
