"""The cached catalog responses on a real server: ``/api/model-registry``, ``/api/models``,
``/api/config/providers`` and ``/v1/models`` are encoded once per catalog version, sent
gzipped to clients that accept it, carry an ETag and answer ``If-None-Match`` with 304 —
and every kind of catalog write shows in the very next response, with a new ETag."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.server import Running, running_server

PICKERS = ("/api/model-registry", "/api/models")
LISTINGS = (*PICKERS, "/api/config/providers", "/v1/models")


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def client(server: Running, token: str | None) -> httpx.Client:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.url, headers=headers, timeout=30)


@pytest.fixture
def admin(server: Running) -> Iterator[httpx.Client]:
    with client(server, server.make_user("root", "admin")) as http:
        yield http


@pytest.fixture
def user(server: Running) -> Iterator[httpx.Client]:
    with client(server, server.make_user("alice", "user")) as http:
        yield http


def get(http: httpx.Client, path: str, **headers: str) -> httpx.Response:
    response = http.get(path, headers={k.replace("_", "-"): v for k, v in headers.items()})
    assert response.status_code in (200, 304), f"{path}: {response.status_code} {response.text}"
    return response


def ok(http: httpx.Client, method: str, path: str, body: Any = None) -> Any:
    response = http.request(method, path, json=body)
    assert response.status_code in (200, 201), f"{method} {path}: {response.text}"
    return response.json()


class Raw:
    """A response with its body exactly as sent (``httpx`` would decode the gzip)."""

    def __init__(self, http: httpx.Client, path: str, accept_encoding: str) -> None:
        with http.stream("GET", path, headers={"accept-encoding": accept_encoding}) as r:
            self.status_code, self.headers = r.status_code, r.headers
            self.content = b"".join(r.iter_raw())




def test_gzip_copy_is_the_same_json(admin: httpx.Client) -> None:
    others: list[dict[str, Any]] = []
    for provider in ok(admin, "GET", "/api/config/providers"):
        if provider["name"] != "offline":
            ok(admin, "PUT", f"/api/config/providers/{provider['id']}", {"enabled": False})
        else:  # its embedding and image models too: one small model left
            others = [m for m in ok(admin, "GET", "/api/config/models/provider/"
                                    f"{provider['id']}") if m["model_type"] != "chat"]
            for model in others:
                ok(admin, "PUT", f"/api/config/models/{model['id']}", {"is_enabled": False})
    small = Raw(admin, "/api/model-registry", "gzip")  # only offline-chat
    assert len(small.content) < 1024 and "content-encoding" not in small.headers
    assert small.headers["vary"] == "Accept-Encoding"  # the choice depends on it all the same
    for provider in ok(admin, "GET", "/api/config/providers"):
        ok(admin, "PUT", f"/api/config/providers/{provider['id']}", {"enabled": True})
    assert others
    for model in others:
        ok(admin, "PUT", f"/api/config/models/{model['id']}", {"is_enabled": True})
    for path in PICKERS:
        plain = Raw(admin, path, "identity")
        zipped = Raw(admin, path, "br;q=1.0, gzip;q=0.8")
        assert plain.status_code == zipped.status_code == 200
        assert "content-encoding" not in plain.headers
        assert zipped.headers["content-encoding"] == "gzip"
        assert gzip.decompress(zipped.content) == plain.content
        assert len(zipped.content) * 5 < len(plain.content)  # /api/models: ~16 KB -> ~2 KB
        for r in (plain, zipped):
            assert r.headers["vary"] == "Accept-Encoding"
            assert r.headers["cache-control"] == "private, no-cache"
            assert r.headers["content-type"] == "application/json"
            assert int(r.headers["content-length"]) == len(r.content)
        # One tag per content coding of the same JSON (RFC 9110 §8.8.3).
        assert zipped.headers["etag"] == plain.headers["etag"][:-1] + '-gzip"'
        # Refused or not offered: identity.
        for header in ("gzip;q=0", "deflate", "*;q=0", "gzip;q=zero"):
            assert "content-encoding" not in Raw(admin, path, header).headers, header
        assert Raw(admin, path, "*").headers["content-encoding"] == "gzip"


def test_if_none_match_answers_304(admin: httpx.Client, server: Running) -> None:
    first = get(admin, "/api/models", accept_encoding="identity")
    tag = first.headers["etag"]
    gz_tag = get(admin, "/api/models", accept_encoding="gzip").headers["etag"]
    for header in (tag, f"W/{tag}", f'"other", {tag}', gz_tag, "*"):
        again = get(admin, "/api/models", if_none_match=header, accept_encoding="identity")
        assert again.status_code == 304, header
        assert again.content == b""
        assert again.headers["etag"] == tag and again.headers["vary"] == "Accept-Encoding"
    # A 304 names the representation the request would get: here the gzip one.
    assert get(admin, "/api/models", if_none_match=tag).headers["etag"] == gz_tag
    stale = get(admin, "/api/models", if_none_match='"not-this-one"')
    assert stale.status_code == 200 and stale.json() == first.json()
    # Authentication comes first: a valid tag does not let an anonymous caller learn it.
    with client(server, None) as anonymous:
        for path in LISTINGS:
            assert anonymous.get(path, headers={"if-none-match": "*"}).status_code == 401


def test_every_catalog_write_shows_at_once(admin: httpx.Client) -> None:
    """Each write: the next body reflects it, the ETag changed, the old tag gets a 200."""
    tags = {path: get(admin, path).headers["etag"] for path in LISTINGS}

    def after(write: Callable[[], object], *changed: str) -> dict[str, Any]:
        write()
        bodies: dict[str, Any] = {}
        for path in LISTINGS:
            response = get(admin, path, if_none_match=tags[path])
            if path in changed:
                assert response.status_code == 200, f"{path} unchanged after the write"
                assert response.headers["etag"] != tags[path]
                tags[path] = response.headers["etag"]
                bodies[path] = response.json()
            else:
                assert response.status_code == 304, f"{path} changed unexpectedly"
        return bodies

    openai = next(p for p in ok(admin, "GET", "/api/models")["providers"]
                  if p["name"] == "openai")
    gpt = openai["models"][0]

    # provider: disabling takes it out of the registry, enabling brings it back (seeded
    # enabled but without a key: in the registry, not configured)
    seen = after(lambda: ok(admin, "PUT", f"/api/config/providers/{openai['id']}",
                            {"enabled": False}), *PICKERS, "/api/config/providers")
    assert "openai" not in {p["name"] for p in seen["/api/model-registry"]["providers"]}
    seen = after(lambda: ok(admin, "PUT", f"/api/config/providers/{openai['id']}",
                            {"enabled": True}), *PICKERS, "/api/config/providers")
    registry = {p["name"]: p for p in seen["/api/model-registry"]["providers"]}
    assert registry["openai"]["configured"] is False

    # key: configured now, so /v1 lists its models
    seen = after(lambda: ok(admin, "POST", "/api/providers/openai/key",
                            {"api_key": "sk-test-0000000000KEY1"}), *LISTINGS)
    assert f"openai:{gpt['model_sdk_id']}" in {m["id"] for m in seen["/v1/models"]["data"]}
    assert next(p for p in seen["/api/config/providers"]
                if p["name"] == "openai")["key"]["last4"] == "KEY1"

    # model: a price change
    seen = after(lambda: ok(admin, "PUT", f"/api/config/models/{gpt['id']}",
                            {"price_input": "12.5"}), *PICKERS)
    model = next(m for p in seen["/api/models"]["providers"] for m in p["models"]
                 if m["id"] == gpt["id"])
    assert model["price"]["input"] == "12.5"

    # model: a new one, everywhere it is listed
    seen = after(lambda: ok(admin, "POST", "/api/config/models",
                            {"provider_id": openai["id"], "model_sdk_id": "gpt-cache-test"}),
                 *LISTINGS)
    assert "openai:gpt-cache-test" in {m["id"] for m in seen["/v1/models"]["data"]}

    # default model
    seen = after(lambda: ok(admin, "POST", f"/api/config/models/{gpt['id']}/set-default"),
                 *PICKERS)
    ref = f"openai:{gpt['model_sdk_id']}"
    assert seen["/api/model-registry"]["default_model_ref"] == ref
    assert seen["/api/model-registry"]["default_model_id"] == gpt["id"]
    assert seen["/api/models"]["default_model_ref"] == ref

    # model disabled: gone from the registry and from /v1, still in /api/models
    seen = after(lambda: ok(admin, "PUT", "/api/config/models/"
                            f"{_model_id(admin, 'gpt-cache-test')}", {"is_enabled": False}),
                 *PICKERS, "/v1/models")
    assert "openai:gpt-cache-test" not in {m["id"] for m in seen["/v1/models"]["data"]}
    assert admin.get("/v1/models/openai:gpt-cache-test").status_code == 404

    # key removed: not callable any more
    seen = after(lambda: admin.delete("/api/providers/openai/key").raise_for_status(),
                 *LISTINGS)
    assert not any(m["id"].startswith("openai:") for m in seen["/v1/models"]["data"])


def _model_id(admin: httpx.Client, sdk_id: str) -> int:
    return int(next(m["id"] for p in ok(admin, "GET", "/api/models")["providers"]
                    for m in p["models"] if m["model_sdk_id"] == sdk_id))


def test_admin_and_user_variants_never_cross(admin: httpx.Client,
                                             user: httpx.Client) -> None:
    """``/api/config/providers`` is an admin's (issue 11, item 6): a member is refused,
    even holding the admin's ETag, and never gets the cached admin body."""
    ok(admin, "POST", "/api/config/providers",
       {"name": "lab", "kind": "openai", "base_url": "http://127.0.0.1:9/v1",
        "settings": {"extra_headers": {"X-Team": "red-team-secret"}}})
    as_admin = get(admin, "/api/config/providers")
    assert "red-team-secret" in as_admin.text
    refused = user.get("/api/config/providers",
                       headers={"if-none-match": as_admin.headers["etag"]})
    assert refused.status_code == 403 and "red-team-secret" not in refused.text
    # The pickers carry nothing role-specific: one body, one tag, for both.
    for path in PICKERS:
        assert get(user, path).content == get(admin, path).content
        assert get(user, path, if_none_match=get(admin, path).headers["etag"]).status_code == 304


