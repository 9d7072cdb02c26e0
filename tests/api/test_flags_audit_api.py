"""``/api/flags`` and ``/api/audit`` on a real server: an admin turns image generation
off and ``/v1/images/generations`` refuses in OpenAI's shape; the change is an audit row
with the admin, the address and the request id; the trail verifies, filters and exports
as formula-safe CSV; ``switchboard audit verify`` and ``flags`` work in-process."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import httpx
import openai
import pytest

from switchboard.cli.main import main
from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def client(server: Running, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"authorization": f"Bearer {token}"})


def test_kill_switch_audit_and_export(server: Running, capsys: pytest.CaptureFixture[str]
                                      ) -> None:
    admin = client(server, server.make_user("root", role="admin"))
    member_token = server.make_user("alice")
    member = client(server, member_token)
    assert member.get("/api/flags").status_code == 403
    listed = admin.get("/api/flags").json()["flags"]
    assert {f["name"]: f["mode"] for f in listed}["image_generation"] == "on"

    sdk = openai.OpenAI(base_url=server.url + "/v1", api_key=member_token, max_retries=0)
    with pytest.raises(openai.BadRequestError):  # on: the request reaches the route
        sdk.images.generate(model="offline:none", prompt="a cat", n=0)

    put = admin.put("/api/flags/image_generation", json={"mode": "off"},
                    headers={"x-request-id": "req-kill-1"})
    assert put.status_code == 200, put.text
    assert put.json()["mode"] == "off" and put.json()["updated_by"] == "root"
    with pytest.raises(openai.PermissionDeniedError) as refused:
        sdk.images.generate(model="offline:none", prompt="a cat")
    assert refused.value.code == "feature_disabled"

    bad = admin.put("/api/flags/image_generation", json={"mode": "rollout", "percent": 300})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "percent"
    assert admin.put("/api/flags/nope", json={"mode": "off"}).status_code == 404
    assert admin.put("/api/flags/image_generation",
                     json={"mode": "rollout", "users": ["alice"]}).status_code == 200
    sdk_ok = sdk.with_options()  # alice is on the allow-list: the route is reached again
    with pytest.raises(openai.BadRequestError):
        sdk_ok.images.generate(model="offline:none", prompt="a cat", n=0)

    rows = admin.get("/api/audit", params={"action": "flag"}).json()["entries"]
    assert [r["details"]["after"]["mode"] for r in rows] == ["rollout", "off"]
    kill = rows[1]
    assert (kill["actor"], kill["target_id"], kill["request_id"], kill["address"]) == (
        "root", "image_generation", "req-kill-1", "127.0.0.1")
    assert member.get("/api/audit").status_code == 403
    assert admin.get("/api/audit", params={"limit": 0}).status_code == 422

    verdict = admin.get("/api/audit/verify").json()
    assert verdict["ok"] is True and verdict["checked"] >= 2

    # a target a spreadsheet would run as a formula is exported as text
    assert admin.put("/api/flags/mcp", json={"mode": "off"},
                     headers={"x-request-id": "req-2"}).status_code == 200
    export = admin.get("/api/audit/export.csv", params={"target_type": "flag"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(export.text)))
    assert [r["target_id"] for r in table] == ["mcp", "image_generation", "image_generation"]
    assert "attachment" in export.headers["content-disposition"]
    assert admin.get("/api/audit", params={"action": "audit.export"}).json()["entries"]

    assert main(["audit", "verify"]) == 0
    assert "audit trail intact" in capsys.readouterr().out
    assert main(["flags", "set", "mcp", "--percent", "10", "--roles", "admin"]) == 0
    assert "rollout: 10% of users; roles admin" in capsys.readouterr().out
    assert main(["flags", "list"]) == 0
    assert "image_generation   rollout: 0% of users; users alice" in capsys.readouterr().out
