"""Show a key without revealing it: ``mask("sk-proj-abc…wxyz") == "sk-proj-…wxyz"``.

Only prefixes that vendors publish as *type markers* are kept (they say which vendor or
key type it is, and carry no secret bits); everything else is dropped except the last
four characters, which is what vendors' own dashboards show to tell keys apart.
"""

from __future__ import annotations

# Longest first: the first match wins. Each is a documented, fixed marker, e.g.
# https://platform.openai.com/docs/api-reference/authentication ("sk-", "sk-proj-"),
# https://docs.anthropic.com/en/api/getting-started ("sk-ant-"), Google "AIza".
KNOWN_PREFIXES: tuple[str, ...] = (
    "sk-ant-admin01-",
    "sk-ant-api03-",
    "sk-ant-",
    "sk-proj-",
    "sk-svcacct-",
    "sk-admin-",
    "sk-or-v1-",
    "sk-",
    "gsk_",
    "xai-",
    "fw_",
    "AIza",
    "pplx-",
    "sb-",
)

ELLIPSIS = "\u2026"
# Below this length the last four characters are a large share of the secret: show none.
_MIN_LENGTH_FOR_TAIL = 12


def last4(secret: str) -> str:
    """The last four characters, or "" when the value is too short to show any."""
    secret = secret.strip()
    return secret[-4:] if len(secret) >= _MIN_LENGTH_FOR_TAIL else ""


def mask(secret: str | None) -> str:
    """A display form of a secret: known type prefix + ``…`` + last four."""
    if not secret:
        return ""
    secret = secret.strip()
    prefix = next((p for p in KNOWN_PREFIXES if secret.startswith(p)), "")
    tail = last4(secret)
    if len(secret) - len(prefix) < _MIN_LENGTH_FOR_TAIL:
        prefix = ""  # a bare prefix plus a short tail would reveal most of the key
    return f"{prefix}{ELLIPSIS}{tail}"


def mask_last4(tail: str | None) -> str | None:
    """The masked form from a stored last-four (what the database keeps)."""
    if tail is None:
        return None
    return f"{ELLIPSIS}{tail}"
