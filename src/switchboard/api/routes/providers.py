"""``/api/providers``: connection state, the API keys, and "Test connection".

``/api/providers/{provider}/keys`` is the provider's key pool (decision 0066), admins
only: list (label, masked tail, state, weight, limits, expiry, calls in flight in this
process), add (``POST``), change or switch one (``PATCH .../keys/{key}``, ``{key}`` its
id or label), retire one (``DELETE .../keys/{key}``). ``POST .../key`` (one key) makes
the pool that one key, as ``switchboard keys set`` does.

``{provider}`` is a provider's name or its id. A key goes from the request body straight
to the vault (``services.keys``) and only its mask ever comes back. The test makes one
real, cheap authenticated call through the adapter (``validate_key``) and records the
outcome (state, latency, redacted error, time) on the provider row. ``/status`` adds the
circuit breakers' state (``services.breakers``: per process, per instance and key).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api import catalog_views as views
from switchboard.api.auth import current_principal, require_admin, require_csrf, state_of
from switchboard.api.catalog_bodies import (
    KeySet,
    PoolKeyAdd,
    PoolKeyUpdate,
    api_key_value,
)
from switchboard.api.routes.catalog import actor_of, db_of, json, provider_entry
from switchboard.api.tokens import Principal
from switchboard.services import catalog
from switchboard.services import keys as pool
from switchboard.services.catalog_queries import catalog_snapshot, resolve_provider
from switchboard.services.keys import future_expiry

router = APIRouter(prefix="/api/providers")
WRITE = [Depends(require_csrf)]


@router.get("")
async def list_providers(request: Request,
                         who: Principal = Depends(current_principal)) -> Response:
    snapshot = await catalog_snapshot(db_of(request))
    return json([views.provider_summary(e, admin=who.is_admin) for e in snapshot.entries])


@router.post("/{provider}/key", dependencies=WRITE)
async def set_key(provider: str, body: KeySet, request: Request,
                  who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    key = api_key_value(body.api_key)
    assert key is not None  # the body model requires it
    target = await resolve_provider(db, provider)
    expires_at = future_expiry(body.expires_at)  # refused before the key is stored
    await catalog.set_provider_key(db, target.id, key, actor=actor_of(who),
                                   expires_at=expires_at)
    discovery = None
    if not target.models:  # a provider's first key: show its models at once (issue 11)
        found = await catalog.discover_models(db, target.id, actor=actor_of(who))
        discovery = {"ok": found.ok, "added": found.added, "message": found.message}
    out = views.provider(await provider_entry(db, target.id), admin=True)
    if discovery is not None:
        out["discovery"] = discovery
    return json(out)


@router.delete("/{provider}/key", dependencies=WRITE)
async def remove_key(provider: str, request: Request,
                     who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    target = await resolve_provider(db, provider)
    await catalog.remove_provider_key(db, target.id, actor=actor_of(who))
    return json(views.provider(await provider_entry(db, target.id), admin=True))


@router.get("/{provider}/keys")
async def list_keys(provider: str, request: Request,
                    who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    target = await resolve_provider(db, provider)
    return json({"provider": target.name, "keys": [
        k.model_dump(mode="json") for k in await pool.list_provider_keys(db, target.id)]})


@router.post("/{provider}/keys", dependencies=WRITE)
async def add_key(provider: str, body: PoolKeyAdd, request: Request,
                  who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    key = api_key_value(body.api_key)
    assert key is not None  # the body model requires it
    target = await resolve_provider(db, provider)
    added = await pool.add_provider_key(
        db, target.id, key, label=body.label, weight=body.weight, rpm=body.rpm,
        tpm=body.tpm, expires_at=body.expires_at, actor=actor_of(who))
    return json(added.model_dump(mode="json"), 201)


@router.patch("/{provider}/keys/{key}", dependencies=WRITE)
async def update_key(provider: str, key: str, body: PoolKeyUpdate, request: Request,
                     who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    target = await resolve_provider(db, provider)
    changed = await pool.update_provider_key(
        db, target.id, key, **body.given(not_null=frozenset({"enabled", "weight", "label"})),
        actor=actor_of(who))
    return json(changed.model_dump(mode="json"))


@router.delete("/{provider}/keys/{key}", dependencies=WRITE)
async def retire_key(provider: str, key: str, request: Request,
                     who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    target = await resolve_provider(db, provider)
    retired = await pool.retire_provider_key(db, target.id, key, actor=actor_of(who))
    return json(retired.model_dump(mode="json"))


@router.post("/{provider}/test", dependencies=WRITE)
async def test_connection(provider: str, request: Request,
                          who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    target = await resolve_provider(db, provider)
    result = await catalog.test_provider(db, target.id, actor=actor_of(who))
    entry = await provider_entry(db, target.id)
    return json({"ok": result.ok, "latency_ms": result.latency_ms, "message": result.message,
                 "status": views.status(entry.provider)})


@router.get("/{provider}/status")
async def provider_status(provider: str, request: Request,
                          who: Principal = Depends(current_principal)) -> Response:
    """The last connection test and this process's circuit breakers for the provider
    (the instance's, then one per key that has been used)."""
    state = state_of(request)
    target = await resolve_provider(db_of(request), provider)
    out = views.status(target, admin=who.is_admin)
    pool = (await state.registry()).key_pool(target.name)
    labels = {str(k.id): k.label for k in pool.keys} if pool is not None else {}
    out["breakers"] = views.breakers(state.breakers.of_provider(target.name), labels,
                                     admin=who.is_admin)
    return json(out)
