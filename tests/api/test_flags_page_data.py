"""What the pages get of the feature flags: the chat page's ``data-features-off`` names
the features an admin turned off for that person (and only for them), ``/api/tools``
offers no tool when the tool loop is off for the caller, and the Settings pages of a
turned-off feature say so in words."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from tests.server import Running, running_server


@pytest.fixture
def server() -> Iterator[Running]:
    with running_server() as running:
        yield running


def client(server: Running, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30,
                        headers={"authorization": f"Bearer {token}"})


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Until ``condition`` holds: a flag change reaches the snapshot within a second."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the flag change never reached the page"
        time.sleep(0.05)


def _names(http: httpx.Client) -> set[str]:
    return {t["name"] for t in http.get("/api/tools").json()["data"]}


def features_off(http: httpx.Client) -> set[str]:
    page = http.get("/")
    assert page.status_code == 200, page.text
    found = re.search(r'data-features-off="([^"]*)"', page.text)
    assert found is not None, "the page carries no data-features-off"
    return set(found.group(1).split())


def test_the_pages_know_which_features_are_off_for_whom(server: Running) -> None:
    admin = client(server, server.make_user("root", role="admin"))
    ann, bob = (client(server, server.make_user(n)) for n in ("ann", "bob"))
    assert features_off(ann) == set()
    assert ann.get("/api/tools").json()["data"], "built-in tools are offered by default"
    assert "generate_image" in _names(ann)
    assert admin.put("/api/flags/image_generation", json={"mode": "off"}).status_code == 200
    wait_for(lambda: "generate_image" not in _names(ann))  # its flag: out of the menu
    assert _names(ann), "the other tools stay"
    assert features_off(ann) == {"image_generation"}
    assert admin.put("/api/flags/image_generation", json={"mode": "on"}).status_code == 200

    for name, rule in (("comparison", {"mode": "off"}), ("auto_model", {"mode": "off"}),
                       ("tool_loop", {"mode": "rollout", "users": ["bob"]})):
        assert admin.put(f"/api/flags/{name}", json=rule).status_code == 200
    wait_for(lambda: features_off(ann) == {"comparison", "auto_model", "tool_loop"})
    assert features_off(bob) == {"comparison", "auto_model"}  # bob keeps the tool loop
    assert ann.get("/api/tools").json()["data"] == []
    assert bob.get("/api/tools").json()["data"]
    # the admin's own tools settings still list every tool, and say the loop is off
    assert admin.get("/api/tools", params={"all": "true"}).json()["data"]
    tools_page = admin.get("/settings/tools").text
    assert 'id="feature-off-note"' in tools_page and "turned off" in tools_page
    assert 'id="feature-off-note"' not in admin.get("/settings/mcp").text
    assert admin.put("/api/flags/mcp", json={"mode": "off"}).status_code == 200
    wait_for(lambda: 'id="feature-off-note"' in admin.get("/settings/mcp").text)
