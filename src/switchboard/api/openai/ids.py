"""Completion ids (``chatcmpl-`` + 24 URL-safe characters): what
``secrets.token_urlsafe(18)`` gave, 18 bytes of the OS's CSPRNG each, read from the OS
64 ids at a time rather than one ``urandom`` call (and three Python calls around it) per
request (issue 12, fourth pass: ~0.85 -> ~0.2 µs).

An id is as unguessable as before: every id's bytes are fresh CSPRNG output, independent
of every other id's (18 bytes are exactly 24 base64 characters, so the slices of one
encoded read never share a byte). A forked child drops the parent's unread ids, so two
processes never hand out the same ones. The pool is only used from the event loop's
thread (the ``/v1`` handlers), so it takes no lock.
"""

from __future__ import annotations

import base64
import os

PREFIX = "chatcmpl-"
_ID_BYTES = 18
_ID_CHARS = 24  # base64 of 18 bytes, no padding
_PER_READ = 64

_pool = ""
_at = 0


def completion_id() -> str:
    """A new ``chatcmpl-...`` id."""
    global _pool, _at
    at = _at
    if at >= len(_pool):
        _pool = base64.urlsafe_b64encode(os.urandom(_ID_BYTES * _PER_READ)).decode("ascii")
        at = 0
    _at = at + _ID_CHARS
    return PREFIX + _pool[at:at + _ID_CHARS]


def _forget() -> None:
    global _pool, _at
    _pool, _at = "", 0


os.register_at_fork(after_in_child=_forget)
