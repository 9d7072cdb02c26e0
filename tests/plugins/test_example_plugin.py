"""The example plugin, installed for real with pip, found through its entry point, and
used from the CLI in a subprocess — next to a broken and a conflicting plugin, which are
listed as failures while everything else keeps working."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.registry import ProviderInstance, Registry
from switchboard.spec import ChatRequest, ErrorEvent, Message, collect
from tests.cli.run import run_cli
from tests.fakes.script import Fail, InBandError, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.plugins.distributions import RAISES_ON_IMPORT, provider_source, write_distribution
from tests.plugins.example_wire import Wire

EXAMPLE = Path(__file__).parent / "example_plugin"
KEY = "sk-example-secret-987654321"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site directory holding the pip-installed example plugin, a plugin that raises
    on import and one that claims the built-in kind ``offline``."""
    target = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--no-deps", "--no-build-isolation", "--no-index", "--target", str(target),
         str(EXAMPLE)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    write_distribution(target, "sbt-broken", "0.0.1", {"broken": "sbt_broken_ep:Provider"},
                       {"sbt_broken_ep": RAISES_ON_IMPORT})
    write_distribution(target, "sbt-impostor", "9.9", {"offline": "sbt_impostor:Dummy"},
                       {"sbt_impostor": provider_source("offline", "Impostor")})
    return target


@pytest.fixture
def vendor() -> Iterator[tuple[FakeVendor, str]]:
    app = FakeVendor(Wire())
    with serve_in_thread(app) as base:
        yield app, base


def plugin_env(site: Path, base_url: str = "http://127.0.0.1:9") -> dict[str, str]:
    return {"PYTHONPATH": str(site), "SWITCHBOARD_DISABLE_PLUGINS": "",
            "EXAMPLE_BASE_URL": base_url, "EXAMPLE_API_KEY": KEY}


def test_plugins_lists_the_installed_plugin_and_the_failures(site: Path) -> None:
    done = run_cli("plugins", "--json", env=plugin_env(site))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["plugins_enabled"] is True
    example = next(k for k in data["kinds"] if k["kind"] == "example")
    assert example == {
        "kind": "example", "display_name": "Example Chat API", "source": "plugin",
        "distribution": "switchboard-example", "version": "0.3.0",
        "target": "switchboard_example:ExampleProvider"}
    offline = next(k for k in data["kinds"] if k["kind"] == "offline")
    assert offline["source"] == "builtin"  # the impostor did not shadow it
    failures = {f["distribution"]: f for f in data["failures"] if f["source"] == "plugin"}
    assert failures["sbt-broken"]["reason"] == (
        "failed to import sbt_broken_ep:Provider: RuntimeError: plugin is broken on purpose")
    assert failures["sbt-impostor"]["name"] == "offline"
    assert "already provided by built-in" in failures["sbt-impostor"]["reason"]

    text = run_cli("plugins", env=plugin_env(site)).stdout
    assert "[switchboard-example 0.3.0]" in text
    assert "broken [sbt-broken 0.0.1]: failed to import" in text


def test_chat_through_the_installed_plugin(site: Path,
                                           vendor: tuple[FakeVendor, str]) -> None:
    app, base = vendor
    app.then(Reply(chunks=["plug", "in ", "works"]), Fail(429, headers={"retry-after": "0"}),
             Reply(chunks=["after ", "retry"]))
    env = plugin_env(site, base)
    done = run_cli("chat", "-m", "example:example-small", "hi", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "plugin works\n"
    assert done.stderr.splitlines()[-1].startswith(
        "example:example-small · 12 in / 7 out tokens · cost unknown · ")
    assert app.last.headers["authorization"] == f"Bearer {KEY}"
    assert app.last.body == {"model": "example-small", "stream": True,
                             "messages": [{"role": "user", "content": "hi"}]}

    done = run_cli("chat", "--no-stream", "-m", "example", "again", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "after retry\n"  # the 429 was retried by the framework
    assert len(app.chat_requests()) == 3


def test_everything_else_works_next_to_broken_plugins(site: Path) -> None:
    done = run_cli("chat", "--no-stream", "hello", env=plugin_env(site))
    assert done.returncode == 0, done.stderr
    assert done.stderr.startswith("offline:offline-chat · ")
    models = run_cli("models", "--provider", "example", "--json", env=plugin_env(site))
    assert [m["ref"] for m in json.loads(models.stdout)] == ["example:example-small"]


# -- the example adapter in-process, against its fake vendor --------------------------
@pytest.fixture
def example_kinds(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(EXAMPLE))
    yield
    sys.modules.pop("switchboard_example", None)


async def test_the_example_adapter_reports_in_band_errors_and_warnings(
        example_kinds: None, vendor: tuple[FakeVendor, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from switchboard_example import ExampleProvider  # type: ignore[import-not-found]

    app, base = vendor
    monkeypatch.setenv("EXAMPLE_BASE_URL", base)
    monkeypatch.setenv("EXAMPLE_API_KEY", KEY)
    registry = Registry([ExampleProvider], [ProviderInstance("example", "example")])
    app.then(InBandError(Reply(chunks=["a", "b"]), after=1, error_type="server_error",
                         message="boom"))
    request = ChatRequest(messages=[Message.user("hi")], seed=7)
    events = [e async for e in registry.resolve("example:example-small").stream(request)]
    result = collect(events)
    assert isinstance(events[-1], ErrorEvent)
    assert result.text == "a"
    assert "boom" in str(result.error)
    assert [w.setting for w in result.warnings] == ["seed"]
