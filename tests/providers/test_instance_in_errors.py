"""Every HTTP adapter's errors name the provider *instance* a member configured (the row
"work-gemini"), never only its kind ("gemini"): with two rows of one kind, the message
must say which one failed. Before the shared driver (``upstream.driver``) the Mistral and
Gemini adapters named the kind.

Each failure is exercised where it arises: a refused call (status error, stream and
non-stream), an error inside the stream, a stream cut midway, and the model list.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from types import ModuleType
from typing import Any

import pytest

from switchboard.spec import ChatRequest, ErrorEvent, Message, ProviderError, StreamEvent
from tests.fakes.script import Break, Fail, InBandError, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

VENDORS = ("openai", "openai_compatible", "anthropic", "mistral", "gemini")
KEY = "sk-test-instance-names-0123456789"
HELLO = ChatRequest(messages=[Message.user("Say hello")], max_output_tokens=50)


class Instance:
    def __init__(self, module: ModuleType, vendor: FakeVendor, base_url: str) -> None:
        self.module = module
        self.vendor = vendor
        self.name = f"work-{module.KIND}"
        self.provider: Any = module.make_provider(base_url, api_key=KEY)
        self.provider.name = self.name  # as the registry names a configured row

    def model(self) -> Any:
        return self.provider.chat_model(self.module.MODEL)

    async def events(self) -> list[StreamEvent]:
        return [e async for e in self.model().stream(HELLO)]


@pytest.fixture(params=VENDORS)
def instance(request: pytest.FixtureRequest) -> Iterator[Instance]:
    module = importlib.import_module(f"tests.fakes.{request.param}")
    vendor = FakeVendor(module.Wire())
    with serve_in_thread(vendor) as base:
        yield Instance(module, vendor, base)


def assert_names_instance(error: ProviderError, instance: Instance) -> None:
    assert error.provider == instance.name, error.provider
    assert instance.name in error.message, error.message
    assert KEY not in error.message


async def test_refused_stream_names_the_instance(instance: Instance) -> None:
    instance.vendor.then(Fail(500, "boom", error_type="api_error"))
    with pytest.raises(ProviderError) as caught:
        await instance.events()
    assert_names_instance(caught.value, instance)


async def test_refused_generate_names_the_instance(instance: Instance) -> None:
    instance.vendor.then(Fail(500, "boom", error_type="api_error"))
    with pytest.raises(ProviderError) as caught:
        await instance.model().generate(HELLO)
    assert_names_instance(caught.value, instance)


async def test_in_band_error_names_the_instance(instance: Instance) -> None:
    instance.vendor.then(InBandError(Reply(chunks=["Hel", "lo", "!"]), after=1))
    events = await instance.events()
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert isinstance(last.error, ProviderError)
    assert_names_instance(last.error, instance)


async def test_cut_stream_names_the_instance(instance: Instance) -> None:
    instance.vendor.then(Break(Reply(chunks=["Part one. ", "Part two. ", "Never."]), after=2))
    events = await instance.events()
    last = events[-1]
    assert isinstance(last, ErrorEvent)
    assert isinstance(last.error, ProviderError)
    assert_names_instance(last.error, instance)


async def test_model_list_error_names_the_instance(instance: Instance) -> None:
    instance.vendor.key_check = lambda request: "key rejected"
    with pytest.raises(ProviderError) as caught:
        await instance.provider.list_models()
    assert_names_instance(caught.value, instance)
