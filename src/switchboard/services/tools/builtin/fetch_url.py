"""``fetch_url``: read a web page (or a text/JSON document) as readable text.

A tool that makes the *server* send HTTP requests on a model's say-so is a
server-side request forgery waiting to happen (a prompt can ask for
``http://169.254.169.254/`` — the cloud metadata service — or for an admin page on the
server's own network). So (decision 0095) it fetches through ``upstream.fetch``: http(s)
only, no credentials in URLs, public addresses only (unless the administrator allows
private ones: ``SWITCHBOARD_TOOLS_FETCH_ALLOW_PRIVATE=1``; the tests allow loopback that
way), the connection pinned to the checked address, redirects checked again, at most
``MAX_BYTES`` read, within ``deadline_s`` for the whole fetch.

HTML becomes text with ``html_text`` (selectolax) in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from switchboard.services.tools.builtin.html_text import html_to_text
from switchboard.services.tools.contract import ToolContext, ToolOutput, ToolSpec
from switchboard.upstream.fetch import MAX_URL_CHARS, Fetched, Refused, fetch

MAX_BYTES = 2 * 1024 * 1024
MAX_CHARS = 32_000
DEADLINE_S = 15.0
USER_AGENT = "Switchboard-fetch_url/1 (+a model asked to read this page)"
_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml",
               "application/javascript", "application/rss+xml", "application/atom+xml")
ACCEPT = "text/html, text/plain, application/json;q=0.9, */*;q=0.5"

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

    async def _fetch(self, url: str) -> ToolOutput:
        got = await fetch(url, max_bytes=MAX_BYTES, allow_private=self.allow_private,
                          user_agent=USER_AGENT, accept=ACCEPT,
                          connect_timeout=min(5.0, self.deadline_s),
                          read_timeout=self.deadline_s)
        return await self._output(got)

    async def _output(self, got: Fetched) -> ToolOutput:
        url, response = got.url, got.response
        status = response.status_code
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type and not media_type.startswith(_TEXT_TYPES) \
                and not media_type.endswith(("+json", "+xml")):
            return ToolOutput(f"fetch_url: {url[:200]} is {media_type[:60]} "
                              f"({len(got.data):,} bytes), not text that can be read",
                              is_error=True, meta={"status": status, "url": url})
        charset = response.charset_encoding or "utf-8"
        try:
            decoded = got.data.decode(charset, errors="replace")
        except LookupError:  # an unknown charset name
            decoded = got.data.decode("utf-8", errors="replace")
        title = None
        nested_cut = False
        looks_html = decoded.lstrip()[:1] == "<" and "html" in decoded[:2048].lower()
        if media_type in ("text/html", "application/xhtml+xml") or (not media_type
                                                                     and looks_html):
            decoded, title, nested_cut = await asyncio.to_thread(html_to_text, decoded)
        notes = []
        if got.cut:
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
                          meta={"status": status, "url": url, "bytes": len(got.data),
                                "title": title})
