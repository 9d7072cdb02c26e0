"""``switchboard chat -m <vendor>:<model>`` against each vendor's wire format, configured
ONLY through the variables the vendor's own SDK reads (``<VENDOR>_API_KEY``,
``<VENDOR>_BASE_URL``), through ``main()`` in-process with each run's own environment
(``tests/cli/run.py``; ``tests/cli/test_chat_cli.py`` proves the real program starts).

The CLI opens the database-backed registry in ``SWITCHBOARD_DATA_DIR`` (set per test by
``tests/conftest.py``): the first run seeds each vendor's provider row, enabled when its
key variable is set, and the row (which stores no key and no base URL) falls back to the
environment when the adapter is called.

What differs per vendor is only where things land on the wire, spelled out in ``Vendor``
below in each vendor's own field names.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from switchboard.cli.chat import format_cost
from switchboard.cli.main import main
from switchboard.pricing import lookup
from tests.cli.run import run_main as run_cli
from tests.fakes import anthropic as fake_anthropic
from tests.fakes import gemini as fake_gemini
from tests.fakes import mistral as fake_mistral
from tests.fakes import openai as fake_openai
from tests.fakes.script import Fail, Received, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_B64 = base64.b64encode(PNG).decode()
PNG_DATA_URL = f"data:image/png;base64,{PNG_B64}"
KEY = "sk-vendor-cli-secret-0123456789"
# A model id no price table lists: routable as 'provider:model', its cost is unknown.
UNPRICED = "switchboard-test-unpriced-model"

Body = dict[str, Any]


@dataclass(frozen=True)
class Vendor:
    fake: ModuleType  # tests/fakes/<kind>.py
    env: str  # the SDK's variable prefix: OPENAI -> OPENAI_API_KEY, OPENAI_BASE_URL
    # What the SDK's base URL means: OpenAI's includes the API version, the others are
    # the host root (the adapter adds /v1 or /v1beta itself).
    base_suffix: str
    auth: Callable[[Received], str | None]  # the key as the vendor's auth header carries it
    system: Callable[[Body], Any]
    temperature: Callable[[Body], Any]
    max_tokens: Callable[[Body], Any]
    user_parts: Callable[[Body], list[Any]]  # the parts of the (only) user message
    image_part: Any  # PNG as that vendor's image part

    @property
    def kind(self) -> str:
        return str(self.fake.KIND)

    @property
    def model(self) -> str:
        return str(self.fake.MODEL)


def _bearer(req: Received) -> str | None:
    value = req.headers.get("authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def _first_user(messages: list[Body]) -> list[Any]:
    content = next(m for m in messages if m["role"] == "user")["content"]
    return content if isinstance(content, list) else [content]


VENDORS = [
    # https://platform.openai.com/docs/api-reference/chat/create
    Vendor(
        fake=fake_openai, env="OPENAI", base_suffix="/v1", auth=_bearer,
        system=lambda b: b["messages"][0] if b["messages"][0]["role"] == "system" else None,
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_completion_tokens"),
        user_parts=lambda b: _first_user(b["messages"]),
        image_part={"type": "image_url", "image_url": {"url": PNG_DATA_URL}},
    ),
    # https://docs.anthropic.com/en/api/messages
    Vendor(
        fake=fake_anthropic, env="ANTHROPIC", base_suffix="",
        auth=lambda r: r.headers.get("x-api-key"),
        system=lambda b: {"role": "system", "content": b["system"]} if "system" in b else None,
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_tokens"),
        user_parts=lambda b: _first_user(b["messages"]),
        image_part={"type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": PNG_B64}},
    ),
    # https://docs.mistral.ai/api/#tag/chat and https://docs.mistral.ai/capabilities/vision/
    Vendor(
        fake=fake_mistral, env="MISTRAL", base_suffix="", auth=_bearer,
        system=lambda b: b["messages"][0] if b["messages"][0]["role"] == "system" else None,
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_tokens"),
        user_parts=lambda b: _first_user(b["messages"]),
        image_part={"type": "image_url", "image_url": PNG_DATA_URL},
    ),
    # https://ai.google.dev/api/generate-content#request-body
    Vendor(
        fake=fake_gemini, env="GEMINI", base_suffix="",
        auth=lambda r: r.headers.get("x-goog-api-key") or r.query.get("key"),
        system=lambda b: (
            {"role": "system", "content": b["systemInstruction"]["parts"][0]["text"]}
            if "systemInstruction" in b else None),
        temperature=lambda b: b.get("generationConfig", {}).get("temperature"),
        max_tokens=lambda b: b.get("generationConfig", {}).get("maxOutputTokens"),
        user_parts=lambda b: next(c for c in b["contents"] if c["role"] == "user")["parts"],
        image_part={"inlineData": {"mimeType": "image/png", "data": PNG_B64}},
    ),
]


@pytest.fixture(params=VENDORS, ids=lambda v: v.kind)
def vendor(request: pytest.FixtureRequest) -> Vendor:
    chosen: Vendor = request.param
    return chosen


@pytest.fixture
def served(vendor: Vendor) -> Iterator[tuple[FakeVendor, str]]:
    """The vendor's fake on loopback, and the base URL as that vendor's SDK means it."""
    app = FakeVendor(vendor.fake.Wire())
    with serve_in_thread(app) as root:
        yield app, root + vendor.base_suffix


def env_of(vendor: Vendor, base_url: str, key: str | None = KEY) -> dict[str, str]:
    env = {f"{vendor.env}_BASE_URL": base_url}
    if key is not None:
        env[f"{vendor.env}_API_KEY"] = key
    return env


def stats_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


def expected_cost(vendor: Vendor, input_tokens: int, output_tokens: int) -> str:
    price = lookup(vendor.kind, vendor.model)
    assert price is not None, f"{vendor.kind}:{vendor.model} should be in the price catalog"
    total = (input_tokens * price.input + output_tokens * price.output) / Decimal(1_000_000)
    return format_cost(total)


# -- tests -------------------------------------------------------------------------------
def test_streams_with_options_in_the_vendors_own_fields(
        vendor: Vendor, served: tuple[FakeVendor, str]) -> None:
    app, base_url = served
    app.then(Reply(chunks=["Hello", " from", " the fake"], input_tokens=1000,
                   output_tokens=50))
    done = run_cli("chat", "-m", f"{vendor.kind}:{vendor.model}", "--system", "terse",
                   "--temperature", "0.5", "--max-tokens", "99", "hello",
                   env=env_of(vendor, base_url))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hello from the fake\n"

    [req] = app.chat_requests()
    assert app.wire.is_stream(req)
    assert app.wire.model_of(req) == vendor.model
    assert vendor.auth(req) == KEY
    body = req.body
    assert vendor.system(body) == {"role": "system", "content": "terse"}
    assert vendor.temperature(body) == 0.5
    assert vendor.max_tokens(body) == 99
    assert "hello" in str(vendor.user_parts(body))

    stats = stats_line(done.stderr)
    cost = expected_cost(vendor, 1000, 50)
    assert cost.startswith("$") and cost != "$0.00"
    assert stats.startswith(
        f"{vendor.kind}:{vendor.model} · 1,000 in / 50 out tokens · {cost} · "), stats
    assert "first token" in stats
    assert KEY not in done.stderr


def test_no_stream_is_one_plain_request_and_carries_the_image(
        vendor: Vendor, served: tuple[FakeVendor, str], tmp_path: Path) -> None:
    app, base_url = served
    picture = tmp_path / "dot.png"
    picture.write_bytes(PNG)
    app.then(Reply(chunks=["one", " shot"], input_tokens=30, output_tokens=4))
    done = run_cli("chat", "--no-stream", "-m", f"{vendor.kind}:{UNPRICED}",
                   "--image", str(picture), "what is this?", env=env_of(vendor, base_url))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "one shot\n"

    assert len(app.requests) == 1
    [req] = app.chat_requests()
    assert not app.wire.is_stream(req)
    assert app.wire.model_of(req) == UNPRICED
    parts = vendor.user_parts(req.body)
    assert vendor.image_part in parts, parts
    assert "what is this?" in str(parts)

    stats = stats_line(done.stderr)
    assert stats.startswith(
        f"{vendor.kind}:{UNPRICED} · 30 in / 4 out tokens · cost unknown · "), stats
    assert "first token" not in stats


def test_a_rejected_key_exits_1_with_a_readable_error_without_the_key(
        vendor: Vendor, served: tuple[FakeVendor, str]) -> None:
    app, base_url = served
    app.then(Fail(401, f"invalid x-api-key: {KEY}", error_type="authentication_error"))
    done = run_cli("chat", "-m", f"{vendor.kind}:{vendor.model}", "hello",
                   env=env_of(vendor, base_url))
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(f"error: {vendor.kind}: HTTP 401"), done.stderr
    assert f"`switchboard keys set {vendor.kind}`" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert KEY not in done.stdout + done.stderr
    assert len(app.chat_requests()) == 1  # a 401 is not retried


def test_a_missing_key_names_the_env_var(
        vendor: Vendor, served: tuple[FakeVendor, str], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    # In-process (a local check, no subprocess needed): the same registry and data dir.
    app, base_url = served
    for name, value in env_of(vendor, base_url, key=None).items():
        monkeypatch.setenv(name, value)
    # Without its key the first run seeds the vendor disabled: enable it first.
    assert main(["providers", "update", vendor.kind, "--enable"]) == 0
    capsys.readouterr()
    assert main(["chat", "-m", f"{vendor.kind}:{vendor.model}", "hello"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        f"error: no API key for provider '{vendor.kind}' ({vendor.kind}): "
        f"set {vendor.env}_API_KEY "), err
    assert err.endswith(f"`switchboard keys set {vendor.kind}`\n")
    assert len(err.splitlines()) == 1
    assert app.requests == []  # refused before any network


def test_gemini_also_takes_its_key_from_google_api_key(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    # Google's SDK reads GOOGLE_API_KEY too; the first run must seed 'gemini' enabled.
    app = FakeVendor(fake_gemini.Wire())
    with serve_in_thread(app) as base_url:
        monkeypatch.setenv("GEMINI_BASE_URL", base_url)
        monkeypatch.setenv("GOOGLE_API_KEY", KEY)
        assert main(["chat", "-m", f"gemini:{fake_gemini.MODEL}", "hello"]) == 0
    out, err = capsys.readouterr()
    assert out == "Hello, world!\n", err
    [req] = app.chat_requests()
    assert req.headers.get("x-goog-api-key") == KEY
