"""The ORM mapping of the schema: one declarative class per table of ``db.tables``.

The schema itself (columns, types, constraints, indexes, the naming convention and the
closed vocabularies) lives in ``db.tables`` as SQLAlchemy Core tables; each class here is
mapped onto its table (``__table__ = tables.<name>``) and adds what only the ORM has:
typed attributes (``Mapped[...]`` annotations, for mypy and readers), relationships,
``__repr__``, and the docstrings that say what a row and a column mean. Why two modules:
the ``/v1`` path queries the Core tables without importing these classes, which cost
~4.7 MB to import and ~1.7 MB to configure in an idle server (issue 12).

Nothing imports this module by name: code reaches the classes through ``db.models``
(``from switchboard.db import models as m``; ``m.Provider``), which imports this module
when a class is first read (decision 0236).

Conventions of the mapping:

- Every attribute has the name of its column, and none is deferred: an annotation without
  a value maps the table's column of that name (declarative with an imperative table).
- Relationships are ``lazy="raise"`` unless noted: on an async session an implicit lazy load
  cannot run, so asking for it raises at once instead of failing somewhere deep. Load what
  you need with ``selectinload(...)``. ``Provider.models`` is eager (``selectin``) because
  every reader of a provider (the registry, the config API) wants its models too.
- ``Base.metadata`` is ``tables.metadata`` (Alembic, the drift test and ``create_all`` use
  it); the vocabularies (``USER_ROLES``...) are ``db.tables``' and ``db.models``'.

A new column goes into ``db.tables`` (with its migration) and gets an annotation on its
class here; a new relationship goes here only.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, relationship

from switchboard.db import audit_chain, tables


class Base(AsyncAttrs, DeclarativeBase):
    """The declarative base; its metadata is the Core schema's, so the tables are one set."""

    metadata = tables.metadata


# --- catalog (migration 0001) ------------------------------------------------------------


class Provider(Base):
    """A configured provider *instance*: a kind (adapter) plus base URL, key and settings."""

    __table__ = tables.providers

    id: Mapped[int]
    name: Mapped[str]
    """User-facing, unique; what API clients write before the slash in ``name/model``."""
    kind: Mapped[str]
    """The provider kind (adapter id), e.g. ``openai`` or ``openai_compatible``."""
    base_url: Mapped[str | None]
    """None = the kind's default base URL."""

    # Its API keys live in ``provider_keys`` (the key pool, migration 0014).

    image_url: Mapped[str | None]
    enabled: Mapped[bool]
    """False only when an admin switched the provider off. Whether it has a key is a
    separate question ("configured", derived, never stored): see decision 0035."""
    allow_unlisted_models: Mapped[bool]
    """Whether a model id the catalog does not list passes through to the vendor (new
    models appear before anyone adds them); migration 0005, decision 0036."""
    removed_models: Mapped[list[str]]
    """Model ids an admin deleted from this provider: refused even when unlisted models
    pass through, until the model is added again (migration 0005, decision 0036)."""

    status: Mapped[str]
    status_checked_at: Mapped[datetime | None]
    status_latency_ms: Mapped[int | None]
    status_error: Mapped[str | None]

    settings: Mapped[dict[str, Any]]
    """Extra headers, quirk flags, timeouts: the kind's ``Config`` fields beyond the key."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

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

    __table__ = tables.provider_models

    id: Mapped[int]
    provider_id: Mapped[int]
    name: Mapped[str]
    """Display name."""
    model_sdk_id: Mapped[str]
    """The id the upstream vendor knows the model by."""
    is_default: Mapped[bool]
    is_enabled: Mapped[bool]
    capabilities: Mapped[dict[str, Any]]
    """Flags: streaming, tools, vision, image_output, json_output, reasoning."""
    context_window: Mapped[int | None]
    max_output_tokens: Mapped[int | None]
    # USD per million tokens; None = unknown (cost is then unknown, never zero).
    price_input: Mapped[Decimal | None]
    price_cached_input: Mapped[Decimal | None]
    price_output: Mapped[Decimal | None]
    price_cache_write: Mapped[Decimal | None]
    description: Mapped[str | None]
    fallbacks: Mapped[list[str]]
    """Model refs (``provider:model``) that answer, in order, when this model fails before
    its first byte (migration 0009, decision 0064)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    model_type: Mapped[str]
    """``chat`` or ``embedding`` (migration 0014): embedding models answer only
    ``/v1/embeddings`` and are never offered for chat."""
    embedding: Mapped[dict[str, Any] | None]
    """An embedding model's ``dimensions`` / ``custom_dimensions``; null for chat."""
    image: Mapped[dict[str, Any] | None]
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

    __table__ = tables.provider_keys

    id: Mapped[int]
    provider_id: Mapped[int]
    label: Mapped[str]
    """Unique per provider; what people and the CLI name the key by ("default", "2026-q1")."""
    ciphertext: Mapped[bytes]
    master_key_id: Mapped[str]
    """Id of the master key that encrypted it (so the master key can rotate)."""
    last4: Mapped[str]
    weight: Mapped[int]
    """Share of the calls relative to the other keys (3 vs 1: three calls in four)."""
    rpm: Mapped[int | None]
    """This key's own requests-per-minute limit (None: none); the pool skips it when full."""
    tpm: Mapped[int | None]
    """This key's own tokens-per-minute limit (None: none)."""
    enabled: Mapped[bool]
    expires_at: Mapped[datetime | None]
    failed_at: Mapped[datetime | None]
    """When the vendor refused the key (401); None while it serves."""
    set_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    provider: Mapped[Provider] = relationship(back_populates="keys", lazy="raise")

    def __repr__(self) -> str:  # never the ciphertext
        return (f"ProviderKey(id={self.id!r}, provider_id={self.provider_id!r}, "
                f"label={self.label!r})")


