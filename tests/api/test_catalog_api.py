"""``/api/config/*``, ``/api/model-registry``, ``/api/models``, ``/api/kinds`` on a real
server: CRUD round trips, the one default model, the pickers' views, and bad input that
leaves the database unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.api.catalog_client import Api, catalog_tables, error_of
from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def admin(server: Running) -> Iterator[Api]:
    api = Api(server, server.make_user("root", "admin"))
    yield api
    api.http.close()


@pytest.fixture
def user(server: Running, admin: Api) -> Iterator[Api]:
    api = Api(server, server.make_user("alice", "user"), admin.seen)
    yield api
    api.http.close()


def add_provider(admin: Api, name: str = "lab", **fields: object) -> dict[str, Any]:
    body = {"name": name, "kind": "openai", "base_url": "http://127.0.0.1:9/v1", **fields}
    created: dict[str, Any] = admin.ok("POST", "/api/config/providers", body, 201)
    return created


def test_provider_crud_round_trip(admin: Api, server: Running) -> None:
    created = add_provider(admin, image_url="/static/logos/openai.svg",
                           settings={"timeout": 30, "extra_headers": {"X-Team": "red"}})
    pid = created["id"]
    assert created["name"] == "lab" and created["kind"] == "openai"
    assert created["display_name"] == "OpenAI" and created["enabled"] is True
    assert created["base_url"] == "http://127.0.0.1:9/v1"
    assert created["key"] is None and created["configured"] is False
    assert created["status"] == {"state": "unknown", "checked_at": None, "latency_ms": None,
                                 "error": None}
    assert created["settings"] == {"timeout": 30, "extra_headers": {"X-Team": "red"}}
    assert created["model_count"] == 0 and created["created_at"].endswith("+00:00")

    listed = admin.ok("GET", "/api/config/providers")
    assert [p for p in listed if p["id"] == pid] == [created]
    assert admin.ok("GET", f"/api/config/providers/{pid}") == created

    updated = admin.ok("PUT", f"/api/config/providers/{pid}",
                       {"name": "lab2", "enabled": False, "base_url": "http://127.0.0.1:8/v1/"})
    assert updated["name"] == "lab2" and updated["enabled"] is False
    assert updated["base_url"] == "http://127.0.0.1:8/v1"
    assert updated["image_url"] == "/static/logos/openai.svg"  # not sent: unchanged
    assert updated["settings"] == created["settings"]
    cleared = admin.ok("PUT", f"/api/config/providers/{pid}", {"image_url": None})
    assert cleared["image_url"] is None and cleared["name"] == "lab2"

    assert admin.ok("DELETE", f"/api/config/providers/{pid}", status=204) is None
    gone = error_of(admin.get(f"/api/config/providers/{pid}"), 404)
    assert gone["code"] == "not_found" and "lab2" not in gone["message"]
    actions = [r[0] for r in server.query(
        f"SELECT action FROM audit_log WHERE target_id = '{pid}' ORDER BY id")]
    assert actions == ["provider.create", "provider.update", "provider.update",
                       "provider.delete"]
    assert server.query(
        f"SELECT DISTINCT actor FROM audit_log WHERE target_id = '{pid}'") == [("root",)]


def test_provider_from_preset(admin: Api) -> None:
    created = admin.ok("POST", "/api/config/providers",
                       {"name": "groq", "kind": "openai_compatible", "preset": "groq"}, 201)
    assert created["base_url"].startswith("https://") and "groq" in created["base_url"]
    assert created["settings"]["api_key_env"] == "GROQ_API_KEY"
    assert created["display_name"] == "OpenAI-compatible endpoint"


def test_model_crud_and_the_one_default(admin: Api, server: Running) -> None:
    pid = add_provider(admin)["id"]
    made = admin.ok("POST", "/api/config/models", {
        "provider_id": pid, "model_sdk_id": "my-model", "name": "My model",
        "capabilities": {"streaming": True, "tools": True}, "context_window": 64000,
        "max_output_tokens": 4096, "price_input": "0.15", "price_output": 0.6,
        "price_cached_input": "0.075", "description": "for tests"}, 201)
    mid = made["id"]
    assert made["provider"] == "lab" and made["ref"] == "lab:my-model"
    assert made["provider_id"] == pid and made["is_enabled"] is True
    assert made["is_default"] is False
    assert made["price"] == {"input": "0.15", "cached_input": "0.075", "output": "0.6",
                             "cache_write": None}
    assert made["capabilities"]["tools"] is True
    assert made["capabilities"]["vision"] is None  # not given: unknown, not "no"
    assert made["context_window"] == 64000 and made["description"] == "for tests"
    assert admin.ok("GET", f"/api/config/models/{mid}") == made
    assert admin.ok("GET", f"/api/config/models/provider/{pid}") == [made]
    assert admin.ok("GET", f"/api/config/providers/{pid}")["model_count"] == 1

    changed = admin.ok("PUT", f"/api/config/models/{mid}",
                       {"price_input": "1.25", "price_cached_input": None,
                        "is_enabled": False})
    assert changed["price"]["input"] == "1.25" and changed["price"]["cached_input"] is None
    assert changed["is_enabled"] is False and changed["name"] == "My model"
    refused = error_of(admin.post(f"/api/config/models/{mid}/set-default"), 409)
    assert "disabled" in refused["message"]
    admin.ok("PUT", f"/api/config/models/{mid}", {"is_enabled": True})

    old_default = server.query("SELECT id FROM provider_models WHERE is_default")
    assert old_default == [(admin.ok("GET", "/api/model-registry")["default_model_id"],)]
    now = admin.ok("POST", f"/api/config/models/{mid}/set-default")
    assert now["is_default"] is True and now["id"] == mid
    assert server.query("SELECT id FROM provider_models WHERE is_default") == [(mid,)]
    assert admin.ok("GET", f"/api/config/models/{old_default[0][0]}")["is_default"] is False
    assert admin.ok("POST", f"/api/config/models/{mid}/set-default")["is_default"]  # again
    assert server.query("SELECT count(*) FROM provider_models WHERE is_default") == [(1,)]

    held = error_of(admin.delete(f"/api/config/models/{mid}"), 409)
    assert "default" in held["message"]
    admin.ok("POST", f"/api/config/models/{old_default[0][0]}/set-default")
    admin.ok("DELETE", f"/api/config/models/{mid}", status=204)
    assert error_of(admin.get(f"/api/config/models/{mid}"), 404)["code"] == "not_found"


def test_model_registry_groups_enabled_models(admin: Api, user: Api) -> None:
    pid = add_provider(admin)["id"]
    on = admin.ok("POST", "/api/config/models",
                  {"provider_id": pid, "model_sdk_id": "on-model"}, 201)
    off = admin.ok("POST", "/api/config/models",
                   {"provider_id": pid, "model_sdk_id": "off-model", "is_enabled": False}, 201)
    hidden = add_provider(admin, "hidden", enabled=False)["id"]
    admin.ok("POST", "/api/config/models", {"provider_id": hidden, "model_sdk_id": "x"}, 201)
    admin.ok("POST", f"/api/config/models/{on['id']}/set-default")

    registry = user.ok("GET", "/api/model-registry")  # any signed-in user may read it
    assert set(registry) == {"providers", "default_model_id", "default_model_ref"}
    assert registry["default_model_id"] == on["id"]
    assert registry["default_model_ref"] == "lab:on-model"
    names = [p["name"] for p in registry["providers"]]
    assert "lab" in names and "hidden" not in names and "offline" in names
    assert all(p["enabled"] for p in registry["providers"])
    lab = next(p for p in registry["providers"] if p["name"] == "lab")
    assert [m["ref"] for m in lab["models"]] == ["lab:on-model"]
    assert lab["models"][0] == {
        "id": on["id"], "ref": "lab:on-model", "name": on["name"],
        "model_sdk_id": "on-model", "capabilities": on["capabilities"],
        "price": on["price"], "context_window": on["context_window"],
        "max_output_tokens": on["max_output_tokens"], "is_default": True, "type": "chat"}
    assert set(lab) == {"id", "name", "kind", "display_name", "image_url", "configured",
                        "enabled", "usable", "status", "models"}

    everything = user.ok("GET", "/api/models")
    assert everything["default_model_ref"] == "lab:on-model"
    by_name = {p["name"]: p for p in everything["providers"]}
    assert by_name["hidden"]["enabled"] is False
    assert {m["model_sdk_id"]: m["is_enabled"] for m in by_name["lab"]["models"]} == {
        "on-model": True, "off-model": False}
    assert by_name["lab"]["models"][1]["id"] == off["id"]
    # seeded: enabled (no admin switched it off) but not configured (no key): two states
    assert by_name["openai"]["enabled"] is True and by_name["openai"]["models"]
    assert by_name["openai"]["configured"] is False and by_name["openai"]["usable"] is False
    assert "openai" in names  # the selector shows it, as "Configure API key"


def test_kinds_lists_installed_kinds_and_presets(user: Api) -> None:
    kinds = user.ok("GET", "/api/kinds")
    by_kind = {k["kind"]: k for k in kinds["kinds"]}
    assert {"offline", "openai", "openai_compatible", "anthropic", "mistral",
            "gemini"} <= set(by_kind)
    assert by_kind["openai"] == {
        "kind": "openai", "display_name": "OpenAI", "requires_api_key": True,
        "default_base_url": by_kind["openai"]["default_base_url"],
        "api_key_env": "OPENAI_API_KEY", "docs_url": by_kind["openai"]["docs_url"]}
    assert by_kind["openai"]["default_base_url"].startswith("https://api.openai.com")
    assert by_kind["offline"]["requires_api_key"] is False
    presets = {p["name"]: p for p in kinds["presets"]}
    assert {"groq", "ollama", "openrouter"} <= set(presets)
    assert presets["groq"]["api_key_env"] == "GROQ_API_KEY"
    assert presets["groq"]["base_url"].startswith("https://")
    assert kinds["failures"] == []


def test_plain_users_never_read_provider_configuration(admin: Api, user: Api) -> None:
    """Issue 11, item 6: base URLs, key hints, settings and last errors are an admin's."""
    pid = add_provider(admin, settings={"extra_headers": {"X-Api-Token": "tok-secret-1"}})["id"]
    admin.ok("POST", f"/api/providers/{pid}/key", {"api_key": "sk-member-must-not-see-9876"})
    admin.ok("POST", f"/api/providers/{pid}/test")  # fails: records a last error
    for path in ("/api/config/providers", f"/api/config/providers/{pid}",
                 f"/api/config/models/provider/{pid}"):
        assert error_of(user.get(path), 403)["code"] == "forbidden", path
    assert admin.ok("GET", f"/api/config/providers/{pid}")["settings"]["extra_headers"] == {
        "X-Api-Token": "tok-secret-1"}
    assert admin.ok("GET", f"/api/config/providers/{pid}")["status"]["error"]

    # What a member gets instead: whether each provider can be used, nothing more.
    summary = next(p for p in user.ok("GET", "/api/providers") if p["id"] == pid)
    assert summary["configured"] is True and summary["usable"] is True
    assert "base_url" not in summary and "key" not in summary
    assert summary["status"]["error"] is None
    status = user.ok("GET", f"/api/providers/{pid}/status")
    assert status["state"] == "error" and status["error"] is None
    for path in ("/api/providers", "/api/model-registry", "/api/models",
                 f"/api/providers/{pid}/status"):
        text = user.get(path).text
        assert "127.0.0.1:9" not in text and "9876" not in text, path
    denied = error_of(user.put(f"/api/config/providers/{pid}", {"enabled": False}), 403)
    assert denied["code"] == "forbidden"


