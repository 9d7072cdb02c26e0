"""``api.errors.error_response``: an error that knows when to come back says so."""

from __future__ import annotations

from switchboard.api.errors import error_response
from switchboard.security.password_pool import PasswordPoolBusy
from switchboard.spec import RateLimitError


def test_a_busy_password_pool_says_when_to_retry_on_every_route() -> None:
    response = error_response(PasswordPoolBusy(retry_after=3))
    assert response.status_code == 429
    assert response.headers["retry-after"] == "3"


def test_a_provider_rate_limit_passes_its_wait_on_rounded_up() -> None:
    response = error_response(RateLimitError("slow down", retry_after=1.2))
    assert response.status_code == 429 and response.headers["retry-after"] == "2"
    assert "retry-after" not in error_response(RateLimitError("slow down")).headers