# --- accounts (migration 0002) -----------------------------------------------------------


class User(Base):
    __table__ = tables.users

    id: Mapped[int]
    username: Mapped[str]
    """Unique as stored; the user service normalises (e.g. lower-cases) before storing."""
    display_name: Mapped[str | None]
    password_hash: Mapped[str | None]
    """A memory-hard hash (argon2id); None = password login disabled (API tokens only)."""
    role: Mapped[str]
    is_active: Mapped[bool]
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]

    preferences: Mapped[UserPreferences | None] = relationship(
        back_populates="user", lazy="raise", passive_deletes=True
    )

    def __repr__(self) -> str:
        return f"User(id={self.id!r}, username={self.username!r}, role={self.role!r})"


class UserPreferences(Base):
    """Server-side preferences, so they follow the user across sessions and devices."""

    __table__ = tables.user_preferences

    user_id: Mapped[int]
    selected_model: Mapped[str | None]
    """``provider/model`` as TEXT: survives the model being removed from the catalog."""
    settings: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]

    user: Mapped[User] = relationship(back_populates="preferences", lazy="raise")


class ApiToken(Base):
    """A personal API token for ``/v1``; only its hash is stored."""

    __table__ = tables.api_tokens

    id: Mapped[int]
    user_id: Mapped[int]
    name: Mapped[str]
    token_hash: Mapped[str]
    prefix: Mapped[str]
    """The token's first characters, shown in lists so a user can tell tokens apart."""
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="raise")