# -- bad input: a clear error naming the field, and nothing written ------------------------

def test_duplicate_name_is_a_conflict(admin: Api, server: Running) -> None:
    add_provider(admin)
    before = catalog_tables(server)
    for name in ("lab", "LAB"):
        error = error_of(admin.post("/api/config/providers",
                                    {"name": name, "kind": "openai"}), 409)
        assert error["code"] == "conflict" and "already exists" in error["message"]
    other = add_provider(admin, "other")["id"]
    before = catalog_tables(server)
    error_of(admin.put(f"/api/config/providers/{other}", {"name": "lab"}), 409)
    assert catalog_tables(server) == before


def test_unknown_kind_lists_the_kinds(admin: Api, server: Running) -> None:
    before = catalog_tables(server)
    error = error_of(admin.post("/api/config/providers", {"name": "x", "kind": "nope"}), 422)
    assert error["field"] == "kind" and "openai_compatible" in error["message"]
    assert "anthropic" in error["message"]
    assert catalog_tables(server) == before


def test_bad_provider_fields_name_the_field(admin: Api, server: Running) -> None:
    before = catalog_tables(server)
    cases = [
        ({"name": "x", "kind": "openai", "colour": "red"}, "colour"),
        ({"name": "x y", "kind": "openai"}, "name"),
        ({"name": "x", "kind": "openai", "base_url": "ftp://nowhere"}, "base_url"),
        ({"name": "x", "kind": "openai", "settings": {"nope": 1}}, "settings"),
        ({"name": "x", "kind": "openai_compatible"}, "base_url"),
        ({"name": "x", "kind": "openai_compatible", "preset": "nope"}, "preset"),
        ({"name": "x", "kind": "openai", "api_key": "   "}, "api_key"),
        ({"kind": "openai"}, "name"),
    ]
    for body, field in cases:
        error = error_of(admin.post("/api/config/providers", body), 422)
        assert error["field"] == field, (body, error)
        assert error["code"] == "validation_failed"
    pid = server.query("SELECT id FROM providers WHERE name = 'openai'")[0][0]
    error = error_of(admin.put(f"/api/config/providers/{pid}", {"name": None}), 422)
    assert error["field"] == "name" and "null" in error["message"]
    error = error_of(admin.put(f"/api/config/providers/{pid}", {"api_key": None}), 422)
    assert error["field"] == "api_key" and "/key" in error["message"]
    assert catalog_tables(server) == before


