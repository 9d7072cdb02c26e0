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

**Built-ins are imported on first use** (decision 0220, issue 12): each is declared by a
``BuiltinKind`` carrying what a start needs without the adapter — its ``Config`` (a light
module of the package), display name and default model — and its class is imported the
first time something asks for it (``Kinds.get``: building a provider of that kind). A
server calling one vendor then never imports the other adapters (~40 modules, ~1.3 MB,
~20 ms of every start). Whatever needs the complete picture (iterating, ``names``,
``in``, ``by_kind``, ``failures``: listings, ``switchboard plugins``, validation of an
admin's input) loads every built-in first, so it sees exactly what an eager load saw,
import failures included.
"""

from __future__ import annotations

import importlib
import inspect
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Literal, cast

from switchboard.spec.provider import Provider, ProviderConfig

ENTRY_POINT_GROUP = "switchboard.providers"
DISABLE_PLUGINS_ENV = "SWITCHBOARD_DISABLE_PLUGINS"



@dataclass(frozen=True, slots=True)
class BuiltinKind:
    """A built-in kind as a start knows it before its adapter is imported.

    ``tests/registry/test_kinds.py`` checks each against its class (``kind``,
    ``display_name``, ``default_model``, ``Config``), so the two cannot drift."""

    target: str  # "module:attribute" of the Provider subclass
    config: str  # "module:attribute" of its Config (a module that does not import it)
    display_name: str
    default_model: str | None
    presets: str | None = None  # "module:function" returning {name: preset}, if any


BUILTIN_KINDS: dict[str, BuiltinKind] = {
    "offline": BuiltinKind("switchboard.providers.offline:OfflineProvider",
                           "switchboard.providers.offline.config:OfflineConfig",
                           "Offline (built-in)", "offline-chat"),
    "openai": BuiltinKind("switchboard.providers.openai:OpenAIProvider",
                          "switchboard.providers.openai.config:OpenAIConfig",
                          "OpenAI", "gpt-4o-mini"),
    "openai_compatible": BuiltinKind(
        "switchboard.providers.openai_compatible:OpenAICompatibleProvider",
        "switchboard.providers.openai_compatible.config:OpenAICompatibleConfig",
        "OpenAI-compatible endpoint", None,
        presets="switchboard.providers.openai_compatible.presets:load_presets"),
    "anthropic": BuiltinKind("switchboard.providers.anthropic:AnthropicProvider",
                             "switchboard.providers.anthropic.config:AnthropicConfig",
                             "Anthropic", "claude-sonnet-4-5"),
    "mistral": BuiltinKind("switchboard.providers.mistral:MistralProvider",
                           "switchboard.providers.mistral.config:MistralConfig",
                           "Mistral AI", "mistral-small-latest"),
    "gemini": BuiltinKind("switchboard.providers.gemini:GeminiProvider",
                          "switchboard.providers.gemini.config:GeminiConfig",
                          "Google Gemini", "gemini-2.5-flash"),
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


class Kinds:
    """The provider kinds (by kind) and the failures met while loading them.

    Built-ins declared with a ``BuiltinKind`` are imported on first use: ``get`` imports
    one kind; ``config_class``, ``display_name_of``, ``default_model_of`` and
    ``declared`` answer from the declaration without importing; everything else (``in``,
    iteration, ``names``, ``by_kind``, ``failures``) imports every declared kind first,
    so it sees what loading them all at once saw (in the same order)."""

    __slots__ = ("_failures", "_loaded", "_lock", "_order", "_pending")

    def __init__(self) -> None:
        self._loaded: dict[str, KindInfo] = {}
        self._pending: dict[str, BuiltinKind] = {}
        self._failures: list[tuple[int, KindFailure]] = []
        self._order: dict[str, int] = {}  # kind -> position (built-ins: their table's)
        self._lock = threading.RLock()

    @classmethod
    def of(cls, classes: Mapping[str, type[Provider]] | Iterable[type[Provider]]) -> Kinds:
        """Kinds from classes given directly (tests, embedding), all marked built-in."""
        items = classes.items() if isinstance(classes, Mapping) else ((c.kind, c) for c in classes)
        out = cls()
        for kind, provider_cls in items:
            target = f"{provider_cls.__module__}:{provider_cls.__qualname__}"
            out._add(KindInfo(kind, provider_cls, "builtin", target))
        return out

    # -- without importing an adapter ----------------------------------------------
    def declared(self) -> list[str]:
        """Every kind loaded or declared (not imported yet), in load order; a declared
        kind whose import later fails is listed until then."""
        return sorted({*self._loaded, *self._pending}, key=self._position)

    def config_class(self, kind: str) -> type[ProviderConfig] | None:
        """The kind's ``Config`` (None: unknown kind, or its import failed)."""
        pending = self._pending.get(kind)
        if pending is not None:
            try:
                config = _import_target(pending.config)
            except _Rejected:
                config = None
            if isinstance(config, type) and issubclass(config, ProviderConfig):
                return config
        cls = self.get(kind)  # an odd declaration: what the class itself says
        return cls.Config if cls is not None else None

    def display_name_of(self, kind: str) -> str | None:
        """The class's ``display_name`` (None: unknown kind, or the class sets none)."""
        pending = self._pending.get(kind)
        if pending is not None:
            return pending.display_name
        info = self._loaded.get(kind)
        return getattr(info.cls, "display_name", None) if info is not None else None

    def default_model_of(self, kind: str) -> str | None:
        pending = self._pending.get(kind)
        if pending is not None:
            return pending.default_model
        info = self._loaded.get(kind)
        return info.cls.default_model if info is not None else None

    def presets_loader(self, kind: str) -> Callable[[], Mapping[str, Any]] | None:
        """The kind's ``load_presets`` (OpenAI-compatible vendors as data): its class's,
        else its module's; a declared kind's without importing the adapter."""
        pending = self._pending.get(kind)
        if pending is not None and pending.presets:
            try:
                load = _import_target(pending.presets)
            except _Rejected:
                load = None
            if callable(load):
                return cast("Callable[[], Mapping[str, Any]]", load)
        cls = self.get(kind)
        if cls is None:
            return None
        found = getattr(cls, "load_presets", None)
        if found is None:
            found = getattr(importlib.import_module(cls.__module__), "load_presets", None)
        return cast("Callable[[], Mapping[str, Any]] | None", found)

    # -- importing -----------------------------------------------------------------
    def get(self, kind: str) -> type[Provider] | None:
        """The kind's class, its adapter imported now if it was only declared."""
        info = self._info(kind)
        return info.cls if info is not None else None

    @property
    def by_kind(self) -> dict[str, KindInfo]:
        """Every loaded kind (all declared ones imported first), in load order."""
        self._load_all()
        return dict(sorted(self._loaded.items(), key=lambda item: self._position(item[0])))

    @property
    def failures(self) -> list[KindFailure]:
        self._load_all()
        return [failure for _, failure in sorted(self._failures, key=lambda f: f[0])]

    def names(self) -> list[str]:
        self._load_all()
        return sorted(self._loaded)

    def __contains__(self, kind: object) -> bool:
        return isinstance(kind, str) and self._info(kind) is not None

    def __iter__(self) -> Iterator[KindInfo]:
        return iter(self.by_kind.values())

    def __len__(self) -> int:
        self._load_all()
        return len(self._loaded)

    # -- internals -----------------------------------------------------------------
    def _position(self, kind: str) -> int:
        return self._order.get(kind, len(self._order))

    def _place(self, kind: str) -> int:
        return self._order.setdefault(kind, len(self._order))

    def _declare(self, kind: str, builtin: BuiltinKind) -> None:
        self._place(kind)
        self._pending[kind] = builtin

    def _add(self, info: KindInfo) -> None:
        self._place(info.kind)
        self._loaded[info.kind] = info

    def _fail(self, failure: KindFailure) -> None:
        position = (self._place(failure.name) if failure.source == "builtin"
                    else len(self._order) + len(self._failures))
        self._failures.append((position, failure))

    def _info(self, kind: str) -> KindInfo | None:
        info = self._loaded.get(kind)
        if info is not None:
            return info
        if kind not in self._pending:  # unknown, failed, or loaded since the line above
            return self._loaded.get(kind)
        with self._lock:  # a kind is imported once; another thread waits for it
            pending = self._pending.get(kind)
            if pending is not None:
                _add_builtin(self, kind, pending.target)
                del self._pending[kind]  # only now: a reader never sees it in neither
            return self._loaded.get(kind)

    def _load_all(self) -> None:
        for kind in list(self._pending):
            self._info(kind)


def plugins_disabled() -> bool:
    return os.environ.get(DISABLE_PLUGINS_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def load_kinds(
    *, plugins: bool | None = None, builtins: Mapping[str, str | BuiltinKind] | None = None
) -> Kinds:
    """Declare the built-ins (``BUILTIN_KINDS`` unless given; a plain ``"module:attr"``
    is imported at once), then load the entry points (unless ``plugins`` is false, or
    by default disabled by the environment); never raises."""
    kinds = Kinds()
    for kind, target in (BUILTIN_KINDS if builtins is None else builtins).items():
        if isinstance(target, BuiltinKind):
            kinds._declare(kind, target)
        else:
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
        kinds._fail(KindFailure(kind, "builtin", target, str(exc)))
        return
    if cls.kind != kind:
        kinds._fail(KindFailure(
            kind, "builtin", target, f"declares kind {cls.kind!r}, expected {kind!r}"
        ))
        return
    kinds._add(KindInfo(kind, cls, "builtin", target))


def _add_plugin(kinds: Kinds, ep: EntryPoint) -> None:
    dist = ep.dist
    dist_name = dist.metadata["Name"] if dist is not None else None
    dist_version = dist.version if dist is not None else None

    def fail(name: str, reason: str) -> None:
        kinds._fail(KindFailure(name, "plugin", ep.value, reason, dist_name, dist_version))

    try:
        cls = _check_provider_class(_load_entry_point(ep), ep.value)
    except _Rejected as exc:
        fail(ep.name, str(exc))
        return
    existing = kinds._info(cls.kind)  # a declared built-in is imported: it wins if it loads
    if existing is not None:
        fail(cls.kind, f"kind {cls.kind!r} is already provided by {existing.origin} "
                       f"({existing.target}); this plugin was ignored")
        return
    kinds._add(KindInfo(cls.kind, cls, "plugin", ep.value, dist_name, dist_version))


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
