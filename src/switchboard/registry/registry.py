"""``Registry``: provider kinds joined to provider instances and their models.

Routing (``resolve``) understands three spellings of a model:

- ``provider:model`` — split on the FIRST colon, because model ids may contain colons
  (Ollama's ``llama3:8b``). ``provider:`` or a bare provider name means that provider's
  default model.
- a bare model id — accepted when exactly one enabled provider lists it; when several do,
  the error lists the ``provider:model`` candidates. A ref whose part before the colon is
  not a provider is tried as a bare id first (``llama3:8b`` known by one provider).
- nothing (``None``) — the registry's default model.

A model the catalog does not know yet still passes through to the named provider (new
models appear before price tables catch up) when that provider allows unlisted models
(its ``allow_unlisted``, an admin's setting, on by default): its capabilities are then
unknown and its price ``None``, so its cost is reported as unknown rather than zero. A
model the catalog refuses (disabled, or removed by an admin: ``unavailable``) never
passes through; ``ModelUnavailableError`` names it and says why (decision 0036).

"Enabled" is an admin's switch; "configured" (has a key) is the built provider's
``is_configured``. A provider that is enabled but has no key routes normally and fails at
call time with ``MissingApiKeyError`` naming where the key goes (decision 0035).

Providers are built lazily and cached per instance; the cache entry is rebuilt only when
the instance changes (see ``ProviderInstance``). An instance with a key pool
(``registry.keypool``) gets one provider per key, built when that key is first chosen;
``provider(name)`` is then the one of its first serving key (listings, discovery, tests),
while a call chooses its key per attempt (``ResolvedModel``). ``version`` counts changes,
so a caller holding derived state (a formatted catalog) can tell when to refresh it.
"""

from __future__ import annotations

import dataclasses
import difflib
from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache, partial

from pydantic import ValidationError

from switchboard import pricing
from switchboard.registry.catalog import CatalogEntry
from switchboard.registry.errors import (
    KindNotInstalledError,
    ModelUnavailableError,
    ProviderDisabledError,
)
from switchboard.registry.instance import ProviderInstance
from switchboard.registry.keypool import KeyPool, PoolKey
from switchboard.registry.kinds import Kinds, load_kinds
from switchboard.registry.resolved import ResolvedModel
from switchboard.spec.errors import (
    ConfigurationError,
    InvalidRequestError,
    UnknownModelError,
    UnknownProviderError,
)
from switchboard.spec.provider import Provider, ProviderConfig
from switchboard.spec.usage import Price
from switchboard.upstream.retry import RetryPolicy

DEFAULT_MODEL_REF = "offline:offline-chat"


