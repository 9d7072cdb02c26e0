"""The one door to provider keys (and other stored credentials) in clear.

Services hand a key to ``Vault.seal`` (getting back only a ciphertext and display hints)
and the registry asks ``Vault.open`` for a ``SecretStr`` to put in the provider's config
right before the adapter is built. No other code decrypts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import SecretStr

from switchboard.security import secretbox
from switchboard.security.masking import last4, mask
from switchboard.security.masterkey import KeyRing, load_keyring
from switchboard.spec.errors import InvalidRequestError

MAX_KEY_LENGTH = 4096
MAX_VALUE_LENGTH = 8192


@dataclass(frozen=True, slots=True)
class SealedKey:
    """What the database stores for a provider key (no secret)."""

    ciphertext: str
    key_id: str
    last4: str
    masked: str
    set_at: datetime


def clean_api_key(raw: str) -> str:
    """Strip surrounding whitespace/newlines (a key piped from a file ends with one) and
    refuse values that cannot be a key. The message never echoes the value."""
    key = raw.strip()
    if not key:
        raise InvalidRequestError("the API key is empty; paste the key or pipe it on stdin")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidRequestError(f"the API key is longer than {MAX_KEY_LENGTH} characters")
    if any(c.isspace() or not c.isprintable() for c in key):
        raise InvalidRequestError(
            "the API key contains whitespace or control characters; paste only the key"
        )
    return key


@dataclass(frozen=True, slots=True)
class SealedValue:
    """A secret setting that is not an API key (an MCP server's env value or HTTP header
    value, an alert channel's secret): what the database stores, and the masked form
    people see."""

    ciphertext: str
    masked: str

    def as_json(self) -> dict[str, str]:
        return {"ciphertext": self.ciphertext, "masked": self.masked}


def clean_value(raw: str) -> str:
    """A secret setting may hold spaces (``Bearer abc``) but no control character (a
    header or an environment value with a newline would smuggle another one)."""
    if len(raw) > MAX_VALUE_LENGTH:
        raise InvalidRequestError(f"the value is longer than {MAX_VALUE_LENGTH} characters")
    if any(not c.isprintable() for c in raw):
        raise InvalidRequestError("the value contains control characters")
    return raw


class Vault:
    def __init__(self, ring: KeyRing) -> None:
        self.ring = ring

    @classmethod
    def load(cls, data_dir: Path, *, create: bool = True) -> Vault:
        return cls(load_keyring(data_dir, create=create))

    def seal(self, row_id: object, api_key: str) -> SealedKey:
        key = clean_api_key(api_key)
        return SealedKey(
            ciphertext=secretbox.encrypt(self.ring, key, row_id),
            key_id=self.ring.current.key_id,
            last4=last4(key),
            masked=mask(key),
            set_at=datetime.now(UTC),
        )

    def seal_value(self, binding: str, value: str) -> SealedValue:
        """Seal a secret that is not an API key (an MCP server's env or header value, an
        alert channel's SMTP password or webhook URL) bound to ``binding`` (e.g.
        ``mcp:3:env:TOKEN``, ``alert-channel:5``): a ciphertext copied to another row or
        another name does not decrypt. The one sealing path for such secrets; callers
        that store only the ciphertext take ``.ciphertext``."""
        clean = clean_value(value)
        return SealedValue(secretbox.encrypt(self.ring, clean, binding),
                           mask(clean) if len(clean) >= 8 else "****")

    def open(self, row_id: object, ciphertext: str, *, label: str) -> SecretStr:
        return SecretStr(secretbox.decrypt(self.ring, ciphertext, row_id, label=label))

    def reseal(self, new: KeyRing, row_id: object, ciphertext: str, *, label: str) -> str:
        return secretbox.reencrypt(self.ring, new, ciphertext, row_id, label)


