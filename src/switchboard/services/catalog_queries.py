"""Catalog reads for the REST API.

- ``catalog_snapshot``: every provider (enabled or not) with every model, plus what the UI
  needs beside the rows (kind display name, whether the provider can be called). Built
  once per catalog version and served from the catalog cache (``services.cache``), so the
  model pickers (``/api/model-registry``, ``/api/models``) cost no query while the
  catalog is unchanged.
- ``catalog_derived``: anything computed from the snapshot (the routes' encoded response
  bodies), cached beside it under the same version, so it is dropped by exactly the
  writes (local, Redis, or the audit-stamp probe) that drop the snapshot.
- ``resolve_provider``: ``{provider}`` in a URL is a name or an id.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import select

from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.db.ids import parse_id
from switchboard.registry.kinds import Kinds
from switchboard.services.cache import catalog_cache
from switchboard.services.errors import NotFound
from switchboard.services.providers import load_provider
from switchboard.services.registry_view import stamp
from switchboard.services.transactions import cache_scope
from switchboard.services.validation import installed_kinds
from switchboard.services.views import ProviderView

T = TypeVar("T")
V = TypeVar("V", bound=Hashable)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One provider row as a view, with its models, and what the kinds say about it."""

    provider: ProviderView
    display_name: str
    configured: bool
    """True when a call can be made: a stored key, a key in the kind's environment
    variable, or a kind (or an OpenAI-compatible server) that needs no key."""


@dataclass(frozen=True, slots=True)
class CatalogSnapshot:
    entries: tuple[CatalogEntry, ...]

    def by_id(self, provider_id: int) -> CatalogEntry | None:
        return next((e for e in self.entries if e.provider.id == provider_id), None)

    @property
    def default_model_ref(self) -> str | None:
        for entry in self.entries:
            for model in entry.provider.models:
                if model.is_default:
                    return f"{entry.provider.name}:{model.model_sdk_id}"
        return None

    @property
    def default_model_id(self) -> int | None:
        for entry in self.entries:
            for model in entry.provider.models:
                if model.is_default:
                    return model.id
        return None


async def catalog_snapshot(db: Database) -> CatalogSnapshot:
    scope = cache_scope(db)
    return await catalog_cache().get(
        (scope, "catalog-snapshot"), lambda: _build(db), probe=lambda: stamp(db), scope=scope
    )


async def catalog_derived(
    db: Database, name: str, render: Callable[[CatalogSnapshot, V], T], variant: V
) -> T:
    """``render(snapshot, variant)``, computed once per catalog version and ``variant``.

    ``variant`` is the only thing besides the snapshot that ``render`` may depend on
    (e.g. whether the caller is an admin): it is part of the cache key, so one caller's
    variant is never served to another. ``render`` must not read anything else about
    the request or the user. Like every catalog cache entry, a render that races a write
    is returned to its caller but not kept.
    """
    scope = cache_scope(db)

    async def load() -> T:
        return render(await catalog_snapshot(db), variant)

    return await catalog_cache().get(
        (scope, "derived", name, variant), load, probe=lambda: stamp(db), scope=scope
    )


async def _build(db: Database) -> CatalogSnapshot:
    kinds = installed_kinds()
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.scalars(select(m.Provider).order_by(m.Provider.name))).all()
        views = [ProviderView.of(row) for row in rows]
    return CatalogSnapshot(tuple(describe(view, kinds) for view in views))


def describe(view: ProviderView, kinds: Kinds | None = None) -> CatalogEntry:
    """``view`` with its kind's display name and whether it is ``configured``."""
    kinds = kinds if kinds is not None else installed_kinds()
    info = kinds.by_kind.get(view.kind)
    return CatalogEntry(
        provider=view,
        display_name=info.display_name if info is not None else view.kind,
        configured=view.has_api_key or _callable_without_stored_key(kinds, view),
    )


def _callable_without_stored_key(kinds: Kinds, view: ProviderView) -> bool:
    """Ask the kind itself (built without a key, no I/O): it knows whether it needs a key
    and which environment variable it falls back to."""
    cls = kinds.get(view.kind)
    if cls is None:
        return False
    try:
        config = cls.Config.model_validate({**view.settings, "base_url": view.base_url})
        return cls(config, name=view.name).is_configured
    except Exception:  # a row its kind refuses cannot be called; it is not "configured"
        return False


async def resolve_provider(db: Database, ref: str) -> ProviderView:
    """The provider named ``ref``, else (when ``ref`` is an id: ASCII digits within 64
    bits, ``db.ids.parse_id``) the one with that id."""
    async with db.unit_of_work(read_only=True) as session:
        try:
            return ProviderView.of(await load_provider(session, ref))
        except NotFound:
            provider_id = parse_id(ref)
            if provider_id is None:
                raise
        return ProviderView.of(await load_provider(session, provider_id))


async def provider_name(db: Database, provider_id: int) -> str:
    """One provider's name by id — one indexed lookup, for responses right after a write
    (when the catalog snapshot has just been invalidated and would be rebuilt whole)."""
    from sqlalchemy import select

    from switchboard.db import models as m
    from switchboard.services.errors import NotFound

    async with db.session() as session:
        name = await session.scalar(select(m.Provider.name).where(m.Provider.id == provider_id))
    if name is None:
        raise NotFound(f"no provider with id {provider_id}")
    return name