class SetupToken(Base):
    """A one-time link token (e.g. the first-run admin setup link); only its hash is kept."""

    __table__ = tables.setup_tokens

    id: Mapped[int]
    token_hash: Mapped[str]
    purpose: Mapped[str]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A browser login (migration 0002). The cookie holds a random token; only its SHA-256
    digest is stored, with the CSRF token bound to the session."""

    __table__ = tables.web_sessions

    id: Mapped[int]
    token_hash: Mapped[str]
    user_id: Mapped[int]
    csrf_token: Mapped[str]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]
    user_agent: Mapped[str | None]


class RevocationStamp(Base):
    """One row per watched state whose ``version`` goes up in every transaction that
    changes it. Row 1 (migration 0008): a credential taken away (a token revoked; a user
    deactivated, demoted or given a new password; a session ended). Row 2 (migration
    0022): a feature flag changed. Every server process compares them, about once a
    second, with the values it saw last, and drops what it cached when one moved
    (``services.revocations``): one small read per second instead of one per request."""

    __table__ = tables.revocation_stamp

    id: Mapped[int]
    version: Mapped[int]


class RateLimitRule(Base):
    """An override of the rate limits (migration 0011) for a role, a user or an API token.

    Exactly one target column is set, matching ``scope``. A limit column that is NULL
    inherits (token -> nothing of its own; user -> its role's rule -> the configured role
    default); 0 means "no limit". Read through a cache (``services.rate_limit_rules``), so
    admitting a call never reads this table.
    """

    __table__ = tables.rate_limit_rules

    id: Mapped[int]
    scope: Mapped[str]
    role: Mapped[str | None]
    user_id: Mapped[int | None]
    api_token_id: Mapped[int | None]
    requests_per_minute: Mapped[int | None]
    tokens_per_minute: Mapped[int | None]
    concurrent: Mapped[int | None]
    updated_at: Mapped[datetime]


# --- chat (migration 0002) ---------------------------------------------------------------


class Conversation(Base):
    __table__ = tables.conversations

    id: Mapped[int]
    user_id: Mapped[int]
    title: Mapped[str | None]
    provider: Mapped[str | None]
    """Provider instance name of the last answer (TEXT, never an enum or FK)."""
    model: Mapped[str | None]
    leaf_id: Mapped[int | None]
    """The last message of the branch shown (messages form a tree; see services.message_tree).
    Not a foreign key: it is checked by the code that reads it, and a stale id falls back
    to the newest message."""
    system_prompt: Mapped[str | None]
    tools: Mapped[list[str] | None]
    """The tools switched on in this conversation's composer (NULL: never chosen)."""
    """This conversation's own instructions; None = the user's preference."""
    pinned_at: Mapped[datetime | None]
    """When the owner pinned it (pinned conversations are listed first); None = not pinned."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    messages: Mapped[list[Message]] = relationship(
        back_populates="conversation",
        lazy="raise",
        order_by="Message.id",
        cascade="all, delete-orphan",
        passive_deletes=True,  # the database CASCADEs; no need to load messages to delete
    )


class Message(Base):
    __table__ = tables.messages

    id: Mapped[int]
    conversation_id: Mapped[int]
    parent_id: Mapped[int | None]
    """The message this one follows; None for the first. Siblings are versions."""
    role: Mapped[str]
    parts: Mapped[list[dict[str, Any]]]
    """The spec message parts, serialised (text, file, tool call, tool result, reasoning)."""
    provider: Mapped[str | None]
    model: Mapped[str | None]
    input_tokens: Mapped[int | None]
    output_tokens: Mapped[int | None]
    cached_tokens: Mapped[int | None]
    cache_write_tokens: Mapped[int | None]
    reasoning_tokens: Mapped[int | None]
    cost: Mapped[Decimal | None]
    """USD; None = unknown price (never silently zero)."""
    usage_estimated: Mapped[bool]
    """The tokens (and so the cost) are an estimate: the vendor sent no usage (a stopped or
    broken answer, a vendor that never reports it, an answer closed after a crash)."""
    latency_ms: Mapped[int | None]
    ttft_ms: Mapped[int | None]
    writer: Mapped[str | None]
    """While the answer is being written: which process writes it (``host:pid:boot``);
    None once it is final. A row whose writer is dead is closed at start-up
    (``services.answer_progress``)."""
    progress_at: Mapped[datetime | None]
    """The writer's last progress save or heartbeat (how stale a writer elsewhere is)."""
    finish_reason: Mapped[str | None]
    status: Mapped[str]
    error: Mapped[str | None]
    failed_models: Mapped[list[dict[str, Any]] | None]
    """When a fallback answered: the models that failed first, in order
    (``[{"ref": "provider:model", "error": "..."}]``); None when the first one answered
    (migration 0009)."""
    rating: Mapped[int | None]
    """-1 bad, 0 neutral, 1 good; None = not rated."""
    task: Mapped[str | None]
    """The question's task type (issue 16), on the answer: what grades and suggestions
    are kept per; None = not classified (migration 0023)."""
    auto: Mapped[dict[str, Any] | None]
    """When the user asked Auto: the pick (``task``, ``confidence``, ``tier``,
    ``model``, ``why``) shown with the answer after a reload, in another tab and in an
    export; None for a model chosen by name (migration 0025)."""
    created_at: Mapped[datetime]

    conversation: Mapped[Conversation] = relationship(back_populates="messages", lazy="raise")


