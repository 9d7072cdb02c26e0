"""Secrets: provider keys at rest, passwords, API tokens.

- ``Vault`` / ``secretbox`` — AES-256-GCM, ``v1:<key_id>:<data>``, row id as associated
  data; the only code that sees a provider key in clear.
- ``masterkey`` — ``SWITCHBOARD_SECRET_KEY`` (``ID:BASE64KEY[,ID:BASE64KEY]``, first =
  current) or a generated 0600 key file in the data directory; rotation.
- ``mask`` — display form of a key (known prefix + ``…`` + last four).
- ``passwords`` (Argon2id) and ``tokens`` (``sb-`` tokens, SHA-256 digests).

The Argon2 functions are not re-exported here: importing any module of this package
would load ``argon2-cffi`` into every server, which needs it only for a password
(``security.password_pool`` imports ``passwords`` with the first one; decision 0223).
"""

from switchboard.security.errors import DecryptionError, InvalidTokenError, MasterKeyError
from switchboard.security.masking import last4, mask
from switchboard.security.masterkey import (
    ENV_VAR,
    KeyRing,
    MasterKey,
    generate_master_key,
    key_file_path,
    load_keyring,
    parse_keyring,
    write_key_file,
)
from switchboard.security.tokens import (
    NewToken,
    constant_time_equals,
    generate_token,
    hash_token,
    verify_token,
)
from switchboard.security.vault import SealedKey, Vault, clean_api_key

__all__ = [
    "ENV_VAR",
    "DecryptionError",
    "InvalidTokenError",
    "KeyRing",
    "MasterKey",
    "MasterKeyError",
    "NewToken",
    "SealedKey",
    "Vault",
    "clean_api_key",
    "constant_time_equals",
    "generate_master_key",
    "generate_token",
    "hash_token",
    "key_file_path",
    "last4",
    "load_keyring",
    "mask",
    "parse_keyring",
    "verify_token",
    "write_key_file",
]
