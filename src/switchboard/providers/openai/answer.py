"""The envelope of OpenAI's one-shot JSON answers that carry a ``data`` list (embeddings,
images): checked once here, so each parser reads only its own items.

https://platform.openai.com/docs/api-reference/embeddings/object
https://platform.openai.com/docs/api-reference/images/object
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from switchboard.spec import StreamBrokenError
from switchboard.upstream.errors import error_from_event

Broken = Callable[[str], StreamBrokenError]


def data_items(body: Any, expected: int, *, what: str, counted: str, provider: str,
               request_id: str | None, secrets: tuple[str, ...] = ()
               ) -> tuple[list[Any], Broken]:
    """``body["data"]`` when ``body`` is an object holding exactly ``expected`` items, and
    the maker of this answer's errors (``"<instance>: <what> response <why>"``); a vendor
    error in the body is raised as the vendor's error, anything else as a broken answer
    naming the instance — never a silent miscount. ``counted`` says what was expected,
    with ``{expected}`` in it ("vectors for {expected} inputs")."""

    def broken(why: str) -> StreamBrokenError:
        return StreamBrokenError(f"{provider}: {what} response {why}", provider=provider,
                                 request_id=request_id, secrets=secrets)

    if not isinstance(body, dict):
        raise broken("is not a JSON object")
    if body.get("error"):
        raise error_from_event(provider, body, request_id=request_id, secrets=secrets)
    data = body.get("data")
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else "no"
        raise broken(f"holds {got} {counted.format(expected=expected)}")
    return data, broken
