"""Tool-call ids in the one format Mistral accepts.

Mistral rejects a request whose tool-call ids are not exactly nine characters of
``[a-zA-Z0-9]`` ("Tool call id was ... but must be a-z, A-Z, 0-9, with a length of 9").
A conversation written with another vendor carries ids such as ``call_abc...`` or
``toolu_01...``, so every id we send is passed through ``mistral_tool_id``: Mistral's own
ids are kept as they are, any other id is mapped to a stable nine-character hash of
itself. The mapping is a pure function, so a call and its result (converted
independently) still match, in this request and in every later one.
"""

from __future__ import annotations

import hashlib
import re

_VALID = re.compile(r"^[a-zA-Z0-9]{9}$")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LENGTH = 9


def is_mistral_tool_id(value: str) -> bool:
    return bool(_VALID.match(value))


def mistral_tool_id(value: str) -> str:
    """``value`` if Mistral accepts it, else a deterministic 9-character base-62 digest."""
    if is_mistral_tool_id(value):
        return value
    number = int.from_bytes(hashlib.sha256(value.encode("utf-8")).digest()[:8], "big")
    chars = []
    for _ in range(LENGTH):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars)
