"""Budgets over REST on a real server: admins set, list and remove them; users see theirs;
bad input is the REST surface's 422/404, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.api.chat_support import client
from tests.server import Running, isolated_server


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    """The module's server isolates the environment for the whole module (it reads the
    master key file under SWITCHBOARD_DATA_DIR at request time: the env must not change
    under it), so the suite's per-test isolation is switched off here."""
    yield


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with isolated_server(tmp_path_factory, "budgets") as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: Running) -> httpx.Client:
    return client(server, server.make_user("chief", role="admin"))


def test_admins_manage_budgets_and_users_see_their_own(server: Running) -> None:
    admin = client(server, server.make_user("boss", role="admin"))
    carol = client(server, server.make_user("carol"))
    dave = client(server, server.make_user("dave"))
    carol_id = carol.get("/api/me").json()["id"]
    carol_token = carol.get("/api/tokens").json()[0]["id"]

    made = admin.post("/api/budgets", json={"scope": "user", "user_id": carol_id,
                                            "amount": "5", "period": "day"})
    assert made.status_code == 200, made.text
    body = made.json()
    assert (body["label"], body["amount"], body["spent"], body["reserved"]) == (
        "user 'carol'", "5", "0", "0")
    assert body["resets_at"].endswith("T00:00:00+00:00")
    again = admin.post("/api/budgets", json={"scope": "user", "user_id": carol_id,
                                             "amount": "$7.50", "period": "day"}).json()
    assert (again["id"], again["amount"]) == (body["id"], "7.5")  # same budget, new amount
    token_budget = admin.post("/api/budgets", json={
        "scope": "token", "api_token_id": carol_token, "amount": "1", "period": "month",
        "soft": True}).json()
    everyone = admin.post("/api/budgets", json={"scope": "global", "amount": "100",
                                                "period": "week"}).json()

    listed = admin.get("/api/budgets").json()
    assert listed["timezone"] == "UTC"
    assert {b["id"] for b in listed["budgets"]} >= {body["id"], token_budget["id"],
                                                     everyone["id"]}
    mine = carol.get("/api/me/budgets").json()["budgets"]
    assert {b["id"] for b in mine} == {body["id"], token_budget["id"], everyone["id"]}
    assert [b["id"] for b in dave.get("/api/me/budgets").json()["budgets"]] == [everyone["id"]]

    assert carol.get("/api/budgets").status_code == 403  # admins only
    assert carol.post("/api/budgets", json={"scope": "global", "amount": "1",
                                            "period": "day"}).status_code == 403
    assert admin.delete(f"/api/budgets/{everyone['id']}").status_code == 204
    assert admin.delete(f"/api/budgets/{everyone['id']}").status_code == 404
    assert [b["id"] for b in dave.get("/api/me/budgets").json()["budgets"]] == []
    audit = server.query("SELECT action FROM audit_log WHERE target_type = 'budget' "
                         "ORDER BY id")
    assert [a for (a,) in audit] == ["budget.create", "budget.update", "budget.create",
                                     "budget.create", "budget.delete"]


@pytest.mark.parametrize(("body", "status", "says"), [
    ({"scope": "global", "amount": "-1", "period": "day"}, 422, "amount"),
    ({"scope": "global", "amount": "0", "period": "day"}, 422, "more than $0"),
    ({"scope": "global", "amount": "1e3", "period": "day"}, 422, "amount"),
    ({"scope": "global", "amount": "9999999999", "period": "day"}, 422, "at most"),
    ({"scope": "global", "amount": "1", "period": "year"}, 422, "period"),
    ({"scope": "user", "amount": "1", "period": "day"}, 422, "everyone, one user"),
    ({"scope": "user", "user_id": 999999, "amount": "1", "period": "day"}, 404, "no user"),
    ({"scope": "token", "api_token_id": 999999, "amount": "1", "period": "day"}, 404,
     "no API token"),
    ({"scope": "global", "amount": "1", "period": "day", "extra": 1}, 422, "extra"),
])
def test_bad_budgets_are_refused_by_name(admin: httpx.Client, body: dict[str, object],
                                         status: int, says: str) -> None:
    response = admin.post("/api/budgets", json=body)
    assert response.status_code == status, response.text
    assert says in response.text
