"""Catalog states: "not configured" is not "disabled"; the catalog means what it says.

Revision ID: 0005_catalog_states
Revises: 0004_message_tree
Create Date: 2026-12-03

- ``providers.allow_unlisted_models`` (default true: what routing did before) and
  ``providers.removed_models`` (model ids an admin deleted, refused from now on).
- Built-in vendor rows that the first-run seed created DISABLED only because no key was
  found become enabled (they are "not configured" now, which is derived from the key).
  A row is taken as such when it looks seeded (name == kind, one of the four vendor
  kinds, no ``provider.create`` audit row: the seed writes one ``catalog.seed`` row
  instead) and no admin ever changed its ``enabled`` flag (no ``provider.update`` audit
  row whose changes name ``enabled``). A provider an admin switched off stays off.
  Decision 0035.
- Capabilities written as "streaming only, everything else false" — the placeholder the
  code stored when a vendor's listing said nothing — become "streaming, the rest
  unknown", so such models accept tools again (decision 0036).

Frozen history: plain SQL over the tables, no import of the models.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from switchboard.db.types import JSONType

revision: str = "0005_catalog_states"
down_revision: str | None = "0004_message_tree"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEEDED_VENDOR_KINDS = ("openai", "anthropic", "mistral", "gemini")
FLAGS = ("streaming", "tools", "vision", "image_output", "json_output", "reasoning")
PLACEHOLDER = {flag: flag == "streaming" for flag in FLAGS}


def _json(value: Any) -> Any:
    """JSON columns come back parsed on PostgreSQL (JSONB) and usually on SQLite; a
    driver that hands back text is parsed here."""
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:
            return None
    return value


def upgrade() -> None:
    with op.batch_alter_table("providers") as batch:
        batch.add_column(sa.Column("allow_unlisted_models", sa.Boolean(),
                                   server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column("removed_models", JSONType,
                                   server_default=sa.text("'[]'"), nullable=False))
    bind = op.get_bind()
    _enable_seeded_vendors(bind)
    _unknown_capabilities(bind)


def _enable_seeded_vendors(bind: sa.Connection) -> None:
    rows = bind.execute(sa.text(
        "SELECT id, name, kind FROM providers WHERE enabled = :off"), {"off": False}).all()
    audits = bind.execute(sa.text(
        "SELECT target_id, action, details FROM audit_log WHERE target_type = 'provider' "
        "AND action IN ('provider.create', 'provider.update')")).all()
    touched: set[str] = set()  # audit_log.target_id is text
    for target_id, action, details in audits:
        if target_id is None:
            continue
        changes = (_json(details) or {}).get("changes") if action == "provider.update" else {}
        if action == "provider.create" or (isinstance(changes, dict) and "enabled" in changes):
            touched.add(str(target_id))
    for row_id, name, kind in rows:
        if name == kind and kind in SEEDED_VENDOR_KINDS and str(row_id) not in touched:
            bind.execute(sa.text("UPDATE providers SET enabled = :on WHERE id = :id"),
                         {"on": True, "id": row_id})


def _unknown_capabilities(bind: sa.Connection) -> None:
    rows = bind.execute(sa.text("SELECT id, capabilities FROM provider_models")).all()
    table = sa.table("provider_models", sa.column("id", sa.BigInteger()),
                     sa.column("capabilities", JSONType))
    for row_id, raw in rows:
        if _json(raw) == PLACEHOLDER:
            bind.execute(table.update().where(table.c.id == row_id)
                         .values(capabilities={"streaming": True}))


def downgrade() -> None:
    # The enabled flags and capabilities keep their new meaning: the old code reads them
    # (an enabled provider without a key then fails with "no API key" when called).
    with op.batch_alter_table("providers") as batch:
        batch.drop_column("removed_models")
        batch.drop_column("allow_unlisted_models")
