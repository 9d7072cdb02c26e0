"""Errors of the security module.

Every message names what to fix (``SWITCHBOARD_SECRET_KEY``, the key file path) and never
contains key material: a wrong master key must read as an operator problem, not as a raw
``InvalidTag`` traceback or garbage plaintext.
"""

from __future__ import annotations

from switchboard.spec.errors import ConfigurationError, SwitchboardError


class MasterKeyError(ConfigurationError):
    """The master key is missing, malformed, or not the one a value was encrypted with."""

    code = "master_key_error"


class DecryptionError(MasterKeyError):
    """A stored ciphertext could not be opened (wrong key, wrong row, or tampered)."""

    code = "decryption_failed"


class InvalidTokenError(SwitchboardError):
    """An API token that is not of our shape (``sb-`` + random)."""

    code = "invalid_token"
