"""Issue 11, item 1, as a user types it: a first ``switchboard chat "hi"`` (no key
anywhere: the catalog is seeded), then the same user exports the vendor SDK's variables
and names an OpenAI model. The seeded ``openai`` row has no key, which makes it "not
configured", never "disabled": the environment's key makes it work at once.

Every command is ``main()`` in-process (``tests/cli/run.py``), each with its own
environment, sharing ``SWITCHBOARD_DATA_DIR`` (tests/conftest.py); the vendor is the fake
OpenAI server on loopback.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.cli.run import run_main as run_cli
from tests.fakes import openai as fake_openai
from tests.fakes.script import Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-catalog-states-0123456789abcdef"


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    app = FakeVendor(fake_openai.Wire())
    with serve_in_thread(app) as root:
        yield app, root + "/v1"


def test_first_chat_then_openai_from_the_environment(
        vendor: tuple[FakeVendor, str], monkeypatch: pytest.MonkeyPatch) -> None:
    app, base_url = vendor
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    first = run_cli("chat", "hi")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip()  # the offline model answered

    app.then(Reply(chunks=["Hello", " from OpenAI"], input_tokens=5, output_tokens=3))
    second = run_cli("chat", "-m", "openai:gpt-4o-mini", "hi",
                     env={"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base_url})
    assert "disabled" not in second.stderr
    assert second.returncode == 0, second.stderr
    assert second.stdout == "Hello from OpenAI\n"
    [request] = app.chat_requests()
    assert request.headers["authorization"] == f"Bearer {KEY}"

    # Without the key it says what is missing (not "disabled"), naming the variable.
    third = run_cli("chat", "-m", "openai:gpt-4o-mini", "hi")
    assert third.returncode != 0
    assert "OPENAI_API_KEY" in third.stderr and "disabled" not in third.stderr


def test_an_admin_switch_and_the_unlisted_setting_from_the_cli(
        vendor: tuple[FakeVendor, str]) -> None:
    app, base_url = vendor
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": base_url}
    listed = run_cli("providers", "list")
    assert listed.returncode == 0, listed.stderr
    openai_line = next(line for line in listed.stdout.splitlines()
                       if line.startswith("openai "))
    assert "needs key" in openai_line and "allowed" in openai_line

    off = run_cli("providers", "update", "openai", "--no-allow-unlisted")
    assert off.returncode == 0, off.stderr
    assert "accepts only listed models" in off.stdout
    refused = run_cli("chat", "-m", "openai:gpt-unlisted-9", "hi", env=env)
    assert refused.returncode != 0
    assert "'openai:gpt-unlisted-9' is not in the catalog" in refused.stderr
    assert not app.chat_requests()  # refused before any call

    on = run_cli("providers", "update", "openai", "--allow-unlisted")
    assert on.returncode == 0 and "passes unlisted models through" in on.stdout
    app.then(Reply(chunks=["new model"], input_tokens=1, output_tokens=2))
    passed = run_cli("chat", "-m", "openai:gpt-unlisted-9", "hi", env=env)
    assert passed.returncode == 0, passed.stderr
    assert passed.stdout == "new model\n"

    disabled = run_cli("providers", "update", "openai", "--disable")
    assert disabled.returncode == 0 and "(disabled;" in disabled.stdout
    blocked = run_cli("chat", "-m", "openai:gpt-4o-mini", "hi", env=env)
    assert blocked.returncode != 0 and "switched off by an administrator" in blocked.stderr
