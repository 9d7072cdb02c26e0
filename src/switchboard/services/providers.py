"""Provider instances in the catalog: create, read, update, delete.

Each function is one transaction (``catalog_write``) with its audit row; input is checked
before anything is written, so a refusal leaves the database unchanged. A provider can be
named by id (int) or by name (str) wherever one is looked up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from switchboard.db import models as m
from switchboard.db.engine import Database
from switchboard.services import validation
from switchboard.services.audit import SYSTEM, Actor, record
from switchboard.services.errors import Conflict, NotFound
from switchboard.services.presets import apply_preset
from switchboard.services.transactions import catalog_write
from switchboard.services.views import ProviderView

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Marks an argument of an ``update_*`` function that was not given (None is a value)."""

ProviderRef = int | str


async def load_provider(session: AsyncSession, ref: ProviderRef) -> m.Provider:
    """The row for an id or a name, or ``NotFound`` listing the existing names."""
    if isinstance(ref, int):
        row = await session.get(m.Provider, ref)
    else:
        row = await session.scalar(select(m.Provider).where(m.Provider.name == ref))
    if row is None:
        names = (await session.scalars(select(m.Provider.name).order_by(m.Provider.name))).all()
        raise NotFound(
            f"no provider {ref!r}; providers: {', '.join(names) or 'none'} "
            "(add one with `switchboard providers add NAME --kind KIND`)"
        )
    return row


async def _check_name_free(session: AsyncSession, name: str, except_id: int | None) -> None:
    query = select(m.Provider.name, m.Provider.id).where(
        func.lower(m.Provider.name) == name.lower()
    )
    for existing, row_id in (await session.execute(query)).all():
        if row_id != except_id:
            raise Conflict(
                f"a provider named {existing!r} already exists; choose another name or "
                f"change that one with `switchboard providers update {existing}`"
            )


async def create_provider(
    db: Database,
    *,
    name: str,
    kind: str,
    base_url: str | None = None,
    preset: str | None = None,
    enabled: bool = True,
    settings: dict[str, Any] | None = None,
    image_url: str | None = None,
    allow_unlisted_models: bool = True,
    actor: Actor = SYSTEM,
) -> ProviderView:
    """Add a provider instance (no key: set it with ``set_provider_key``).

    ``enabled`` is the admin's switch only; a provider without a key is "not configured"
    whatever it says (decision 0035). ``allow_unlisted_models``: whether a model id the
    catalog does not list passes through to the vendor (decision 0036).

    ``preset`` (kind ``openai_compatible``) fills in a known vendor's base URL and quirk
    settings; an explicit ``base_url`` / ``settings`` wins over it.
    """
    name = validation.provider_name(name)
    cls = validation.provider_class(kind)
    if preset:
        base_url, settings = apply_preset(cls, preset, base_url, settings)
    url = validation.base_url(base_url)
    values = validation.settings(cls, settings, url)
    async with catalog_write(db, f"adding provider {name!r}") as session:
        await _check_name_free(session, name, None)
        row = m.Provider(name=name, kind=kind, base_url=url, enabled=enabled,
                         settings=values, image_url=image_url,
                         allow_unlisted_models=allow_unlisted_models, removed_models=[], keys=[])
        session.add(row)
        await session.flush()
        record(session, actor, "provider.create", target_type="provider", target_id=row.id,
               details={"name": name, "kind": kind, "base_url": url, "preset": preset,
                        "enabled": enabled, "settings": sorted(values),
                        "allow_unlisted_models": allow_unlisted_models})
        return ProviderView.of(row, models=[])


async def get_providers(db: Database) -> list[ProviderView]:
    async with db.unit_of_work(read_only=True) as session:
        rows = (await session.scalars(select(m.Provider).order_by(m.Provider.name))).all()
        return [ProviderView.of(r) for r in rows]


async def get_provider_by_id(db: Database, provider_id: ProviderRef) -> ProviderView:
    async with db.unit_of_work(read_only=True) as session:
        return ProviderView.of(await load_provider(session, provider_id))


get_provider = get_provider_by_id


