"""Whether a ``/v1/chat/completions`` request opts in to the server's tools (decision 0162).

Read on every request, so it lives apart from ``server_tools``, which runs the tool loop
and imports it (``services.tools.driver``, ``.loop``, ``.emulated``): a server whose
callers never send ``server_tools`` does not load the loop (issue 12, decision 0223).
"""

from __future__ import annotations

from switchboard.api.openai.wire import ChatCompletionRequest
from switchboard.spec import InvalidRequestError

PARAM = "server_tools"


def requested(body: ChatCompletionRequest) -> list[str] | None:
    """The tools the request opts in to (None: client-executed, as without the field)."""
    names = body.server_tools
    if names is None:
        return None
    if not names:
        raise InvalidRequestError("server_tools: name at least one tool, e.g. "
                                  '["calculator"] (or leave the field out)', param=PARAM)
    if body.tools:
        raise InvalidRequestError(
            "server_tools cannot be combined with tools: the server runs its own tools "
            "and cannot run yours; send one or the other", param=PARAM)
    if (body.n or 1) > 1:
        raise InvalidRequestError("server_tools takes one choice: leave n out or set it to 1",
                                  param="n")
    return names


__all__ = ["PARAM", "requested"]
