"""Kind discovery: built-ins by dotted path, plugins by entry point, failures listed."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.registry import BUILTIN_KINDS, Kinds, load_kinds
from switchboard.registry.kinds import BuiltinKind
from tests.plugins.distributions import (
    ABSTRACT,
    NO_KIND,
    NOT_A_PROVIDER,
    RAISES_ON_IMPORT,
    provider_source,
    write_distribution,
)

MODULES = ("sbt_good", "sbt_broken", "sbt_notprov", "sbt_nokind", "sbt_abstract",
           "sbt_shadow", "sbt_dup")


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path where the test installs distributions."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in MODULES:
        sys.modules.pop(name, None)


def test_builtins_load_by_dotted_path_and_plugins_are_off_under_tests() -> None:
    kinds = load_kinds()
    offline = kinds.by_kind["offline"]
    assert offline.cls is OfflineProvider
    assert offline.source == "builtin"
    assert offline.origin == "built-in"
    assert offline.target == "switchboard.providers.offline:OfflineProvider"


def test_a_builtin_that_fails_to_import_is_reported_not_fatal() -> None:
    kinds = load_kinds(plugins=False, builtins={
        "offline": "switchboard.providers.offline:OfflineProvider",
        "ghost": "switchboard.providers.ghost:GhostProvider",
        "renamed": "switchboard.providers.offline:OfflineProvider",
    })
    assert kinds.names() == ["offline"]
    reasons = {f.name: f.reason for f in kinds.failures}
    assert "failed to import switchboard.providers.ghost:GhostProvider" in reasons["ghost"]
    assert "ModuleNotFoundError" in reasons["ghost"]
    assert reasons["renamed"] == "declares kind 'offline', expected 'renamed'"


def test_a_plugin_kind_is_loaded_with_its_distribution(site: Path) -> None:
    write_distribution(site, "sbt-good", "1.2.3", {"good": "sbt_good:Dummy"},
                       {"sbt_good": provider_source("good", "Good plugin")})
    kinds = load_kinds(plugins=True)
    good = kinds.by_kind["good"]
    assert (good.source, good.distribution, good.version) == ("plugin", "sbt-good", "1.2.3")
    assert good.origin == "sbt-good 1.2.3"
    assert good.display_name == "Good plugin"
    assert "offline" in kinds  # built-ins still there
    assert kinds.failures == [f for f in kinds.failures if f.source == "builtin"]


def test_plugins_are_skipped_when_disabled_by_the_environment(site: Path) -> None:
    write_distribution(site, "sbt-good", "1.0", {"good": "sbt_good:Dummy"},
                       {"sbt_good": provider_source("good")})
    assert "good" not in load_kinds()  # conftest sets SWITCHBOARD_DISABLE_PLUGINS=1
    assert "good" in load_kinds(plugins=True)


def test_broken_plugins_become_failures_with_reasons(site: Path) -> None:
    write_distribution(site, "sbt-bad", "0.1", {
        "broken": "sbt_broken:Provider",
        "notprov": "sbt_notprov:NotAProvider",
        "nokind": "sbt_nokind:NoKind",
        "abstract": "sbt_abstract:Abstract",
        "missing_attr": "sbt_good:Nope",
    }, {
        "sbt_broken": RAISES_ON_IMPORT,
        "sbt_notprov": NOT_A_PROVIDER,
        "sbt_nokind": NO_KIND,
        "sbt_abstract": ABSTRACT,
        "sbt_good": provider_source("good"),
    })
    kinds = load_kinds(plugins=True)
    failures = {f.name: f for f in kinds.failures if f.source == "plugin"}
    assert set(failures) == {"broken", "notprov", "nokind", "abstract", "missing_attr"}
    assert failures["broken"].reason == (
        "failed to import sbt_broken:Provider: RuntimeError: plugin is broken on purpose")
    assert "not a subclass of switchboard.spec.Provider" in failures["notprov"].reason
    assert "does not set the class attribute `kind`" in failures["nokind"].reason
    assert failures["abstract"].reason == (
        "sbt_abstract:Abstract does not implement: chat_model, list_models")
    assert "AttributeError" in failures["missing_attr"].reason
    assert failures["broken"].distribution == "sbt-bad"
    assert failures["broken"].version == "0.1"
    assert "offline" in kinds


def test_duplicate_kinds_keep_the_builtin_and_the_first_plugin(site: Path) -> None:
    write_distribution(site, "sbt-shadow", "2.0", {"offline": "sbt_shadow:Dummy"},
                       {"sbt_shadow": provider_source("offline", "Impostor")})
    write_distribution(site, "sbt-dup", "1.0", {"a_dup": "sbt_dup:Dummy",
                                                 "b_dup": "sbt_dup:Dummy"},
                       {"sbt_dup": provider_source("dup")})
    kinds = load_kinds(plugins=True)
    assert kinds.by_kind["offline"].cls is OfflineProvider
    assert kinds.by_kind["dup"].target == "sbt_dup:Dummy"
    failures = [f for f in kinds.failures if f.source == "plugin"]
    assert [(f.name, f.distribution) for f in failures] == [
        ("dup", "sbt-dup"), ("offline", "sbt-shadow")]
    assert "already provided by built-in" in failures[1].reason
    assert "already provided by sbt-dup 1.0" in failures[0].reason


def test_kinds_can_be_given_directly() -> None:
    kinds = Kinds.of([OfflineProvider])
    assert kinds.get("offline") is OfflineProvider
    assert kinds.get("openai") is None
    assert len(kinds) == 1


@pytest.mark.parametrize("kind", sorted(BUILTIN_KINDS))
def test_each_builtin_declaration_says_what_its_class_says(kind: str) -> None:
    """A start reads these instead of importing the adapter (decision 0220): they must
    never drift from the class."""
    declared = BUILTIN_KINDS[kind]
    cls = load_kinds(plugins=False).get(kind)
    assert cls is not None and cls.kind == kind
    assert declared.target == f"{cls.__module__.rsplit('.', 1)[0]}:{cls.__name__}"
    assert (declared.display_name, declared.default_model) == (
        cls.display_name, cls.default_model)
    config_module, _, config_name = declared.config.partition(":")
    assert cls.Config is getattr(importlib.import_module(config_module), config_name)
    if declared.presets is not None:
        assert kind == "openai_compatible"


_LAZY = """
import json, sys
from switchboard.registry import Registry, load_kinds
from switchboard.registry.environment import environment_instances
kinds = load_kinds(plugins=False)
instances = environment_instances(kinds)
registry = Registry(kinds, instances)
declared = {k: (kinds.display_name_of(k), kinds.default_model_of(k)) for k in kinds.declared()}
before = sorted(m for m in sys.modules if m.endswith(".provider"))
registry.resolve("offline:offline-chat")  # builds the one provider of that kind
after = sorted(m for m in sys.modules if m.endswith(".provider"))
print(json.dumps({"before": before, "after": after, "declared": declared,
                  "names": [i.name for i in instances], "all": kinds.names()}))
