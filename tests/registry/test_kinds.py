"""Kind discovery: built-ins by dotted path, plugins by entry point, failures listed."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.providers.offline import OfflineProvider
from switchboard.registry import Kinds, load_kinds
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
