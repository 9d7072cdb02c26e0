"""Service-level errors: what a caller did wrong, and how to fix it.

They subclass ``spec.SwitchboardError`` so every surface already prints them (the CLI as
``error: ...``); the API maps ``code`` to a status (not_found 404, conflict 409,
validation_failed 422). A service raising one of these has changed nothing: its
transaction is rolled back.
"""

from __future__ import annotations

from switchboard.spec.errors import SwitchboardError


class ServiceError(SwitchboardError):
    code = "service_error"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class ValidationFailed(ServiceError):
    code = "validation_failed"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
