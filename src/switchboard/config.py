"""Process settings, from the environment. One place, read once, cheap to import.

- ``SWITCHBOARD_DATA_DIR``: where the SQLite database and the generated master key live
  (default: ``$XDG_DATA_HOME/switchboard`` or ``~/.local/share/switchboard``).
- ``SWITCHBOARD_DATABASE_URL``: a SQLAlchemy async URL; default SQLite in the data dir.
  ``postgresql://`` and ``sqlite://`` are given their async drivers automatically.
- ``SWITCHBOARD_SECRET_KEY``: the master key(s) for provider keys at rest (see
  ``switchboard.security``); default: a key file generated in the data dir.
- ``SWITCHBOARD_REDIS_URL``: enables cross-process cache invalidation.
- ``SWITCHBOARD_BUDGET_TIMEZONE`` (``UTC``): the IANA time zone whose calendar budgets'
  days, weeks (from Monday) and months follow (``services.budget_periods``).
- ``SWITCHBOARD_MAX_BODY_MB`` (1) and ``SWITCHBOARD_MAX_CHAT_BODY_MB`` (64): the largest
  request body accepted, and the larger one of the chat calls that carry inline images
  (see ``switchboard.api.body_limit``).
- ``SWITCHBOARD_RATE_LIMITS`` (``on``): ``off`` turns every rate limit off.
  ``SWITCHBOARD_RATE_LIMITS_USER`` / ``SWITCHBOARD_RATE_LIMITS_ADMIN``: the defaults per role,
  e.g. ``rpm=120,tpm=1000000,concurrent=16`` (any subset; ``0`` or ``none``: no limit);
  overrides per role, user and token live in the database (``services.rate_limit_rules``).
- ``SWITCHBOARD_METRICS`` (``on``): ``off`` turns ``GET /metrics`` and every counter off.
  ``SWITCHBOARD_METRICS_TOKEN``: a scrape token for ``/metrics`` (besides an admin's
  credentials). ``SWITCHBOARD_METRICS_USERS`` (0): how many users per process get their own
  token and cost series (decision 0119).
- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``): traces are
  exported over OTLP/HTTP when set and the ``otel`` extra is installed;
  ``SWITCHBOARD_OTEL_CAPTURE_CONTENT`` (``off``): ``on`` puts prompts and answers on spans.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

MB = 1024 * 1024
RoleLimits = tuple[int | None, int | None, int | None]
"""Requests per minute, tokens per minute, concurrent calls; None: no limit."""
DEFAULT_RATE_LIMITS: dict[str, RoleLimits] = {
    # Generous enough that a person never meets them (a chat message is one call, a
    # long answer a few thousand tokens); they stop a runaway script or a leaked token.
    "user": (120, 1_000_000, 16),
    "admin": (600, 5_000_000, 64),
}
_LIMIT_NAMES = {"rpm": 0, "tpm": 1, "concurrent": 2}
DEFAULT_MAX_BODY_MB = 1.0
DEFAULT_MAX_CHAT_BODY_MB = 64.0


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "switchboard"


def normalise_database_url(url: str) -> str:
    """Give plain URLs their async driver (``postgresql://`` -> ``postgresql+asyncpg://``)."""
    for plain, async_ in (
        ("postgres://", "postgresql+asyncpg://"),
        ("postgresql://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return async_ + url[len(plain):]
    return url


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str | None
    redis_url: str | None
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * MB)
    max_chat_body_bytes: int = int(DEFAULT_MAX_CHAT_BODY_MB * MB)
    auto_titles: bool = True
    """Ask a new conversation's model for its title (one small, metered call)."""
    budget_timezone: str = "UTC"
    """IANA zone name: budgets' periods start at midnight there (checked on load)."""
    first_byte_deadline: float = 15.0
    """Seconds a streaming model that has a fallback has to begin its response before the
    fallback answers instead (decision 0064)."""
    rate_limits: dict[str, RoleLimits] | None = None
    """Default limits per role (None: rate limits off). ``DEFAULT_RATE_LIMITS`` unless
    the environment says otherwise."""
    sse_keep_alive: float = 15.0
    """Seconds of silence on an SSE stream (``/v1``, the web chat) after which a comment
    line is sent, so proxies do not close a connection whose model is thinking."""
    tools_fetch_allow_private: bool = False
    """Let the ``fetch_url`` tool reach private, loopback and link-local addresses
    (``SWITCHBOARD_TOOLS_FETCH_ALLOW_PRIVATE``; off: a model cannot probe the server's
    own network, decision 0095)."""
    tools_image_model: str | None = None
    """The model ``generate_image`` draws with (``SWITCHBOARD_TOOLS_IMAGE_MODEL``; None:
    the catalog's first usable image model, else the offline one; decision 0098)."""

    gc_tuning: bool = False
    """Freeze what start-up made out of the garbage collector's reach and collect the
    young generation less often (``SWITCHBOARD_GC_TUNING``; ``switchboard serve`` turns
    it on unless set; decision 0179)."""

    metrics: bool = True
    """``GET /metrics`` and the counters behind it (decision 0118)."""
    metrics_token: str | None = field(default=None, repr=False)
    """A scrape token accepted by ``/metrics`` as ``Authorization: Bearer ...``."""
    metrics_users: int = 0
    """Users per process with their own series (the rest are ``other``; 0: no user label)."""
    otel_endpoint: str | None = None
    """Where traces go (OTLP/HTTP); None: no tracing, nothing of OpenTelemetry imported."""
    otel_capture_content: bool = False
    """Put prompts and answers on spans (an admin's explicit choice; decision 0121)."""
    public_url: str = ""
    """The address people open Switchboard at (``https://ai.example.com``): alert notices
    link back to its dashboard. Empty: the links are relative."""
    alert_interval: float = 30.0
    """Seconds between two alert evaluation rounds (``services.alerts``)."""
    file_store: str = "directory"
    """Where stored files' bytes live (``SWITCHBOARD_FILE_STORE``): ``directory`` (the
    data directory) or ``database`` (the ``file_blobs`` table, which every worker on one
    PostgreSQL sees). Default: ``database`` on PostgreSQL, ``directory`` on SQLite
    (decision 0171)."""
    audit_retention_days: int = 0
    """Keep audit rows this many days (``SWITCHBOARD_AUDIT_RETENTION_DAYS``); older ones
    are deleted about once an hour behind a checkpoint, so the chain still verifies
    (``services.audit_trail.Retention``). 0: keep everything."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _megabytes(name: str, default: float) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return int(default * MB)
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        from switchboard.spec.errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a positive number of megabytes such as "
                                 f"{default:g} or 0.5, got {raw!r}")
    return int(value * MB)


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < 3600:
        from switchboard.spec.errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a number of seconds between 0 and 3600 "
                                 f"such as {default:g}, got {raw!r}")
    return value


def _role_limits(role: str, default: RoleLimits) -> RoleLimits:
    name = f"SWITCHBOARD_RATE_LIMITS_{role.upper()}"
    raw = os.environ.get(name, "").strip()
    values = list(default)
    for part in filter(None, (p.strip() for p in raw.replace(";", ",").split(","))):
        key, _, value = part.partition("=")
        index = _LIMIT_NAMES.get(key.strip().lower())
        value = value.strip().lower()
        number = 0 if value in ("none", "off") else int(value) if value.isdigit() else -1
        if index is None or number < 0 or number > 2**31 - 1:
            from switchboard.spec.errors import ConfigurationError

            raise ConfigurationError(
                f"{name} must look like rpm=120,tpm=1000000,concurrent=16 (0 or none: no "
                f"limit), got {raw!r}")
        values[index] = number or None
    return values[0], values[1], values[2]


def rate_limit_defaults() -> dict[str, RoleLimits] | None:
    """The defaults per role from the environment (None: ``SWITCHBOARD_RATE_LIMITS=off``)."""
    if os.environ.get("SWITCHBOARD_RATE_LIMITS", "on").strip().lower() in (
            "0", "false", "no", "off"):
        return None
    return {role: _role_limits(role, limits) for role, limits in DEFAULT_RATE_LIMITS.items()}


def load_settings() -> Settings:
    """Read the environment now (tests change it between cases, so no module cache)."""
    data_dir = Path(os.environ.get("SWITCHBOARD_DATA_DIR") or _default_data_dir()).expanduser()
    url = os.environ.get("SWITCHBOARD_DATABASE_URL")
    if url:
        url = normalise_database_url(url)
    else:
        url = f"sqlite+aiosqlite:///{data_dir / 'switchboard.db'}"
    return Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key=os.environ.get("SWITCHBOARD_SECRET_KEY") or None,
        redis_url=os.environ.get("SWITCHBOARD_REDIS_URL") or None,
        max_body_bytes=_megabytes("SWITCHBOARD_MAX_BODY_MB", DEFAULT_MAX_BODY_MB),
        max_chat_body_bytes=_megabytes("SWITCHBOARD_MAX_CHAT_BODY_MB",
                                       DEFAULT_MAX_CHAT_BODY_MB),
        auto_titles=os.environ.get("SWITCHBOARD_AUTO_TITLES", "1").strip().lower()
        not in ("0", "false", "no", "off"),
        budget_timezone=_timezone("SWITCHBOARD_BUDGET_TIMEZONE"),
        first_byte_deadline=_seconds("SWITCHBOARD_FIRST_BYTE_DEADLINE", 15.0),
        rate_limits=rate_limit_defaults(),
        sse_keep_alive=_seconds("SWITCHBOARD_SSE_KEEP_ALIVE", 15.0),
        tools_fetch_allow_private=os.environ.get(
            "SWITCHBOARD_TOOLS_FETCH_ALLOW_PRIVATE", "").strip().lower()
        in ("1", "true", "yes", "on"),
        tools_image_model=os.environ.get("SWITCHBOARD_TOOLS_IMAGE_MODEL", "").strip() or None,
        gc_tuning=_switch("SWITCHBOARD_GC_TUNING", False),
        metrics=_switch("SWITCHBOARD_METRICS", True),
        metrics_token=os.environ.get("SWITCHBOARD_METRICS_TOKEN", "").strip() or None,
        metrics_users=_count("SWITCHBOARD_METRICS_USERS", 0, 1000),
        otel_endpoint=(os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
                       or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip() or None),
        otel_capture_content=_switch("SWITCHBOARD_OTEL_CAPTURE_CONTENT", False),
        public_url=os.environ.get("SWITCHBOARD_PUBLIC_URL", "").strip().rstrip("/"),
        alert_interval=_seconds("SWITCHBOARD_ALERT_INTERVAL", 30.0),
        audit_retention_days=_count("SWITCHBOARD_AUDIT_RETENTION_DAYS", 0, 36_500),
        file_store=_file_store(url),
    )


def _file_store(url: str) -> str:
    """``SWITCHBOARD_FILE_STORE``: ``directory``, ``database``, or empty/``auto`` (the
    database on PostgreSQL, where several workers may share it; decision 0171)."""
    raw = os.environ.get("SWITCHBOARD_FILE_STORE", "").strip().lower()
    if raw in ("", "auto"):
        return "directory" if url.startswith("sqlite") else "database"
    if raw not in ("directory", "database"):
        from switchboard.spec.errors import ConfigurationError

        raise ConfigurationError("SWITCHBOARD_FILE_STORE must be directory, database or "
                                 f"auto, got {raw!r}")
    return raw


def _switch(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw not in ("0", "false", "no", "off")


def _count(name: str, default: int, most: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) > most:
        from switchboard.spec.errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a whole number from 0 to {most}, "
                                 f"got {raw!r}")
    return int(raw)


def _timezone(name: str) -> str:
    """A zone name the system's time zone database knows (an unknown one would make every
    budgeted call fail later, so it is refused at start-up by name)."""
    raw = os.environ.get(name, "").strip() or "UTC"
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        from switchboard.spec.errors import ConfigurationError

        raise ConfigurationError(f"{name} must be a time zone name such as UTC or "
                                 f"Europe/Berlin, got {raw!r}") from None
    return raw
