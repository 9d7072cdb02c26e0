"""A fake Mistral on a real loopback server, fresh for each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.providers.mistral import MistralProvider
from tests.fakes import mistral
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures"
SNAPSHOTS = HERE / "snapshots"
KEY = "mistral-secret-key-0123456789abcdef"


@dataclass
class Fake:
    vendor: FakeVendor
    base_url: str

    def provider(self, **config: object) -> MistralProvider:
        provider = mistral.make_provider(self.base_url, api_key=KEY, **config)
        assert isinstance(provider, MistralProvider)
        return provider


@pytest.fixture
def fake() -> Iterator[Fake]:
    vendor = FakeVendor(mistral.Wire())
    with serve_in_thread(vendor) as base:
        yield Fake(vendor, base)


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