# --- usage and audit (migration 0002; audit triggers 0003) ----------------------------------


class UsageEvent(Base):
    """One upstream call (chat, ``/v1`` API, CLI, test button): tokens, cost and timing.

    ``user_id``/``api_token_id`` are SET NULL when the user/token is deleted: the bill
    outlives the account.
    """

    __table__ = tables.usage_events

    id: Mapped[int]
    created_at: Mapped[datetime]
    user_id: Mapped[int | None]
    api_token_id: Mapped[int | None]
    provider: Mapped[str]
    model: Mapped[str]
    source: Mapped[str]
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    cached_tokens: Mapped[int]
    cache_write_tokens: Mapped[int]
    reasoning_tokens: Mapped[int]
    cost: Mapped[Decimal | None]
    latency_ms: Mapped[int | None]
    ttft_ms: Mapped[int | None]
    status: Mapped[str]
    error_code: Mapped[str | None]
    estimated: Mapped[bool]
    """Token counts estimated by Switchboard (the vendor sent none), not reported."""


class _UsageSums:
    """The sums every usage roll-up keeps (``services.usage_rollup``; the columns:
    ``tables._usage_sums``). ``cost`` sums the priced calls; ``priced`` counts them, so
    "no call had a price" (unknown) stays distinguishable from "free"."""

    requests: Mapped[int]
    errors: Mapped[int]
    input_tokens: Mapped[int]
    output_tokens: Mapped[int]
    cached_tokens: Mapped[int]
    reasoning_tokens: Mapped[int]
    cost: Mapped[Decimal]
    priced: Mapped[int]
    latency_total: Mapped[int]
    latency_count: Mapped[int]
    estimated: Mapped[int]


class UsageDaily(_UsageSums, Base):
    """``usage_events`` summed per UTC day x user x provider x model x source, kept up to
    date by the usage recorder in the same transaction as the rows it sums (decision
    0129): what a person's own report reads.

    ``user_id`` 0 stands for "no account" (the CLI; a NULL would make every such row its
    own group under the unique key) and is not a foreign key: the bill outlives the
    account, and a report shows a deleted user's spend as nobody's.
    """

    __table__ = tables.usage_daily

    id: Mapped[int]
    day: Mapped[date]
    user_id: Mapped[int]
    provider: Mapped[str]
    model: Mapped[str]
    source: Mapped[str]


class UsageDailyModel(_UsageSums, Base):
    """The same sums per UTC day x provider x model x source, everyone together: what the
    team-wide report and the dashboard read (a team of 40 makes ``usage_daily`` 40 times
    larger than this; decision 0129)."""

    __table__ = tables.usage_daily_models

    id: Mapped[int]
    day: Mapped[date]
    provider: Mapped[str]
    model: Mapped[str]
    source: Mapped[str]


class UsageDailyUser(_UsageSums, Base):
    """The same sums per UTC day x user: "who spent what" (``user_id`` as in
    ``usage_daily``)."""

    __table__ = tables.usage_daily_users

    id: Mapped[int]
    day: Mapped[date]
    user_id: Mapped[int]


class UsageDailyLatency(Base):
    """How many calls per UTC day x provider x model took how long: a histogram with
    fixed buckets (``services.usage_rollup.LATENCY_BOUNDS_MS``), so p50 / p95 over any
    period are read from a few rows instead of sorting every call's latency."""

    __table__ = tables.usage_daily_latency

    id: Mapped[int]
    day: Mapped[date]
    provider: Mapped[str]
    model: Mapped[str]
    bucket: Mapped[int]
    calls: Mapped[int]