class Registry:
    def __init__(
        self,
        kinds: Kinds | Mapping[str, type[Provider]] | Iterable[type[Provider]],
        instances: Iterable[ProviderInstance],
        default_model_ref: str | None = DEFAULT_MODEL_REF,
        pools: Mapping[str, KeyPool] | None = None,
    ) -> None:
        self.kinds = kinds if isinstance(kinds, Kinds) else Kinds.of(kinds)
        self._pools = {name: pool for name, pool in (pools or {}).items() if len(pool)}
        """Instances whose keys are stored; the others read their key from the config
        or the kind's environment variable (the implicit one-key pool)."""
        self._keyed: dict[tuple[str, int], tuple[ProviderInstance, Provider]] = {}
        self.default_model_ref = default_model_ref
        self._instances: dict[str, ProviderInstance] = {}
        for instance in instances:
            if instance.name in self._instances:
                raise ValueError(f"two provider instances are named {instance.name!r}")
            self._instances[instance.name] = instance
        self._built: dict[str, tuple[ProviderInstance, Provider]] = {}
        self.version = 0

    @classmethod
    def from_environment(cls, kinds: Kinds | None = None) -> Registry:
        """Instances from the conventional env vars (see ``registry.environment``)."""
        from switchboard.registry.environment import environment_instances

        kinds = kinds if kinds is not None else load_kinds()
        return cls(kinds, environment_instances(kinds), DEFAULT_MODEL_REF)

    # -- instances -----------------------------------------------------------------
    def instances(self) -> list[ProviderInstance]:
        return list(self._instances.values())

    def __iter__(self) -> Iterator[ProviderInstance]:
        return iter(self._instances.values())

    def instance(self, name: str) -> ProviderInstance:
        instance = self._instances.get(name)
        if instance is None:
            raise UnknownProviderError(self._unknown_provider_message(name))
        return instance

    def upsert(self, instance: ProviderInstance) -> None:
        """Add or replace an instance (its provider is rebuilt on next use)."""
        self._instances[instance.name] = instance
        self.version += 1

    def remove(self, name: str) -> None:
        self.instance(name)
        del self._instances[name]
        self._built.pop(name, None)
        self.version += 1

    def key_pool(self, name: str) -> KeyPool | None:
        """The instance's stored keys (None: it has none; its key comes from its config
        or the environment)."""
        return self._pools.get(name)

    def provider(self, name: str) -> Provider:
        """The configured ``Provider`` of an instance (built once per instance state);
        for a key pool, the one of its first serving key."""
        pool = self._pools.get(name)
        if pool is not None:
            serving = pool.serving()
            return self.keyed_provider(name, serving[0] if serving else pool.keys[0])
        instance = self.instance(name)
        cached = self._built.get(name)
        if cached is not None and (cached[0] is instance or cached[0] == instance):
            return cached[1]
        provider = self._build(instance)
        self._built[name] = (instance, provider)
        return provider

    def keyed_provider(self, name: str, key: PoolKey) -> Provider:
        """The instance's ``Provider`` calling with ``key`` (its secret opened here, once
        per instance state and key; it then lives only in that provider's config)."""
        instance = self.instance(name)
        cached = self._keyed.get((name, key.id))
        if cached is not None and (cached[0] is instance or cached[0] == instance):
            return cached[1]
        config = instance.config.model_copy(update={"api_key": key.open()})
        provider = self._build(dataclasses.replace(instance, config=config))
        self._keyed[(name, key.id)] = (instance, provider)
        return provider

    def _build(self, instance: ProviderInstance) -> Provider:
        cls = self.kinds.get(instance.kind)
        if cls is None:
            failed = [f for f in self.kinds.failures if f.name == instance.kind]
            why = f" (it failed to load: {failed[0].reason})" if failed else ""
            raise KindNotInstalledError(
                f"provider {instance.name!r} has kind {instance.kind!r}, which is not "
                f"installed{why}; installed kinds: {', '.join(self.kinds.names()) or 'none'}"
                " (see `switchboard plugins`)"
            )
        config = _coerce_config(cls, instance)
        return cls(config, name=instance.name, prices=_CatalogPrices(instance.kind),
                   models=instance.models)

    # -- routing -------------------------------------------------------------------
    def resolve(self, ref: str | None = None) -> ResolvedModel:
        ref = (ref or "").strip()
        if not ref:
            return self._resolve_default()
        name, colon, model_id = ref.partition(":")
        if colon and name in self._instances:
            instance = self._instances[name]
            return self._resolved(instance, model_id or self._default_of(instance))
        candidates = [i for i in self._instances.values() if i.enabled and ref in i.models]
        if len(candidates) > 1:  # prefer the one(s) that have a key
            usable = [i for i in candidates if self._configured(i)]
            candidates = usable or candidates
        if len(candidates) == 1:
            return self._resolved(candidates[0], ref)
        if len(candidates) > 1:
            refs = ", ".join(f"{i.name}:{ref}" for i in candidates)
            raise InvalidRequestError(
                f"model {ref!r} is offered by several providers; name one: {refs}",
                param="model",
            )
        if not colon and ref in self._instances:  # a bare provider name
            instance = self._instances[ref]
            return self._resolved(instance, self._default_of(instance))
        refused = [i for i in self._instances.values() if ref in i.unavailable]
        if refused:
            raise ModelUnavailableError(self._unavailable_message(refused[0], ref))
        disabled = [i.name for i in self._instances.values() if ref in i.models]
        if disabled:
            raise ProviderDisabledError(
                f"model {ref!r} is only offered by disabled provider(s): "
                f"{', '.join(disabled)}; enable one, or pick another model "
                "(see `switchboard models`)"
            )
        if colon:
            raise UnknownProviderError(
                f"{self._unknown_provider_message(name)}; write models as 'provider:model'"
            )
        raise UnknownModelError(
            f"unknown model {ref!r}: no enabled provider lists it. Name the provider as "
            f"'provider:model' (for example 'openai:{ref}'), or run `switchboard models` "
            "to see the known models"
        )

    def fallbacks_of(self, model: ResolvedModel) -> tuple[str, ...]:
        """The catalog's fallback chain of ``model`` (refs, in order; empty if none)."""
        instance = self._instances.get(model.provider_name)
        if instance is None:
            return ()
        return instance.fallbacks.get(model.model_id, ())

    def _resolve_default(self) -> ResolvedModel:
        if not self.default_model_ref:
            raise ConfigurationError(
                "no default model is set: choose one with -m provider:model "
                "(see `switchboard models`)"
            )
        try:
            return self.resolve(self.default_model_ref)
        except (ConfigurationError, UnknownProviderError, UnknownModelError) as exc:
            raise type(exc)(f"the default model {self.default_model_ref!r}: {exc}") from exc

    def _default_of(self, instance: ProviderInstance) -> str:
        model = instance.default_model
        if not model:
            cls = self.kinds.get(instance.kind)
            model = cls.default_model if cls is not None else None
        if not model:
            raise UnknownModelError(
                f"provider {instance.name!r} has no default model: name one as "
                f"'{instance.name}:MODEL' (see `switchboard models --provider {instance.name}`)"
            )
        return model

    def _resolved(self, instance: ProviderInstance, model_id: str) -> ResolvedModel:
        if not instance.enabled:
            raise ProviderDisabledError(
                f"provider {instance.name!r} was switched off by an administrator; pick "
                "another model, or ask an administrator to enable it"
            )
        if model_id in instance.unavailable:
            raise ModelUnavailableError(self._unavailable_message(instance, model_id))
        if model_id not in instance.models and not instance.allow_unlisted:
            raise ModelUnavailableError(
                f"model '{instance.name}:{model_id}' is not in the catalog, and provider "
                f"{instance.name!r} accepts only the models its catalog lists; pick a "
                "listed model, or ask an administrator to add this one"
            )
        provider = self.provider(instance.name)
        pool = self._pools.get(instance.name)
        return ResolvedModel(
            provider=provider,
            model_id=model_id,
            info=instance.models.get(model_id),
            price=provider.price_for(model_id),
            capabilities=provider.capabilities(model_id),
            policy=_retry_policy(provider.config.max_retries),
            keys=pool,
            keyed=partial(self.keyed_provider, instance.name) if pool is not None else None,
        )

    @staticmethod
    def _unavailable_message(instance: ProviderInstance, model_id: str) -> str:
        return (f"model '{instance.name}:{model_id}' {instance.unavailable[model_id]}; "
                "pick another model")

    def _configured(self, instance: ProviderInstance) -> bool:
        try:
            return self.provider(instance.name).is_configured
        except ConfigurationError:
            return False

    def _unknown_provider_message(self, name: str) -> str:
        names = sorted(self._instances)
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return (f"unknown provider {name!r}{hint}; providers: "
                f"{', '.join(names) or 'none configured'}")

    # -- catalog -------------------------------------------------------------------
    def catalog(self, provider: str | None = None) -> list[CatalogEntry]:
        """Every known model of every instance (or of one), for listings."""
        instances = [self.instance(provider)] if provider else sorted(
            self._instances.values(), key=lambda i: i.name
        )
        default = self.default_model_ref
        entries: list[CatalogEntry] = []
        for instance in instances:
            try:
                built: Provider | None = self.provider(instance.name)
            except ConfigurationError:
                built = None
            configured = built is not None and built.is_configured
            for model_id, info in sorted(instance.models.items()):
                price = built.price_for(model_id) if built is not None else info.price
                entries.append(CatalogEntry(
                    provider=instance.name,
                    kind=instance.kind,
                    model_id=model_id,
                    name=info.display_name,
                    capabilities=info.capabilities,
                    price=price,
                    context_window=info.context_window,
                    max_output_tokens=info.max_output_tokens,
                    configured=configured,
                    enabled=instance.enabled,
                    is_default=default == f"{instance.name}:{model_id}",
                    type=info.type,
                    embedding=info.embedding,
                    image=info.image,
                ))
        return entries


