"""The ``Registry`` built from the catalog tables.

- One ``ProviderInstance`` per provider row (disabled rows too, so routing to one says
  "disabled" rather than "unknown"), with its ENABLED models, the ones the catalog
  refuses (disabled models, ids an admin removed), whether unlisted ids pass through, and
  the row's settings as the kind's ``Config``. The default model is the row marked
  ``is_default``.
- Keys are decrypted late: the instance's config carries no key; each row's stored keys
  become its ``KeyPool`` (decision 0066), and a key is opened by the vault only when the
  registry builds the provider for it (the first attempt that chooses it); the clear key
  then lives only inside that provider's config, as a ``SecretStr``. A key that cannot
  be decrypted fails alone, with the vault's clear error, when it is used. A key the
  vendor refuses is marked in the database by ``DatabaseKeyEvents``.
- A row without a stored key (an empty pool) falls back to the kind's environment variable
  (``OPENAI_API_KEY``...), which the adapter reads itself. Instances the environment
  defines under a name that has no row (an OpenAI-compatible preset such as ``deepseek``
  when ``DEEPSEEK_API_KEY`` is set) are added as well, so configuring by environment
  variables keeps working next to the database; a row always wins over them.
- The registry is cached per catalog version (``services.cache``): a catalog write (here
  or, via Redis or the audit stamp, in another process) makes the next call rebuild it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pydantic import SecretStr, ValidationError
from sqlalchemy import Row, select

from switchboard.db import tables
from switchboard.db.engine import Database
from switchboard.registry.instance import ProviderInstance
from switchboard.registry.keypool import KeyPool, PoolKey
from switchboard.registry.kinds import Kinds
from switchboard.registry.registry import Registry
from switchboard.security.vault import Vault
from switchboard.services.cache import MISSING, catalog_cache
from switchboard.services.keys import DatabaseKeyEvents, open_vault
from switchboard.services.registry_view import stamp
from switchboard.services.transactions import cache_scope
from switchboard.services.validation import installed_kinds
from switchboard.services.views import ModelView
from switchboard.spec.provider import ProviderConfig

# Core tables: the registry is built at every server start; an ORM query (with its
# ``selectin`` relationships) would configure all the mappers for it (decision 0235)
_providers = tables.providers
_provider_models = tables.provider_models
_provider_keys = tables.provider_keys


class DatabaseRegistry(Registry):
    """A ``Registry`` whose key pools come from ``provider_keys``."""

    def __init__(
        self,
        kinds: Kinds,
        instances: list[ProviderInstance],
        default_model_ref: str | None,
        pools: dict[str, KeyPool],
        catalog_version: int,
    ) -> None:
        super().__init__(kinds, instances, default_model_ref, pools)
        self.catalog_version = catalog_version


class _LazyVault:
    """The process's vault, loaded on first use by one registry build (a registry whose
    providers have no stored keys never reads the master key; a registry built after a
    master-key rotation reads the new one)."""

    def __init__(self) -> None:
        self._vault: Vault | None = None

    def get(self) -> Vault:
        if self._vault is None:
            self._vault = open_vault(create=False)
        return self._vault


@dataclasses.dataclass(frozen=True, slots=True)
class _Opener:
    """Opens one stored key (``PoolKey.open``)."""

    vault: _LazyVault
    provider_id: int
    what: str
    ciphertext: str = dataclasses.field(repr=False)

    def __call__(self) -> SecretStr:
        return self.vault.get().open(self.provider_id, self.ciphertext, label=self.what)


def _pool(db: Database, vault: _LazyVault, row: Row[Any],
          keys: list[Row[Any]]) -> KeyPool:
    """The key pool of provider ``row`` from its ``provider_keys`` rows, in id order."""
    return KeyPool(row.name, [PoolKey(
        id=k.id, label=k.label, last4=k.last4, weight=k.weight, rpm=k.rpm, tpm=k.tpm,
        enabled=k.enabled, expires_at=k.expires_at, failed=k.failed_at is not None,
        set_at=k.set_at,
        open=_Opener(vault, row.id, f"provider {row.name!r} (key {k.label!r})",
                     k.ciphertext.decode("ascii")),
    ) for k in keys], events=DatabaseKeyEvents(db))


def _by_provider(rows: Iterable[Row[Any]]) -> dict[int, list[Row[Any]]]:
    """Rows of a provider's child table, grouped by ``provider_id``, in their order."""
    grouped: dict[int, list[Row[Any]]] = {}
    for row in rows:
        grouped.setdefault(row.provider_id, []).append(row)
    return grouped


