"""Issue 10 item 4: keys and tokens in transit.

``switchboard serve`` had no TLS: on a non-loopback address, API tokens, passwords and
provider keys typed into the UI crossed the network in clear, and behind a TLS proxy the
session cookie was never ``Secure``. Each test runs the real ``switchboard serve`` in a
subprocess, as an operator would.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from switchboard.config import load_settings
from tests.fakes.server import free_port
from tests.security_review.conftest import PASSWORD
from tests.server import _make_user
from tests.server_process import serve
from tests.tls import make_pki

FORGED = {"x-forwarded-proto": "https", "x-forwarded-for": "203.0.113.7"}


def _user(name: str) -> None:
    asyncio.run(_make_user(load_settings(), name, "user", PASSWORD))


def _login(client: httpx.Client, name: str, headers: dict[str, str] | None = None,
           ) -> httpx.Response:
    r = client.post("/api/session/login", json={"username": name, "password": PASSWORD},
                    headers=headers)
    assert r.status_code == 200, r.text
    return r


def _setup_throttle_hits(client: httpx.Client, forwarded_for: list[str]) -> list[int]:
    """Statuses of wrong setup-link guesses (cheap: no hash), one per ``forwarded_for``.
    The setup throttle is keyed by the client address alone."""
    return [client.post("/api/setup", headers={"x-forwarded-for": ip},
                        json={"token": f"sb-{i:043d}", "username": "root",
                              "password": PASSWORD}).status_code
            for i, ip in enumerate(forwarded_for)]


def _access_clients(lines: list[str]) -> set[str]:
    clients = set()
    for line in lines:
        if line.startswith("{") and '"switchboard.access"' in line:
            clients.add(str(orjson.loads(line).get("client")))
    return clients


def test_direct_tls_gives_secure_cookies_and_hsts(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    port = free_port()
    with serve(port, "--tls-cert", str(pki.cert),
               "--tls-key", str(pki.key)) as lines:
        assert any(f"open https://localhost:{port}/" in x for x in lines), lines
        assert not any("warning: serving plain HTTP" in x for x in lines)
        _user("tess")
        trusted = ssl.create_default_context(cafile=str(pki.ca))
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", verify=trusted,
                          timeout=60) as client:
            r = _login(client, "tess")
            cookie = r.headers["set-cookie"].lower()
            assert "secure" in cookie and "httponly" in cookie
            assert r.headers["strict-transport-security"] == "max-age=31536000"
            assert client.get("/healthz").headers["strict-transport-security"]
            assert client.get("/api/me").json()["username"] == "tess"
        # plain HTTP on the TLS port gets nowhere
        try:
            plain = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10)
        except httpx.HTTPError:
            pass
        else:
            assert plain.status_code >= 400


def test_trusted_proxy_headers_mark_cookies_secure_and_key_the_throttle(
        tmp_path: Path) -> None:
    port = free_port()
    # non-loopback bind behind a proxy: no plain-HTTP warning
    with serve(port, "--host", "0.0.0.0", "--forwarded-allow-ips", "127.0.0.1") as lines:
        assert not any("warning: serving plain HTTP" in x for x in lines), lines
        _user("fred")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            r = _login(client, "fred", FORGED)
            assert "secure" in r.headers["set-cookie"].lower()
            assert r.headers["strict-transport-security"] == "max-age=31536000"
            # the throttle sees the forwarded address: one client's guesses slow that
            # client down, not the next one behind the same proxy
            one = _setup_throttle_hits(client, ["198.51.100.1"] * 8)
            assert 429 in one, one
            assert _setup_throttle_hits(client, ["198.51.100.2"]) == [422]
    assert {"203.0.113.7", "198.51.100.1", "198.51.100.2"} <= _access_clients(lines)


def test_forwarded_headers_are_ignored_unless_the_proxy_is_trusted(tmp_path: Path) -> None:
    port = free_port()
    with serve(port) as lines:
        assert not any("warning: serving plain HTTP" in x for x in lines)  # loopback
        _user("gwen")
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            r = _login(client, "gwen", FORGED)
            assert "secure" not in r.headers["set-cookie"].lower()
            assert "strict-transport-security" not in r.headers
            # a fresh forged address per guess does not give a fresh throttle key
            spoofed = _setup_throttle_hits(client, [f"198.51.100.{i}" for i in range(8)])
            assert 429 in spoofed, spoofed
    assert _access_clients(lines) == {"127.0.0.1"}


def test_plain_http_on_a_public_address_warns_at_start() -> None:
    port = free_port()
    with serve(port, "--host", "0.0.0.0") as lines:
        warning = [x for x in lines if "warning: serving plain HTTP on 0.0.0.0" in x]
        assert warning, lines
        assert "--tls-cert" in warning[0] and "--forwarded-allow-ips" in warning[0]


def test_unusable_tls_files_are_one_line_errors(tmp_path: Path) -> None:
    pki = make_pki(tmp_path)
    for args, expected in (
        (["--tls-cert", str(pki.cert)], "go together"),
        (["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(pki.key)],
         "no such file"),
        (["--tls-cert", str(pki.ca), "--tls-key", str(pki.key)], "cannot load"),
    ):
        done = subprocess.run([sys.executable, "-m", "switchboard.cli.main", "serve",
                               "--port", str(free_port()), *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and "Traceback" not in done.stderr, done.stderr
