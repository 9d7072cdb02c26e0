"""What ``provider_options`` may pass through to a vendor: never a field the gateway owns.

``provider_options`` is the escape hatch for vendor-only settings (Anthropic's
``thinking``, Gemini's ``safetySettings``), merged into the vendor's body by the adapter.
Merged blindly, it could also override what the gateway decided: the model (routed and
accounted as one model, sent as another), ``stream_options.include_usage`` (no usage, no
cost), the conversation itself, or the tool and output definitions the stream converter
relies on. This module is the ONE place that refuses those, for every adapter, before
the adapter runs (decision 0012):

- ``GATEWAY_OWNED``: fields no kind may take from a caller (model, streaming protocol,
  messages);
- the instance's settings: every field of the provider's ``Config`` (its key, base URL,
  headers, timeouts, quirk flags) belongs to the admin who configured it;
- ``Provider.owned_fields``: what that adapter derives from the neutral request.

A refused field is a 400 naming it (``provider_options.openai_compatible.model``).
"""

from __future__ import annotations

from switchboard.spec.errors import InvalidRequestError
from switchboard.spec.provider import Provider
from switchboard.spec.request import ChatRequest

GATEWAY_OWNED = frozenset({"model", "stream", "stream_options", "messages"})


def refused_fields(provider: Provider) -> frozenset[str]:
    """Every ``provider_options`` field refused for ``provider``."""
    return GATEWAY_OWNED | frozenset(type(provider).Config.model_fields) | provider.owned_fields


def check_provider_options(request: ChatRequest, provider: Provider) -> None:
    """Raise ``InvalidRequestError`` if ``request`` sets a gateway-owned field through
    ``provider_options`` for this provider (under its kind or its instance name)."""
    if not request.provider_options:
        return
    refused = refused_fields(provider)
    for key in provider.option_keys():
        options = request.provider_options.get(key)
        if not options:
            continue
        taken = sorted(refused.intersection(options))
        if taken:
            field = taken[0]
            raise InvalidRequestError(
                f"provider_options.{key}.{field}: '{field}' is set by Switchboard and cannot "
                f"be overridden through provider_options (refused for {provider.kind}: "
                f"{', '.join(sorted(refused))}); use the request's own fields for the "
                "model, messages, tools and output format",
                param=f"provider_options.{key}.{field}")
