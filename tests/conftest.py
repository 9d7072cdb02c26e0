"""Test isolation: no test sees the developer's real keys, data directory or plugins."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["tests.dbfixtures"]

VENDOR_ENV = (
    "OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL",
    "MISTRAL_API_KEY", "MISTRAL_BASE_URL", "GEMINI_API_KEY", "GEMINI_BASE_URL",
    "GOOGLE_API_KEY", "GROQ_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY",
    "DEEPSEEK_API_KEY", "XAI_API_KEY", "FIREWORKS_API_KEY",
    "SWITCHBOARD_DATABASE_URL", "SWITCHBOARD_SECRET_KEY", "SWITCHBOARD_REDIS_URL",
    # metrics and traces: a developer's own settings must not reach a test server
    "SWITCHBOARD_METRICS", "SWITCHBOARD_METRICS_TOKEN", "SWITCHBOARD_METRICS_USERS",
    "PROMETHEUS_MULTIPROC_DIR", "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "SWITCHBOARD_OTEL_CAPTURE_CONTENT",
)

# ../shared/specs beside the clone; a git worktree one level deeper (wt/NAME) finds the
# same folder one more level up; SWITCHBOARD_TEST_SPECS names another place.
_HERE = Path(__file__).resolve()
SPECS = Path(os.environ.get("SWITCHBOARD_TEST_SPECS") or next(
    (p / "shared" / "specs" for p in _HERE.parents[2:4] if (p / "shared" / "specs").is_dir()),
    _HERE.parents[2] / "shared" / "specs"))


def isolate(monkeypatch: pytest.MonkeyPatch, data: Path) -> None:
    """The environment every test server runs in (also used by module-scoped servers)."""
    for name in VENDOR_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SWITCHBOARD_DATA_DIR", str(data))
    monkeypatch.setenv("SWITCHBOARD_DISABLE_PLUGINS", "1")
    # Vendor fakes answer a script call by call; the title call after a first answer is
    # tested on its own (tests/api/test_chat_api.py), with titles switched back on.
    monkeypatch.setenv("SWITCHBOARD_AUTO_TITLES", "0")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    data = tmp_path / "sb-data"
    isolate(monkeypatch, data)
    yield data
