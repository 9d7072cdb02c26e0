"""A model's own fallback chain in the catalog (issue 12, item 4; decision 0064).

An admin gives a model an ordered list of other models (``provider:model`` refs); when a
call to it fails before its first byte in a way another model can absorb (overload, rate
limit, 5xx, timeout, connection, a first byte later than the deadline, a prompt too long
for its context), the router tries them in order, after any fallbacks the request itself
named (``services.router``).

Checked when set, so a typo is said at once: at most ``MAX_CHAIN`` refs, each written
``provider:model`` with an existing provider, a model that provider would route to (in
its catalog, or unlisted on a provider that lets unlisted ids through; never one an admin
removed or disabled) and of the same type (an embedding model cannot answer a chat), not
the model itself, no repeats. A model deleted LATER leaves its
ref in other chains; the router skips a ref that no longer resolves (and logs it) rather
than failing the call over a stale chain.

Set through ``services.provider_models.update_model(fallbacks=[...])`` (REST
``PUT /api/config/models/{id}``, ``switchboard models fallbacks set``, the settings page).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from switchboard.db import models as m
from switchboard.services.audit import Actor, record
from switchboard.services.errors import ValidationFailed

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MAX_CHAIN = 5
"""Refs in one model's chain: each may cost a whole upstream attempt."""
MAX_REF = 400
"""Characters in one ref (a provider name is at most 100, a model id 200)."""


def split_ref(ref: str, field: str = "fallbacks") -> tuple[str, str]:
    """``provider:model`` as its two halves, or a clear refusal."""
    ref = ref.strip()
    provider, colon, model_id = ref.partition(":")
    if (not colon or not provider or not model_id or len(ref) > MAX_REF
            or any(c.isspace() for c in ref)):
        raise ValidationFailed(
            f"{ref[:80]!r} is not a model: write it as provider:model, for example "
            "'openai:gpt-4o-mini'", field=field)
    return provider, model_id


async def _check_ref(session: AsyncSession, ref: str, model_type: str) -> str:
    provider_name, model_id = split_ref(ref)
    provider = await session.scalar(select(m.Provider).where(m.Provider.name == provider_name))
    if provider is None:
        raise ValidationFailed(f"fallback {ref!r}: there is no provider {provider_name!r}",
                               field="fallbacks")
    listed = next((x for x in provider.models if x.model_sdk_id == model_id), None)
    if listed is not None and not listed.is_enabled:
        raise ValidationFailed(f"fallback {ref!r}: that model is disabled",
                               field="fallbacks")
    if listed is not None and listed.model_type != model_type:
        raise ValidationFailed(f"fallback {ref!r} is not a {model_type} model (its type is "
                               f"{listed.model_type}): it cannot answer in this model's place",
                               field="fallbacks")
    if listed is None and (model_id in (provider.removed_models or [])
                           or not provider.allow_unlisted_models):
        raise ValidationFailed(
            f"fallback {ref!r}: provider {provider_name!r} has no such model in its catalog",
            field="fallbacks")
    return f"{provider_name}:{model_id}"


async def set_fallbacks(session: AsyncSession, row: m.ProviderModel, refs: list[str],
                        actor: Actor) -> bool:
    """Check ``refs`` and store them as ``row``'s chain (in the caller's transaction,
    with an audit row); True when it changed."""
    if len(refs) > MAX_CHAIN:
        raise ValidationFailed(f"a model has at most {MAX_CHAIN} fallbacks "
                               f"({len(refs)} given)", field="fallbacks")
    owner = await session.get(m.Provider, row.provider_id)
    assert owner is not None  # provider_models.provider_id is a RESTRICT foreign key
    itself = f"{owner.name}:{row.model_sdk_id}"
    chain: list[str] = []
    for ref in refs:
        checked = await _check_ref(session, ref, row.model_type)
        if checked == itself:
            raise ValidationFailed(f"{itself} cannot be its own fallback", field="fallbacks")
        if checked in chain:
            raise ValidationFailed(f"fallback {checked!r} is named twice", field="fallbacks")
        chain.append(checked)
    if chain == list(row.fallbacks or []):
        return False
    record(session, actor, "model.fallbacks", target_type="model", target_id=row.id,
           details={"model": itself, "fallbacks": chain,
                    "previous": list(row.fallbacks or [])})
    row.fallbacks = chain
    return True

