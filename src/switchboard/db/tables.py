"""The database schema as SQLAlchemy Core tables, for SQLite and PostgreSQL alike.

This module is the schema's source of truth; ``db.orm`` maps its ORM classes onto these
tables. It imports no ``sqlalchemy.orm``, so that a query needing only Core (the ``/v1``
path, issue 12) can use the tables without loading the ORM and the mapped classes.

Conventions (why they are what they are):

- Integer primary keys (``BigIntPK``), timezone-aware UTC timestamps (``UTCDateTime``;
  naive datetimes are rejected), JSON columns that are JSONB on PostgreSQL.
- Closed vocabularies (status, role, source) are TEXT with a named CHECK constraint, never
  a database ENUM: adding a value is then a one-line migration on both databases.
- Provider *kinds* and model ids are TEXT everywhere (never an enum or a foreign key into
  the catalog) so conversations, messages and usage survive a provider being renamed or
  removed, and a plugin can add kinds without a migration.
- ``MetaData`` has a naming convention so every constraint and index has a stable name:
  migrations (and SQLite's batch mode) can then address them by name.
- Some invariants live in the database itself, so no code path can break them:
  exactly-one default model (a partial unique index; "at least one" is kept by the catalog
  service setting the default in one transaction), the append-only ``audit_log`` (triggers
  created in migration 0003), and referential actions (RESTRICT for the catalog, CASCADE
  for a conversation's messages, SET NULL for usage history).
- Python-side ``default=``/``onupdate=`` fill a value the code did not set, so an object
  or an INSERT built here carries it; ``server_default`` is for the rows a migration
  finds (and for SQL written by hand).

What a column means is documented on its ORM attribute in ``db.orm``.

Changing this file means writing a migration in ``migrations/versions``; the drift test
(tests/db/test_drift.py) fails until these tables and the migrations agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)

from switchboard.db.types import (
    BigIntPK,
    JSONType,
    Money,
    PricePerMillion,
    UTCDateTime,
    partial_index,
    utcnow,
)
from switchboard.spec.model import MODEL_TYPES

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Closed vocabularies, checked by the database. Code should use these tuples too.
PROVIDER_STATUSES = ("unknown", "ok", "error")
USER_ROLES = ("admin", "user")
MESSAGE_ROLES = ("system", "user", "assistant", "tool")
MESSAGE_STATUSES = ("complete", "partial", "error")
USAGE_SOURCES = ("chat", "api", "cli", "test")
USAGE_STATUSES = ("ok", "error", "partial")
SETUP_TOKEN_PURPOSES = ("admin_setup",)
BUDGET_SCOPES = ("global", "user", "token")
BUDGET_PERIODS = ("day", "week", "month")
RATE_LIMIT_SCOPES = ("role", "user", "token")
MCP_TRANSPORTS = ("stdio", "http")
TOOL_POLICIES = ("allow", "ask", "deny")
GRADE_SOURCES = ("rating", "regenerate", "compare")
GRADE_OUTCOMES = ("a", "b", "tie")
ALERT_CHANNEL_KINDS = ("email", "webhook", "slack")
ALERT_DELIVERY_STATUSES = ("pending", "sent", "failed")
ALERT_DELIVERY_EVENTS = ("opened", "resolved")

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL for ``column IN ('a', 'b')`` (values are our own constants, never user input)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _created_at(name: str = "created_at") -> Column[datetime]:
    """When the row was made: set by Python on insert, by the database for old rows."""
    return Column(name, UTCDateTime(), nullable=False, default=utcnow,
                  server_default=func.now())


def _updated_at() -> Column[datetime]:
    """When the row last changed: ``onupdate`` sets it in every ORM or Core UPDATE."""
    return Column("updated_at", UTCDateTime(), nullable=False, default=utcnow,
                  onupdate=utcnow, server_default=func.now())


def _id() -> Column[int]:
    """The surrogate primary key most tables have (an auto-incrementing integer)."""
    return Column("id", BigIntPK, primary_key=True)


# --- catalog (migration 0001) ------------------------------------------------------------

providers = Table(
    "providers", metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(100), nullable=False),
    Column("base_url", Text),
    # Its API keys live in ``provider_keys`` (the key pool, migration 0014).
    Column("image_url", Text),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("allow_unlisted_models", Boolean, nullable=False, default=True,
           server_default=true()),
    Column("removed_models", JSONType, nullable=False, default=list,
           server_default=text("'[]'")),
    Column("status", String(16), nullable=False, default="unknown",
           server_default=text("'unknown'")),
    Column("status_checked_at", UTCDateTime()),
    Column("status_latency_ms", Integer),
    Column("status_error", Text),
    Column("settings", JSONType, nullable=False, default=dict),
    _created_at(),
    _updated_at(),
    CheckConstraint(_in("status", PROVIDER_STATUSES), name="status"),
)

provider_models = Table(
    "provider_models", metadata,
    _id(),
    Column("provider_id", BigIntPK, ForeignKey("providers.id", ondelete="RESTRICT"),
           nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("model_sdk_id", String(200), nullable=False),
    Column("is_default", Boolean, nullable=False, default=False, server_default=false()),
    Column("is_enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("capabilities", JSONType, nullable=False, default=dict),
    Column("context_window", Integer),
    Column("max_output_tokens", Integer),
    # USD per million tokens; None = unknown (cost is then unknown, never zero).
    Column("price_input", PricePerMillion),
    Column("price_cached_input", PricePerMillion),
    Column("price_output", PricePerMillion),
    Column("price_cache_write", PricePerMillion),
    Column("description", Text),
    Column("fallbacks", JSONType, nullable=False, default=list, server_default=text("'[]'")),
    _created_at(),
    _updated_at(),
    Column("model_type", String(16), nullable=False, default="chat", server_default="chat"),
    Column("embedding", JSONType),
    Column("image", JSONType),
    UniqueConstraint("provider_id", "model_sdk_id"),
    CheckConstraint(_in("model_type", MODEL_TYPES), name="model_type"),
    # At most one default model in the whole table. SQLite and PostgreSQL both support
    # partial indexes; a plain UNIQUE on a boolean would allow only one non-default.
    partial_index("uq_provider_models_one_default", "is_default", unique=True,
                  where="is_default"),
)

provider_keys = Table(
    "provider_keys", metadata,
    _id(),
    Column("provider_id", BigIntPK, ForeignKey("providers.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("label", String(100), nullable=False),
    Column("ciphertext", LargeBinary, nullable=False),
    Column("master_key_id", String(64), nullable=False),
    Column("last4", String(8), nullable=False),
    Column("weight", Integer, nullable=False, default=1, server_default=text("1")),
    Column("rpm", Integer),
    Column("tpm", Integer),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("expires_at", UTCDateTime()),
    Column("failed_at", UTCDateTime()),
    _created_at("set_at"),
    _updated_at(),
    UniqueConstraint("provider_id", "label"),
    CheckConstraint("weight >= 1 AND weight <= 1000", name="weight"),
    CheckConstraint("rpm IS NULL OR rpm >= 1", name="rpm"),
    CheckConstraint("tpm IS NULL OR tpm >= 1", name="tpm"),
)

# --- accounts (migration 0002) -----------------------------------------------------------

users = Table(
    "users", metadata,
    _id(),
    Column("username", String(100), nullable=False, unique=True),
    Column("display_name", String(200)),
    Column("password_hash", Text),
    Column("role", String(16), nullable=False, default="user", server_default=text("'user'")),
    Column("is_active", Boolean, nullable=False, default=True, server_default=true()),
    _created_at(),
    Column("last_login_at", UTCDateTime()),
    CheckConstraint(_in("role", USER_ROLES), name="role"),
)

user_preferences = Table(
    "user_preferences", metadata,
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("selected_model", Text),
    Column("settings", JSONType, nullable=False, default=dict),
    _updated_at(),
)

api_tokens = Table(
    "api_tokens", metadata,
    _id(),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("name", String(200), nullable=False),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),
    _created_at(),
    Column("last_used_at", UTCDateTime()),
    Column("expires_at", UTCDateTime()),
    Column("revoked_at", UTCDateTime()),
)

setup_tokens = Table(
    "setup_tokens", metadata,
    _id(),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("purpose", String(32), nullable=False, default="admin_setup",
           server_default=text("'admin_setup'")),
    _created_at(),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    CheckConstraint(_in("purpose", SETUP_TOKEN_PURPOSES), name="purpose"),
)

web_sessions = Table(
    "web_sessions", metadata,
    _id(),
    Column("token_hash", String(128), nullable=False, unique=True),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("csrf_token", String(128), nullable=False),
    _created_at(),
    Column("last_seen_at", UTCDateTime()),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("user_agent", String(300)),
    Index(None, "expires_at"),
)

revocation_stamp = Table(
    "revocation_stamp", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigIntPK, nullable=False, default=0, server_default=text("0")),
)

rate_limit_rules = Table(
    "rate_limit_rules", metadata,
    _id(),
    Column("scope", String(16), nullable=False),
    Column("role", String(16), unique=True),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), unique=True),
    Column("api_token_id", BigIntPK, ForeignKey("api_tokens.id", ondelete="CASCADE"),
           unique=True),
    Column("requests_per_minute", Integer),
    Column("tokens_per_minute", Integer),
    Column("concurrent", Integer),
    _updated_at(),
    CheckConstraint(_in("scope", RATE_LIMIT_SCOPES), name="scope"),
    CheckConstraint(
        "(scope = 'role' AND role IS NOT NULL AND user_id IS NULL AND api_token_id IS NULL)"
        " OR (scope = 'user' AND role IS NULL AND user_id IS NOT NULL"
        " AND api_token_id IS NULL)"
        " OR (scope = 'token' AND role IS NULL AND user_id IS NULL"
        " AND api_token_id IS NOT NULL)", name="one_target"),
    CheckConstraint("role IS NULL OR " + _in("role", USER_ROLES), name="role"),
    CheckConstraint("requests_per_minute >= 0 AND tokens_per_minute >= 0"
                    " AND concurrent >= 0", name="not_negative"),
)

# --- chat (migration 0002) ---------------------------------------------------------------

conversations = Table(
    "conversations", metadata,
    _id(),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text),
    Column("provider", String(100), index=True),
    Column("model", String(200), index=True),
    # Not a foreign key: the code that reads it checks it (``services.message_tree``).
    Column("leaf_id", BigIntPK),
    Column("system_prompt", Text),
    Column("tools", JSONType),
    Column("pinned_at", UTCDateTime()),
    _created_at(),
    _updated_at(),
    Index(None, "user_id", "updated_at"),  # "my recent conversations"
)

messages = Table(
    "messages", metadata,
    _id(),
    Column("conversation_id", BigIntPK, ForeignKey("conversations.id", ondelete="CASCADE"),
           nullable=False),
    Column("parent_id", BigIntPK, ForeignKey("messages.id", ondelete="CASCADE"), index=True),
    Column("role", String(16), nullable=False),
    Column("parts", JSONType, nullable=False, default=list),
    Column("provider", String(100)),
    Column("model", String(200)),
    Column("input_tokens", Integer),
    Column("output_tokens", Integer),
    Column("cached_tokens", Integer),
    Column("cache_write_tokens", Integer),
    Column("reasoning_tokens", Integer),
    Column("cost", Money),
    Column("usage_estimated", Boolean, nullable=False, default=False, server_default=false()),
    Column("latency_ms", Integer),
    Column("ttft_ms", Integer),
    Column("writer", String(200)),
    Column("progress_at", UTCDateTime()),
    Column("finish_reason", String(32)),
    Column("status", String(16), nullable=False, default="complete",
           server_default=text("'complete'")),
    Column("error", Text),
    Column("failed_models", JSONType),
    Column("rating", SmallInteger),
    Column("task", String(32)),
    Column("auto", JSONType),
    _created_at(),
    CheckConstraint(_in("role", MESSAGE_ROLES), name="role"),
    CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
    CheckConstraint("rating IN (-1, 0, 1)", name="rating"),
    Index(None, "conversation_id", "id"),
    # Start-up recovery looks for answers still being written (migration 0006); the
    # index holds only those few rows.
    partial_index("ix_messages_writer", "writer", where="writer IS NOT NULL"),
)

# --- usage and audit (migration 0002; audit triggers 0003) ----------------------------------

usage_events = Table(
    "usage_events", metadata,
    _id(),
    _created_at(),
    # SET NULL when the user or token is deleted: the bill outlives the account.
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="SET NULL")),
    Column("api_token_id", BigIntPK, ForeignKey("api_tokens.id", ondelete="SET NULL")),
    Column("provider", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    Column("input_tokens", Integer, nullable=False, default=0, server_default=text("0")),
    Column("output_tokens", Integer, nullable=False, default=0, server_default=text("0")),
    Column("cached_tokens", Integer, nullable=False, default=0, server_default=text("0")),
    Column("cache_write_tokens", Integer, nullable=False, default=0, server_default=text("0")),
    Column("reasoning_tokens", Integer, nullable=False, default=0, server_default=text("0")),
    Column("cost", Money),
    Column("latency_ms", Integer),
    Column("ttft_ms", Integer),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64)),
    Column("estimated", Boolean, nullable=False, default=False, server_default=false()),
    CheckConstraint(_in("source", USAGE_SOURCES), name="source"),
    CheckConstraint(_in("status", USAGE_STATUSES), name="status"),
    Index(None, "provider", "created_at"),
    Index(None, "model", "created_at"),
    Index(None, "user_id", "created_at"),
    Index(None, "created_at"),
)


def _usage_sums() -> list[Column[Any]]:
    """The sums every usage roll-up keeps (``services.usage_rollup``), after its keys.
    ``cost`` sums the priced calls; ``priced`` counts them, so "no call had a price"
    (unknown) stays distinguishable from "free"."""
    counters = ("requests", "errors", "input_tokens", "output_tokens", "cached_tokens",
                "reasoning_tokens")
    return [
        *(Column(name, BigInteger, nullable=False) for name in counters),
        Column("cost", Money, nullable=False),
        *(Column(name, BigInteger, nullable=False)
          for name in ("priced", "latency_total", "latency_count", "estimated")),
    ]


# ``user_id`` 0 stands for "no account" and is not a foreign key (see ``UsageDaily``).
usage_daily = Table(
    "usage_daily", metadata,
    _id(),
    Column("day", Date, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    Column("provider", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    *_usage_sums(),
    UniqueConstraint("day", "user_id", "provider", "model", "source"),
    Index(None, "user_id", "day"),
)

usage_daily_models = Table(
    "usage_daily_models", metadata,
    _id(),
    Column("day", Date, nullable=False),
    Column("provider", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("source", String(16), nullable=False),
    *_usage_sums(),
    UniqueConstraint("day", "provider", "model", "source"),
)

usage_daily_users = Table(
    "usage_daily_users", metadata,
    _id(),
    Column("day", Date, nullable=False),
    Column("user_id", BigInteger, nullable=False),
    *_usage_sums(),
    UniqueConstraint("day", "user_id"),
)

usage_daily_latency = Table(
    "usage_daily_latency", metadata,
    _id(),
    Column("day", Date, nullable=False),
    Column("provider", String(100), nullable=False),
    Column("model", String(200), nullable=False),
    Column("bucket", SmallInteger, nullable=False),
    Column("calls", BigInteger, nullable=False),
    UniqueConstraint("day", "provider", "model", "bucket"),
)

audit_log = Table(
    "audit_log", metadata,
    _id(),
    _created_at(),
    # Not a foreign key: the record must outlive its actor (see ``AuditLog``).
    Column("actor_user_id", BigIntPK),
    Column("actor", String(100), nullable=False),
    Column("action", String(100), nullable=False),
    Column("target_type", String(50)),
    Column("target_id", String(200)),
    Column("details", JSONType, nullable=False, default=dict),
    Column("address", String(64)),
    Column("request_id", String(64)),
    Column("seq", BigIntPK),
    Column("prev_hash", String(64)),
    Column("hash", String(64)),
    Index(None, "created_at"),
    Index(None, "target_type", "target_id"),
    Index(None, "seq", unique=True),
)

audit_chain = Table(
    "audit_chain", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigIntPK, nullable=False, default=0),
    Column("hash", String(64), nullable=False),
    Column("checkpoint_seq", BigIntPK, nullable=False, default=0),
    Column("checkpoint_hash", String(64), nullable=False),
    Column("checkpoint_at", UTCDateTime()),
)

feature_flags = Table(
    "feature_flags", metadata,
    Column("name", String(64), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("percent", Integer, nullable=False, default=0),
    Column("user_ids", JSONType, nullable=False, default=list),
    Column("roles", JSONType, nullable=False, default=list),
    _updated_at(),
    Column("updated_by", String(100)),
    CheckConstraint(_in("mode", ("on", "off", "rollout")), name="mode"),
)

# --- budgets (migration 0010) ----------------------------------------------------------------

budgets = Table(
    "budgets", metadata,
    _id(),
    Column("scope", String(16), nullable=False),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), index=True),
    Column("api_token_id", BigIntPK, ForeignKey("api_tokens.id", ondelete="CASCADE"),
           index=True),
    # For the unique constraint: NULLs are distinct in a unique index (see ``Budget``).
    Column("subject", String(40), nullable=False),
    Column("amount", Money, nullable=False),
    Column("period", String(16), nullable=False),
    Column("soft", Boolean, nullable=False, default=False, server_default=false()),
    _created_at(),
    _updated_at(),
    CheckConstraint(_in("scope", BUDGET_SCOPES), name="scope"),
    CheckConstraint(_in("period", BUDGET_PERIODS), name="period"),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint(
        "(scope = 'global' AND user_id IS NULL AND api_token_id IS NULL)"
        " OR (scope = 'user' AND user_id IS NOT NULL AND api_token_id IS NULL)"
        " OR (scope = 'token' AND api_token_id IS NOT NULL AND user_id IS NULL)",
        name="subject"),
    UniqueConstraint("subject", "period", "soft"),
)

# Integers in nano-dollars, not ``Money``: exact counters on both databases (``BudgetSpend``).
budget_spend = Table(
    "budget_spend", metadata,
    Column("budget_id", BigIntPK, ForeignKey("budgets.id", ondelete="CASCADE"),
           primary_key=True),
    Column("period_start", Date, primary_key=True),
    Column("spent", BigInteger, nullable=False, default=0, server_default=text("0")),
    Column("reserved", BigInteger, nullable=False, default=0, server_default=text("0")),
)

# --- stored Responses API answers (migration 0014) ----------------------------------------

files = Table(
    "files", metadata,
    _id(),
    Column("owner_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("media_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    _created_at(),
    UniqueConstraint("owner_id", "sha256"),
)

file_blobs = Table(
    "file_blobs", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    _created_at(),
)

task_defaults = Table(
    "task_defaults", metadata,
    Column("task", String(32), primary_key=True),
    Column("model_ref", Text, nullable=False),
    _updated_at(),
)

image_captions = Table(
    "image_captions", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("model_ref", String(400), primary_key=True),
    Column("caption", Text, nullable=False),
    _created_at(),
)

stored_responses = Table(
    "stored_responses", metadata,
    _id(),
    Column("response_id", String(64), nullable=False, unique=True),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    _created_at(),
    Column("model", String(200), nullable=False),
    Column("body", JSONType, nullable=False),
    Column("conversation", JSONType, nullable=False),
    Index(None, "user_id", "created_at"),
)

# --- tools (migration 0018) --------------------------------------------------------------

tool_settings = Table(
    "tool_settings", metadata,
    Column("name", String(200), primary_key=True),
    Column("enabled", Boolean),
    Column("default_on", Boolean),
    Column("policy", String(8)),
    _updated_at(),
    CheckConstraint("policy IS NULL OR " + _in("policy", TOOL_POLICIES), name="policy"),
)

# --- MCP servers (migration 0020) ----------------------------------------------------------

mcp_servers = Table(
    "mcp_servers", metadata,
    _id(),
    Column("name", String(32), nullable=False, unique=True),
    Column("transport", String(8), nullable=False),
    Column("command", Text),
    Column("args", JSONType, nullable=False, default=list, server_default=text("'[]'")),
    Column("env", JSONType, nullable=False, default=dict, server_default=text("'{}'")),
    Column("url", Text),
    Column("headers", JSONType, nullable=False, default=dict, server_default=text("'{}'")),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("timeout_seconds", Integer, nullable=False, default=30, server_default=text("30")),
    Column("default_policy", String(8), nullable=False, default="ask",
           server_default=text("'ask'")),
    _created_at(),
    _updated_at(),
    CheckConstraint(_in("transport", MCP_TRANSPORTS), name="transport"),
    CheckConstraint(_in("default_policy", TOOL_POLICIES), name="default_policy"),
    CheckConstraint(
        "(transport = 'stdio' AND command IS NOT NULL AND url IS NULL)"
        " OR (transport = 'http' AND url IS NOT NULL AND command IS NULL)",
        name="endpoint"),
    CheckConstraint("timeout_seconds > 0", name="timeout_positive"),
)

# --- alerts (migration 0021) ---------------------------------------------------------------

alert_rules = Table(
    "alert_rules", metadata,
    _id(),
    Column("kind", String(40), nullable=False, unique=True),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("threshold", Float, nullable=False),
    Column("window_seconds", Integer, nullable=False),
    Column("min_requests", Integer, nullable=False),
    _updated_at(),
)

alert_channels = Table(
    "alert_channels", metadata,
    _id(),
    Column("name", String(100), nullable=False, unique=True),
    Column("kind", String(16), nullable=False),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("settings", JSONType, nullable=False, default=dict),
    Column("secret", Text),
    Column("secret_hint", String(16)),
    _created_at(),
    _updated_at(),
    CheckConstraint(_in("kind", ALERT_CHANNEL_KINDS), name="kind"),
)

alerts = Table(
    "alerts", metadata,
    _id(),
    Column("rule", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("value", Float, nullable=False),
    Column("message", Text, nullable=False),
    Column("opened_at", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    # At most one open alert per (rule, subject), even when two evaluators race.
    partial_index("uq_alerts_open", "rule", "subject", unique=True,
                  where="resolved_at IS NULL"),
    Index(None, "opened_at"),
)

alert_deliveries = Table(
    "alert_deliveries", metadata,
    _id(),
    Column("alert_id", BigIntPK, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False,
           index=True),
    Column("channel_id", BigIntPK, ForeignKey("alert_channels.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("event", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0, server_default=text("0")),
    Column("next_at", UTCDateTime(), nullable=False),
    Column("last_error", Text),
    Column("sent_at", UTCDateTime()),
    CheckConstraint(_in("status", ALERT_DELIVERY_STATUSES), name="status"),
    CheckConstraint(_in("event", ALERT_DELIVERY_EVENTS), name="event"),
    Index(None, "status", "next_at"),
)

alert_signals = Table(
    "alert_signals", metadata,
    _id(),
    Column("kind", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("value", Float, nullable=False),
    Column("detail", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "kind", "created_at"),
)

# --- grades from feedback (migration 0023; decision 0136) ----------------------------------

grade_votes = Table(
    "grade_votes", metadata,
    _id(),
    _created_at(),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="SET NULL")),
    Column("task", String(32)),
    Column("a", String(301), nullable=False),
    Column("b", String(301)),
    Column("winner", String(4), nullable=False),
    Column("source", String(16), nullable=False),
    # SET NULL: the grade outlives the chat.
    Column("message_id", BigIntPK, ForeignKey("messages.id", ondelete="SET NULL")),
    CheckConstraint(_in("source", GRADE_SOURCES), name="source"),
    CheckConstraint(_in("winner", GRADE_OUTCOMES), name="winner"),
    Index(None, "message_id", "source"),
    Index(None, "task"),
)

grade_exclusions = Table(
    "grade_exclusions", metadata,
    Column("model", String(301), primary_key=True),
    _created_at(),
)

suggestion_daily = Table(
    "suggestion_daily", metadata,
    _id(),
    Column("day", Date, nullable=False),
    Column("user_id", BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("shown", Integer, nullable=False, default=0),
    Column("taken", Integer, nullable=False, default=0),
    UniqueConstraint("day", "user_id"),
)
