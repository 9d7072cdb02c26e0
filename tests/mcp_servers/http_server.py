"""The fixture MCP server over Streamable HTTP, served by uvicorn on loopback in a thread
(its own event loop), for a module's tests to share."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from tests.mcp_servers.fixture_server import build


@contextmanager
def serving() -> Iterator[str]:
    """Yields the server's URL (``http://127.0.0.1:PORT/mcp``)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    app = build().streamable_http_app(host="127.0.0.1")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the MCP fixture server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        # Its clients' streams may still be open (an MCP session's GET stream): a
        # graceful shutdown would wait on them for the whole join below.
        server.should_exit = server.force_exit = True
        thread.join(10)
        sock.close()
