"""The fast transport over real TLS on loopback: every vendor is HTTPS, so certificate
verification, hostname checks, streaming and compressed bodies must work there too."""

from __future__ import annotations

import gzip
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from switchboard.upstream.transport import FastTransport
from tests.fakes.server import free_port
from tests.tls import make_pki


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    body = await request.body()
    if request.url.path == "/gzip":
        data = gzip.compress(b'{"ok": true, "padding": "' + b"x" * 2000 + b'"}')
        response: Response = Response(data, headers={"content-encoding": "gzip"},
                                      media_type="application/json")
    elif request.url.path == "/stream":
        async def chunks():  # type: ignore[no-untyped-def]
            for i in range(5):
                yield f"data: {i}\n\n".encode()
        response = StreamingResponse(chunks(), media_type="text/event-stream")
    else:
        response = Response(b"echo:" + body, media_type="text/plain")
    await response(scope, receive, send)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """(base URL, trusted CA file, a CA file that did not sign the server)."""
    folder = tmp_path_factory.mktemp("tls")
    pki = make_pki(folder)
    import threading
    import time

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan="off",
        ssl_certfile=str(pki.cert), ssl_keyfile=str(pki.key)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "TLS server did not start"
        time.sleep(0.005)
    yield f"https://127.0.0.1:{port}", pki.ca, pki.stranger
    server.should_exit = True
    thread.join(timeout=5)


def client(cafile: Path) -> httpx.AsyncClient:
    context = ssl.create_default_context(cafile=str(cafile))
    return httpx.AsyncClient(transport=FastTransport(verify=context))


async def test_https_request_and_keep_alive(tls: tuple[str, Path, Path]) -> None:
    base, ca, _ = tls
    async with client(ca) as c:
        for i in range(3):
            r = await c.post(f"{base}/echo", content=f"n{i}".encode())
            assert r.status_code == 200 and r.text == f"echo:n{i}"


async def test_https_streaming_and_gzip(tls: tuple[str, Path, Path]) -> None:
    base, ca, _ = tls
    async with client(ca) as c:
        async with c.stream("GET", f"{base}/stream") as r:
            body = b"".join([chunk async for chunk in r.aiter_bytes()])
        assert body == b"".join(f"data: {i}\n\n".encode() for i in range(5))
        zipped = await c.get(f"{base}/gzip")
        assert zipped.json()["ok"] is True


async def test_untrusted_certificate_is_refused(tls: tuple[str, Path, Path]) -> None:
    base, _, stranger = tls
    async with client(stranger) as c:
        with pytest.raises(httpx.ConnectError) as info:
            await c.get(f"{base}/echo")
    assert "certificate" in str(info.value).lower()


async def test_default_verification_refuses_a_private_ca(tls: tuple[str, Path, Path]) -> None:
    base, _, _ = tls
    async with httpx.AsyncClient(transport=FastTransport()) as c:
        with pytest.raises(httpx.ConnectError):
            await c.get(f"{base}/echo")


async def test_hostname_must_match(tls: tuple[str, Path, Path]) -> None:
    base, ca, _ = tls
    # The certificate names only 127.0.0.1; "localhost" reaches the same server under a
    # name the certificate does not carry, so verification must fail on the name.
    wrong = base.replace("127.0.0.1", "localhost")
    async with client(ca) as c:
        with pytest.raises(httpx.ConnectError) as info:
            await c.get(f"{wrong}/echo")
    message = str(info.value).lower()
    assert "hostname" in message or "certificate" in message, message


async def test_the_tls_context_is_made_with_the_first_https_connection(
        tls: tuple[str, Path, Path]) -> None:
    """Loading the system's certificates costs ~1.7 MB resident: a transport that only
    ever reached plain-http upstreams has none (issue 12), the first https connection
    makes it, with verification on, and later ones reuse it."""
    base, _, _ = tls
    transport = FastTransport()
    assert transport._ssl is None
    async with httpx.AsyncClient(transport=transport) as c:
        with pytest.raises(httpx.ConnectError):  # verified: the private CA is refused
            await c.get(f"{base}/echo")
    made = transport._ssl
    assert made is not None and made.verify_mode == ssl.CERT_REQUIRED
    assert transport.ssl_context() is made
    insecure = FastTransport(verify=False)
    assert insecure._ssl is None and insecure.ssl_context().verify_mode == ssl.CERT_NONE
