"""Auto on ``/v1`` with the official ``openai`` SDK, and its REST around it: an admin
sets a task's default, ``model="auto"`` is answered by it (the response's ``model`` and
the usage row name the real model, ``x-switchboard-auto`` says why), the tiers, the
composer's preview, and ``/v1/models`` listing auto."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.catalog_client import Api, error_of
from tests.api.test_v1_pipeline import Setup
from tests.api.test_v1_pipeline import setup as setup
from tests.fakes.script import Reply

CODE = [{"role": "user", "content": "Write a Python function that reverses a string"}]


@pytest.fixture
def admin(setup: Setup) -> Iterator[Api]:
    api = Api(setup.server, setup.server.make_user("root", "admin"))
    yield api
    api.http.close()


def test_auto_answers_with_the_task_default_and_says_why(setup: Setup, admin: Api) -> None:
    listed = admin.ok("GET", "/api/task-defaults")
    assert listed["task_types"][0] == "code" and listed["defaults"]["code"] is None
    saved = admin.ok("PUT", "/api/task-defaults",
                     {"defaults": {"code": "openai:gpt-4o-mini", "chat": None}})
    assert saved["defaults"]["code"] == "openai:gpt-4o-mini"
    assert error_of(admin.put("/api/task-defaults", json={"defaults": {"cooking": "x"}}),
                    422)
    assert admin.put("/api/task-defaults",
                     json={"defaults": {"code": "nope:nothing"}}).status_code == 404
    member = Api(setup.server, setup.token)
    assert member.put("/api/task-defaults",
                      json={"defaults": {"code": None}}).status_code == 403

    setup.oa.then(Reply(chunks=["def rev(s): ", "return s[::-1]"]))
    raw = setup.client().chat.completions.with_raw_response.create(
        model="auto", messages=CODE)  # type: ignore[arg-type]
    reply = raw.parse()
    assert reply.model == "openai:gpt-4o-mini"
    assert reply.choices[0].message.content == "def rev(s): return s[::-1]"
    assert raw.headers["x-switchboard-model"] == "openai:gpt-4o-mini"
    assert raw.headers["x-switchboard-auto"] == (
        "code -> openai:gpt-4o-mini, task default for code")
    assert setup.oa.chat_requests()[-1].body["model"] == "gpt-4o-mini"
    assert setup.usage_rows(1)[0] == ("openai", "ok", "api")

    # The preview the composer asks for while the user types: the same choice, no call.
    preview = member.ok("POST", "/api/auto/preview",
                        {"prompt": CODE[0]["content"], "model": "auto"})
    assert preview["model"] == "openai:gpt-4o-mini" and preview["task"] == "code"
    assert preview["reason"] == "code → openai:gpt-4o-mini, task default for code"
    assert member.post("/api/auto/preview", json={"prompt": "x" * 20_001}).status_code == 422

    # The user's own model for a task comes first; a bad one is refused by name.
    prefs = member.ok("PUT", "/api/me/preferences", {
        "selected_model": "auto", "settings": {"task_models": {"code": "gpt-4o"}}})
    assert prefs["selected_model"] == "auto"
    assert prefs["settings"]["task_models"] == {"code": "openai:gpt-4o"}
    bad = error_of(member.put("/api/me/preferences", json={
        "settings": {"task_models": {"code": "nope:nothing"}}}), 422)
    assert bad["field"] == "settings.task_models.code"
    preview = member.ok("POST", "/api/auto/preview", {"prompt": CODE[0]["content"]})
    assert preview["why"] == "your default for code" and preview["model"] == "openai:gpt-4o"
    member.http.close()


def test_tiers_stream_and_the_model_list(setup: Setup) -> None:
    client = setup.client()
    ids = [m.id for m in client.models.list()]
    assert {"auto", "auto:cheap", "auto:best"} <= set(ids)
    assert client.models.retrieve("auto:best").owned_by == "switchboard"

    setup.oa.then(Reply(chunks=["hi"]), Reply(chunks=["hi"]))
    for tier in ("auto:cheap", "auto:best"):
        with client.chat.completions.with_streaming_response.create(
                model=tier, messages=[{"role": "user", "content": "hello there!"}],
                stream=True) as response:
            chunks = list(response.parse())
            answered = response.headers["x-switchboard-model"]
            why = response.headers["x-switchboard-auto"]
        assert chunks[0].model == answered
        assert why.startswith(f"chat -> {answered}, ")
        assert ("cheapest" in why) if tier == "auto:cheap" else ("capable" in why)
