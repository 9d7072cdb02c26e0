"""One error tree for every provider.

Adapters raise these (the mapping from HTTP lives in ``switchboard.upstream.errors``);
surfaces translate them into their own convention (OpenAI's error shape on ``/v1``).
Messages never contain a credential: an error is built from the vendor's *response*, the
request's headers are never copied into it, and a ``ProviderError`` passes every string
it carries (message, vendor type and code, param, request id) through
``spec.redaction.redact`` when it is built — with the key of the call when the adapter
passes ``secrets=`` — so whatever a vendor echoes back, no surface (``/v1``, ``/api``, the
CLI, logs, saved messages) can show a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import ClassVar

from switchboard.spec.redaction import redact, redact_optional
from switchboard.spec.usage import Usage

# Bounds on what a vendor can make us carry around, repeat and store: its message, and
# its short identifiers (type, code, param, request id).
MAX_MESSAGE = 4000
MAX_FIELD = 200


class SwitchboardError(Exception):
    """Base of every error this package raises on purpose."""

    code: ClassVar[str] = "error"
    call_headers: Mapping[str, str] = MappingProxyType({})
    """Headers the call had earned before it failed, for the error response to carry:
    the admission grants' ``x-ratelimit-*`` (set by ``services.pipeline`` when a call
    fails after admission; OpenAI sends them on every response, errors included)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def redact(self, secrets: Iterable[str | None]) -> None:
        """Remove ``secrets`` from everything this error would show (in place)."""
        self.message = redact(self.message, secrets)
        self.args = (self.message,)


class ConfigurationError(SwitchboardError):
    """Something the operator must set up (a key, a base URL) is missing or wrong."""

    code = "configuration_error"


class MissingApiKeyError(ConfigurationError):
    code = "missing_api_key"


class UnknownProviderError(SwitchboardError):
    code = "unknown_provider"


class UnknownModelError(SwitchboardError):
    code = "model_not_found"


class InvalidRequestError(SwitchboardError):
    """The request itself is wrong (caught before any network call)."""

    code = "invalid_request"

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class ProviderError(SwitchboardError):
    """An upstream vendor said no, or could not be reached.

    ``status`` is the HTTP status (None for transport failures), ``vendor_type`` and
    ``vendor_code`` what the vendor's error body said, ``request_id`` the vendor's request
    id header, and ``retryable`` whether the one retry policy may try again.
    """

    code = "provider_error"
    default_retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status: int | None = None,
        vendor_type: str | None = None,
        vendor_code: str | None = None,
        param: str | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
        secrets: Iterable[str | None] = (),
    ) -> None:
        """``secrets``: the credentials of the call (its API key), removed from every
        string here in any spelling; never stored on the error."""
        secrets = tuple(secrets)
        super().__init__(redact(message, secrets)[:MAX_MESSAGE])
        self.provider = provider
        self.status = status
        self.vendor_type = vendor_type
        self.vendor_code = vendor_code
        self.param = param
        self.request_id = request_id
        self._redact_fields(secrets)
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    def redact(self, secrets: Iterable[str | None]) -> None:
        secrets = tuple(secrets)
        super().redact(secrets)
        self._redact_fields(secrets)

    def _redact_fields(self, secrets: tuple[str | None, ...]) -> None:
        self.vendor_type = _field(self.vendor_type, secrets)
        self.vendor_code = _field(self.vendor_code, secrets)
        self.param = _field(self.param, secrets)
        self.request_id = _field(self.request_id, secrets)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, "
            f"status={self.status!r}, vendor_code={self.vendor_code!r})"
        )


def _field(value: str | None, secrets: tuple[str | None, ...]) -> str | None:
    """A vendor identifier, redacted and bounded; printable ASCII only, as it may become
    an HTTP header (``x-upstream-request-id``)."""
    text = redact_optional(value, secrets)
    if text is None:
        return None
    return "".join(c if " " <= c <= "~" else "?" for c in text[:MAX_FIELD]) or None


class AuthenticationError(ProviderError):
    code = "authentication_error"


class PermissionDeniedError(ProviderError):
    code = "permission_denied"


class NotFoundError(ProviderError):
    code = "not_found"


class BadRequestError(ProviderError):
    code = "bad_request"


class ContextLengthError(BadRequestError):
    code = "context_length_exceeded"


class RateLimitError(ProviderError):
    code = "rate_limited"
    default_retryable = True


class OverloadedError(ProviderError):
    code = "overloaded"
    default_retryable = True


class ServerError(ProviderError):
    code = "server_error"
    default_retryable = True


class UpstreamTimeoutError(ProviderError):
    code = "timeout"
    default_retryable = True


class UpstreamConnectionError(ProviderError):
    code = "connection_error"
    default_retryable = True


class NoImageError(ProviderError):
    """An image call's model answered without a picture (a chat model that draws,
    Gemini's image models, may answer only text: a refusal, a question back). The
    upstream did not deliver what was asked: a 502 on ``/v1``. Not retried: asking again
    is paid again and a refusal would be repeated (decision 0194)."""

    code = "no_image"
    usage: Usage | None = None
    """What the answer without a picture counted (its words are billed): the usage row
    records it, priced at the model's token prices."""


class StreamBrokenError(ProviderError):
    """The stream ended or failed after it had started; never retried."""

    code = "stream_broken"
