"""One error tree for every provider.

Adapters raise these (the mapping from HTTP lives in ``switchboard.upstream.errors``);
surfaces translate them into their own convention (OpenAI's error shape on ``/v1``).
Messages never contain a credential: an error is built from the vendor's *response*, and
the request's headers are never copied into it.
"""

from __future__ import annotations

from typing import ClassVar


class SwitchboardError(Exception):
    """Base of every error this package raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


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
    ) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status
        self.vendor_type = vendor_type
        self.vendor_code = vendor_code
        self.param = param
        self.request_id = request_id
        self.retryable = self.default_retryable if retryable is None else retryable
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, provider={self.provider!r}, "
            f"status={self.status!r}, vendor_code={self.vendor_code!r})"
        )


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


class StreamBrokenError(ProviderError):
    """The stream ended or failed after it had started; never retried."""

    code = "stream_broken"
