"""``spec.redaction`` and the ``ProviderError`` that applies it to every string it holds
(issue 10 item 2). The end-to-end proof over every surface is
``tests/security_review/test_canary_key.py``; these pin the rules themselves."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_plus

import orjson
import pytest

from switchboard.providers.anthropic.convert_response import (
    convert_response as anthropic_response,
)
from switchboard.providers.anthropic.convert_stream import StreamConverter as AnthropicStream
from switchboard.providers.gemini.convert_stream import ResponseConverter as GeminiStream
from switchboard.providers.mistral.convert_response import response_events as mistral_response
from switchboard.providers.mistral.convert_stream import StreamConverter as MistralStream
from switchboard.providers.openai.convert_response import convert_response as openai_response
from switchboard.providers.openai.convert_stream import StreamConverter as OpenAIStream
from switchboard.spec import ErrorEvent, ProviderError, ServerError, StreamEvent
from switchboard.spec.redaction import REDACTED, redact
from switchboard.upstream.errors import error_from_event, error_from_response
from tests.fakes.echo import REQUEST_ID_HEADERS, error_body, key_forms

KEY = "cnry+Vq8/Kx3=Lm5~Wp2Jd6Qz7v"


def _shown(error: ProviderError) -> str:
    """Everything an error can show: its fields, str, repr and args."""
    return " | ".join(str(x) for x in (error.message, error.vendor_type, error.vendor_code,
                                       error.param, error.request_id, str(error),
                                       repr(error), error.args))


def _clean(text: str) -> bool:
    return not any(form in text for form in key_forms(KEY).values()) and KEY[:8] not in text


@pytest.mark.parametrize("text", [
    f"bad key {KEY}",
    f"bad key {quote(KEY, safe='')}",
    f"bad key {quote_plus(KEY)}",
    f"bad key {json.dumps(KEY)}",
    f"key={KEY[:9]}",  # truncated
    f"key {KEY[:8]}...{KEY[-4:]} refused",
    f"key {KEY[:4]}{'*' * 20}{KEY[-4:]} refused",
    f"key ****{KEY[-4:]} refused",
    f"key {KEY[:6]}\u2026 refused",
    f"glued:{KEY}:glued",
])
def test_every_spelling_of_the_secret_goes(text: str) -> None:
    out = redact(text, (KEY,))
    assert REDACTED in out and _clean(out), out


def test_ordinary_text_stays() -> None:
    text = "The model is overloaded... try again (request 5e3a****). See https://docs.x/y"
    assert redact(text, (KEY,)) == text
    assert redact("short key abc echoed", ("abc",)) == "short key abc echoed"


def test_generic_key_shapes_go_without_being_told() -> None:
    out = redact("Incorrect API key provided: sk-proj-****abcd; Bearer abcdefghijkl")
    assert "sk-proj" not in out and "abcdefghijkl" not in out


def test_a_provider_error_redacts_every_field_when_built() -> None:
    f = key_forms(KEY)
    error = ServerError(f"boom {f['whole']}", provider="p", vendor_type=f["url"],
                        vendor_code=f["masked"], param=f["starred"], request_id=f["tail"],
                        secrets=(KEY,))
    assert _clean(_shown(error)), _shown(error)
    # without the secret, the generic patterns still apply, and later redaction works
    late = ServerError(f"boom {KEY}", provider="p", param=KEY)
    late.redact((KEY,))
    assert _clean(_shown(late)), _shown(late)


def test_vendor_strings_are_bounded_and_header_safe() -> None:
    error = ServerError("m" * 100_000, request_id="id\r\nx-evil: 1\u00e9" + "x" * 1000)
    assert len(error.message) <= 4000
    assert error.request_id is not None and len(error.request_id) <= 200
    assert all(" " <= c <= "~" for c in error.request_id)


@pytest.mark.parametrize("header", REQUEST_ID_HEADERS)
@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 503])
@pytest.mark.parametrize("kind", ["openai", "anthropic", "mistral", "gemini"])
def test_status_errors_are_clean(kind: str, status: int, header: str) -> None:
    for form in key_forms(KEY).values():
        body = orjson.dumps(error_body(kind, KEY, status))
        error = error_from_response("p", status, {header: form}, body, (KEY,))
        assert _clean(_shown(error)), _shown(error)


def _error_of(events: list[StreamEvent]) -> ProviderError:
    errors = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and isinstance(errors[0], ProviderError), events
    return errors[0]


def _in_band(kind: str) -> Any:
    return error_body(kind, KEY, None)


def test_each_stream_converter_redacts_in_band_errors_at_the_source() -> None:
    """Each converter is given the call's key, so its in-band errors are clean before
    any framework layer (``services.metering``) sees them."""
    rid = key_forms(KEY)["head"]
    openai = OpenAIStream("p", rid, None, (KEY,)).feed(json.dumps(_in_band("openai")))
    anthropic = AnthropicStream(request_id=rid, secrets=(KEY,)).feed(
        "error", json.dumps(_in_band("anthropic")))
    mistral = MistralStream(request_id=rid, secrets=(KEY,)).feed(_in_band("mistral"))
    gemini = GeminiStream(request_id=rid, secrets=(KEY,)).feed(_in_band("gemini"))
    unreadable = AnthropicStream(request_id=rid, secrets=(KEY,)).feed("x", f"not json {KEY}")
    for events in (openai, anthropic, mistral, gemini, unreadable):
        error = _error_of(events)
        assert _clean(_shown(error)), _shown(error)


def test_each_non_streaming_converter_redacts_error_bodies() -> None:
    with pytest.raises(ProviderError) as raised:
        openai_response("p", _in_band("openai"), KEY, None, (KEY,))
    assert _clean(_shown(raised.value)), _shown(raised.value)
    for events in (anthropic_response(_in_band("anthropic"), request_id=KEY, secrets=(KEY,)),
                   mistral_response(_in_band("mistral"), KEY, (KEY,))):
        error = _error_of(events)
        assert _clean(_shown(error)), _shown(error)
    error = error_from_event("p", _in_band("openai"), request_id=KEY, secrets=(KEY,))
    assert _clean(_shown(error)), _shown(error)
