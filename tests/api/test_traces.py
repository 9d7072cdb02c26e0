"""Traces over OTLP/HTTP to a collector on loopback (a small receiver decoding the
protobuf with ``opentelemetry-proto``): a gateway span per request and an upstream span
per attempt with the GenAI attributes; no prompt, answer or key in any attribute unless
content capture is on."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.api.chat_support import FAKE_KEY, add_provider
from tests.conftest import isolate
from tests.fakes.openai import MODEL
from tests.fakes.openai import Wire as OpenAIWire
from tests.fakes.script import Fail, Reply
from tests.fakes.server import serve_in_thread
from tests.fakes.vendor import FakeVendor
from tests.server import Running, running_server

PROMPT = "the launch code is canary-prompt-7781"
ANSWER = ["canary-", "answer-", "5512"]


class Collector:
    """An OTLP/HTTP trace receiver: every span it was sent, decoded."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.lock = threading.Lock()
        self.app = Starlette(routes=[Route("/v1/traces", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        with self.lock:
            for resource in message.resource_spans:
                for scope in resource.scope_spans:
                    self.spans.extend(scope.spans)
        return Response(b"", media_type="application/x-protobuf")

    def wait(self, count: int, timeout: float = 15.0) -> list[Span]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.spans) >= count or time.monotonic() > deadline:
                    return list(self.spans)
            time.sleep(0.05)

    def clear(self) -> None:
        with self.lock:
            self.spans.clear()


def attrs(span: Span) -> dict[str, Any]:
    return {a.key: _plain(a.value) for a in span.attributes}


def _plain(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [_plain(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@pytest.fixture(autouse=True)
def _isolated_env() -> Iterator[None]:
    yield


@pytest.fixture(scope="module")
def collector() -> Iterator[tuple[Collector, str]]:
    found = Collector()
    with serve_in_thread(found.app) as url:
        yield found, url


def _server(tmp: Any, collector_url: str, capture: bool
            ) -> Iterator[tuple[Running, FakeVendor, str]]:
    fake = FakeVendor(OpenAIWire())
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp / "sb-data")
        mp.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector_url)
        mp.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")  # milliseconds: spans leave at once
        if capture:
            mp.setenv("SWITCHBOARD_OTEL_CAPTURE_CONTENT", "on")
        with running_server() as server, serve_in_thread(fake) as url:
            yield server, fake, add_provider(server, "fakeai", "openai", url, MODEL)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, collector: tuple[Collector, str]
        ) -> Iterator[tuple[Running, FakeVendor, str]]:
    yield from _server(tmp_path_factory.mktemp("traces"), collector[1], capture=False)


def test_a_call_is_a_gateway_span_with_an_upstream_span_and_no_content(
        env: tuple[Running, FakeVendor, str], collector: tuple[Collector, str]) -> None:
    server, fake, ref = env
    spans, _ = collector
    spans.clear()
    fake.then(Reply(chunks=ANSWER, input_tokens=21, output_tokens=5))
    sdk = openai.OpenAI(base_url=server.v1, api_key=server.make_user("ada"), max_retries=0)
    stream = sdk.chat.completions.create(  # type: ignore[call-overload]
        model=ref, messages=[{"role": "user", "content": PROMPT}], stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    got = spans.wait(2)
    assert len(got) == 2, got
    gateway = next(s for s in got if s.kind == Span.SPAN_KIND_SERVER)
    upstream = next(s for s in got if s.kind == Span.SPAN_KIND_CLIENT)
    assert upstream.parent_span_id == gateway.span_id
    assert upstream.trace_id == gateway.trace_id
    assert gateway.name == f"chat {ref}" and upstream.name == f"chat {MODEL}"
    g, u = attrs(gateway), attrs(upstream)
    assert g["gen_ai.operation.name"] == "chat" and g["switchboard.surface"] == "api"
    assert g["gen_ai.request.model"] == ref and g["gen_ai.response.model"] == MODEL
    assert g["gen_ai.usage.input_tokens"] == 21 and g["gen_ai.usage.output_tokens"] == 5
    assert u["gen_ai.provider.name"] == "openai" and u["gen_ai.system"] == "openai"
    assert u["gen_ai.request.model"] == MODEL and u["gen_ai.response.model"] == MODEL
    assert u["gen_ai.usage.input_tokens"] == 21 and u["gen_ai.usage.output_tokens"] == 5
    assert u["gen_ai.response.finish_reasons"] == ["stop"]
    assert "error.type" not in u
    assert upstream.start_time_unix_nano <= upstream.end_time_unix_nano
    assert gateway.start_time_unix_nano <= upstream.start_time_unix_nano
    _no_secret_anywhere(got)


def test_a_failed_call_names_its_error_class_and_not_its_message(
        env: tuple[Running, FakeVendor, str], collector: tuple[Collector, str]) -> None:
    server, fake, ref = env
    spans, _ = collector
    spans.clear()
    fake.then(Fail(400, f"bad request with key {FAKE_KEY} and {PROMPT}"))
    sdk = openai.OpenAI(base_url=server.v1, api_key=server.make_user("bea"), max_retries=0)
    with pytest.raises(openai.BadRequestError):
        sdk.chat.completions.create(  # type: ignore[call-overload]
            model=ref, messages=[{"role": "user", "content": PROMPT}])
    got = spans.wait(2)
    assert len(got) == 2, got
    for span in got:
        assert attrs(span)["error.type"] == "bad_request"
        assert span.status.code == span.status.STATUS_CODE_ERROR
    _no_secret_anywhere(got)


def _no_secret_anywhere(spans: list[Span]) -> None:
    for span in spans:
        text = span.name + repr(attrs(span)) + "".join(e.name for e in span.events)
        for secret in (PROMPT, "canary", FAKE_KEY, FAKE_KEY[-8:]):
            assert secret not in text, (secret, span.name)


def test_content_capture_is_an_admins_opt_in(
        tmp_path: Any, collector: tuple[Collector, str]) -> None:
    spans, url = collector
    spans.clear()
    for server, fake, ref in _server(tmp_path, url, capture=True):
        fake.then(Reply(chunks=ANSWER))
        sdk = openai.OpenAI(base_url=server.v1, api_key=server.make_user("cy"),
                            max_retries=0)
        sdk.chat.completions.create(  # type: ignore[call-overload]
            model=ref, messages=[{"role": "user", "content": PROMPT}])
        got = spans.wait(2)
        gateway = next(s for s in got if s.kind == Span.SPAN_KIND_SERVER)
        upstream = next(s for s in got if s.kind == Span.SPAN_KIND_CLIENT)
        assert PROMPT in attrs(gateway)["gen_ai.input.messages"]
        assert "canary-answer-5512" in attrs(upstream)["gen_ai.output.messages"]
        assert FAKE_KEY not in repr(attrs(gateway)) + repr(attrs(upstream))


def test_a_callers_traceparent_is_continued(
        env: tuple[Running, FakeVendor, str], collector: tuple[Collector, str]) -> None:
    """A request carrying a W3C ``traceparent`` gets its gateway span in the caller's
    trace, as a child of the caller's span; a malformed one starts a new trace."""
    server, fake, ref = env
    spans, _ = collector
    trace_id, span_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    sdk = openai.OpenAI(base_url=server.v1, api_key=server.make_user("tia"), max_retries=0)
    for header in (f"00-{trace_id}-{span_id}-01", f"00-{trace_id.upper()}-{span_id}-01"):
        spans.clear()
        fake.then(Reply(chunks=ANSWER))
        sdk.chat.completions.create(model=ref, messages=[{"role": "user", "content": "hi"}],  # type: ignore[call-overload]
                                    extra_headers={"traceparent": header})
        got = spans.wait(2)
        assert len(got) == 2, got
        gateway = next(s for s in got if s.kind == Span.SPAN_KIND_SERVER)
        upstream = next(s for s in got if s.kind == Span.SPAN_KIND_CLIENT)
        assert upstream.trace_id == gateway.trace_id
        assert upstream.parent_span_id == gateway.span_id
        continued = gateway.trace_id == bytes.fromhex(trace_id)
        assert continued is (header[3:35] == trace_id), header
        assert gateway.parent_span_id == (bytes.fromhex(span_id) if continued else b"")
