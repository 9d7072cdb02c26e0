"""Provider *kinds*: the adapter classes that can be configured into provider instances.

Built-ins and third-party plugins take the same path: a kind is a ``spec.Provider``
subclass, found either in the table of built-ins below (imported by dotted path, so a
built-in that fails to import is reported rather than breaking the program) or through a
Python entry point in the group ``switchboard.providers``::

    [project.entry-points."switchboard.providers"]
    example = "switchboard_example:ExampleProvider"

Nothing found here is fatal. A plugin that cannot be imported, does not load a
``Provider`` subclass, has no ``kind``, is still abstract, or claims a kind already taken
(by a built-in, which always wins, or by an earlier plugin) becomes a ``KindFailure`` with
a readable reason; ``switchboard plugins`` lists them.

``SWITCHBOARD_DISABLE_PLUGINS=1`` skips entry points (the test suite sets it, so a
developer's installed plugins cannot change test results).
"""

from __future__ import annotations

import importlib
import inspect
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Literal

from switchboard.spec.provider import Provider

ENTRY_POINT_GROUP = "switchboard.providers"
DISABLE_PLUGINS_ENV = "SWITCHBOARD_DISABLE_PLUGINS"

# kind -> "module:attribute". Imported only when kinds are loaded.
BUILTIN_KINDS: dict[str, str] = {
    "offline": "switchboard.providers.offline:OfflineProvider",
    "openai": "switchboard.providers.openai:OpenAIProvider",
    "openai_compatible": "switchboard.providers.openai_compatible:OpenAICompatibleProvider",
    "anthropic": "switchboard.providers.anthropic:AnthropicProvider",
    "mistral": "switchboard.providers.mistral:MistralProvider",
    "gemini": "switchboard.providers.gemini:GeminiProvider",
}

Source = Literal["builtin", "plugin"]


@dataclass(frozen=True, slots=True)
class KindInfo:
    """One loaded provider kind and where it came from."""

    kind: str
    cls: type[Provider]
    source: Source
    target: str  # "module:attribute"
    distribution: str | None = None
    version: str | None = None

    @property
    def display_name(self) -> str:
        return getattr(self.cls, "display_name", None) or self.kind

    @property
    def origin(self) -> str:
        """"built-in" or "<distribution> <version>", for people."""
        if self.source == "builtin":
            return "built-in"
        return " ".join(p for p in (self.distribution, self.version) if p) or "plugin"


@dataclass(frozen=True, slots=True)
class KindFailure:
    """A kind that could not be loaded, and why."""

    name: str  # the kind, or the entry point's name when the kind is unknown
    source: Source
    target: str
    reason: str
    distribution: str | None = None
    version: str | None = None


@dataclass(slots=True)
class Kinds:
    """The loaded kinds (by kind) and the failures met while loading them."""

    by_kind: dict[str, KindInfo] = field(default_factory=dict)
    failures: list[KindFailure] = field(default_factory=list)

    @classmethod
    def of(cls, classes: Mapping[str, type[Provider]] | Iterable[type[Provider]]) -> Kinds:
        """Kinds from classes given directly (tests, embedding), all marked built-in."""
        items = classes.items() if isinstance(classes, Mapping) else ((c.kind, c) for c in classes)
        out = cls()
        for kind, provider_cls in items:
            target = f"{provider_cls.__module__}:{provider_cls.__qualname__}"
            out.by_kind[kind] = KindInfo(kind, provider_cls, "builtin", target)
        return out

    def get(self, kind: str) -> type[Provider] | None:
        info = self.by_kind.get(kind)
        return info.cls if info is not None else None

    def names(self) -> list[str]:
        return sorted(self.by_kind)

    def __contains__(self, kind: object) -> bool:
        return kind in self.by_kind

    def __iter__(self) -> Iterator[KindInfo]:
        return iter(self.by_kind.values())

    def __len__(self) -> int:
        return len(self.by_kind)


def plugins_disabled() -> bool:
    return os.environ.get(DISABLE_PLUGINS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def load_kinds(
    *, plugins: bool | None = None, builtins: Mapping[str, str] | None = None
) -> Kinds:
    """Import the built-ins (``BUILTIN_KINDS`` unless given), then the entry points
    (unless ``plugins`` is false, or by default disabled by the environment); never
    raises."""
    kinds = Kinds()
    for kind, target in (BUILTIN_KINDS if builtins is None else builtins).items():
        _add_builtin(kinds, kind, target)
    if plugins is None:
        plugins = not plugins_disabled()
    if plugins:
        for ep in _entry_points():
            _add_plugin(kinds, ep)
    return kinds


def _entry_points() -> list[EntryPoint]:
    return sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name, ep.value))


def _add_builtin(kinds: Kinds, kind: str, target: str) -> None:
    try:
        obj = _import_target(target)
        cls = _check_provider_class(obj, target)
    except _Rejected as exc:
        kinds.failures.append(KindFailure(kind, "builtin", target, str(exc)))
        return
    if cls.kind != kind:
        kinds.failures.append(KindFailure(
            kind, "builtin", target, f"declares kind {cls.kind!r}, expected {kind!r}"
        ))
        return
    kinds.by_kind[kind] = KindInfo(kind, cls, "builtin", target)


def _add_plugin(kinds: Kinds, ep: EntryPoint) -> None:
    dist = ep.dist
    dist_name = dist.metadata["Name"] if dist is not None else None
    dist_version = dist.version if dist is not None else None

    def fail(name: str, reason: str) -> None:
        kinds.failures.append(
            KindFailure(name, "plugin", ep.value, reason, dist_name, dist_version)
        )

    try:
        cls = _check_provider_class(_load_entry_point(ep), ep.value)
    except _Rejected as exc:
        fail(ep.name, str(exc))
        return
    existing = kinds.by_kind.get(cls.kind)
    if existing is not None:
        fail(cls.kind, f"kind {cls.kind!r} is already provided by {existing.origin} "
                       f"({existing.target}); this plugin was ignored")
        return
    kinds.by_kind[cls.kind] = KindInfo(
        cls.kind, cls, "plugin", ep.value, dist_name, dist_version
    )


class _Rejected(Exception):
    """A reason, for people, why a target is not a usable provider kind."""


def _import_target(target: str) -> object:
    module_name, _, attr = target.partition(":")
    try:
        obj: object = importlib.import_module(module_name)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
    except Exception as exc:  # any import-time failure is reported, never raised
        raise _Rejected(f"failed to import {target}: {type(exc).__name__}: {exc}") from exc
    return obj


def _load_entry_point(ep: EntryPoint) -> object:
    try:
        return ep.load()
    except Exception as exc:  # any import-time failure is reported, never raised
        raise _Rejected(f"failed to import {ep.value}: {type(exc).__name__}: {exc}") from exc


def _check_provider_class(obj: object, target: str) -> type[Provider]:
    if not (inspect.isclass(obj) and issubclass(obj, Provider)):
        raise _Rejected(
            f"{target} is {type(obj).__name__} {obj!r}, not a subclass of "
            "switchboard.spec.Provider"
        )
    kind = getattr(obj, "kind", None)
    if not isinstance(kind, str) or not kind:
        raise _Rejected(f"{target} does not set the class attribute `kind` (a non-empty str)")
    if inspect.isabstract(obj):
        missing = ", ".join(sorted(getattr(obj, "__abstractmethods__", ())))
        raise _Rejected(f"{target} does not implement: {missing}")
    return obj
