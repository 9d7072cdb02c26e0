"""``Strict-Transport-Security`` on every response that went out over HTTPS.

HTTPS means the request's scheme as uvicorn set it: direct TLS (``serve --tls-cert``),
or ``X-Forwarded-Proto: https`` from a proxy trusted with ``--forwarded-allow-ips``.
Once a browser has seen the header it refuses plain HTTP to this host for ``max-age``,
so a network attacker cannot downgrade a later visit and read the session cookie or a
password. Browsers ignore the header over plain HTTP (RFC 6797 §8.1), so it is only sent
over HTTPS. No ``includeSubDomains``: the server cannot know what else runs under its
domain. A pure ASGI middleware (no task or stream per request).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HSTS = (b"strict-transport-security", b"max-age=31536000")


class StrictTransportSecurity:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def send_with_hsts(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), HSTS]
            await send(message)

        await self.app(scope, receive, send_with_hsts)