class AuditLog(Base):
    """Append-only record of what admins (and the CLI) did. UPDATE and DELETE are rejected
    by database triggers (migration 0003).

    ``actor_user_id`` is deliberately not a foreign key: a referential action on user
    deletion would have to UPDATE or DELETE audit rows, and the record must outlive its actor.
    ``details`` must never contain a secret (only masked keys: the last four characters).
    """

    __table__ = tables.audit_log

    id: Mapped[int]
    created_at: Mapped[datetime]
    actor_user_id: Mapped[int | None]
    actor: Mapped[str]
    """Who, as text: a username, ``cli``, ``system``."""
    action: Mapped[str]
    """Dotted verb, e.g. ``provider.key.set``."""
    target_type: Mapped[str | None]
    target_id: Mapped[str | None]
    details: Mapped[dict[str, Any]]
    address: Mapped[str | None]
    """The client's address (the peer, or the forwarded client behind a trusted proxy)."""
    request_id: Mapped[str | None]
    seq: Mapped[int | None]
    """Position in the hash chain (1, 2, ...; migration 0022, decision 0123)."""
    prev_hash: Mapped[str | None]
    hash: Mapped[str | None]
    """SHA-256 of the row's canonical form, ``prev_hash`` included (``db.audit_chain``)."""


class AuditChain(Base):
    """The head of the audit chain, one row (``id`` 1): the last row's ``seq`` and
    ``hash``, and the checkpoint left by retention (the last deleted row's ``seq`` and
    ``hash``; 0 and ``GENESIS`` before any deletion). Appends lock this row (PostgreSQL:
    ``FOR UPDATE``; SQLite: the write lock) so the chain has one order across workers,
    and ``verify`` compares the last row with it, so removing the newest rows is noticed.
    The triggers on ``audit_log`` allow a DELETE only of rows at or below the checkpoint."""

    __table__ = tables.audit_chain

    id: Mapped[int]
    seq: Mapped[int]
    hash: Mapped[str]
    checkpoint_seq: Mapped[int]
    checkpoint_hash: Mapped[str]
    checkpoint_at: Mapped[datetime | None]


class FeatureFlag(Base):
    """A feature flag's rule (migration 0022, ``services.flags``). A known flag without a
    row is on. ``mode``: ``on``, ``off`` (the kill switch) or ``rollout`` — on for the
    users and roles listed and for ``percent`` % of the others, picked by a sticky hash
    of the user id."""

    __table__ = tables.feature_flags

    name: Mapped[str]
    mode: Mapped[str]
    percent: Mapped[int]
    user_ids: Mapped[list[int]]
    roles: Mapped[list[str]]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None]


# --- budgets (migration 0010) ----------------------------------------------------------------


class Budget(Base):
    """A spending limit in US dollars over a calendar period, for everyone (``global``),
    one user or one API token. ``soft`` ones warn instead of refusing.

    ``subject`` (``global``, ``user:ID``, ``token:ID``) exists for the unique constraint:
    NULLs are distinct in a unique index, so (user_id, api_token_id) alone could not stop
    two global budgets for the same period. Deleting the user or token deletes its budgets.
    """

    __table__ = tables.budgets

    id: Mapped[int]
    scope: Mapped[str]
    user_id: Mapped[int | None]
    api_token_id: Mapped[int | None]
    subject: Mapped[str]
    amount: Mapped[Decimal]
    """The limit in US dollars per period."""
    period: Mapped[str]
    soft: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BudgetSpend(Base):
    """What one budget has spent and holds reserved in one period.

    Integers in nano-dollars (1e-9 USD), not ``Money``: SQLite keeps NUMERIC as a double,
    and these counters are added to and subtracted from by every call, where a double
    would drift; the admission check compares them in one UPDATE, which integers make
    exact on both databases. One row per period (``period_start`` is the period's first
    day in the budget time zone), so a new period starts at zero without a reset job, and
    a call is settled into the period it was reserved in.
    """

    __table__ = tables.budget_spend

    budget_id: Mapped[int]
    period_start: Mapped[date]
    spent: Mapped[int]
    reserved: Mapped[int]
