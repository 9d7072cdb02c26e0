"""``/api/config/*`` (providers and models CRUD), ``/api/model-registry``, ``/api/models``
and ``/api/kinds``: thin routes over the catalog services.

``/api/config/*`` is configuration (base URLs, key hints, last errors, settings): admins
only, reads too (issue 11, item 6). What every signed-in user needs for the model
selector is ``/api/model-registry``, ``/api/models`` and ``/api/kinds``. Reads are
answered from the catalog snapshot (the catalog cache: no query while the catalog is
unchanged). The listings
(``/api/model-registry``, ``/api/models``, ``/api/config/providers``) go one step further:
their encoded bytes, gzip copy and ETag are cached per catalog version and variant
(``catalog_derived`` + ``api.encoded``), so a warm call is a lookup and a send (30-40 ms of
CPU at 5,000 models before, see docs/scaling.md). Writes need an admin and, for a browser
session, the CSRF token; each is one service call (one transaction with its audit row),
and the response is re-read so it shows the committed state.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query
from starlette.requests import Request
from starlette.responses import Response

from switchboard.api import catalog_views as views
from switchboard.api.auth import current_principal, require_admin, require_csrf, state_of
from switchboard.api.catalog_bodies import (
    ModelCreate,
    ModelUpdate,
    ProviderCreate,
    ProviderUpdate,
    api_key_value,
)
from switchboard.api.encoded import EncodedJson, send
from switchboard.api.errors import ApiError
from switchboard.api.params import PathId
from switchboard.api.tokens import Principal
from switchboard.db.engine import Database
from switchboard.services import catalog
from switchboard.services.audit import Actor
from switchboard.services.catalog_queries import (
    CatalogEntry,
    CatalogSnapshot,
    catalog_derived,
    catalog_snapshot,
    describe,
    provider_name,
)
from switchboard.services.errors import Conflict, NotFound
from switchboard.services.presets import load_presets
from switchboard.services.validation import installed_kinds
from switchboard.services.views import ModelView

router = APIRouter(prefix="/api")
WRITE = [Depends(require_csrf)]


def json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status, media_type="application/json")


def actor_of(principal: Principal) -> Actor:
    return Actor(principal.username, principal.user_id)


def db_of(request: Request) -> Database:
    return state_of(request).db


async def provider_entry(db: Database, provider_id: int) -> CatalogEntry:
    """The provider as it is now (after a write: re-read, not from a stale view)."""
    return describe(await catalog.get_provider_by_id(db, provider_id))


async def model_json(db: Database, view: ModelView) -> dict[str, Any]:
    # Not the catalog snapshot: after a write it is invalidated, and rebuilding it whole
    # to learn one name cost 441 ms at 5,000 models (docs/scaling.md).
    return views.model(view, await provider_name(db, view.provider_id))


# -- providers ------------------------------------------------------------------------

def _providers_body(snapshot: CatalogSnapshot, admin: bool) -> EncodedJson:
    return EncodedJson([views.provider(e, admin=admin) for e in snapshot.entries])


@router.get("/config/providers")
async def list_providers(request: Request,
                         who: Principal = Depends(require_admin)) -> Response:
    body = await catalog_derived(db_of(request), "config-providers", _providers_body, True)
    return send(request, body)


async def _discover(db: Database, provider_id: int, who: Principal) -> dict[str, Any]:
    """Import the models of a provider that just got its key (issue 11, item 7)."""
    found = await catalog.discover_models(db, provider_id, actor=actor_of(who))
    return {"ok": found.ok, "added": found.added, "message": found.message}


@router.post("/config/providers", dependencies=WRITE)
async def create_provider(body: ProviderCreate, request: Request,
                          who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    key = api_key_value(body.api_key)  # checked before anything is written
    view = await catalog.create_provider(
        db, name=body.name, kind=body.kind, base_url=body.base_url, preset=body.preset,
        enabled=body.enabled, settings=body.settings, image_url=body.image_url,
        allow_unlisted_models=body.allow_unlisted_models, actor=actor_of(who))
    discovery: dict[str, Any] | None = None
    if key is not None:
        try:
            await catalog.set_provider_key(db, view.id, key, actor=actor_of(who))
        except Exception:
            # The row without its key would be a half-done create: take it back.
            await catalog.delete_provider(db, view.id, actor=actor_of(who))
            raise
        discovery = await _discover(db, view.id, who)
    out = views.provider(await provider_entry(db, view.id), admin=True)
    if discovery is not None:
        out["discovery"] = discovery
    return json(out, 201)


@router.get("/config/providers/{provider_id}")
async def get_provider(provider_id: PathId, request: Request,
                       who: Principal = Depends(require_admin)) -> Response:
    entry = (await catalog_snapshot(db_of(request))).by_id(provider_id)
    if entry is None:
        entry = await provider_entry(db_of(request), provider_id)  # NotFound names them
    return json(views.provider(entry, admin=True))


@router.put("/config/providers/{provider_id}", dependencies=WRITE)
async def update_provider(provider_id: PathId, body: ProviderUpdate, request: Request,
                          who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    if body.api_key is None and "api_key" in body.model_fields_set:
        raise ApiError(422, "api_key cannot be null here; remove a key with "
                       f"DELETE /api/providers/{provider_id}/key", "validation_failed",
                       "api_key")
    key = api_key_value(body.api_key)  # checked before anything is written
    changes = body.given(not_null=ProviderUpdate.NOT_NULL, exclude=frozenset({"api_key"}))
    await catalog.update_provider(db, provider_id, actor=actor_of(who), **changes)
    if key is not None:
        await catalog.set_provider_key(db, provider_id, key, actor=actor_of(who))
    return json(views.provider(await provider_entry(db, provider_id), admin=True))


@router.delete("/config/providers/{provider_id}", dependencies=WRITE)
async def delete_provider(provider_id: PathId, request: Request,
                          cascade: bool = Query(default=False),
                          who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    try:
        await catalog.delete_provider(db, provider_id, cascade=cascade, actor=actor_of(who))
    except Conflict as exc:
        if cascade or "cascade" not in exc.message:
            raise  # e.g. it holds the default model: cascade would not help
        raise ApiError(409, f"{exc.message}. Over this API: DELETE "
                       f"/api/config/providers/{provider_id}?cascade=true", "conflict",
                       "cascade") from None
    return Response(status_code=204)


@router.post("/config/providers/{provider_id}/import-models", dependencies=WRITE)
async def import_models(provider_id: PathId, request: Request,
                        who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    result = await catalog.import_models(db, provider_id, actor=actor_of(who))
    models = await catalog.get_models_by_provider_id(db, provider_id)
    return json({"imported": len(result.added), "updated": len(result.updated),
                 "models": [views.model(x, result.provider) for x in models]})


# -- models ---------------------------------------------------------------------------

@router.post("/config/models", dependencies=WRITE)
async def create_model(body: ModelCreate, request: Request,
                       who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    fields = body.given(exclude=frozenset({"provider_id", "model_sdk_id", "is_enabled"}))
    if body.is_enabled is not None:
        fields["enabled"] = body.is_enabled
    try:
        view = await catalog.create_model(db, body.provider_id, body.model_sdk_id,
                                          actor=actor_of(who), **fields)
    except NotFound as exc:
        raise ApiError(404, exc.message, "not_found", "provider_id") from None
    return json(await model_json(db, view), 201)


@router.get("/config/models/provider/{provider_id}")
async def models_of_provider(provider_id: PathId, request: Request,
                             who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    entry = (await catalog_snapshot(db)).by_id(provider_id)
    if entry is None:
        entry = await provider_entry(db, provider_id)  # NotFound names the providers
    return json([views.model(x, entry.provider.name) for x in entry.provider.models])


@router.get("/config/models/{model_id}")
async def get_model(model_id: PathId, request: Request,
                    who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    for entry in (await catalog_snapshot(db)).entries:
        for view in entry.provider.models:
            if view.id == model_id:
                return json(views.model(view, entry.provider.name))
    return json(await model_json(db, await catalog.get_model_by_id(db, model_id)))


@router.put("/config/models/{model_id}", dependencies=WRITE)
async def update_model(model_id: PathId, body: ModelUpdate, request: Request,
                       who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    changes = body.given(not_null=ModelUpdate.NOT_NULL, rename={"is_enabled": "enabled"})
    view = await catalog.update_model(db, model_id, actor=actor_of(who), **changes)
    return json(await model_json(db, view))


@router.delete("/config/models/{model_id}", dependencies=WRITE)
async def delete_model(model_id: PathId, request: Request,
                       who: Principal = Depends(require_admin)) -> Response:
    await catalog.delete_model(db_of(request), model_id, actor=actor_of(who))
    return Response(status_code=204)


@router.post("/config/models/{model_id}/set-default", dependencies=WRITE)
async def set_default(model_id: PathId, request: Request,
                      who: Principal = Depends(require_admin)) -> Response:
    db = db_of(request)
    view = await catalog.set_default_model(db, model_id, actor=actor_of(who))
    return json(await model_json(db, view))


# -- what the UI's pickers and forms read ------------------------------------------------

def _registry_body(snapshot: CatalogSnapshot, variant: None) -> EncodedJson:
    providers = [views.registry_provider(e, all_models=False)
                 for e in snapshot.entries if e.provider.enabled]
    return EncodedJson({"providers": providers, "default_model_id": snapshot.default_model_id,
                        "default_model_ref": snapshot.default_model_ref})


def _models_body(snapshot: CatalogSnapshot, variant: None) -> EncodedJson:
    return EncodedJson({"providers": [views.registry_provider(e, all_models=True)
                                      for e in snapshot.entries],
                        "default_model_ref": snapshot.default_model_ref})


# The two pickers are the same for every user (no admin-only field, no per-user
# preference: the user's chosen model is /api/me/preferences), hence one variant. Should
# that change, pass the deciding value as the variant, as list_providers does.

@router.get("/model-registry")
async def model_registry(request: Request,
                         who: Principal = Depends(current_principal)) -> Response:
    """Every ENABLED provider with its ENABLED models, and the default model."""
    return send(request, await catalog_derived(db_of(request), "model-registry",
                                               _registry_body, None))


@router.get("/models")
async def all_models(request: Request,
                     who: Principal = Depends(current_principal)) -> Response:
    """Every provider and every model, enabled or not, with their flags."""
    return send(request, await catalog_derived(db_of(request), "models", _models_body, None))


@router.get("/kinds")
async def kinds(who: Principal = Depends(current_principal)) -> Response:
    """The installed provider kinds, the OpenAI-compatible presets, and plugins that
    failed to load (for the "Add provider" form)."""
    installed = installed_kinds()
    presets: list[dict[str, Any]] = []
    for info in installed:
        for name, preset in sorted(load_presets(info.cls).items()):
            presets.append({"name": name, "kind": info.kind,
                            "display_name": getattr(preset, "display_name", name),
                            "base_url": getattr(preset, "base_url", None),
                            "api_key_env": getattr(preset, "api_key_env", None),
                            "docs_url": getattr(preset, "docs_url", None)})
    return json({
        "kinds": [{"kind": i.kind, "display_name": i.display_name,
                   "requires_api_key": bool(i.cls.requires_api_key),
                   "default_base_url": i.cls.default_base_url,
                   "api_key_env": i.cls.api_key_env, "docs_url": i.cls.docs_url}
                  for i in sorted(installed, key=lambda i: i.kind)],
        "presets": presets,
        "failures": [{"name": f.name, "reason": f.reason} for f in installed.failures],
    })
