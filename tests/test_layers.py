"""The direction of dependence (docs/architecture.md), enforced.

    spec <- upstream <- providers <- registry <- services <- api | web | cli
                        pricing, db, security, config  <- services

Every import in the package is checked, including those inside functions (a back-import
hidden in a function body is still a back-import), and no first-party import may sit in
a ``try`` that catches ``ImportError``: a missing module of ours is a bug to see, not a
feature to skip.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "switchboard"

# What each top-level module or package of ``switchboard`` may import (besides itself).
_BASE = {"spec"}
ALLOWED: dict[str, set[str]] = {
    "spec": set(),
    "logs": set(),
    "packages": set(),
    "upstream": _BASE,
    "providers": _BASE | {"upstream"},
    "pricing": _BASE,
    "config": _BASE,
    "security": _BASE,
    "db": _BASE | {"config", "packages"},
    "registry": _BASE | {"upstream", "providers", "pricing"},
}
_BELOW_SERVICES = set(ALLOWED) | set().union(*ALLOWED.values())
ALLOWED["services"] = _BELOW_SERVICES
_SURFACE = _BELOW_SERVICES | {"services"}
# The surfaces sit side by side: the web pages use the API's authentication, and the
# app (api) mounts the pages' router; the CLI starts the app by its import string.
ALLOWED["api"] = _SURFACE | {"web"}
ALLOWED["web"] = _SURFACE | {"api"}
ALLOWED["cli"] = _SURFACE | {"api"}


def _layer(path: Path) -> str:
    return path.relative_to(ROOT).parts[0].removesuffix(".py")


def _imported(node: ast.AST, path: Path) -> list[str]:
    """Top-level ``switchboard`` sub-modules an import statement names."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        if node.level:  # relative: resolve against the file's package
            package = list(path.relative_to(ROOT).parent.parts)
            base = package[: len(package) - (node.level - 1)]
            names = [".".join(["switchboard", *base, *(node.module or "").split(".")])]
        else:
            names = [node.module or ""]
    else:
        return []
    found = []
    for name in names:
        parts = name.split(".")
        if parts[0] == "switchboard" and len(parts) > 1 and parts[1]:
            found.append(parts[1])
        elif parts[0] == "switchboard" and isinstance(node, ast.ImportFrom):
            found.extend(alias.name for alias in node.names if _is_module(alias.name))
    return found


def _is_module(name: str) -> bool:
    """``from switchboard import X``: X is a layer, or a name of the package root."""
    return (ROOT / name).is_dir() or (ROOT / f"{name}.py").is_file()


def _sources() -> list[Path]:
    return [p for p in sorted(ROOT.rglob("*.py")) if p.parent != ROOT or p.name != "__init__.py"]


def test_every_import_follows_the_direction_of_dependence() -> None:
    violations = []
    for path in _sources():
        layer = _layer(path)
        assert layer in ALLOWED, f"{path}: new top-level module {layer!r}: add it to ALLOWED"
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _imported(node, path):
                if target != layer and target not in ALLOWED[layer]:
                    violations.append(f"{path.relative_to(ROOT)}:{node.lineno}: "
                                      f"{layer} imports {target}")
    assert not violations, "imports against the direction of dependence:\n" + "\n".join(
        violations)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
    kinds = handler.type
    if kinds is None:
        return True
    elements = kinds.elts if isinstance(kinds, ast.Tuple) else [kinds]
    return any(isinstance(e, ast.Name) and e.id in names for e in elements)


def test_no_first_party_import_is_optional() -> None:
    violations = []
    for path in _sources():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Try):
                continue
            if not any(_catches_import_error(h) for h in node.handlers):
                continue
            for statement in node.body:
                for inner in ast.walk(statement):
                    if _imported(inner, path):
                        violations.append(f"{path.relative_to(ROOT)}:{inner.lineno}")
    assert not violations, "first-party imports wrapped in try/except ImportError:\n" + (
        "\n".join(violations))


def test_the_check_sees_a_violation() -> None:
    """The checker itself: a hidden back-import inside a function is found."""
    tree = ast.parse("def f():\n    from switchboard.services import chat\n")
    fake = ROOT / "registry" / "fake.py"
    found = [t for node in ast.walk(tree) for t in _imported(node, fake)]
    assert found == ["services"]
    assert "services" not in ALLOWED["registry"]


# The call pipeline and its contract sit under every surface: a function-local import in
# them could only be hiding a cycle (they have no start-up cost to save), so there is none.
PIPELINE = [ROOT / "services" / "pipeline.py", ROOT / "services" / "policy.py"]


def test_the_pipeline_is_checked_and_imports_only_at_module_level() -> None:
    assert all(path in _sources() for path in PIPELINE)
    hidden = []
    for path in PIPELINE:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                hidden += [f"{path.name}:{inner.lineno}" for inner in ast.walk(node)
                           if _imported(inner, path)]
    assert not hidden, f"function-local first-party imports: {hidden}"
