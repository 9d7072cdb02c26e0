"""Cutting a reply into stream deltas the way a real model sends them: word-ish pieces.

Each piece is one run of non-space characters with the whitespace that follows it, so the
pieces join back to the exact text (newlines and code indentation included).
"""

from __future__ import annotations

import re

_PIECE = re.compile(r"\s+|\S+\s*")


def text_pieces(text: str) -> list[str]:
    """Word-ish pieces of ``text``; ``"".join(text_pieces(t)) == t``."""
    return _PIECE.findall(text)


def argument_pieces(arguments: str, size: int = 12) -> list[str]:
    """A tool call's JSON arguments in fixed-size slices (vendors stream them unaligned)."""
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]
