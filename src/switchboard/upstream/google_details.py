"""Google's structured error details (``error.details[]``, typed by ``@type``).

Google APIs put what a client needs to retry well in the body, not in headers
(https://cloud.google.com/apis/design/errors#error_details): ``google.rpc.RetryInfo``
says how long to wait (Gemini sends no ``Retry-After``), ``google.rpc.QuotaFailure``
which quota ran out. Example (a Gemini 429, per
https://ai.google.dev/gemini-api/docs/rate-limits)::

    {"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message": "...",
               "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure",
                            "violations": [{"quotaId": "GenerateRequestsPerMinute..."}]},
                           {"@type": "type.googleapis.com/google.rpc.RetryInfo",
                            "retryDelay": "37s"}]}}
"""

from __future__ import annotations

import math
from typing import Any


def error_object(data: Any) -> dict[str, Any] | None:
    """The vendor's error object: ``data["error"]`` when it is one, else ``data`` itself."""
    if isinstance(data, list) and data:  # Gemini sometimes wraps the error in a list
        data = data[0]
    if not isinstance(data, dict):
        return None
    err = data.get("error", data)
    return err if isinstance(err, dict) else None


def _google_details(data: Any, kind: str) -> list[dict[str, Any]]:
    """The entries of a Google error's ``details`` whose ``@type`` is ``google.rpc.<kind>``."""
    err = error_object(data)
    details = err.get("details") if err is not None else None
    if not isinstance(details, list):
        return []
    return [d for d in details if isinstance(d, dict)
            and str(d.get("@type", "")).endswith(f"google.rpc.{kind}")]


def _seconds(duration: Any) -> float | None:
    """A protobuf ``Duration`` as JSON (``"12s"``, ``"1.5s"``, ``"45.837906927s"``), or
    the ``{"seconds": ..., "nanos": ...}`` object form, in seconds."""
    if isinstance(duration, str):
        text = duration.strip()
        if not text.endswith("s"):
            return None
        try:
            return float(text[:-1])
        except ValueError:
            return None
    if isinstance(duration, dict):
        seconds, nanos = duration.get("seconds", 0), duration.get("nanos", 0)
        try:
            return float(seconds) + float(nanos) / 1e9
        except (TypeError, ValueError):
            return None
    return None


def google_retry_delay(data: Any, cap: float = 60.0) -> float | None:
    """Seconds to wait from a Google error body's ``google.rpc.RetryInfo.retryDelay``."""
    for detail in _google_details(data, "RetryInfo"):
        seconds = _seconds(detail.get("retryDelay"))
        if seconds is not None and math.isfinite(seconds):
            return min(max(seconds, 0.0), cap)
    return None


def daily_quota_exhausted(data: Any) -> bool:
    """A Google 429 whose ``QuotaFailure`` names a per-day quota: retrying within seconds
    cannot help (the allowance resets in hours), so it is not retryable."""
    for detail in _google_details(data, "QuotaFailure"):
        violations = detail.get("violations")
        for violation in violations if isinstance(violations, list) else []:
            if isinstance(violation, dict) and "perday" in str(
                    violation.get("quotaId", "")).lower():
                return True
    return False
