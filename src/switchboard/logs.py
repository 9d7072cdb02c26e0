"""Logging setup: JSON lines on stderr, one object per record, with ``extra`` fields.

JSON so that log shippers can index fields (status, duration, request id) without
parsing prose. Records never carry secrets, at any level: the access log omits query
strings, headers and bodies; errors built from vendor responses are redacted at the
source (every ``ProviderError`` applies ``spec.redaction.redact`` when it is built); the
database drivers' loggers stay at WARNING (their DEBUG lines carry SQL parameters and
rows), and the engine hides parameters from its exceptions (``hide_parameters``).
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

# Loggers that would print SQL parameters or result rows at DEBUG, and their floor.
QUIET_DRIVERS = ("aiosqlite", "asyncpg", "sqlalchemy")
DRIVER_LEVEL = "WARNING"

# Standard LogRecord attributes, plus uvicorn's ANSI-coloured duplicate of the message.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        # orjson: this runs once per request at the default level (the access log).
        return orjson.dumps(data, default=str).decode()


def configure(level: str = "info") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dict (also handed to uvicorn)."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json",
                                "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn.access": {"level": "WARNING"},  # our own access log replaces it
            "uvicorn.error": {"level": level.upper()},
            # Database drivers never log below INFO, whatever the level (decision 0016):
            # aiosqlite's DEBUG lines repeat every statement with its parameters and
            # results (CSRF tokens, token and password hashes, key ciphertexts), and
            # SQLAlchemy's statement/row logging would do the same.
            **{name: {"level": DRIVER_LEVEL} for name in QUIET_DRIVERS},
        },
    }


def install(level: str = "info") -> None:
    import logging.config

    logging.config.dictConfig(configure(level))
    sys.stderr.flush()
