"""``fetch_url`` against a real HTTP server on loopback (allowed explicitly, as an
administrator would), and its refusals: private, loopback, link-local and metadata
addresses when not allowed, redirects into them, schemes other than http(s), credentials
in URLs; size and time caps; HTML turned into readable text."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_address

import pytest

from switchboard.services.principal import Principal
from switchboard.services.tools.builtin.fetch_url import MAX_BYTES, MAX_CHARS, FetchUrl
from switchboard.services.tools.contract import ToolContext
from switchboard.upstream import fetch as module

CONTEXT = ToolContext(Principal(1, "ada", "user"))
PAGE = b"""<!doctype html><html><head><title>The  Lighthouse</title>
<style>body{color:red}</style><script>alert("no")</script></head>
<body><nav>Home | About</nav><h1>Keepers</h1><p>The light was <b>first lit</b> in 1823.</p>
<ul><li>Oil lamp</li><li>Electric, 1921</li></ul><div hidden>secret</div></body></html>"""


class Handler(BaseHTTPRequestHandler):
    release = threading.Event()
    seen_hosts: list[str] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
             **headers: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        Handler.seen_hosts.append(self.headers.get("host", ""))
        path = self.path
        if path == "/page":
            self.send(200, PAGE)
        elif path == "/text":
            self.send(200, "caf\u00e9 au lait".encode("latin-1"),
                      "text/plain; charset=latin-1")
        elif path == "/json":
            self.send(200, b'{"answer": 42}', "application/json")
        elif path.startswith("/hop/"):
            left = int(path.rsplit("/", 1)[1])
            target = "/page" if left == 0 else f"/hop/{left - 1}"
            self.send(302, b"", location=target)
        elif path == "/to-private":
            self.send(301, b"", location="http://10.1.2.3/admin")
        elif path == "/to-metadata":
            self.send(307, b"", location="http://169.254.169.254/latest/meta-data/")
        elif path == "/to-file":
            self.send(302, b"", location="file:///etc/passwd")
        elif path == "/huge":
            self.send(200, b"<p>" + b"a" * (3 * MAX_BYTES) + b"</p>")
        elif path == "/bomb":  # 50 MB of zeros, about 50 kB compressed
            self.send(200, gzip.compress(b"0" * 50_000_000), "text/plain",
                      content_encoding="gzip")
        elif path == "/slow":  # headers at once, then the body never comes
            self.send_response(200)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", "100")
            self.end_headers()
            self.wfile.write(b"started")
            self.wfile.flush()
            Handler.release.wait(30)
        elif path == "/image":
            self.send(200, b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "image/png")
        elif path == "/deep":
            self.send(200, b"<p>top</p>" + b"<div>" * 100_000 + b"bottom")
        else:
            self.send(404, b"<h1>Not here</h1>")


@pytest.fixture(scope="module")
def origin() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    Handler.release.set()
    server.shutdown()
    server.server_close()


ALLOWED = FetchUrl(allow_private=True)
DEFAULT = FetchUrl()


async def fetch(tool: FetchUrl, url: object) -> tuple[str, bool]:
    out = await tool.run({"url": url}, CONTEXT)
    return out.text, out.is_error


async def test_html_becomes_readable_text(origin: str) -> None:
    text, is_error = await fetch(ALLOWED, f"{origin}/page")
    assert not is_error
    assert text == (f"Title: The Lighthouse\nURL: {origin}/page\n\n# Keepers\n\n"
                    "The light was first lit in 1823.\n\n- Oil lamp\n- Electric, 1921")


async def test_text_json_charsets_and_errors(origin: str) -> None:
    text, is_error = await fetch(ALLOWED, f"{origin}/text")
    assert not is_error and text.endswith("\n\ncaf\u00e9 au lait")
    text, is_error = await fetch(ALLOWED, f"{origin}/json")
    assert not is_error and text.endswith('{"answer": 42}')
    text, is_error = await fetch(ALLOWED, f"{origin}/missing")
    assert is_error and "The server answered HTTP 404." in text and "# Not here" in text
    text, is_error = await fetch(ALLOWED, f"{origin}/image")
    assert is_error and "is image/png (108 bytes), not text" in text


async def test_redirects_followed_and_capped(origin: str) -> None:
    text, is_error = await fetch(ALLOWED, f"{origin}/hop/4")  # 5 redirects
    assert not is_error and f"URL: {origin}/page" in text and "# Keepers" in text
    text, is_error = await fetch(ALLOWED, f"{origin}/hop/5")
    assert is_error and "more than 5 redirects" in text


async def test_size_time_and_compression_caps(origin: str) -> None:
    text, is_error = await fetch(ALLOWED, f"{origin}/huge")
    assert not is_error and "only the first 2 MB were read" in text
    assert f"cut at {MAX_CHARS:,} characters" in text
    assert len(text) < MAX_CHARS + 500
    text, is_error = await fetch(ALLOWED, f"{origin}/bomb")
    assert not is_error and "only the first 2 MB were read" in text
    slow = FetchUrl(allow_private=True, deadline_s=0.5)
    text, is_error = await fetch(slow, f"{origin}/slow")
    assert is_error and "did not answer within 0.5 seconds" in text
    text, is_error = await fetch(ALLOWED, f"{origin}/deep")
    assert not is_error and "nests too deeply" in text and "top" in text


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://localhost/", "http://10.0.0.1/", "http://192.168.1.1/",
    "http://172.16.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]/",
    "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://[fd00::1]/",
    "http://100.64.0.1/", "http://0.0.0.0/", "http://224.0.0.1/", "http://240.0.0.1/",
    "http://2130706433/", "http://0x7f000001/",
])
async def test_private_addresses_refused_by_default(url: str) -> None:
    text, is_error = await fetch(DEFAULT, url)
    assert is_error and text.startswith(f"fetch_url refused {url!r}"), text


async def test_redirects_into_private_addresses_refused(origin: str,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    # the test server is on loopback: let only 127.0.0.1 through, as if it were public
    real = module.refusal
    monkeypatch.setattr(module, "refusal",
                        lambda ip: None if ip == ip_address("127.0.0.1") else real(ip))
    text, is_error = await fetch(DEFAULT, f"{origin}/page")
    assert not is_error
    text, is_error = await fetch(DEFAULT, f"{origin}/to-private")
    assert is_error and "10.1.2.3 is a private network address" in text
    text, is_error = await fetch(DEFAULT, f"{origin}/to-metadata")
    assert is_error and "link-local" in text
    text, is_error = await fetch(DEFAULT, f"{origin}/to-file")
    assert is_error and "only http and https" in text


@pytest.mark.parametrize(("url", "error"), [
    ("file:///etc/passwd", "only http and https"), ("ftp://example.com/", "only http"),
    ("gopher://127.0.0.1:6379/_INFO", "only http"), ("javascript:alert(1)", "only http"),
    ("http://user:pw@example.com/", "user name or password"), ("http:///path", "no host"),
    ("http://example.com:99999/", "not valid"), ("https://" + "a" * 3000, "at most 2,048"),
    ("http://host.invalid/", "does not resolve"),
])
async def test_bad_urls(url: str, error: str) -> None:
    text, is_error = await fetch(DEFAULT, url)
    assert is_error and error in text, text
    for bad in (None, 3, ""):
        assert (await fetch(DEFAULT, bad))[1]


async def test_connects_to_the_checked_address_keeping_the_name(
        origin: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The name is resolved once, the connection goes to that address, and the server
    still sees the name (Host): a second DNS answer cannot redirect the request."""
    port = origin.rsplit(":", 1)[1]
    answers = iter([[ip_address("127.0.0.1")]])

    async def resolve_once(host: str, port: int) -> list[module.IpAddress]:
        assert host == "docs.example.test"
        return next(answers)  # a second lookup would raise StopIteration

    monkeypatch.setattr(module, "resolve", resolve_once)
    Handler.seen_hosts.clear()
    text, is_error = await fetch(ALLOWED, f"http://docs.example.test:{port}/page")
    assert not is_error and "# Keepers" in text
    assert Handler.seen_hosts == [f"docs.example.test:{port}"]
