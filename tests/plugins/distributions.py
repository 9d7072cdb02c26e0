"""Write installed distributions (``*.dist-info`` with ``entry_points.txt``) by hand.

This is the on-disk format pip itself produces, so ``importlib.metadata`` finds these
exactly as it finds real installs; it lets a test describe a broken or conflicting plugin
in a few lines without building a wheel for each.
"""

from __future__ import annotations

from pathlib import Path


def write_distribution(root: Path, name: str, version: str, entry_points: dict[str, str],
                       modules: dict[str, str]) -> None:
    """Install ``modules`` (name -> source) and a distribution ``name`` whose
    ``switchboard.providers`` entry points are ``entry_points`` (name -> target)."""
    root.mkdir(parents=True, exist_ok=True)
    for module, source in modules.items():
        (root / f"{module}.py").write_text(source)
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    )
    lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[switchboard.providers]\n{lines}")


# Plugin modules, as sources, for the failure cases.
RAISES_ON_IMPORT = 'raise RuntimeError("plugin is broken on purpose")\n'

NOT_A_PROVIDER = "class NotAProvider:\n    kind = 'nope'\n"

NO_KIND = '''
from switchboard.spec import Provider


class NoKind(Provider):
    display_name = "No kind"

    def chat_model(self, model_id):
        raise NotImplementedError

    async def list_models(self):
        return []
'''

ABSTRACT = '''
from switchboard.spec import Provider


class Abstract(Provider):
    kind = "abstract"
    display_name = "Abstract"
'''


def provider_source(kind: str, display_name: str = "Dummy") -> str:
    """A complete (no network) provider of ``kind`` answering "hi from <kind>"."""
    return f'''
from switchboard.spec import (ChatModel, Finish, FinishReason, Provider, StreamStart,
                              TextDelta, Usage)


class Model(ChatModel):
    async def stream(self, request):
        yield StreamStart()
        yield TextDelta("hi from {kind}")
        yield Finish(FinishReason("stop"), Usage(input_tokens=1, output_tokens=3))


class Dummy(Provider):
    kind = "{kind}"
    display_name = "{display_name}"
    requires_api_key = False
    default_model = "dummy-1"

    def chat_model(self, model_id):
        return Model(self, model_id)

    async def list_models(self):
        return []
'''