# --- stored Responses API answers (migration 0014) ----------------------------------------


class StoredFile(Base):
    """A file a user owns (``services.files``, decision 0081): its bytes live once per
    content (SHA-256) in the data directory or the ``file_blobs`` table (decision
    0171); this row says who may read them and as what
    media type. Another user's file is "not found"."""

    __table__ = tables.files

    id: Mapped[int]
    owner_id: Mapped[int]
    sha256: Mapped[str]
    media_type: Mapped[str]
    size: Mapped[int]
    created_at: Mapped[datetime]


class FileBlob(Base):
    """A stored file's bytes, once per content, when files live in the database
    (``services.file_bytes.DatabaseBytes``, decision 0171): several workers on one
    PostgreSQL see the same files. One ``bytea``/BLOB per content, not chunks: a file
    is at most 20 MB and is read whole (decision 0171's measurements)."""

    __table__ = tables.file_blobs

    sha256: Mapped[str]
    size: Mapped[int]
    data: Mapped[bytes]
    created_at: Mapped[datetime]


class TaskDefault(Base):
    """The model an administrator chose for one task type (issue 16 item 2): what
    ``auto`` picks for it first. A task type without a row falls back to the global
    default model. ``model_ref`` is TEXT, not a foreign key: it survives the model
    being removed, and routing then says so rather than the row vanishing."""

    __table__ = tables.task_defaults

    task: Mapped[str]
    model_ref: Mapped[str]
    updated_at: Mapped[datetime]


class ImageCaption(Base):
    """What a vision model said an image shows (``services.captions``, decision 0148):
    made once per image (the SHA-256 of its bytes) and captioning model, then shown to
    text-only models in place of the image."""

    __table__ = tables.image_captions

    sha256: Mapped[str]
    model_ref: Mapped[str]
    caption: Mapped[str]
    created_at: Mapped[datetime]


class StoredResponse(Base):
    """An answer of ``POST /v1/responses`` kept for ``GET /v1/responses/{id}`` and for
    ``previous_response_id`` (``services.stored_responses``). Per user: another user's id
    is "not found". ``conversation`` holds the neutral messages that led to the answer
    and the answer itself (without ``instructions``, which OpenAI does not carry over), so
    the next turn can go to a model of any provider."""

    __table__ = tables.stored_responses

    id: Mapped[int]
    response_id: Mapped[str]
    user_id: Mapped[int]
    created_at: Mapped[datetime]
    model: Mapped[str]
    body: Mapped[dict[str, Any]]
    """The ``response`` object as it was returned."""
    conversation: Mapped[list[dict[str, Any]]]
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

    __table__ = tables.tool_settings

    name: Mapped[str]
    enabled: Mapped[bool | None]
    default_on: Mapped[bool | None]
    policy: Mapped[str | None]
    updated_at: Mapped[datetime]


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

    __table__ = tables.mcp_servers

    id: Mapped[int]
    name: Mapped[str]
    transport: Mapped[str]
    command: Mapped[str | None]
    args: Mapped[list[str]]
    env: Mapped[dict[str, Any]]
    url: Mapped[str | None]
    headers: Mapped[dict[str, Any]]
    enabled: Mapped[bool]
    timeout_seconds: Mapped[int]
    default_policy: Mapped[str]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# --- alerts (migration 0021) ---------------------------------------------------------------

class AlertRule(Base):
    """One alert rule's settings (``services.alert_rules``, decision 0130): the rules
    themselves are code; an admin switches them and turns their numbers. Seeded with
    the defaults on first evaluation, one row per ``kind``."""

    __table__ = tables.alert_rules

    id: Mapped[int]
    kind: Mapped[str]
    enabled: Mapped[bool]
    threshold: Mapped[float]
    window_seconds: Mapped[int]
    min_requests: Mapped[int]
    updated_at: Mapped[datetime]


