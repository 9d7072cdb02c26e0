"""The opening checks of a ``/v1`` body parsed by hand (embeddings, images: each field
gets a precise OpenAI-shaped error naming it), written once: no field OpenAI does not
know, and a model named as ``provider:model``.

https://platform.openai.com/docs/api-reference/embeddings/create
https://platform.openai.com/docs/api-reference/images/create
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from switchboard.spec import InvalidRequestError


def model_ref(data: dict[str, Any], fields: Set[str], what: str) -> str:
    """The model reference of ``data`` (stripped), after refusing any field not in
    ``fields`` as OpenAI does ("Unrecognized request argument supplied"). ``what`` names
    the kind of model in the error ("embedding", "image")."""
    unknown = sorted(set(data) - fields)
    if unknown:
        raise InvalidRequestError(
            f"Unrecognized request argument supplied: {', '.join(unknown)}", param=unknown[0])
    model = data.get("model")
    if not isinstance(model, str) or not model.strip():
        raise InvalidRequestError(f"model is required: the {what} model to use, as "
                                  "'provider:model' (GET /v1/models lists them)",
                                  param="model")
    return model.strip()
