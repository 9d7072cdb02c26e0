"""One fake Gemini server per test module (a real loopback HTTP server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.gemini import Wire
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

FIXTURES = Path(__file__).parent / "fixtures"
SNAPSHOTS = Path(__file__).parent / "snapshots"


class Server:
    def __init__(self, vendor: FakeVendor, base_url: str) -> None:
        self.vendor = vendor
        self.base_url = base_url


@pytest.fixture(scope="module")
def _server() -> Iterator[Server]:
    vendor = FakeVendor(Wire())
    with serve_in_thread(vendor) as base:
        yield Server(vendor, base)


@pytest.fixture
def server(_server: Server) -> Server:
    """The module's fake, with its script and request log emptied for this test."""
    _server.vendor.script.clear()
    _server.vendor.requests.clear()
    _server.vendor.wire = Wire()
    return _server
