"""The wave's features behind their flags (issue 17 item 5, decision 0124): an admin turns
the tool loop, Auto and side-by-side comparison on for one person only; the other is
refused in each surface's own shape (the REST API's 403 ``feature_disabled``, OpenAI's
403 ``permission_error`` on ``/v1``), before anything is written or called."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.api.chat_support import client
from tests.server import Running, isolated_server


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    yield  # the module's server isolates the environment for the whole module


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with isolated_server(tmp_path_factory, "gates") as running:
        yield running


def test_features_off_for_one_person_and_on_for_another(server: Running) -> None:
    admin = client(server, server.make_user("root", role="admin"))
    off_token, on_token = server.make_user("alice"), server.make_user("bob")
    off, on = client(server, off_token), client(server, on_token)
    for name in ("tool_loop", "auto_model", "comparison"):
        put = admin.put(f"/api/flags/{name}", json={"mode": "rollout", "users": ["bob"]})
        assert put.status_code == 200, put.text

    tools = {"text": "what is 6*7?", "model": "offline:offline-chat", "tools": ["calculator"]}
    refused = off.post("/api/chat", json=tools)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "feature_disabled"
    assert off.get("/api/conversations").json()["items"] == []  # nothing written
    assert on.post("/api/chat", json=tools).status_code == 200

    sdk_off = openai.OpenAI(base_url=server.v1, api_key=off_token, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as no_auto:
        sdk_off.chat.completions.create(model="auto", messages=[
            {"role": "user", "content": "Write a Python function that adds two numbers"}])
    assert no_auto.value.code == "feature_disabled"
    sdk_on = openai.OpenAI(base_url=server.v1, api_key=on_token, max_retries=0)
    answered = sdk_on.chat.completions.create(model="auto", messages=[
        {"role": "user", "content": "Write a Python function that adds two numbers"}])
    assert answered.model != "auto"

    vote = {"answers": [1, 2], "winner": 1}
    assert off.post("/api/comparisons/vote", json=vote).status_code == 403
    # bob reaches the vote's own checks (those answers are no comparison of his)
    assert on.post("/api/comparisons/vote", json=vote).status_code in (404, 422)
