"""A throwaway certificate authority for tests that speak real TLS on loopback."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def make_cert(subject: str, issuer_key: ec.EllipticCurvePrivateKey | None,
              issuer: x509.Name | None, sans: list[x509.GeneralName], ca: bool,
              ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer or name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


def pem(obj: x509.Certificate | ec.EllipticCurvePrivateKey) -> bytes:
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class TestPki:
    ca: Path
    """The CA certificate a client trusts."""
    stranger: Path
    """A CA that did not sign the server's certificate."""
    cert: Path
    key: Path


def make_pki(folder: Path) -> TestPki:
    """A CA, and a server certificate for 127.0.0.1 (only: not "localhost") signed by it."""
    ca_key, ca = make_cert("Switchboard Test CA", None, None, [], ca=True)
    key, cert = make_cert("127.0.0.1", ca_key, ca.subject,
                          [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))], ca=False)
    _, stranger = make_cert("Someone Else CA", None, None, [], ca=True)
    pki = TestPki(folder / "ca.pem", folder / "stranger.pem", folder / "server.pem",
                  folder / "server.key")
    pki.ca.write_bytes(pem(ca))
    pki.stranger.write_bytes(pem(stranger))
    pki.cert.write_bytes(pem(cert))
    pki.key.write_bytes(pem(key))
    return pki
