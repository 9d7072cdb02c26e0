"""``/api/providers``: keys (only ever masked), "Test connection" against a fake OpenAI
server on loopback, status, and model import through the catalog routes."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.api.catalog_client import Api, catalog_tables, error_of
from tests.fakes import openai as fake_openai
from tests.fakes.script import Received
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

KEY = "sk-proj-RESTgoodKEY0123456789abcdef-L4ST"
WRONG = "sk-proj-RESTwrongKEY0123456789abcdef-BAD9"


CLOSED = {"key_id": None, "state": "closed", "consecutive_failures": 0, "requests": 0,
          "failures": 0, "retry_in_seconds": None, "last_error": None}


def _check(req: Received) -> str | None:
    sent = req.headers.get("authorization", "").removeprefix("Bearer ")
    if sent == KEY:
        return None
    # Echo what was sent, so the test proves our side redacts it.
    return f"Incorrect API key provided: {sent}"


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    app = FakeVendor(fake_openai.Wire(), key_check=_check)
    with serve_in_thread(app) as url:
        yield app, url + "/v1"


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


@pytest.fixture
def admin(server: Running) -> Iterator[Api]:
    api = Api(server, server.make_user("root", "admin"))
    yield api
    api.http.close()


def add_lab(admin: Api, url: str, **fields: object) -> int:
    created = admin.ok("POST", "/api/config/providers",
                       {"name": "lab", "kind": "openai", "base_url": url, **fields}, 201)
    pid: int = created["id"]
    return pid


def test_key_only_ever_shows_its_mask(
    admin: Api, server: Running, vendor: tuple[FakeVendor, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _, url = vendor
    user = Api(server, server.make_user("alice"), admin.seen)
    pid = add_lab(admin, url, api_key=KEY)
    view = admin.ok("GET", f"/api/config/providers/{pid}")
    assert view["key"]["masked"] == "\u2026L4ST" and view["key"]["last4"] == "L4ST"
    assert view["configured"] is True and view["key"]["expires_at"] is None

    set_wrong = admin.ok("POST", "/api/providers/lab/key",
                         {"api_key": WRONG, "expires_at": "2099-01-31T00:00:00Z"})
    assert set_wrong["key"]["masked"] == "\u2026BAD9"
    assert set_wrong["key"]["expires_at"].startswith("2099-01-31T00:00:00")
    failed = admin.ok("POST", f"/api/providers/{pid}/test")
    assert failed["ok"] is False and "Incorrect API key" in failed["message"]
    admin.ok("PUT", f"/api/config/providers/{pid}", {"api_key": KEY})
    assert admin.ok("POST", "/api/providers/lab/test")["ok"] is True
    for path in ("/api/providers", "/api/config/providers", f"/api/config/providers/{pid}",
                 "/api/model-registry", "/api/models", "/api/providers/lab/status"):
        admin.ok("GET", path)
        if not path.startswith("/api/config/"):  # configuration: admins only (item 6)
            user.ok("GET", path)

    assert len(admin.seen) > 15
    for body in admin.seen:
        assert KEY not in body and WRONG not in body
        assert "RESTgoodKEY" not in body and "RESTwrongKEY" not in body
    assert "RESTgoodKEY" not in caplog.text and "RESTwrongKEY" not in caplog.text
    audit = server.query("SELECT action, details FROM audit_log WHERE action LIKE "
                         "'provider.key%' ORDER BY id")
    assert [a for a, _ in audit] == ["provider.key.set"] * 3
    assert "2099-01-31" in str(audit[1][1])  # the expiry is part of setting the key
    rows = server.query("SELECT * FROM providers") + server.query("SELECT * FROM provider_keys")
    assert "RESTgoodKEY" not in repr(rows + audit) and "RESTwrongKEY" not in repr(rows + audit)
    user.http.close()


def test_connection_ok_and_failing_is_recorded(
    admin: Api, vendor: tuple[FakeVendor, str]
) -> None:
    app, url = vendor
    pid = add_lab(admin, url)
    admin.ok("POST", f"/api/providers/{pid}/key", {"api_key": KEY})
    ok = admin.ok("POST", "/api/providers/lab/test")
    assert app.last.path == "/v1/models"
    assert app.last.headers["authorization"] == f"Bearer {KEY}"
    assert ok["ok"] is True and isinstance(ok["latency_ms"], int) and ok["latency_ms"] >= 0
    assert "3 models" in ok["message"]
    assert ok["status"]["state"] == "ok" and ok["status"]["error"] is None
    assert ok["status"]["checked_at"] and ok["status"]["latency_ms"] == ok["latency_ms"]
    status = admin.ok("GET", "/api/providers/lab/status")
    assert status.pop("breakers") == [CLOSED]  # no call yet: the instance's, closed
    assert status == ok["status"]
    assert admin.ok("GET", f"/api/providers/{pid}/status") == {**ok["status"],
                                                                "breakers": [CLOSED]}

    admin.ok("POST", "/api/providers/lab/key", {"api_key": WRONG})
    reset = admin.ok("GET", "/api/providers/lab/status")
    assert reset["state"] == "unknown"  # a new key has not been tested yet
    bad = admin.ok("POST", "/api/providers/lab/test")
    assert bad["ok"] is False and bad["status"]["state"] == "error"
    assert "Incorrect API key" in bad["message"] and WRONG not in bad["message"]
    assert bad["status"]["error"] == bad["message"]
    assert isinstance(bad["status"]["latency_ms"], int)
    listed = {p["name"]: p for p in admin.ok("GET", "/api/providers")}
    assert listed["lab"]["status"] == bad["status"]
    assert listed["lab"]["key"]["masked"] == "\u2026BAD9"
    assert set(listed["lab"]) == {"id", "name", "kind", "display_name", "image_url",
                                  "base_url", "enabled", "configured", "usable", "key",
                                  "status"}


def test_remove_key(admin: Api, server: Running, vendor: tuple[FakeVendor, str]) -> None:
    _, url = vendor
    pid = add_lab(admin, url, api_key=KEY)
    admin.ok("POST", f"/api/providers/{pid}/test")
    removed = admin.ok("DELETE", "/api/providers/lab/key")
    assert removed["key"] is None and removed["configured"] is False
    assert removed["status"]["state"] == "unknown"
    assert server.query(f"SELECT id FROM provider_keys WHERE provider_id = {pid}") == []
    test = admin.ok("POST", "/api/providers/lab/test")  # no key: fails clearly, no call
    assert test["ok"] is False and "OPENAI_API_KEY" in test["message"]
    assert test["status"]["state"] == "error"


def test_import_models_from_the_vendor_list(
    admin: Api, vendor: tuple[FakeVendor, str]
) -> None:
    app, url = vendor
    created = admin.ok("POST", "/api/config/providers",
                       {"name": "lab", "kind": "openai", "base_url": url, "api_key": KEY}, 201)
    pid = created["id"]
    # Issue 11, item 7: a provider added with its key shows its models at once.
    assert app.last.path == "/v1/models"
    assert created["discovery"] == {"ok": True, "added": 3,
                                    "message": "3 model(s) found for lab"}
    assert created["model_count"] == 3  # chat models only: gpt-4o, gpt-4o-mini, o3-mini
    models = admin.ok("GET", f"/api/config/models/provider/{pid}")
    mine = next(m for m in models if m["model_sdk_id"] == "gpt-4o")
    admin.ok("PUT", f"/api/config/models/{mine['id']}", {"name": "Mine"})
    o3 = next(m for m in models if m["model_sdk_id"] == "o3-mini")
    admin.ok("DELETE", f"/api/config/models/{o3['id']}", status=204)

    result = admin.ok("POST", f"/api/config/providers/{pid}/import-models")
    assert result["imported"] == 0 and result["updated"] == 0
    refs = sorted(m["ref"] for m in result["models"])
    assert refs == ["lab:gpt-4o", "lab:gpt-4o-mini"]  # a deleted model is not brought back
    mine = next(m for m in result["models"] if m["model_sdk_id"] == "gpt-4o")
    assert mine["name"] == "Mine"  # what the admin set is kept
    mini = next(m for m in result["models"] if m["model_sdk_id"] == "gpt-4o-mini")
    assert mini["price"]["input"] is not None and mini["is_enabled"] is True
    assert admin.ok("GET", f"/api/config/providers/{pid}")["removed_models"] == ["o3-mini"]


def test_first_key_discovers_models_and_an_unreachable_vendor_is_reported(
    admin: Api, vendor: tuple[FakeVendor, str]
) -> None:
    _, url = vendor
    pid = add_lab(admin, url)
    assert admin.ok("GET", f"/api/config/providers/{pid}")["model_count"] == 0
    saved = admin.ok("POST", f"/api/providers/{pid}/key", {"api_key": KEY})
    assert saved["discovery"]["ok"] is True and saved["model_count"] == 3
    again = admin.ok("POST", f"/api/providers/{pid}/key", {"api_key": KEY})
    assert "discovery" not in again  # only a provider's first models are fetched for it

    dead = admin.ok("POST", "/api/config/providers", {
        "name": "dead", "kind": "openai", "base_url": "http://127.0.0.1:9/v1",
        "api_key": WRONG}, 201)
    assert dead["discovery"]["ok"] is False and dead["model_count"] == 0
    assert dead["key"]["last4"] == "BAD9"  # the key is kept; importing can be retried
    assert WRONG not in str(dead)


def test_import_with_a_refused_key_is_a_clear_error(
    admin: Api, server: Running, vendor: tuple[FakeVendor, str]
) -> None:
    _, url = vendor
    pid = add_lab(admin, url, api_key=WRONG)
    before = catalog_tables(server)
    error = error_of(admin.post(f"/api/config/providers/{pid}/import-models"), 502)
    assert "Incorrect API key" in error["message"] and WRONG not in error["message"]
    assert catalog_tables(server) == before
    admin.ok("DELETE", f"/api/providers/{pid}/key")
    error = error_of(admin.post(f"/api/config/providers/{pid}/import-models"), 409)
    assert "OPENAI_API_KEY" in error["message"]


def test_bad_key_requests_change_nothing(
    admin: Api, server: Running, vendor: tuple[FakeVendor, str]
) -> None:
    _, url = vendor
    add_lab(admin, url, api_key=KEY)
    before = catalog_tables(server)
    cases = [
        ({"api_key": WRONG, "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"api_key": ""}, "api_key"),
        ({"api_key": "sk-has spaces-0123456789"}, "api_key"),
        ({"api_key": WRONG, "expires_at": "soon"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00Z"}, "api_key"),
        ({"api_key": WRONG, "note": "x"}, "note"),
    ]
    for body, field in cases:
        error = error_of(admin.post("/api/providers/lab/key", body), 422)
        assert error["field"] == field, (body, error)
        assert WRONG not in error["message"]
    missing = error_of(admin.post("/api/providers/nope/key", {"api_key": WRONG}), 404)
    assert "lab" in missing["message"]  # lists the providers that exist
    error_of(admin.post("/api/providers/9999/test"), 404)
    error_of(admin.get("/api/providers/nope/status"), 404)
    assert catalog_tables(server) == before


def test_plain_user_reads_status_but_cannot_touch_keys(
    admin: Api, server: Running, vendor: tuple[FakeVendor, str]
) -> None:
    _, url = vendor
    add_lab(admin, url, api_key=KEY)
    user = Api(server, server.make_user("alice"))
    assert user.ok("GET", "/api/providers/lab/status")["state"] == "unknown"
    before = catalog_tables(server)
    for method, path in (("POST", "/api/providers/lab/key"), ("DELETE", "/api/providers/lab/key"),
                         ("POST", "/api/providers/lab/test")):
        r = user.http.request(method, path, json={"api_key": WRONG})
        assert error_of(r, 403)["code"] == "forbidden"
    assert catalog_tables(server) == before
    user.http.close()


def test_key_pool_over_rest(admin: Api, server: Running,
                            vendor: tuple[FakeVendor, str]) -> None:
    """Decision 0066: list, add, switch and retire keys; only admins; never the key."""
    _, url = vendor
    pid = add_lab(admin, url, api_key=KEY)
    user = Api(server, server.make_user("bob"), admin.seen)
    assert user.http.get("/api/providers/lab/keys").status_code == 403
    assert user.http.post("/api/providers/lab/keys", json={"api_key": WRONG}).status_code == 403

    listed = admin.ok("GET", "/api/providers/lab/keys")
    assert listed["provider"] == "lab"
    assert [(k["label"], k["masked"], k["state"], k["in_flight"]) for k in listed["keys"]] == [
        ("default", "\u2026L4ST", "active", 0)]
    added = admin.ok("POST", f"/api/providers/{pid}/keys",
                     {"api_key": WRONG, "label": "spare", "weight": 2, "rpm": 60,
                      "expires_at": "2099-01-31T00:00:00Z"}, 201)
    assert added["label"] == "spare" and added["masked"] == "\u2026BAD9"
    assert added["weight"] == 2 and added["rpm"] == 60 and added["tpm"] is None

    bad = admin.http.post("/api/providers/lab/keys", json={"api_key": WRONG, "weight": 0})
    assert error_of(bad, 422)["field"] == "weight"
    taken = admin.http.post("/api/providers/lab/keys", json={"api_key": WRONG,
                                                              "label": "spare"})
    assert taken.status_code == 409 and "already has a key labelled" in taken.text

    off = admin.ok("PATCH", f"/api/providers/lab/keys/{added['id']}", {"enabled": False})
    assert off["state"] == "disabled" and off["enabled"] is False
    unlimited = admin.ok("PATCH", "/api/providers/lab/keys/spare", {"rpm": None})
    assert unlimited["rpm"] is None and unlimited["weight"] == 2
    assert admin.http.patch("/api/providers/lab/keys/nope",
                            json={"enabled": True}).status_code == 404

    retired = admin.ok("DELETE", "/api/providers/lab/keys/default")
    assert retired["label"] == "default"
    left = admin.ok("GET", "/api/providers/lab/keys")["keys"]
    assert [k["label"] for k in left] == ["spare"]
    view = admin.ok("GET", f"/api/config/providers/{pid}")
    assert view["configured"] is False  # its one key left is switched off

    audit = server.query("SELECT action FROM audit_log WHERE action LIKE 'provider.key%' "
                         "ORDER BY id")
    assert [a for (a,) in audit] == ["provider.key.set", "provider.key.add",
                                     "provider.key.update", "provider.key.update",
                                     "provider.key.retire"]
    for body in admin.seen:
        assert KEY not in body and WRONG not in body and "RESTwrongKEY" not in body
    user.http.close()