async def load_registry(db: Database) -> DatabaseRegistry:
    """The registry for ``db``'s catalog, from the cache while the catalog is unchanged."""
    scope = cache_scope(db)
    cache = catalog_cache()
    found = cache.fresh((scope, "registry"), scope)
    if found is not MISSING:  # nearly every call: no closures, no coroutine
        return found  # type: ignore[no-any-return]
    return await cache.get(
        (scope, "registry"), lambda: build_registry(db), probe=lambda: stamp(db), scope=scope
    )


async def build_registry(db: Database, kinds: Kinds | None = None) -> DatabaseRegistry:
    kinds = kinds if kinds is not None else installed_kinds()
    version = catalog_cache().version
    instances: list[ProviderInstance] = []
    pools: dict[str, KeyPool] = {}
    vault = _LazyVault()
    default_ref: str | None = None
    async with db.transaction(read_only=True) as conn:
        # three reads, grouped here as the relationships grouped them (models and keys
        # in id order)
        rows = (await conn.execute(
            select(_providers).order_by(_providers.c.name))).all()
        models_of = _by_provider(await conn.execute(
            select(_provider_models).order_by(_provider_models.c.id)))
        keys_of = _by_provider(await conn.execute(
            select(_provider_keys).order_by(_provider_keys.c.id)))
        for row in rows:
            all_models = models_of.get(row.id, [])
            keys = keys_of.get(row.id, [])
            models = [ModelView.of(x) for x in all_models if x.is_enabled]
            unavailable = {x.model_sdk_id: "is disabled by an administrator"
                           for x in all_models if not x.is_enabled}
            for removed in row.removed_models or []:
                unavailable.setdefault(
                    removed, "was removed from the catalog by an administrator")
            for x in all_models:
                if x.is_default:
                    default_ref = f"{row.name}:{x.model_sdk_id}"
            # The kind's declaration, not its class: a row's adapter is imported when its
            # provider is first built (decision 0220)
            instances.append(ProviderInstance(
                name=row.name,
                kind=row.kind,
                config=_config(kinds.config_class(row.kind), row),
                enabled=row.enabled,
                models={x.model_sdk_id: x.info() for x in models},
                default_model=_default_model(kinds.default_model_of(row.kind), row, models),
                display_name=kinds.display_name_of(row.kind) or row.kind,
                version=version,
                allow_unlisted=row.allow_unlisted_models,
                unavailable=unavailable,
                fallbacks={x.model_sdk_id: tuple(x.fallbacks) for x in models if x.fallbacks},
            ))
            if keys:
                pools[row.name] = _pool(db, vault, row, keys)
    from switchboard.registry.environment import environment_instances

    instances.extend(environment_instances(kinds, exclude={i.name for i in instances}))
    return DatabaseRegistry(kinds, instances, default_ref, pools, version)


def _config(config_cls: type[ProviderConfig] | None, row: Row[Any]) -> ProviderConfig:
    """The row as the kind's ``Config`` (without the key). A row the kind refuses (a
    setting removed in a newer version, say) is kept as a plain config so the registry
    reports it when the provider is used, instead of failing the whole catalog."""
    values: dict[str, Any] = {**(row.settings or {}), "base_url": row.base_url}
    config_cls = config_cls if config_cls is not None else ProviderConfig
    try:
        return config_cls.model_validate(values)
    except ValidationError:
        return ProviderConfig.model_construct(**values)


def _default_model(
    kind_default: str | None, row: Row[Any], models: list[ModelView]
) -> str | None:
    """The provider's own default (for ``provider:`` refs): the global default if it is
    one of its models, else the kind's default if enabled here, else its first model."""
    ids = [x.model_sdk_id for x in models]
    for x in models:
        if x.is_default:
            return x.model_sdk_id
    settings_default = (row.settings or {}).get("default_model")
    for candidate in (settings_default, kind_default):
        if candidate and candidate in ids:
            return str(candidate)
    return ids[0] if ids else settings_default or kind_default


async def open_database_registry(db: Database | None = None) -> Registry:
    """The registry for processes without a long-lived ``Database`` (the CLI):
    bring the schema to head, seed a first run, and build the registry."""
    from switchboard.db import migrate
    from switchboard.services.seed import seed_catalog

    if db is not None:
        return await load_registry(db)
    own = Database.from_url(_url(), pooled=False)
    try:
        await migrate.ensure_schema(str(own.engine.url.render_as_string(hide_password=False)))
        await seed_catalog(own)
        return await build_registry(own)
    finally:
        await own.dispose()


def _url() -> str:
    from switchboard.config import load_settings

    return load_settings().database_url


__all__ = ["DatabaseRegistry", "build_registry", "load_registry",
           "open_database_registry"]
