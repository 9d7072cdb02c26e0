"""Issue 10 item 8: ``provider_options`` cannot steer a call around the catalog.

Before the fix, ``provider_options: {"openai_compatible": {"model": "..."}}`` reached the
vendor: one model was routed and accounted, another one answered. Now every field the
gateway owns (the model, the stream protocol, the conversation, tools and output format,
the instance's settings) is refused with a 400 naming it, for every adapter, before any
request leaves; vendor-only settings still pass through.
"""

from __future__ import annotations

from contextlib import closing
from typing import Any

import pytest
from openai import BadRequestError, OpenAI

from switchboard.registry import load_kinds
from switchboard.registry.passthrough import (
    GATEWAY_OWNED,
    check_provider_options,
    refused_fields,
)
from switchboard.spec import ChatRequest, InvalidRequestError, Message
from tests.fakes.openai import Wire
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.security_review.conftest import PASSWORD, bearer
from tests.server import Running

KEY = "sk-acme-options-test-1234"


def _setup(server: Running, url: str) -> str:
    admin = bearer(server, server.make_user("root", "admin", password=PASSWORD))
    with closing(admin):
        made = admin.post("/api/config/providers", json={
            "name": "acme", "kind": "openai_compatible", "base_url": f"{url}/v1",
            "api_key": KEY, "settings": {"max_retries": 0}})
        assert made.status_code == 201, made.text
        imported = admin.post(f"/api/config/providers/{made.json()['id']}/import-models")
        assert imported.status_code == 200, imported.text
    return server.make_user("mia")


@pytest.mark.parametrize(("options", "param"), [
    ({"openai_compatible": {"model": "gpt-4o"}}, "provider_options.openai_compatible.model"),
    ({"acme": {"model": "gpt-4o"}}, "provider_options.acme.model"),
    ({"openai_compatible": {"stream_options": {"include_usage": False}}},
     "provider_options.openai_compatible.stream_options"),
    ({"acme": {"messages": [{"role": "user", "content": "other"}]}},
     "provider_options.acme.messages"),
    ({"openai_compatible": {"base_url": "http://elsewhere"}},
     "provider_options.openai_compatible.base_url"),
    ({"openai_compatible": {"api_key": "mine"}},
     "provider_options.openai_compatible.api_key"),
    ({"openai_compatible": {"n": 5}}, "provider_options.openai_compatible.n"),
    ({"acme": {"tools": []}}, "provider_options.acme.tools"),
])
@pytest.mark.parametrize("stream", [False, True])
def test_gateway_owned_fields_are_refused_before_the_vendor_is_called(
        server: Running, options: dict[str, Any], param: str, stream: bool) -> None:
    vendor = FakeVendor(Wire())
    with serve_in_thread(vendor) as url:
        token = _setup(server, url)
        client = OpenAI(base_url=server.v1, api_key=token, max_retries=0)
        with pytest.raises(BadRequestError) as caught:
            client.chat.completions.create(
                model="acme:gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
                stream=stream, extra_body={"provider_options": options})
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["param"] == param
    assert error["type"] == "invalid_request_error"
    assert "set by Switchboard" in error["message"]
    assert not vendor.chat_requests()


def test_vendor_only_settings_still_pass_through(server: Running) -> None:
    vendor = FakeVendor(Wire())
    with serve_in_thread(vendor) as url:
        token = _setup(server, url)
        client = OpenAI(base_url=server.v1, api_key=token, max_retries=0)
        client.chat.completions.create(
            model="acme:gpt-4o-mini", messages=[{"role": "user", "content": "hi"}],
            extra_body={"provider_options": {"openai_compatible": {"service_tier": "flex"},
                                             "acme": {"transforms": ["middle-out"]}}})
    body = vendor.last.body
    assert body["model"] == "gpt-4o-mini"
    assert body["service_tier"] == "flex" and body["transforms"] == ["middle-out"]


@pytest.mark.parametrize("kind", sorted(load_kinds().names()))
def test_every_kind_refuses_the_shared_fields_and_its_settings(kind: str) -> None:
    cls = load_kinds().get(kind)
    assert cls is not None
    provider = cls(cls.Config.model_validate({"base_url": "http://127.0.0.1:9/v1"}))
    refused = refused_fields(provider)
    assert GATEWAY_OWNED <= refused
    assert {"api_key", "base_url", "extra_headers"} <= refused
    for field in sorted(refused):
        request = ChatRequest(messages=[Message.user("hi")],
                              provider_options={kind: {field: "x"}})
        with pytest.raises(InvalidRequestError) as caught:
            check_provider_options(request, provider)
        assert caught.value.param == f"provider_options.{kind}.{field}"
