"""``switchboard.packages.unexecuted``: a package's modules without its ``__init__``.

uvicorn (decision 0234) and ``sqlalchemy.ext.asyncio`` (decision 0237) are registered
this way so a ``/v1`` server does not load what their ``__init__`` imports. The package
must stay whole for everyone else: a name read from it runs ``__init__`` once, and its
submodules import as usual. Each test makes its own package in a temporary directory.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from switchboard.packages import unexecuted


@pytest.fixture
def package(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A package ``pkg_<test>`` whose ``__init__`` counts its runs and imports a heavy
    submodule, with a light submodule that imports a sibling relatively."""
    name = f"pkg_{request.node.name}"
    root = tmp_path / name
    root.mkdir()
    (root / "__init__.py").write_text(
        "import builtins, time\n"
        "builtins.INIT_RUNS = getattr(builtins, 'INIT_RUNS', 0) + 1\n"
        "time.sleep(0.05)  # a slow __init__: other threads arrive while it runs\n"
        "from .heavy import HEAVY as HEAVY\n"
        "from .light import LIGHT as LIGHT\n")
    (root / "heavy.py").write_text("HEAVY = 'heavy'\n")
    (root / "helpers.py").write_text("HELP = 'help'\n")
    (root / "light.py").write_text("from . import helpers\nLIGHT = 'light ' + helpers.HELP\n")
    sys.path.insert(0, str(tmp_path))
    import builtins

    builtins.INIT_RUNS = 0  # type: ignore[attr-defined]
    try:
        yield name
    finally:
        sys.path.remove(str(tmp_path))
        for module in [m for m in sys.modules if m == name or m.startswith(f"{name}.")]:
            del sys.modules[module]


def _init_runs() -> int:
    import builtins

    return int(getattr(builtins, "INIT_RUNS", 0))


def test_a_submodule_imports_without_the_packages_init(package: str) -> None:
    unexecuted(package)
    light = __import__(f"{package}.light", fromlist=["LIGHT"])
    assert light.LIGHT == "light help"  # its relative ``from . import helpers`` worked
    assert _init_runs() == 0
    assert f"{package}.heavy" not in sys.modules


def test_a_name_read_from_the_package_runs_its_init_once(package: str) -> None:
    module = unexecuted(package)
    __import__(f"{package}.light")
    assert module.HEAVY == "heavy"  # type: ignore[attr-defined]
    assert module.LIGHT == "light help"  # type: ignore[attr-defined]
    assert _init_runs() == 1
    namespace: dict[str, object] = {}
    exec(f"from {package} import HEAVY", namespace)  # the ordinary import form
    assert namespace["HEAVY"] == "heavy" and _init_runs() == 1


def test_the_first_reads_from_several_threads_run_init_once(package: str) -> None:
    module = unexecuted(package)
    seen: list[object] = []
    threads = [threading.Thread(target=lambda: seen.append(module.HEAVY))  # type: ignore[attr-defined]
               for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["heavy"] * 8 and _init_runs() == 1


def test_a_package_already_imported_is_returned_as_it_is(package: str) -> None:
    whole = __import__(package)
    assert unexecuted(package) is whole and _init_runs() == 1


def test_a_missing_name_is_an_attribute_error_after_the_init(package: str) -> None:
    module = unexecuted(package)
    with pytest.raises(AttributeError):
        _ = module.NOT_THERE  # type: ignore[attr-defined]
    assert _init_runs() == 1


def test_an_unknown_package_is_refused() -> None:
    with pytest.raises(ImportError, match="not an installed package"):
        unexecuted("switchboard_no_such_package")