async def update_provider(
    db: Database,
    provider: ProviderRef,
    *,
    name: str = UNSET,
    base_url: str | None = UNSET,
    enabled: bool = UNSET,
    settings: dict[str, Any] = UNSET,
    image_url: str | None = UNSET,
    allow_unlisted_models: bool = UNSET,
    actor: Actor = SYSTEM,
) -> ProviderView:
    """Change the given fields. The kind cannot change (create a new provider instead)."""
    new_name = validation.provider_name(name) if name is not UNSET else UNSET
    url = validation.base_url(base_url) if base_url is not UNSET else UNSET
    async with catalog_write(db, f"updating provider {provider!r}") as session:
        row = await load_provider(session, provider)
        cls = validation.provider_class(row.kind)
        changes: dict[str, Any] = {}
        if new_name is not UNSET and new_name != row.name:
            await _check_name_free(session, new_name, row.id)
            changes["name"] = {"from": row.name, "to": new_name}
            row.name = new_name
        if url is not UNSET and url != row.base_url:
            validation.settings(cls, row.settings, url)
            changes["base_url"] = {"from": row.base_url, "to": url}
            row.base_url = url
        if settings is not UNSET:
            values = validation.settings(cls, settings, row.base_url)
            if values != row.settings:
                changes["settings"] = sorted(values)
                row.settings = values
        if image_url is not UNSET and image_url != row.image_url:
            changes["image_url"] = image_url
            row.image_url = image_url
        if (allow_unlisted_models is not UNSET
                and allow_unlisted_models != row.allow_unlisted_models):
            changes["allow_unlisted_models"] = allow_unlisted_models
            row.allow_unlisted_models = allow_unlisted_models
        if enabled is not UNSET and enabled != row.enabled:
            if not enabled:
                await _refuse_if_default(session, row, "disable")
            changes["enabled"] = enabled
            row.enabled = enabled
        if changes:
            record(session, actor, "provider.update", target_type="provider",
                   target_id=row.id, details={"name": row.name, "changes": changes})
            await session.flush()
            await session.refresh(row)
        return ProviderView.of(row)


async def _refuse_if_default(session: AsyncSession, row: m.Provider, verb: str) -> None:
    default = await session.scalar(select(m.ProviderModel).where(
        m.ProviderModel.provider_id == row.id, m.ProviderModel.is_default.is_(True)))
    if default is not None:
        raise Conflict(
            f"cannot {verb} provider {row.name!r}: its model {default.model_sdk_id!r} is "
            "the default model; choose another default first with "
            "`switchboard models set-default PROVIDER MODEL`"
        )


async def delete_provider(
    db: Database, provider: ProviderRef, *, cascade: bool = False, actor: Actor = SYSTEM
) -> None:
    """Remove a provider. Refused while models or conversations reference it, unless
    ``cascade``: then its models are deleted too, and conversations keep their history
    (they record the provider by name, as text)."""
    async with catalog_write(db, f"deleting provider {provider!r}") as session:
        row = await load_provider(session, provider)
        await _refuse_if_default(session, row, "delete")
        n_models = int(await session.scalar(select(func.count()).select_from(
            m.ProviderModel).where(m.ProviderModel.provider_id == row.id)) or 0)
        n_convs = int(await session.scalar(select(func.count()).select_from(
            m.Conversation).where(m.Conversation.provider == row.name)) or 0)
        if (n_models or n_convs) and not cascade:
            used = " and ".join(x for x in (
                f"{n_models} model(s)" if n_models else "",
                f"{n_convs} conversation(s)" if n_convs else "") if x)
            raise Conflict(
                f"provider {row.name!r} is used by {used}; remove them first, or delete "
                f"with cascade (`switchboard providers remove {row.name} --cascade`), "
                "which also deletes its models and keeps conversation history"
            )
        if n_models:
            for model in (await session.scalars(select(m.ProviderModel).where(
                    m.ProviderModel.provider_id == row.id))).all():
                await session.delete(model)
            await session.flush()
        record(session, actor, "provider.delete", target_type="provider", target_id=row.id,
               details={"name": row.name, "kind": row.kind, "cascade": cascade,
                        "models_deleted": n_models, "conversations": n_convs})
        await session.delete(row)