class AlertChannel(Base):
    """Where alerts are sent besides the dashboard: e-mail (SMTP), a generic JSON
    webhook or a Slack-compatible one. The secret (the SMTP password, or the webhook's
    URL, which is its own credential) is encrypted like provider keys (``Vault``) with
    ``alert-channel:ID`` as associated data; ``settings`` holds nothing secret."""

    __table__ = tables.alert_channels

    id: Mapped[int]
    name: Mapped[str]
    kind: Mapped[str]
    enabled: Mapped[bool]
    settings: Mapped[dict[str, Any]]
    secret: Mapped[str | None]
    secret_hint: Mapped[str | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Alert(Base):
    """One alert: a rule's condition held for one subject from ``opened_at`` until
    ``resolved_at``. At most one open alert per (rule, subject): a partial unique index,
    so two evaluators that raced could not open it twice."""

    __table__ = tables.alerts

    id: Mapped[int]
    rule: Mapped[str]
    subject: Mapped[str]
    value: Mapped[float]
    message: Mapped[str]
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class AlertDelivery(Base):
    """One notice (an alert opened or resolved) to one channel, retried a bounded number
    of times by the evaluator; the last error is kept for the Alerts page."""

    __table__ = tables.alert_deliveries

    id: Mapped[int]
    alert_id: Mapped[int]
    channel_id: Mapped[int]
    event: Mapped[str]
    status: Mapped[str]
    attempts: Mapped[int]
    next_at: Mapped[datetime]
    last_error: Mapped[str | None]
    sent_at: Mapped[datetime | None]


class AlertSignal(Base):
    """Something a server process saw that only it can see (breakers and the usage
    recorder are per process): a breaker opening, the usage recorder's backlog. Each
    process writes its own; the one evaluator reads them all by time."""

    __table__ = tables.alert_signals

    id: Mapped[int]
    kind: Mapped[str]
    subject: Mapped[str]
    value: Mapped[float]
    detail: Mapped[str | None]
    created_at: Mapped[datetime]


# --- grades from feedback (migration 0023; decision 0136) ----------------------------------


class GradeVote(Base):
    """One piece of feedback about a model's answer, as a Bradley-Terry comparison
    (``services.grades``): ``a`` against ``b`` (a model ref), or against the virtual
    average model when ``b`` is NULL (a thumbs up is a win against it, a thumbs down or a
    regenerated answer a loss). Kept when the conversation is deleted (``message_id`` SET
    NULL): the grade outlives the chat. Rating an answer again replaces its vote
    (``services.grades`` deletes the old one in the same transaction)."""

    __table__ = tables.grade_votes

    id: Mapped[int]
    created_at: Mapped[datetime]
    user_id: Mapped[int | None]
    task: Mapped[str | None]
    """The answer's task type (``Message.task``); None = not classified."""
    a: Mapped[str]
    b: Mapped[str | None]
    """None = the virtual average model."""
    winner: Mapped[str]
    source: Mapped[str]
    message_id: Mapped[int | None]
    """The answer voted on (for a comparison: ``a``'s answer)."""


class GradeExclusion(Base):
    """A model the administrator left off the leaderboard (and out of Auto's grades)."""

    __table__ = tables.grade_exclusions

    model: Mapped[str]
    created_at: Mapped[datetime]


class SuggestionDaily(Base):
    """How often the model picker showed suggestions to a user on a UTC day, and how often
    the model sent was one of them (``services.suggestions``): the hit rate. Counters,
    not events: one row per user and day whatever a client reports."""

    __table__ = tables.suggestion_daily

    id: Mapped[int]
    day: Mapped[date]
    user_id: Mapped[int]
    shown: Mapped[int]
    taken: Mapped[int]


# The audit trail's hash chain: a flush of new ``AuditLog`` rows numbers and hashes them
# (``db.audit_chain``). Registered with the classes, so any session that can add a row
# chains it, and a server that never loads the ORM never needs it.
event.listen(Session, "before_flush", audit_chain.chain)
