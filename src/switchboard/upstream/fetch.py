"""A bounded, SSRF-safe GET of a URL someone else chose (decision 0095).

Two callers fetch URLs they do not control: the ``fetch_url`` tool (a model names the
page) and an image adapter given a picture's URL by a vendor (an OpenAI-compatible
images endpoint answering ``url``; decision 0168). Both are hostile input, so one
fetcher serves both:

- only ``http`` and ``https`` URLs, without credentials in them;
- the host is resolved here, and every address it resolves to must be public: private,
  loopback, link-local, multicast, shared, reserved and unspecified addresses are
  refused (IPv4-mapped, 6to4 and Teredo IPv6 addresses are judged by the IPv4 address
  they carry), unless the caller allows them (an administrator's setting; the tests
  allow loopback that way);
- the connection goes to the address that was checked — the URL's host is replaced by
  the IP, the ``Host`` header and TLS's SNI and certificate check keep the name — so a
  DNS answer that changes between the check and the connection (DNS rebinding) cannot
  redirect it;
- redirects are followed by hand, at most ``MAX_REDIRECTS``, each one checked again;
- at most ``max_bytes`` are read (compressed bodies are inflated under the same cap);
  the caller bounds the whole fetch in time (``asyncio.timeout``); proxies from the
  environment are ignored.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

MAX_URL_CHARS = 2_048
MAX_REDIRECTS = 5
_REDIRECTS = (301, 302, 303, 307, 308)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """A URL or an address we will not fetch, with the reason in words."""


def refusal(ip: IpAddress) -> str | None:
    """Why ``ip`` is not a public address (None when it is)."""
    if isinstance(ip, ipaddress.IPv6Address):
        carried = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if carried is not None:
            reason = refusal(carried)
            if reason is not None:
                return reason
    if ip.is_loopback:
        return "a loopback address (this server itself)"
    if ip.is_link_local:
        return "a link-local address (where cloud metadata services live)"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_private:
        return "a private network address"
    if ip.is_unspecified or ip.is_reserved or not ip.is_global:
        return "a reserved address that is not on the public internet"
    return None


def check_url(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of a URL we may fetch; ``Refused`` otherwise."""
    if len(url) > MAX_URL_CHARS:
        raise Refused(f"the URL has {len(url):,} characters; at most {MAX_URL_CHARS:,}")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("the URL is not valid") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise Refused(f"only http and https URLs can be fetched, not {scheme[:20] or 'this'!r}")
    if parts.username is not None or parts.password is not None:
        raise Refused("URLs with a user name or password in them are not fetched")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise Refused("the URL has no host name")
    return scheme, host, port or (443 if scheme == "https" else 80)


async def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to (an IP literal is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise Refused(f"the host name {host[:100]!r} does not resolve") from None
    addresses: list[IpAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise Refused(f"the host name {host[:100]!r} does not resolve")
    return addresses


class Body:
    """Reads a response's bytes up to ``limit``, inflating gzip/deflate under the same
    cap (a compression bomb stops at the cap, never in memory)."""

    def __init__(self, encoding: str, limit: int) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflate: Any = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(47 if "gzip" in encoding else 15)
        else:
            raise Refused(f"the server sent the body compressed as {encoding[:30]!r}, "
                          "which is not read")
        self.limit = limit
        self.data = bytearray()
        self.cut = False

    def feed(self, chunk: bytes) -> bool:
        """Add a raw chunk; False once the cap is reached."""
        room = self.limit - len(self.data)
        if self._inflate is not None:
            try:
                chunk = self._inflate.decompress(chunk, room + 1)
            except zlib.error:
                raise Refused("the server sent a damaged compressed body") from None
        self.data += chunk[:room]
        if len(chunk) > room:
            self.cut = True
            return False
        return True


@dataclass(frozen=True, slots=True)
class Fetched:
    """The answer to a fetch: the URL it came from (after redirects), its status, its
    headers and at most ``max_bytes`` of its body (``cut``: there was more)."""

    url: str
    response: httpx.Response
    data: bytes
    cut: bool


async def fetch(url: str, *, max_bytes: int, allow_private: bool = False,
                trusted_host: str | None = None, user_agent: str, accept: str,
                connect_timeout: float = 5.0, read_timeout: float = 15.0) -> Fetched:
    """GET ``url`` under the rules of the module docstring; ``Refused`` (in words) for
    a URL or address that is not fetched, ``httpx.HTTPError`` for a failed connection.
    ``trusted_host``: a host whose addresses are not checked (the host of a provider's
    configured base URL: an administrator chose it, private or not); any other host,
    a redirect's included, is. The caller bounds the whole fetch in time."""
    timeout = httpx.Timeout(read_timeout, connect=connect_timeout)
    async with httpx.AsyncClient(trust_env=False, follow_redirects=False,
                                 timeout=timeout) as client:
        for _ in range(MAX_REDIRECTS + 1):
            scheme, host, port = check_url(url)
            addresses = await _addresses(host, port,
                                         allow_private or host == trusted_host)
            response, body = await _get(client, url, scheme, host, port, addresses,
                                        max_bytes, {"user-agent": user_agent,
                                                    "accept": accept})
            if response.status_code in _REDIRECTS and "location" in response.headers:
                url = urljoin(url, response.headers["location"])
                continue
            return Fetched(url, response, bytes(body.data), body.cut)
    raise Refused(f"more than {MAX_REDIRECTS} redirects")


async def _addresses(host: str, port: int, allow_private: bool) -> list[IpAddress]:
    addresses = await resolve(host, port)
    if not allow_private:
        for ip in addresses:
            reason = refusal(ip)
            if reason is not None:
                raise Refused(f"{host[:100]} is {reason}; an administrator can allow "
                              "private addresses in the server's settings")
    return addresses


async def _get(client: httpx.AsyncClient, url: str, scheme: str, host: str, port: int,
               addresses: list[IpAddress], max_bytes: int,
               headers: dict[str, str]) -> tuple[httpx.Response, Body]:
    """GET ``url`` from the first of ``addresses`` that answers (the checked IP, never a
    second DNS lookup)."""
    last: httpx.HTTPError | None = None
    for ip in addresses[:3]:
        target = httpx.URL(url).copy_with(host=str(ip))
        default = 443 if scheme == "https" else 80
        sent = {"host": host if port == default else f"{host}:{port}",
                "accept-encoding": "gzip, deflate", **headers}
        extensions = {"sni_hostname": host} if scheme == "https" else {}
        request = client.build_request("GET", target, headers=sent, extensions=extensions)
        try:
            response = await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last = exc
            continue
        try:
            body = Body(response.headers.get("content-encoding", ""), max_bytes)
            if response.status_code not in _REDIRECTS:
                async for chunk in response.aiter_raw():
                    if not body.feed(chunk):
                        break
        finally:
            await response.aclose()
        return response, body
    assert last is not None
    raise last
