"""Shared helpers for the OpenAI-wire tests: a fake server per module, fixture files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.fakes.openai import Wire
from tests.fakes.script import Raw
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor

KEY = "sk-test-openai-0123456789abcdef"
PIXEL = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU"
         "5ErkJggg==")


@contextmanager
def fake_vendor(wire: Wire | None = None) -> Iterator[tuple[FakeVendor, str]]:
    vendor = FakeVendor(wire or Wire())
    with serve_in_thread(vendor) as base:
        yield vendor, base


def reset(vendor: FakeVendor) -> FakeVendor:
    vendor.requests.clear()
    vendor.script.clear()
    return vendor


def raw_sse(path: Path, request_id: str | None = "req_fixture_1") -> Raw:
    headers = {"x-request-id": request_id} if request_id else {}
    return Raw(200, path.read_bytes(), content_type="text/event-stream", headers=headers)


def raw_json(path: Path, request_id: str | None = "req_fixture_1") -> Raw:
    headers = {"x-request-id": request_id} if request_id else {}
    return Raw(200, path.read_bytes(), headers=headers)