def test_model_for_a_missing_provider(admin: Api, server: Running) -> None:
    before = catalog_tables(server)
    error = error_of(admin.post("/api/config/models",
                                {"provider_id": 9999, "model_sdk_id": "m"}), 404)
    assert error["field"] == "provider_id" and "openai" in error["message"]
    error_of(admin.get("/api/config/models/provider/9999"), 404)
    assert catalog_tables(server) == before


def test_invalid_prices_and_limits_name_the_field(admin: Api, server: Running) -> None:
    pid = add_provider(admin)["id"]
    mid = admin.ok("POST", "/api/config/models", {"provider_id": pid, "model_sdk_id": "m"},
                   201)["id"]
    before = catalog_tables(server)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"price_input": "abc"}, "price_input"),
        ({"price_output": -1}, "price_output"),
        ({"price_cache_write": "NaN"}, "price_cache_write"),
        ({"context_window": 0}, "context_window"),
        ({"capabilities": {"telepathy": True}}, "capabilities"),
        ({"name": None}, "name"),
        ({"speed": 3}, "speed"),
    ]
    for body, field in cases:
        error = error_of(admin.put(f"/api/config/models/{mid}", body), 422)
        assert error["field"] == field, (body, error)
        if field == "name":
            continue  # on create, a null name means "use the model id"
        error = error_of(admin.post("/api/config/models",
                                    {"provider_id": pid, "model_sdk_id": "n", **body}), 422)
        assert error["field"] == field, (body, error)
    error = error_of(admin.post("/api/config/models",
                                {"provider_id": pid, "model_sdk_id": "m"}), 409)
    assert "already has model" in error["message"]
    assert catalog_tables(server) == before


def test_delete_provider_in_use_needs_cascade(admin: Api, server: Running) -> None:
    pid = add_provider(admin)["id"]
    admin.ok("POST", "/api/config/models", {"provider_id": pid, "model_sdk_id": "m"}, 201)
    before = catalog_tables(server)
    error = error_of(admin.delete(f"/api/config/providers/{pid}"), 409)
    assert f"/api/config/providers/{pid}?cascade=true" in error["message"]
    assert "1 model" in error["message"]
    assert catalog_tables(server) == before

    offline = server.query("SELECT id FROM providers WHERE name = 'offline'")[0][0]
    error = error_of(admin.delete(f"/api/config/providers/{offline}?cascade=true"), 409)
    assert "default model" in error["message"]  # cascade cannot remove the default
    assert catalog_tables(server) == before

    admin.ok("DELETE", f"/api/config/providers/{pid}?cascade=true", status=204)
    assert server.query(f"SELECT count(*) FROM provider_models WHERE provider_id = {pid}") == [
        (0,)]
    error_of(admin.get(f"/api/config/providers/{pid}"), 404)
