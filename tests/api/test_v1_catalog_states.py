"""``/v1`` means what the catalog says (issue 11, item 2), with the official ``openai``
SDK as the client against a real server and a fake OpenAI vendor on loopback:

- a disabled or deleted model never answers: a 404 in OpenAI's shape naming the model and
  why, and no call reaches the vendor;
- a model id the catalog does not list passes through while the provider allows it (the
  default), and is refused once an admin turns that off;
- a model imported from an OpenAI-compatible vendor whose listing says nothing about its
  parameters still accepts ``tools`` (unknown is not "no").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import openai
import pytest

from tests.api.catalog_client import Api
from tests.fakes import openai as openai_fake
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

KEY = "sk-test-catalog-states-000000001234"
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]}}}]
HELLO = [{"role": "user", "content": "hello"}]


@dataclass
class Setup:
    server: Running
    vendor: FakeVendor
    admin: Api
    client: openai.OpenAI
    openai_id: int

    def model_id(self, provider: str, sdk_id: str) -> int:
        pid = next(p["id"] for p in self.admin.ok("GET", "/api/config/providers")
                   if p["name"] == provider)
        return int(next(m["id"] for m in self.admin.ok(
            "GET", f"/api/config/models/provider/{pid}") if m["model_sdk_id"] == sdk_id))


@pytest.fixture
def setup() -> Iterator[Setup]:
    vendor = FakeVendor(openai_fake.Wire())
    with running_server() as server, serve_in_thread(vendor) as url:
        admin = Api(server, server.make_user("root", "admin"))
        openai_id = next(p["id"] for p in admin.ok("GET", "/api/config/providers")
                         if p["name"] == "openai")
        admin.ok("PUT", f"/api/config/providers/{openai_id}",
                 {"base_url": f"{url}/v1", "api_key": KEY})
        client = openai.OpenAI(base_url=server.v1, api_key=server.make_user("sdk-user"),
                               max_retries=0)
        yield Setup(server, vendor, admin, client, openai_id)
        admin.http.close()


def _refused(setup: Setup, model: str) -> openai.NotFoundError:
    with pytest.raises(openai.NotFoundError) as caught:
        setup.client.chat.completions.create(model=model, messages=HELLO)  # type: ignore[arg-type]
    assert not setup.vendor.chat_requests(), "nothing may reach the vendor"
    return caught.value


def test_disabled_model_is_a_404_naming_it(setup: Setup) -> None:
    setup.admin.ok("PUT", f"/api/config/models/{setup.model_id('openai', 'gpt-4o')}",
                   {"is_enabled": False})
    error = _refused(setup, "openai:gpt-4o")
    assert "'openai:gpt-4o' is disabled by an administrator" in error.message
    assert isinstance(error.body, dict) and error.body["code"] == "model_not_found"
    assert error.body["param"] is None or error.body["param"] == "model"


def test_deleted_model_is_a_404_even_where_unlisted_models_pass(setup: Setup) -> None:
    setup.admin.ok("DELETE", f"/api/config/models/{setup.model_id('openai', 'gpt-4o')}",
                   status=204)
    error = _refused(setup, "openai:gpt-4o")
    assert "'openai:gpt-4o' was removed from the catalog" in error.message


def test_unlisted_models_follow_the_provider_setting(setup: Setup) -> None:
    setup.vendor.then(Reply(chunks=["fresh"], input_tokens=3, output_tokens=1))
    passed = setup.client.chat.completions.create(model="openai:gpt-brand-new",
                                                  messages=HELLO)  # type: ignore[arg-type]
    assert passed.choices[0].message.content == "fresh"
    assert setup.vendor.chat_requests()[-1].body["model"] == "gpt-brand-new"

    card = setup.admin.ok("PUT", f"/api/config/providers/{setup.openai_id}",
                          {"allow_unlisted_models": False})
    assert card["allow_unlisted_models"] is False
    before = len(setup.vendor.chat_requests())
    with pytest.raises(openai.NotFoundError) as caught:
        setup.client.chat.completions.create(model="openai:gpt-brand-new",
                                             messages=HELLO)  # type: ignore[arg-type]
    assert "'openai:gpt-brand-new' is not in the catalog" in caught.value.message
    assert len(setup.vendor.chat_requests()) == before
    setup.vendor.then(Reply(chunks=["listed"], input_tokens=3, output_tokens=1))
    listed = setup.client.chat.completions.create(model="openai:gpt-4o-mini",
                                                  messages=HELLO)  # type: ignore[arg-type]
    assert listed.choices[0].message.content == "listed"


def test_imported_compatible_model_with_unknown_capabilities_accepts_tools(
        setup: Setup) -> None:
    url = setup.admin.ok("GET", f"/api/config/providers/{setup.openai_id}")["base_url"]
    lab = setup.admin.ok("POST", "/api/config/providers", {
        "name": "lab", "kind": "openai_compatible", "base_url": url, "api_key": KEY}, 201)
    setup.admin.ok("POST", f"/api/config/providers/{lab['id']}/import-models")
    [model] = [m for m in setup.admin.ok("GET", f"/api/config/models/provider/{lab['id']}")
               if m["model_sdk_id"] == "gpt-4o-mini"]
    assert model["capabilities"]["tools"] is None  # the listing said nothing about it

    setup.vendor.then(Reply(chunks=["sunny"], input_tokens=8, output_tokens=1))
    answer = setup.client.chat.completions.create(
        model="lab:gpt-4o-mini", messages=HELLO, tools=TOOLS)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == "sunny"
    assert setup.vendor.chat_requests()[-1].body["tools"][0]["function"]["name"] == \
        "get_weather"
