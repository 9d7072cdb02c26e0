"""``fetch_url``: read a web page (or a text/JSON document) as readable text.

A tool that makes the *server* send HTTP requests on a model's say-so is a
server-side request forgery waiting to happen (a prompt can ask for
``http://169.254.169.254/`` — the cloud metadata service — or for an admin page on the
server's own network). So (decision 0095):

- only ``http`` and ``https`` URLs, without credentials in them;
- the host is resolved here, and every address it resolves to must be public: private,
  loopback, link-local, multicast, shared, reserved and unspecified addresses are
  refused (IPv4-mapped, 6to4 and Teredo IPv6 addresses are judged by the IPv4 address
  they carry), unless the administrator allows them
  (``SWITCHBOARD_TOOLS_FETCH_ALLOW_PRIVATE=1``; the tests allow loopback that way);
- the connection goes to the address that was checked — the URL's host is replaced by
  the IP, the ``Host`` header and TLS's SNI and certificate check keep the name — so a
  DNS answer that changes between the check and the connection (DNS rebinding) cannot
  redirect it;
- redirects are followed by hand, at most ``MAX_REDIRECTS``, each one checked again;
- at most ``MAX_BYTES`` are read (compressed bodies are inflated under the same cap),
  within ``deadline_s`` for the whole fetch; proxies from the environment are ignored.

HTML becomes text with ``html_text`` (selectolax) in a worker thread.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import zlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from switchboard.services.tools.builtin.html_text import html_to_text
from switchboard.services.tools.contract import ToolContext, ToolOutput, ToolSpec

MAX_URL_CHARS = 2_048
MAX_REDIRECTS = 5
MAX_BYTES = 2 * 1024 * 1024
MAX_CHARS = 32_000
DEADLINE_S = 15.0
USER_AGENT = "Switchboard-fetch_url/1 (+a model asked to read this page)"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml",
               "application/javascript", "application/rss+xml", "application/atom+xml")
_REDIRECTS = (301, 302, 303, 307, 308)

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

SPEC = ToolSpec(
    name="fetch_url",
    description=(
        "Fetch a web page or a text document (http or https) and return its readable "
        "text: the page title, then the text with headings, paragraphs and list items on "
        "their own lines (scripts, styles and navigation removed). Use it to read a page "
        "the user names or one you need to check. Long pages are cut to about 32,000 "
        "characters. Pages on private networks are refused."
    ),
    parameters={
        "type": "object",
        "properties": {"url": {
            "type": "string", "maxLength": MAX_URL_CHARS,
            "description": "The absolute http:// or https:// URL to read",
        }},
        "required": ["url"],
        "additionalProperties": False,
    },
    source="builtin",
    timeout_s=DEADLINE_S + 5,
    max_result_chars=MAX_CHARS + 1_000,
)


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


class _Body:
    """Reads a response's bytes up to ``MAX_BYTES``, inflating gzip/deflate under the
    same cap (a compression bomb stops at the cap, never in memory)."""

    def __init__(self, encoding: str) -> None:
        encoding = encoding.strip().lower()
        if encoding in ("", "identity"):
            self._inflate: Any = None
        elif encoding in ("gzip", "x-gzip", "deflate"):
            self._inflate = zlib.decompressobj(47 if "gzip" in encoding else 15)
        else:
            raise Refused(f"the server sent the page compressed as {encoding[:30]!r}, "
                          "which is not read")
        self.data = bytearray()
        self.cut = False

    def feed(self, chunk: bytes) -> bool:
        """Add a raw chunk; False once the cap is reached."""
        room = MAX_BYTES - len(self.data)
        if self._inflate is not None:
            try:
                chunk = self._inflate.decompress(chunk, room + 1)
            except zlib.error:
                raise Refused("the server sent a damaged compressed page") from None
        self.data += chunk[:room]
        if len(chunk) > room:
            self.cut = True
            return False
        return True


class FetchUrl:
    """The ``fetch_url`` tool. ``allow_private`` lets it reach any address (an
    administrator's choice, and the tests'); ``deadline_s`` bounds one whole fetch."""

    spec = SPEC

    def __init__(self, *, allow_private: bool = False, deadline_s: float = DEADLINE_S) -> None:
        self.allow_private = allow_private
        self.deadline_s = deadline_s

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        url = arguments.get("url")
        if not isinstance(url, str) or not url.strip():
            return ToolOutput("fetch_url needs a 'url' string such as https://example.com/",
                              is_error=True)
        try:
            async with asyncio.timeout(self.deadline_s):
                return await self._fetch(url.strip())
        except Refused as exc:
            return ToolOutput(f"fetch_url refused {url[:200]!r}: {exc}", is_error=True)
        except TimeoutError:
            return ToolOutput(f"fetch_url: {url[:200]!r} did not answer within "
                              f"{self.deadline_s:g} seconds", is_error=True)
        except httpx.HTTPError as exc:
            return ToolOutput(f"fetch_url could not read {url[:200]!r}: "
                              f"{type(exc).__name__}", is_error=True)

    async def _addresses(self, host: str, port: int) -> list[IpAddress]:
        addresses = await resolve(host, port)
        if not self.allow_private:
            for ip in addresses:
                reason = refusal(ip)
                if reason is not None:
                    raise Refused(f"{host[:100]} is {reason}; an administrator can allow "
                                  "private addresses in the server's settings")
        return addresses

    async def _fetch(self, url: str) -> ToolOutput:
        timeout = httpx.Timeout(self.deadline_s, connect=min(5.0, self.deadline_s))
        async with httpx.AsyncClient(trust_env=False, follow_redirects=False,
                                     timeout=timeout) as client:
            for _ in range(MAX_REDIRECTS + 1):
                scheme, host, port = check_url(url)
                addresses = await self._addresses(host, port)
                response, body = await self._get(client, url, scheme, host, port, addresses)
                if response.status_code in _REDIRECTS and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                return await self._output(url, response, body)
        raise Refused(f"more than {MAX_REDIRECTS} redirects")

    async def _get(self, client: httpx.AsyncClient, url: str, scheme: str, host: str,
                   port: int, addresses: list[IpAddress]) -> tuple[httpx.Response, _Body]:
        """GET ``url`` from the first of ``addresses`` that answers (the checked IP, never
        a second DNS lookup)."""
        last: httpx.HTTPError | None = None
        for ip in addresses[:3]:
            target = httpx.URL(url).copy_with(host=str(ip))
            default = 443 if scheme == "https" else 80
            headers = {"host": host if port == default else f"{host}:{port}",
                       "user-agent": USER_AGENT, "accept-encoding": "gzip, deflate",
                       "accept": "text/html, text/plain, application/json;q=0.9, */*;q=0.5"}
            extensions = {"sni_hostname": host} if scheme == "https" else {}
            request = client.build_request("GET", target, headers=headers,
                                           extensions=extensions)
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError as exc:
                last = exc
                continue
            try:
                body = _Body(response.headers.get("content-encoding", ""))
                if response.status_code not in _REDIRECTS:
                    async for chunk in response.aiter_raw():
                        if not body.feed(chunk):
                            break
            finally:
                await response.aclose()
            return response, body
        assert last is not None
        raise last

    async def _output(self, url: str, response: httpx.Response, body: _Body) -> ToolOutput:
        status = response.status_code
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type and not media_type.startswith(_TEXT_TYPES) \
                and not media_type.endswith(("+json", "+xml")):
            return ToolOutput(f"fetch_url: {url[:200]} is {media_type[:60]} "
                              f"({len(body.data):,} bytes), not text that can be read",
                              is_error=True, meta={"status": status, "url": url})
        charset = response.charset_encoding or "utf-8"
        try:
            decoded = bytes(body.data).decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            decoded = bytes(body.data).decode("utf-8", errors="replace")
        title = None
        nested_cut = False
        looks_html = decoded.lstrip()[:1] == "<" and "html" in decoded[:2048].lower()
        if media_type in ("text/html", "application/xhtml+xml") or (not media_type
                                                                     and looks_html):
            decoded, title, nested_cut = await asyncio.to_thread(html_to_text, decoded)
        notes = []
        if body.cut:
            notes.append(f"only the first {MAX_BYTES // (1024 * 1024)} MB were read")
        if nested_cut:
            notes.append("the page nests too deeply; the rest was not read")
        if len(decoded) > MAX_CHARS:
            decoded = decoded[:MAX_CHARS]
            notes.append(f"the text was cut at {MAX_CHARS:,} characters")
        head = [f"URL: {url}"]
        if title:
            head.insert(0, f"Title: {title}")
        if status >= 400:
            head.append(f"The server answered HTTP {status}.")
        if notes:
            head.append("Note: " + "; ".join(notes) + ".")
        text = "\n".join(head) + "\n\n" + decoded
        return ToolOutput(text, is_error=status >= 400,
                          meta={"status": status, "url": url, "bytes": len(body.data),
                                "title": title})
