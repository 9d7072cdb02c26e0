"""JSON bodies encoded once and served many times: bytes, a gzip copy, an ETag, and 304s.

The catalog's read endpoints (``/api/model-registry``, ``/api/models``, ``/v1/models``...)
answer the same bytes until the catalog changes. Their encoded form is cached per catalog
version (``services.catalog_queries.catalog_derived``, ``api.openai.routes``), so a warm
request is a lookup plus ``send``: no dict building, no ``orjson.dumps``, no compression.

Validators: the ETag is a digest of the bytes, not the catalog version number. The version
is a per-process counter that restarts at 0, so two processes (or one process before and
after a restart) would give the same tag to different catalogs, and an admin's cached
body could be confirmed with a 304 to a user whose variant differs. A digest is equal
exactly when the bytes are. The gzip copy gets its own tag (``"<digest>-gzip"``, as
Apache does): RFC 9110 §8.8.3 says a strong validator changes with the content coding.
``If-None-Match`` uses the weak comparison (RFC 9110 §13.1.2), so either tag of the
current body answers 304: both stand for the same JSON.
https://www.rfc-editor.org/rfc/rfc9110#name-if-none-match

``Cache-Control: private, no-cache``: a browser may keep the body but must ask again
(with ``If-None-Match``) before each use, so a catalog change shows at once; shared caches
must not store it (the body is for signed-in users).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

GZIP_MIN_BYTES = 1024
"""Below this, gzip saves too little to be worth its header and the client's work."""
GZIP_LEVEL = 6
CACHE_CONTROL = "private, no-cache"
_ETAG = re.compile(r'(?:W/)?"([^"]*)"')


class EncodedJson:
    """``data`` as JSON bytes with its validator; the gzip copy is made on first use
    (once per instance, i.e. once per catalog version and variant)."""

    __slots__ = ("body", "etag", "gzip_etag", "_gzipped")

    def __init__(self, data: Any) -> None:
        self.body: bytes = orjson.dumps(data)
        digest = hashlib.blake2b(self.body, digest_size=16).hexdigest()
        self.etag = f'"{digest}"'
        self.gzip_etag = f'"{digest}-gzip"'
        self._gzipped: bytes | None = None

    @property
    def gzipped(self) -> bytes:
        if self._gzipped is None:
            # mtime=0: the same bytes every time, whatever the clock says.
            self._gzipped = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
        return self._gzipped

    def matches(self, if_none_match: str) -> bool:
        """Whether ``If-None-Match`` names this body (weak comparison, ``*`` included)."""
        if if_none_match.strip() == "*":
            return True
        tags = {f'"{tag}"' for tag in _ETAG.findall(if_none_match)}
        return self.etag in tags or self.gzip_etag in tags


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether ``Accept-Encoding`` allows gzip: listed (or ``x-gzip``) with q > 0, or
    not listed and ``*`` with q > 0. https://www.rfc-editor.org/rfc/rfc9110#name-accept-encoding"""
    star = False
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            return _quality(params) > 0
        if coding == "*":
            star = _quality(params) > 0
    return star


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return float(value.strip())
            except ValueError:
                return 0.0  # a malformed weight: do not guess the client wants it
    return 1.0


def send(request: Request, encoded: EncodedJson) -> Response:
    """200 with the body (gzip when accepted and worth it), or 304 when the client's
    copy is current. Always ``Vary: Accept-Encoding``, the ETag and ``Cache-Control``."""
    use_gzip = (len(encoded.body) >= GZIP_MIN_BYTES
                and accepts_gzip(request.headers.get("accept-encoding", "")))
    headers = {"etag": encoded.gzip_etag if use_gzip else encoded.etag,
               "vary": "Accept-Encoding", "cache-control": CACHE_CONTROL}
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None and encoded.matches(if_none_match):
        return Response(status_code=304, headers=headers)
    if use_gzip:
        headers["content-encoding"] = "gzip"
        return Response(encoded.gzipped, headers=headers, media_type="application/json")
    return Response(encoded.body, headers=headers, media_type="application/json")


_HEADER_NAMES: dict[str, bytes] = {}
"""Header names as Starlette sends them (lowercased, latin-1), by the name given. The
names are the gateway's own (``x-ratelimit-*``, ``x-switchboard-*``, ``retry-after``...),
a few dozen; the cache stops growing at ``_MAX_HEADER_NAMES`` all the same."""
_MAX_HEADER_NAMES = 256


def _header_name(name: str) -> bytes:
    encoded = name.lower().encode("latin-1")
    if len(_HEADER_NAMES) < _MAX_HEADER_NAMES:
        _HEADER_NAMES[name] = encoded
    return encoded


def raw_headers(headers: Mapping[str, str] | None, body: bytes | memoryview | None,
                status_code: int, content_type: bytes | None) -> list[tuple[bytes, bytes]]:
    """Exactly the header list Starlette's ``Response.init_headers`` builds (same pairs,
    same order: the given ones, then ``content-length`` and ``content-type`` unless
    given), with each name encoded once per process instead of lowercased and encoded
    per response (14 ``str.encode`` and 7 ``str.lower`` on a ``/v1`` answer; issue 12,
    fourth pass). ``content_type`` is the media type as sent (charset included)."""
    names = _HEADER_NAMES
    if headers:
        raw = [(names.get(k) or _header_name(k), v.encode("latin-1"))
               for k, v in headers.items()]
        keys = [name for name, _ in raw]
        populate_length = b"content-length" not in keys
        populate_type = b"content-type" not in keys
    else:
        raw = []
        populate_length = populate_type = True
    if (body is not None and populate_length
            and not (status_code < 200 or status_code in (204, 304))):
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
    if content_type is not None and populate_type:
        raw.append((b"content-type", content_type))
    return raw


class JsonBytes(Response):
    """An ``application/json`` response of bytes already encoded: Starlette's ``Response``
    (same ``__call__``, same headers, byte for byte) without its generic ``render`` and
    with the header names encoded once (``raw_headers``)."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int = 200,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status_code
        self.background = None
        self.body = body
        self.raw_headers = raw_headers(headers, body, status_code, _JSON)


_JSON = b"application/json"
