"""Talking to the vendor about the catalog: import its model list, test its key.

The network call happens OUTSIDE any transaction (a slow vendor must not hold a database
lock); the result is then written in one transaction with its audit row. The provider is
built through the registry, so the key is decrypted only inside the provider's config.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import select

from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.db.types import utcnow
from switchboard.services.audit import SYSTEM, Actor, record
from switchboard.services.pricing_info import known_model
from switchboard.services.provider_models import catalog_kind, fill_from_info
from switchboard.services.providers import ProviderRef, load_provider
from switchboard.services.registry_source import build_registry
from switchboard.services.transactions import catalog_write
from switchboard.services.views import ImportResult, TestResult
from switchboard.spec.errors import SwitchboardError
from switchboard.spec.model import Capabilities, ModelInfo
from switchboard.spec.provider import Provider
from switchboard.spec.redaction import redact

MAX_ERROR_LENGTH = 1000


async def _provider(db: Database, ref: ProviderRef) -> tuple[str, Provider]:
    async with db.unit_of_work(read_only=True) as session:
        name = (await load_provider(session, ref)).name
    registry = await build_registry(db)
    return name, registry.provider(name)


async def import_models(
    db: Database, provider: ProviderRef, *, actor: Actor = SYSTEM
) -> ImportResult:
    """Add the vendor's listed models (upsert by ``model_sdk_id``). Prices, capabilities
    and limits come from ``switchboard.pricing`` when it knows the model; a field an admin
    already filled in is not overwritten. New models are enabled; a model an admin
    deleted from this provider (``removed_models``) is not brought back."""
    name, built = await _provider(db, provider)
    listed = await built.list_models()
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    async with catalog_write(db, f"importing models of provider {name!r}") as session:
        row = await load_provider(session, name)
        existing = {x.model_sdk_id: x for x in (await session.scalars(
            select(m.ProviderModel).where(m.ProviderModel.provider_id == row.id))).all()}
        kind = catalog_kind(row)
        removed = set(row.removed_models or [])
        for info in sorted({i.id: i for i in listed}.values(), key=lambda i: i.id):
            if info.id in removed and info.id not in existing:
                continue
            merged = _merge(known_model(kind, info.id), info)
            model = existing.get(info.id)
            if model is None:
                model = m.ProviderModel(provider_id=row.id, model_sdk_id=info.id,
                                        name=merged.display_name, is_enabled=True,
                                        capabilities={})
                fill_from_info(model, merged, overwrite=True)
                if not model.capabilities:
                    model.capabilities = Capabilities(streaming=True).as_dict()
                session.add(model)
                added.append(info.id)
            elif fill_from_info(model, merged, overwrite=False):
                updated.append(info.id)
            else:
                unchanged.append(info.id)
        record(session, actor, "provider.models.import", target_type="provider",
               target_id=row.id, details={"name": row.name, "listed": len(listed),
                                          "added": added, "updated": updated})
    return ImportResult(provider=name, added=added, updated=updated, unchanged=unchanged,
                        total_listed=len(listed))


@dataclass(frozen=True, slots=True)
class Discovery:
    """What ``discover_models`` found: the import's result, or why it could not run."""

    ok: bool
    added: int
    message: str


async def discover_models(
    db: Database, provider: ProviderRef, *, actor: Actor = SYSTEM
) -> Discovery:
    """Import the vendor's models right after a key arrives, so a new provider shows its
    models at once (issue 11, item 7). A vendor that cannot be reached is not an error
    of the caller's request: the outcome is reported, the key stays stored, and the
    admin can import again later."""
    try:
        result = await import_models(db, provider, actor=actor)
    except SwitchboardError as exc:
        name = provider if isinstance(provider, str) else f"#{provider}"
        return Discovery(False, 0, f"the models of {name} could not be listed: {exc}"[
            :MAX_ERROR_LENGTH])
    return Discovery(True, len(result.added),
                     f"{len(result.added)} model(s) found for {result.provider}")


def _merge(catalog: ModelInfo | None, listed: ModelInfo) -> ModelInfo:
    """The pricing catalog's knowledge first, the vendor's listing for the rest."""
    if catalog is None:
        return listed
    return ModelInfo(
        id=listed.id,
        name=catalog.name or listed.name,
        capabilities=catalog.capabilities if catalog.capabilities != Capabilities()
        else listed.capabilities,
        context_window=catalog.context_window or listed.context_window,
        max_output_tokens=catalog.max_output_tokens or listed.max_output_tokens,
        price=catalog.price or listed.price,
        description=catalog.description or listed.description,
    )


async def test_provider(
    db: Database, provider: ProviderRef, *, actor: Actor = SYSTEM
) -> TestResult:
    """"Test connection": one cheap authenticated call (the adapter's ``validate_key``);
    records status ok/error, latency, error and time on the provider row."""
    name, built = await _provider(db, provider)
    started = time.perf_counter()
    models_seen: int | None = None
    try:
        check = await built.validate_key()
    except SwitchboardError as exc:
        ok, message = False, f"{type(exc).__name__}: {exc}"
    else:
        ok, message, models_seen = check.ok, check.message, check.models_seen
    latency = int((time.perf_counter() - started) * 1000)
    message = _redact(message, built)[:MAX_ERROR_LENGTH]
    checked_at = utcnow()
    async with catalog_write(db, f"recording the test of provider {name!r}") as session:
        row = await load_provider(session, name)
        row.status = "ok" if ok else "error"
        row.status_latency_ms = latency
        row.status_error = None if ok else message
        row.status_checked_at = checked_at
        record(session, actor, "provider.test", target_type="provider", target_id=row.id,
               details={"name": row.name, "ok": ok, "latency_ms": latency})
    return TestResult(provider=name, ok=ok, status="ok" if ok else "error",
                      latency_ms=latency, message=message, models_seen=models_seen,
                      checked_at=checked_at)


test_provider.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def _redact(message: str, provider: Provider) -> str:
    """The check's message without the key. Errors built from a vendor's answer are
    redacted already; a provider plugin's own ``KeyCheck`` message may not be, and this is
    what is stored (``status_error``) and shown to admins."""
    try:
        key = provider.api_key
    except SwitchboardError:
        key = None
    return redact(message, (key,) if key else ())
