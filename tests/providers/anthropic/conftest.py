"""One fake Anthropic per test module (a real loopback server); each test gets it with an
empty script and request log, and closes the loop's pooled client afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from switchboard.providers.anthropic import AnthropicChatModel, AnthropicProvider
from switchboard.upstream import close_client
from tests.fakes.anthropic import MODEL, Wire, make_provider
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SNAPSHOTS = HERE / "snapshots"
KEY = "sk-ant-api03-test-key-0123456789abcdef"


class Fake:
    def __init__(self, vendor: FakeVendor, base_url: str) -> None:
        self.vendor = vendor
        self.base_url = base_url

    def provider(self, **config: Any) -> AnthropicProvider:
        provider = make_provider(self.base_url, api_key=KEY, **config)
        assert isinstance(provider, AnthropicProvider)
        return provider

    def model(self, model_id: str = MODEL, **config: Any) -> AnthropicChatModel:
        return self.provider(**config).chat_model(model_id)


@pytest.fixture(scope="module")
def _served() -> Iterator[tuple[FakeVendor, str]]:
    vendor = FakeVendor(Wire())
    with serve_in_thread(vendor) as base_url:
        yield vendor, base_url


@pytest.fixture
async def fake(_served: tuple[FakeVendor, str]) -> AsyncIterator[Fake]:
    vendor, base_url = _served
    vendor.requests.clear()
    vendor.script.clear()
    vendor.wire = Wire()
    yield Fake(vendor, base_url)
    await close_client()


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
