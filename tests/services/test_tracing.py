"""``tracing.build_tracer``: no endpoint, no tracer (and no SDK import); an endpoint without
the ``otel`` extra installed is one warning and no tracer, never a failed start."""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from pathlib import Path

import pytest

from switchboard.config import load_settings
from switchboard.services import tracing


def test_no_endpoint_no_tracer(_isolated_env: Path) -> None:
    assert tracing.build_tracer(load_settings()) is None


def test_an_endpoint_without_the_extra_warns_and_runs_untraced(
        _isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None
                        if name.startswith("opentelemetry") else real(name, *a))
    monkeypatch.setattr(tracing, "_warned", False)
    settings = replace(load_settings(), otel_endpoint="http://127.0.0.1:4318")
    with caplog.at_level("WARNING", logger="switchboard.tracing"):
        assert tracing.build_tracer(settings) is None
    assert "switchboard[otel]" in caplog.text


def test_the_endpoint_comes_from_the_standard_variables(
        _isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    assert load_settings().otel_endpoint == "http://collector:4318"
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces")
    assert load_settings().otel_endpoint == "http://c:4318/v1/traces"
    assert load_settings().otel_capture_content is False
    monkeypatch.setenv("SWITCHBOARD_OTEL_CAPTURE_CONTENT", "on")
    assert load_settings().otel_capture_content is True


TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
SPAN = "00f067aa0ba902b7"


@pytest.mark.parametrize(("value", "expected"), [
    (f"00-{TRACE}-{SPAN}-01", (int(TRACE, 16), int(SPAN, 16), 1)),
    (f"00-{TRACE}-{SPAN}-00", (int(TRACE, 16), int(SPAN, 16), 0)),
    (f" 00-{TRACE}-{SPAN}-01\t", (int(TRACE, 16), int(SPAN, 16), 1)),  # OWS trimmed
    (f"cc-{TRACE}-{SPAN}-01-what-comes-later", (int(TRACE, 16), int(SPAN, 16), 1)),
])
def test_a_valid_traceparent_names_the_callers_span(
        value: str, expected: tuple[int, int, int]) -> None:
    assert tracing.parse_traceparent(value) == expected


@pytest.mark.parametrize("value", [
    None, "", "garbage", f"00-{TRACE}-{SPAN}", f"00-{TRACE}-{SPAN}-01-extra",
    f"ff-{TRACE}-{SPAN}-01", f"00-{'0' * 32}-{SPAN}-01", f"00-{TRACE}-{'0' * 16}-01",
    f"00-{TRACE.upper()}-{SPAN}-01", f"00-{TRACE}-{SPAN}-1", f"00_{TRACE}_{SPAN}_01",
    f"00-{TRACE}-{SPAN}-01\n", f"00-{TRACE}0-{SPAN}-01", "\u0660\u0660-" + TRACE + f"-{SPAN}-01",
    f"cc-{TRACE}-{SPAN}-01" + "-x" * 200,  # over the length bound
])
def test_anything_else_is_ignored(value: str | None) -> None:
    assert tracing.parse_traceparent(value) is None
