"""The database schema: SQLAlchemy 2 declarative models, for SQLite and PostgreSQL alike.

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
- Relationships are ``lazy="raise"`` unless noted: on an async session an implicit lazy load
  cannot run, so asking for it raises at once instead of failing somewhere deep. Load what
  you need with ``selectinload(...)``. ``Provider.models`` is eager (``selectin``) because
  every reader of a provider (the registry, the config API) wants its models too.
- Some invariants live in the database itself, so no code path can break them:
  exactly-one default model (a partial unique index; "at least one" is kept by the catalog
  service setting the default in one transaction), the append-only ``audit_log`` (triggers
  created in migration 0003), and referential actions (RESTRICT for the catalog, CASCADE
  for a conversation's messages, SET NULL for usage history).

Changing this file means writing a migration in ``migrations/versions``; the drift test
(tests/db/test_drift.py) fails until models and migrations agree.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
    true,
)
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

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


def _in(column: str, values: tuple[str, ...]) -> str:
    """SQL for ``column IN ('a', 'b')`` (values are our own constants, never user input)."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _created_at() -> Mapped[datetime]:
    return mapped_column(UTCDateTime(), nullable=False, default=utcnow, server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(
        UTCDateTime(), nullable=False, default=utcnow, onupdate=utcnow, server_default=func.now()
    )


# --- catalog (migration 0001) ------------------------------------------------------------


class Provider(Base):
    """A configured provider *instance*: a kind (adapter) plus base URL, key and settings."""

    __tablename__ = "providers"
    __table_args__ = (CheckConstraint(_in("status", PROVIDER_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    """User-facing, unique; what API clients write before the slash in ``name/model``."""
    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    """The provider kind (adapter id), e.g. ``openai`` or ``openai_compatible``."""
    base_url: Mapped[str | None] = mapped_column(Text)
    """None = the kind's default base URL."""

    # Its API keys live in ``provider_keys`` (the key pool, migration 0014).

    image_url: Mapped[str | None] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    """False only when an admin switched the provider off. Whether it has a key is a
    separate question ("configured", derived, never stored): see decision 0035."""
    allow_unlisted_models: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    """Whether a model id the catalog does not list passes through to the vendor (new
    models appear before anyone adds them); migration 0005, decision 0036."""
    removed_models: Mapped[list[str]] = mapped_column(
        JSONType, nullable=False, default=list, server_default=text("'[]'")
    )
    """Model ids an admin deleted from this provider: refused even when unlisted models
    pass through, until the model is added again (migration 0005, decision 0036)."""

    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="unknown", server_default=text("'unknown'")
    )
    status_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status_latency_ms: Mapped[int | None] = mapped_column(Integer)
    status_error: Mapped[str | None] = mapped_column(Text)

    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    """Extra headers, quirk flags, timeouts: the kind's ``Config`` fields beyond the key."""
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    models: Mapped[list[ProviderModel]] = relationship(
        back_populates="provider",
        lazy="selectin",
        order_by="ProviderModel.id",
        passive_deletes="all",  # the database RESTRICTs deleting a provider that has models
    )
    keys: Mapped[list[ProviderKey]] = relationship(
        back_populates="provider",
        lazy="selectin",  # every reader of a provider asks whether it has a key
        order_by="ProviderKey.id",
        # A provider's keys go with it (the database CASCADEs too); the loaded
        # collection must not be "orphaned" by setting provider_id to NULL.
        cascade="all, delete-orphan",
        passive_deletes=True,
    )

    def __repr__(self) -> str:
        return f"Provider(id={self.id!r}, name={self.name!r}, kind={self.kind!r})"


class ProviderModel(Base):
    """A model offered through a provider instance, with its capabilities and prices."""

    __tablename__ = "provider_models"
    __table_args__ = (
        UniqueConstraint("provider_id", "model_sdk_id"),
        CheckConstraint(_in("model_type", MODEL_TYPES), name="model_type"),
        # At most one default model in the whole table. SQLite and PostgreSQL both support
        # partial indexes; a plain UNIQUE on a boolean would allow only one non-default.
        partial_index("uq_provider_models_one_default", "is_default", unique=True,
                      where="is_default"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("providers.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    """Display name."""
    model_sdk_id: Mapped[str] = mapped_column(String(200), nullable=False)
    """The id the upstream vendor knows the model by."""
    is_default: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    is_enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    capabilities: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    """Flags: streaming, tools, vision, image_output, json_output, reasoning."""
    context_window: Mapped[int | None] = mapped_column(Integer)
    max_output_tokens: Mapped[int | None] = mapped_column(Integer)
    # USD per million tokens; None = unknown (cost is then unknown, never zero).
    price_input: Mapped[Decimal | None] = mapped_column(PricePerMillion)
    price_cached_input: Mapped[Decimal | None] = mapped_column(PricePerMillion)
    price_output: Mapped[Decimal | None] = mapped_column(PricePerMillion)
    price_cache_write: Mapped[Decimal | None] = mapped_column(PricePerMillion)
    description: Mapped[str | None] = mapped_column(Text)
    fallbacks: Mapped[list[str]] = mapped_column(
        JSONType, nullable=False, default=list, server_default=text("'[]'")
    )
    """Model refs (``provider:model``) that answer, in order, when this model fails before
    its first byte (migration 0009, decision 0064)."""
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()
    model_type: Mapped[str] = mapped_column(
        String(16), nullable=False, default="chat", server_default="chat")
    """``chat`` or ``embedding`` (migration 0014): embedding models answer only
    ``/v1/embeddings`` and are never offered for chat."""
    embedding: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """An embedding model's ``dimensions`` / ``custom_dimensions``; null for chat."""
    image: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """An image model's sizes, qualities and price per picture (migration 0015,
    ``spec.ImageCapabilities``); null for other types."""

    provider: Mapped[Provider] = relationship(back_populates="models", lazy="raise")

    def __repr__(self) -> str:
        return (
            f"ProviderModel(id={self.id!r}, provider_id={self.provider_id!r}, "
            f"model_sdk_id={self.model_sdk_id!r})"
        )


class ProviderKey(Base):
    """One API key of a provider's key pool (migration 0014, decision 0066).

    The key is encrypted by ``switchboard.security`` (AES-256-GCM) with the PROVIDER's
    row id as associated data: a ciphertext copied onto another provider fails to open
    (a key cannot be sent to another vendor's base URL), and the key that migration 0009
    moved here from ``providers`` keeps opening without being decrypted by a migration.
    Only the last four characters are kept in clear, for people to tell keys apart.

    Whether a key serves is derived: ``enabled`` (an admin's switch), ``failed_at`` (the
    vendor refused it with 401: it left the pool until an admin enables it again) and
    ``expires_at``. Retiring a key deletes its row; the audit log keeps its label and tail.
    """

    __tablename__ = "provider_keys"
    __table_args__ = (
        UniqueConstraint("provider_id", "label"),
        CheckConstraint("weight >= 1 AND weight <= 1000", name="weight"),
        CheckConstraint("rpm IS NULL OR rpm >= 1", name="rpm"),
        CheckConstraint("tpm IS NULL OR tpm >= 1", name="tpm"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    provider_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("providers.id", ondelete="CASCADE"), nullable=False, index=True
    )
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    """Unique per provider; what people and the CLI name the key by ("default", "2026-q1")."""
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    master_key_id: Mapped[str] = mapped_column(String(64), nullable=False)
    """Id of the master key that encrypted it (so the master key can rotate)."""
    last4: Mapped[str] = mapped_column(String(8), nullable=False)
    weight: Mapped[int] = mapped_column(
        Integer, nullable=False, default=1, server_default=text("1")
    )
    """Share of the calls relative to the other keys (3 vs 1: three calls in four)."""
    rpm: Mapped[int | None] = mapped_column(Integer)
    """This key's own requests-per-minute limit (None: none); the pool skips it when full."""
    tpm: Mapped[int | None] = mapped_column(Integer)
    """This key's own tokens-per-minute limit (None: none)."""
    enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the vendor refused the key (401); None while it serves."""
    set_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    provider: Mapped[Provider] = relationship(back_populates="keys", lazy="raise")

    def __repr__(self) -> str:  # never the ciphertext
        return (f"ProviderKey(id={self.id!r}, provider_id={self.provider_id!r}, "
                f"label={self.label!r})")


# --- accounts (migration 0002) -----------------------------------------------------------


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_in("role", USER_ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    """Unique as stored; the user service normalises (e.g. lower-cases) before storing."""
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(Text)
    """A memory-hard hash (argon2id); None = password login disabled (API tokens only)."""
    role: Mapped[str] = mapped_column(
        String(16), nullable=False, default="user", server_default=text("'user'")
    )
    is_active: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    created_at: Mapped[datetime] = _created_at()
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    preferences: Mapped[UserPreferences | None] = relationship(
        back_populates="user", lazy="raise", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r}, role={self.role!r})"


class UserPreferences(Base):
    """Server-side preferences, so they follow the user across sessions and devices."""

    __tablename__ = "user_preferences"

    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    selected_model: Mapped[str | None] = mapped_column(Text)
    """``provider/model`` as TEXT: survives the model being removed from the catalog."""
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    updated_at: Mapped[datetime] = _updated_at()

    user: Mapped[User] = relationship(back_populates="preferences", lazy="raise")


class ApiToken(Base):
    """A personal API token for ``/v1``; only its hash is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(String(32), nullable=False)
    """The token's first characters, shown in lists so a user can tell tokens apart."""
    created_at: Mapped[datetime] = _created_at()
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="raise")


class SetupToken(Base):
    """A one-time link token (e.g. the first-run admin setup link); only its hash is kept."""

    __tablename__ = "setup_tokens"
    __table_args__ = (CheckConstraint(_in("purpose", SETUP_TOKEN_PURPOSES), name="purpose"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    purpose: Mapped[str] = mapped_column(
        String(32), nullable=False, default="admin_setup", server_default=text("'admin_setup'")
    )
    created_at: Mapped[datetime] = _created_at()
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class WebSession(Base):
    """A browser login (migration 0002). The cookie holds a random token; only its SHA-256
    digest is stored, with the CSRF token bound to the session."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index(None, "expires_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(128), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(128), nullable=False)
    created_at: Mapped[datetime] = _created_at()
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    user_agent: Mapped[str | None] = mapped_column(String(300))


class RevocationStamp(Base):
    """One row per watched state whose ``version`` goes up in every transaction that
    changes it. Row 1 (migration 0008): a credential taken away (a token revoked; a user
    deactivated, demoted or given a new password; a session ended). Row 2 (migration
    0022): a feature flag changed. Every server process compares them, about once a
    second, with the values it saw last, and drops what it cached when one moved
    (``services.revocations``): one small read per second instead of one per request."""

    __tablename__ = "revocation_stamp"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigIntPK, nullable=False, default=0,
                                         server_default=text("0"))


class RateLimitRule(Base):
    """An override of the rate limits (migration 0011) for a role, a user or an API token.

    Exactly one target column is set, matching ``scope``. A limit column that is NULL
    inherits (token -> nothing of its own; user -> its role's rule -> the configured role
    default); 0 means "no limit". Read through a cache (``services.rate_limit_rules``), so
    admitting a call never reads this table.
    """

    __tablename__ = "rate_limit_rules"
    __table_args__ = (
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

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    role: Mapped[str | None] = mapped_column(String(16), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    api_token_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("api_tokens.id", ondelete="CASCADE"), unique=True
    )
    requests_per_minute: Mapped[int | None] = mapped_column(Integer)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer)
    concurrent: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = _updated_at()


# --- chat (migration 0002) ---------------------------------------------------------------


class Conversation(Base):
    __tablename__ = "conversations"
    __table_args__ = (Index(None, "user_id", "updated_at"),)  # "my recent conversations"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(100), index=True)
    """Provider instance name of the last answer (TEXT, never an enum or FK)."""
    model: Mapped[str | None] = mapped_column(String(200), index=True)
    leaf_id: Mapped[int | None] = mapped_column(BigIntPK)
    """The last message of the branch shown (messages form a tree; see services.message_tree).
    Not a foreign key: it is checked by the code that reads it, and a stale id falls back
    to the newest message."""
    system_prompt: Mapped[str | None] = mapped_column(Text)
    tools: Mapped[list[str] | None] = mapped_column(JSONType)
    """The tools switched on in this conversation's composer (NULL: never chosen)."""
    """This conversation's own instructions; None = the user's preference."""
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the owner pinned it (pinned conversations are listed first); None = not pinned."""
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        lazy="raise",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,  # the database CASCADEs; no need to load messages to delete
    )


class Message(Base):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(_in("role", MESSAGE_ROLES), name="role"),
        CheckConstraint(_in("status", MESSAGE_STATUSES), name="status"),
        CheckConstraint("rating IN (-1, 0, 1)", name="rating"),
        Index(None, "conversation_id", "id"),
        # Start-up recovery looks for answers still being written (migration 0006); the
        # index holds only those few rows.
        partial_index("ix_messages_writer", "writer", where="writer IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    """The message this one follows; None for the first. Siblings are versions."""
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    """The spec message parts, serialised (text, file, tool call, tool result, reasoning)."""
    provider: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(200))
    input_tokens: Mapped[int | None] = mapped_column(Integer)
    output_tokens: Mapped[int | None] = mapped_column(Integer)
    cached_tokens: Mapped[int | None] = mapped_column(Integer)
    cache_write_tokens: Mapped[int | None] = mapped_column(Integer)
    reasoning_tokens: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Money)
    """USD; None = unknown price (never silently zero)."""
    usage_estimated: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """The tokens (and so the cost) are an estimate: the vendor sent no usage (a stopped or
    broken answer, a vendor that never reports it, an answer closed after a crash)."""
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    writer: Mapped[str | None] = mapped_column(String(200))
    """While the answer is being written: which process writes it (``host:pid:boot``);
    None once it is final. A row whose writer is dead is closed at start-up
    (``services.answer_progress``)."""
    progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The writer's last progress save or heartbeat (how stale a writer elsewhere is)."""
    finish_reason: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="complete", server_default=text("'complete'")
    )
    error: Mapped[str | None] = mapped_column(Text)
    failed_models: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONType)
    """When a fallback answered: the models that failed first, in order
    (``[{"ref": "provider:model", "error": "..."}]``); None when the first one answered
    (migration 0009)."""
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    """-1 bad, 0 neutral, 1 good; None = not rated."""
    task: Mapped[str | None] = mapped_column(String(32))
    """The question's task type (issue 16), on the answer: what grades and suggestions
    are kept per; None = not classified (migration 0023)."""
    auto: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    """When the user asked Auto: the pick (``task``, ``confidence``, ``tier``,
    ``model``, ``why``) shown with the answer after a reload, in another tab and in an
    export; None for a model chosen by name (migration 0025)."""
    created_at: Mapped[datetime] = _created_at()

    conversation: Mapped[Conversation] = relationship(back_populates="messages", lazy="raise")


# --- usage and audit (migration 0002; audit triggers 0003) ----------------------------------


class UsageEvent(Base):
    """One upstream call (chat, ``/v1`` API, CLI, test button): tokens, cost and timing.

    ``user_id``/``api_token_id`` are SET NULL when the user/token is deleted: the bill
    outlives the account.
    """

    __tablename__ = "usage_events"
    __table_args__ = (
        CheckConstraint(_in("source", USAGE_SOURCES), name="source"),
        CheckConstraint(_in("status", USAGE_STATUSES), name="status"),
        Index(None, "provider", "created_at"),
        Index(None, "model", "created_at"),
        Index(None, "user_id", "created_at"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    created_at: Mapped[datetime] = _created_at()
    user_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="SET NULL")
    )
    api_token_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    provider: Mapped[str] = mapped_column(String(100), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    input_tokens: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    output_tokens: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    cached_tokens: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    cache_write_tokens: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    reasoning_tokens: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    cost: Mapped[Decimal | None] = mapped_column(Money)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    error_code: Mapped[str | None] = mapped_column(String(64))
    estimated: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """Token counts estimated by Switchboard (the vendor sent none), not reported."""


class _UsageSums:
    """The sums every usage roll-up keeps (``services.usage_rollup``). ``cost`` sums the
    priced calls; ``priced`` counts them, so "no call had a price" (unknown) stays
    distinguishable from "free"."""

    requests: Mapped[int] = mapped_column(BigInteger, nullable=False)
    errors: Mapped[int] = mapped_column(BigInteger, nullable=False)
    input_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    output_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cached_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    reasoning_tokens: Mapped[int] = mapped_column(BigInteger, nullable=False)
    cost: Mapped[Decimal] = mapped_column(Money, nullable=False)
    priced: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_total: Mapped[int] = mapped_column(BigInteger, nullable=False)
    latency_count: Mapped[int] = mapped_column(BigInteger, nullable=False)
    estimated: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UsageDaily(_UsageSums, Base):
    """``usage_events`` summed per UTC day x user x provider x model x source, kept up to
    date by the usage recorder in the same transaction as the rows it sums (decision
    0129): what a person's own report reads.

    ``user_id`` 0 stands for "no account" (the CLI; a NULL would make every such row its
    own group under the unique key) and is not a foreign key: the bill outlives the
    account, and a report shows a deleted user's spend as nobody's.
    """

    __tablename__ = "usage_daily"
    __table_args__ = (
        UniqueConstraint("day", "user_id", "provider", "model", "source"),
        Index(None, "user_id", "day"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    provider: Mapped[str] = mapped_column(String(100), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)


class UsageDailyModel(_UsageSums, Base):
    """The same sums per UTC day x provider x model x source, everyone together: what the
    team-wide report and the dashboard read (a team of 40 makes ``usage_daily`` 40 times
    larger than this; decision 0129)."""

    __tablename__ = "usage_daily_models"
    __table_args__ = (UniqueConstraint("day", "provider", "model", "source"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    provider: Mapped[str] = mapped_column(String(100), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)


class UsageDailyUser(_UsageSums, Base):
    """The same sums per UTC day x user: "who spent what" (``user_id`` as in
    ``usage_daily``)."""

    __tablename__ = "usage_daily_users"
    __table_args__ = (UniqueConstraint("day", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    user_id: Mapped[int] = mapped_column(BigInteger, nullable=False)


class UsageDailyLatency(Base):
    """How many calls per UTC day x provider x model took how long: a histogram with
    fixed buckets (``services.usage_rollup.LATENCY_BOUNDS_MS``), so p50 / p95 over any
    period are read from a few rows instead of sorting every call's latency."""

    __tablename__ = "usage_daily_latency"
    __table_args__ = (UniqueConstraint("day", "provider", "model", "bucket"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    provider: Mapped[str] = mapped_column(String(100), nullable=False)
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    bucket: Mapped[int] = mapped_column(SmallInteger, nullable=False)
    calls: Mapped[int] = mapped_column(BigInteger, nullable=False)


class AuditLog(Base):
    """Append-only record of what admins (and the CLI) did. UPDATE and DELETE are rejected
    by database triggers (migration 0003).

    ``actor_user_id`` is deliberately not a foreign key: a referential action on user
    deletion would have to UPDATE or DELETE audit rows, and the record must outlive its actor.
    ``details`` must never contain a secret (only masked keys: the last four characters).
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(None, "created_at"),
        Index(None, "target_type", "target_id"),
        Index(None, "seq", unique=True),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    created_at: Mapped[datetime] = _created_at()
    actor_user_id: Mapped[int | None] = mapped_column(BigIntPK)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    """Who, as text: a username, ``cli``, ``system``."""
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    """Dotted verb, e.g. ``provider.key.set``."""
    target_type: Mapped[str | None] = mapped_column(String(50))
    target_id: Mapped[str | None] = mapped_column(String(200))
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    address: Mapped[str | None] = mapped_column(String(64))
    """The client's address (the peer, or the forwarded client behind a trusted proxy)."""
    request_id: Mapped[str | None] = mapped_column(String(64))
    seq: Mapped[int | None] = mapped_column(BigIntPK)
    """Position in the hash chain (1, 2, ...; migration 0022, decision 0123)."""
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the row's canonical form, ``prev_hash`` included (``db.audit_chain``)."""


class AuditChain(Base):
    """The head of the audit chain, one row (``id`` 1): the last row's ``seq`` and
    ``hash``, and the checkpoint left by retention (the last deleted row's ``seq`` and
    ``hash``; 0 and ``GENESIS`` before any deletion). Appends lock this row (PostgreSQL:
    ``FOR UPDATE``; SQLite: the write lock) so the chain has one order across workers,
    and ``verify`` compares the last row with it, so removing the newest rows is noticed.
    The triggers on ``audit_log`` allow a DELETE only of rows at or below the checkpoint."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigIntPK, nullable=False, default=0)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    checkpoint_seq: Mapped[int] = mapped_column(BigIntPK, nullable=False, default=0)
    checkpoint_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    checkpoint_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class FeatureFlag(Base):
    """A feature flag's rule (migration 0022, ``services.flags``). A known flag without a
    row is on. ``mode``: ``on``, ``off`` (the kill switch) or ``rollout`` — on for the
    users and roles listed and for ``percent`` % of the others, picked by a sticky hash
    of the user id."""

    __tablename__ = "feature_flags"
    __table_args__ = (CheckConstraint(_in("mode", ("on", "off", "rollout")), name="mode"),)

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    mode: Mapped[str] = mapped_column(String(16), nullable=False)
    percent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    user_ids: Mapped[list[int]] = mapped_column(JSONType, nullable=False, default=list)
    roles: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    updated_at: Mapped[datetime] = _updated_at()
    updated_by: Mapped[str | None] = mapped_column(String(100))


# --- budgets (migration 0010) ----------------------------------------------------------------


class Budget(Base):
    """A spending limit in US dollars over a calendar period, for everyone (``global``),
    one user or one API token. ``soft`` ones warn instead of refusing.

    ``subject`` (``global``, ``user:ID``, ``token:ID``) exists for the unique constraint:
    NULLs are distinct in a unique index, so (user_id, api_token_id) alone could not stop
    two global budgets for the same period. Deleting the user or token deletes its budgets.
    """

    __tablename__ = "budgets"
    __table_args__ = (
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

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), nullable=False)
    user_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    api_token_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True
    )
    subject: Mapped[str] = mapped_column(String(40), nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    """The limit in US dollars per period."""
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    soft: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class BudgetSpend(Base):
    """What one budget has spent and holds reserved in one period.

    Integers in nano-dollars (1e-9 USD), not ``Money``: SQLite keeps NUMERIC as a double,
    and these counters are added to and subtracted from by every call, where a double
    would drift; the admission check compares them in one UPDATE, which integers make
    exact on both databases. One row per period (``period_start`` is the period's first
    day in the budget time zone), so a new period starts at zero without a reset job, and
    a call is settled into the period it was reserved in.
    """

    __tablename__ = "budget_spend"

    budget_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("budgets.id", ondelete="CASCADE"), primary_key=True
    )
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    spent: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default=text("0")
    )
    reserved: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default=text("0")
    )
# --- stored Responses API answers (migration 0014) ----------------------------------------


class StoredFile(Base):
    """A file a user owns (``services.files``, decision 0081): its bytes live once per
    content (SHA-256) in the data directory or the ``file_blobs`` table (decision
    0171); this row says who may read them and as what
    media type. Another user's file is "not found"."""

    __tablename__ = "files"
    __table_args__ = (UniqueConstraint("owner_id", "sha256"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    owner_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class FileBlob(Base):
    """A stored file's bytes, once per content, when files live in the database
    (``services.file_bytes.DatabaseBytes``, decision 0171): several workers on one
    PostgreSQL see the same files. One ``bytea``/BLOB per content, not chunks: a file
    is at most 20 MB and is read whole (decision 0171's measurements)."""

    __tablename__ = "file_blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class TaskDefault(Base):
    """The model an administrator chose for one task type (issue 16 item 2): what
    ``auto`` picks for it first. A task type without a row falls back to the global
    default model. ``model_ref`` is TEXT, not a foreign key: it survives the model
    being removed, and routing then says so rather than the row vanishing."""

    __tablename__ = "task_defaults"

    task: Mapped[str] = mapped_column(String(32), primary_key=True)
    model_ref: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = _updated_at()


class ImageCaption(Base):
    """What a vision model said an image shows (``services.captions``, decision 0148):
    made once per image (the SHA-256 of its bytes) and captioning model, then shown to
    text-only models in place of the image."""

    __tablename__ = "image_captions"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    model_ref: Mapped[str] = mapped_column(String(400), primary_key=True)
    caption: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class StoredResponse(Base):
    """An answer of ``POST /v1/responses`` kept for ``GET /v1/responses/{id}`` and for
    ``previous_response_id`` (``services.stored_responses``). Per user: another user's id
    is "not found". ``conversation`` holds the neutral messages that led to the answer
    and the answer itself (without ``instructions``, which OpenAI does not carry over), so
    the next turn can go to a model of any provider."""

    __tablename__ = "stored_responses"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    response_id: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = _created_at()
    model: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False)
    """The ``response`` object as it was returned."""
    conversation: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False)
    """The neutral messages (``spec`` JSON), the answer's own last."""


# --- tools (migration 0018) --------------------------------------------------------------


class ToolSetting(Base):
    """An administrator's choice for one tool (``services.tools.toolbox``, decision 0097):
    whether it may be used, whether it is on in a new turn, and its policy. A row exists
    only for a tool someone changed; a NULL column keeps the tool's own default, so a
    built-in's defaults can change in a release without rewriting rows.

    ``name`` is the tool's public name (``calculator``, ``server.tool`` for MCP), never a
    foreign key: an MCP server's tools come and go, and its settings should survive a
    server that is down."""

    __tablename__ = "tool_settings"
    __table_args__ = (
        CheckConstraint("policy IS NULL OR " + _in("policy", TOOL_POLICIES), name="policy"),
    )

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    enabled: Mapped[bool | None] = mapped_column(Boolean)
    default_on: Mapped[bool | None] = mapped_column(Boolean)
    policy: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = _updated_at()


# --- MCP servers (migration 0020) ----------------------------------------------------------


class McpServer(Base):
    """An MCP server an admin configured as a source of tools (``services.mcp``).

    ``name`` is the namespace of its tools (``name.tool``). Over ``stdio`` Switchboard
    starts ``command`` with ``args`` and ``env``; over ``http`` it speaks Streamable HTTP
    to ``url`` with ``headers``. Values of ``env`` and ``headers`` are sealed by the vault
    (``{"NAME": {"ciphertext": ..., "masked": ...}}``, bound to the row and the name), so
    no secret is stored in clear. ``default_policy`` (``allow``, ``ask`` or ``deny``) is
    what its tools get until an administrator sets one otherwise in ``tool_settings``
    (decision 0107).
    """

    __tablename__ = "mcp_servers"
    __table_args__ = (
        CheckConstraint(_in("transport", MCP_TRANSPORTS), name="transport"),
        CheckConstraint(_in("default_policy", TOOL_POLICIES), name="default_policy"),
        CheckConstraint(
            "(transport = 'stdio' AND command IS NOT NULL AND url IS NULL)"
            " OR (transport = 'http' AND url IS NOT NULL AND command IS NULL)",
            name="endpoint"),
        CheckConstraint("timeout_seconds > 0", name="timeout_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    transport: Mapped[str] = mapped_column(String(8), nullable=False)
    command: Mapped[str | None] = mapped_column(Text)
    args: Mapped[list[str]] = mapped_column(
        JSONType, nullable=False, default=list, server_default=text("'[]'")
    )
    env: Mapped[dict[str, Any]] = mapped_column(
        JSONType, nullable=False, default=dict, server_default=text("'{}'")
    )
    url: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict[str, Any]] = mapped_column(
        JSONType, nullable=False, default=dict, server_default=text("'{}'")
    )
    enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    timeout_seconds: Mapped[int] = mapped_column(
        Integer, nullable=False, default=30, server_default=text("30")
    )
    default_policy: Mapped[str] = mapped_column(
        String(8), nullable=False, default="ask", server_default=text("'ask'")
    )
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


# --- alerts (migration 0021) ---------------------------------------------------------------

ALERT_CHANNEL_KINDS = ("email", "webhook", "slack")
ALERT_DELIVERY_STATUSES = ("pending", "sent", "failed")
ALERT_DELIVERY_EVENTS = ("opened", "resolved")


class AlertRule(Base):
    """One alert rule's settings (``services.alert_rules``, decision 0130): the rules
    themselves are code; an admin switches them and turns their numbers. Seeded with
    the defaults on first evaluation, one row per ``kind``."""

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    window_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    min_requests: Mapped[int] = mapped_column(Integer, nullable=False)
    updated_at: Mapped[datetime] = _updated_at()


class AlertChannel(Base):
    """Where alerts are sent besides the dashboard: e-mail (SMTP), a generic JSON
    webhook or a Slack-compatible one. The secret (the SMTP password, or the webhook's
    URL, which is its own credential) is encrypted like provider keys (``Vault``) with
    ``alert-channel:ID`` as associated data; ``settings`` holds nothing secret."""

    __tablename__ = "alert_channels"
    __table_args__ = (CheckConstraint(_in("kind", ALERT_CHANNEL_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    enabled: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=True, server_default=true()
    )
    settings: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    secret: Mapped[str | None] = mapped_column(Text)
    secret_hint: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Alert(Base):
    """One alert: a rule's condition held for one subject from ``opened_at`` until
    ``resolved_at``. At most one open alert per (rule, subject): a partial unique index,
    so two evaluators that raced could not open it twice."""

    __tablename__ = "alerts"
    __table_args__ = (
        partial_index("uq_alerts_open", "rule", "subject", unique=True,
                      where="resolved_at IS NULL"),
        Index(None, "opened_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertDelivery(Base):
    """One notice (an alert opened or resolved) to one channel, retried a bounded number
    of times by the evaluator; the last error is kept for the Alerts page."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        CheckConstraint(_in("status", ALERT_DELIVERY_STATUSES), name="status"),
        CheckConstraint(_in("event", ALERT_DELIVERY_EVENTS), name="event"),
        Index(None, "status", "next_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    alert_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False, index=True
    )
    channel_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("alert_channels.id", ondelete="CASCADE"), nullable=False,
        index=True,
    )
    event: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(
        Integer, nullable=False, default=0, server_default=text("0")
    )
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertSignal(Base):
    """Something a server process saw that only it can see (breakers and the usage
    recorder are per process): a breaker opening, the usage recorder's backlog. Each
    process writes its own; the one evaluator reads them all by time."""

    __tablename__ = "alert_signals"
    __table_args__ = (Index(None, "kind", "created_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    detail: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


# --- grades from feedback (migration 0023; decision 0136) ----------------------------------


class GradeVote(Base):
    """One piece of feedback about a model's answer, as a Bradley-Terry comparison
    (``services.grades``): ``a`` against ``b`` (a model ref), or against the virtual
    average model when ``b`` is NULL (a thumbs up is a win against it, a thumbs down or a
    regenerated answer a loss). Kept when the conversation is deleted (``message_id`` SET
    NULL): the grade outlives the chat. Rating an answer again replaces its vote
    (``services.grades`` deletes the old one in the same transaction)."""

    __tablename__ = "grade_votes"
    __table_args__ = (
        CheckConstraint(_in("source", GRADE_SOURCES), name="source"),
        CheckConstraint(_in("winner", GRADE_OUTCOMES), name="winner"),
        Index(None, "message_id", "source"),
        Index(None, "task"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    created_at: Mapped[datetime] = _created_at()
    user_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="SET NULL")
    )
    task: Mapped[str | None] = mapped_column(String(32))
    """The answer's task type (``Message.task``); None = not classified."""
    a: Mapped[str] = mapped_column(String(301), nullable=False)
    b: Mapped[str | None] = mapped_column(String(301))
    """None = the virtual average model."""
    winner: Mapped[str] = mapped_column(String(4), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    message_id: Mapped[int | None] = mapped_column(
        BigIntPK, ForeignKey("messages.id", ondelete="SET NULL")
    )
    """The answer voted on (for a comparison: ``a``'s answer)."""


class GradeExclusion(Base):
    """A model the administrator left off the leaderboard (and out of Auto's grades)."""

    __tablename__ = "grade_exclusions"

    model: Mapped[str] = mapped_column(String(301), primary_key=True)
    created_at: Mapped[datetime] = _created_at()


class SuggestionDaily(Base):
    """How often the model picker showed suggestions to a user on a UTC day, and how often
    the model sent was one of them (``services.suggestions``): the hit rate. Counters,
    not events: one row per user and day whatever a client reports."""

    __tablename__ = "suggestion_daily"
    __table_args__ = (UniqueConstraint("day", "user_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    day: Mapped[date] = mapped_column(Date, nullable=False)
    user_id: Mapped[int] = mapped_column(
        BigIntPK, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    shown: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    taken: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