def _coerce_config(cls: type[Provider], instance: ProviderInstance) -> ProviderConfig:
    """The instance's config as the kind's own ``Config`` (validated: unknown or bad
    settings are a configuration error naming the provider and the setting)."""
    if isinstance(instance.config, cls.Config):
        return instance.config
    data = instance.config.model_dump(exclude_unset=True)
    try:
        return cls.Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'config'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(
            f"provider {instance.name!r} ({instance.kind}) is misconfigured: {problems}"
        ) from None


class _CatalogPrices(Mapping[str, Price]):
    """Prices from ``switchboard.pricing`` looked up on demand (it resolves aliases and
    dated snapshot ids, which a precomputed dict could not). Lookup-only: it does not
    enumerate the catalog."""

    __slots__ = ("_kind", "_seen")

    def __init__(self, kind: str) -> None:
        self._kind = kind
        self._seen: dict[str, Price | None] = {}

    def __getitem__(self, model_id: str) -> Price:
        if model_id not in self._seen:
            self._seen[model_id] = _lookup_price(self._kind, model_id)
        price = self._seen[model_id]
        if price is None:
            raise KeyError(model_id)
        return price

    def __iter__(self) -> Iterator[str]:
        return (k for k, v in self._seen.items() if v is not None)

    def __len__(self) -> int:
        return sum(1 for v in self._seen.values() if v is not None)


def _lookup_price(kind: str, model_id: str) -> Price | None:
    return pricing.lookup(kind, model_id)


@lru_cache(maxsize=32)
def _retry_policy(max_retries: int) -> RetryPolicy:
    """The retry policy of a provider allowing ``max_retries``: frozen, so one object per
    value serves every call (a frozen dataclass built per resolve was six
    ``object.__setattr__``; issue 12, fifth pass). A call that changes it (the fallback
    router's budget) makes its own copy with ``dataclasses.replace``."""
    return RetryPolicy(max_retries=max_retries)
