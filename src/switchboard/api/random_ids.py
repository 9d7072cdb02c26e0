"""Ids made of fresh CSPRNG bytes, read from the OS many ids at a time.

``secrets.token_hex(8)`` / ``token_urlsafe(18)`` per request is one ``urandom`` system
call and three Python calls around it; an id pool reads 64 ids' bytes in one call and
slices them (issue 12, fourth pass for completion ids, fifth pass for request ids:
~0.85 -> ~0.2 µs each). An id is as unguessable as before: its bytes are fresh CSPRNG
output, independent of every other id's — the encoding of ``size`` bytes is a whole
number of characters (checked when a pool is made), so the slices of one encoded read
never share a byte. A forked child drops its parent's unread ids, so two processes never
hand out the same ones. Pools are used from the event loop's thread only: no lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable

_POOLS: list[RandomIds] = []


class RandomIds:
    """``prefix`` + the encoding of ``size`` fresh random bytes, per call."""

    __slots__ = ("prefix", "_size", "_chars", "_per_read", "_encode", "_pool", "_at")

    def __init__(self, size: int, encode: Callable[[bytes], str], *, prefix: str = "",
                 per_read: int = 64) -> None:
        chars = len(encode(bytes(size)))
        if len(encode(bytes(size * per_read))) != chars * per_read:
            raise ValueError("the encoding of one id must be a whole number of characters")
        self.prefix = prefix
        self._size = size
        self._chars = chars
        self._per_read = per_read
        self._encode = encode
        self._pool = ""
        self._at = 0
        _POOLS.append(self)

    def __call__(self) -> str:
        at = self._at
        if at >= len(self._pool):
            self._pool = self._encode(os.urandom(self._size * self._per_read))
            at = 0
        self._at = at + self._chars
        return self.prefix + self._pool[at:at + self._chars]

    def forget(self) -> None:
        """Drop the unread ids (a forked child must not repeat its parent's)."""
        self._pool, self._at = "", 0


def _forget_all() -> None:
    for pool in _POOLS:
        pool.forget()


os.register_at_fork(after_in_child=_forget_all)

request_id = RandomIds(8, bytes.hex)
"""A request id where the caller sent none: 16 hex characters, as
``secrets.token_hex(8)`` made them (``api.access_log``)."""