"""


def test_a_builtin_adapter_is_imported_with_the_first_provider_of_its_kind() -> None:
    out = subprocess.run([sys.executable, "-c", _LAZY], capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["before"] == ["switchboard.spec.provider"]
    assert report["after"] == ["switchboard.providers.offline.provider",
                               "switchboard.spec.provider"]
    # the environment's instances and the declarations came without any adapter
    assert report["names"] == ["offline", "openai", "anthropic", "mistral", "gemini"]
    assert report["declared"]["gemini"] == ["Google Gemini", "gemini-2.5-flash"]
    # whatever asks for the whole picture loads every kind
    assert report["all"] == sorted(BUILTIN_KINDS)


def test_a_declared_builtin_that_fails_to_import_is_reported_when_asked_for() -> None:
    kinds = load_kinds(plugins=False, builtins={
        "offline": BUILTIN_KINDS["offline"],
        "ghost": BuiltinKind("switchboard.providers.ghost:GhostProvider",
                             "switchboard.providers.offline.config:OfflineConfig",
                             "Ghost", None),
    })
    assert kinds.declared() == ["offline", "ghost"]
    assert kinds.display_name_of("ghost") == "Ghost"  # the declaration, not imported yet
    assert kinds.get("ghost") is None
    assert kinds.declared() == ["offline"]
    assert [f.name for f in kinds.failures] == ["ghost"]
    assert "ModuleNotFoundError" in kinds.failures[0].reason
    assert kinds.names() == ["offline"]