def test_v1_model_lookup(admin: httpx.Client, user: httpx.Client) -> None:
    listing = get(user, "/v1/models").json()
    assert listing["object"] == "list"
    assert {"id": "offline:offline-chat", "object": "model", "created": 0,
            "owned_by": "offline"} in listing["data"]
    for ref in ("offline:offline-chat", "offline-chat"):  # a ref, or a bare id
        found = user.get(f"/v1/models/{ref}")
        assert found.status_code == 200 and found.json()["id"] == "offline:offline-chat"
    # Disabled seeded vendors are neither listed nor found.
    assert not any(m["id"].startswith("openai:") for m in listing["data"])
    missing = user.get("/v1/models/openai:gpt-4o")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "model_not_found"
    # A bare id two providers share resolves to the first in listing order.
    for name in ("zeta", "alpha"):
        ok(admin, "POST", "/api/config/providers",
           {"name": name, "kind": "openai_compatible", "base_url": "http://127.0.0.1:9/v1",
            "settings": {"requires_api_key": False}})
        ok(admin, "POST", "/api/config/models",
           {"provider_id": _provider_id(admin, name), "model_sdk_id": "shared-model"})
    assert user.get("/v1/models/shared-model").json()["id"] == "alpha:shared-model"
    assert user.get("/v1/models/zeta:shared-model").json()["id"] == "zeta:shared-model"


def _provider_id(admin: httpx.Client, name: str) -> int:
    return int(next(p["id"] for p in ok(admin, "GET", "/api/config/providers")
                    if p["name"] == name))
