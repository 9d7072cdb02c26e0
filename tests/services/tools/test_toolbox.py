"""The toolbox: sources merged (built-ins first), the administrator's settings applied
(enabled, on by default, policy; audited), ``for_turn`` refusing unknown, disabled and
denied names by name, and a broken or hanging source losing only its own tools."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from switchboard.config import load_settings
from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import audit
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.pipeline import Pipeline, SequentialRouter
from switchboard.services.principal import Principal
from switchboard.services.tools import toolbox as module
from switchboard.services.tools.contract import (
    RunnableTool,
    ToolContext,
    ToolOutput,
    ToolSpec,
)
from switchboard.services.tools.toolbox import Toolbox, process_toolbox

WHO = Principal(1, "ada", "user")
ADMIN = audit.Actor("root", 1)
BUILTINS = ["datetime", "calculator", "fetch_url", "search_conversations", "generate_image"]


class Echo:
    def __init__(self, name: str, source: str = "mcp:notes", policy: Any = "allow") -> None:
        self.spec = ToolSpec(name, f"echo {name}", {"type": "object"}, source, policy=policy)

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        return ToolOutput(f"{self.spec.name}: {dict(arguments)}")


class Source:
    def __init__(self, name: str, tools: Sequence[RunnableTool] = (), *,
                 fail: bool = False, hang: bool = False) -> None:
        self.name, self.tools, self.fail, self.hang = name, tools, fail, hang

    async def list_tools(self) -> Sequence[RunnableTool]:
        if self.hang:
            await asyncio.Event().wait()
        if self.fail:
            raise RuntimeError("the server crashed")
        return self.tools


def toolbox(db: Database, tmp_path: Path, *extra: Source) -> Toolbox:
    async def no_registry() -> Any:
        raise AssertionError("not called")

    box = process_toolbox(load_settings(), db, Pipeline(no_registry, [], SequentialRouter(),
                                                        lambda spec, outcome: None))
    for source in extra:
        box.add_source(source)
    return box


async def test_defaults_and_names(sqlite_database: Database, tmp_path: Path) -> None:
    notes = Source("mcp:notes", [Echo("notes.find", policy="ask"), Echo("notes.add")])
    box = toolbox(sqlite_database, tmp_path, notes)
    assert box.sources == ("builtin", "mcp:notes")
    listed = await box.catalog()
    assert [(t.name, t.source, t.default_on, t.policy) for t in listed] == [
        ("calculator", "builtin", True, "allow"), ("datetime", "builtin", True, "allow"),
        ("fetch_url", "builtin", True, "allow"),
        ("generate_image", "builtin", True, "allow"),
        ("search_conversations", "builtin", True, "allow"),
        ("notes.add", "mcp:notes", False, "allow"), ("notes.find", "mcp:notes", False, "ask")]
    assert [t.spec.name for t in await box.for_turn(None, WHO)] == BUILTINS
    chosen = await box.for_turn(["notes.find", "calculator", "notes.find"], WHO)
    assert [(t.spec.name, t.spec.wire_name, t.spec.policy) for t in chosen] == [
        ("notes.find", "notes__find", "ask"), ("calculator", "calculator", "allow")]
    out = await chosen[0].run({"q": 1}, ToolContext(WHO))
    assert out.text == "notes.find: {'q': 1}"
    assert await box.for_turn([], WHO) == []
    with pytest.raises(ValidationFailed) as caught:
        await box.for_turn(["calculator", "weather", "rm -rf"], WHO)
    assert caught.value.field == "tools"
    assert str(caught.value).startswith("unknown tool(s): 'weather', 'rm -rf'. Available: ")
    with pytest.raises(ValidationFailed, match="at most 64 tools"):
        await box.for_turn(["calculator"] * 65, WHO)
    with pytest.raises(ValidationFailed, match="at most 200"):
        await box.for_turn(["x" * 201], WHO)


async def test_settings_apply_and_are_audited(sqlite_database: Database,
                                              tmp_path: Path) -> None:
    box = toolbox(sqlite_database, tmp_path, Source("mcp:notes", [Echo("notes.add")]))
    info = await box.configure(ADMIN, "fetch_url", {"enabled": False})
    assert (info.enabled, info.changed) == (False, True)
    await box.configure(ADMIN, "generate_image", {"default_on": False, "policy": "ask"})
    await box.configure(ADMIN, "notes.add", {"default_on": True})
    await box.configure(ADMIN, "datetime", {"policy": "deny"})
    assert [t.spec.name for t in await box.for_turn(None, WHO)] == [
        "calculator", "search_conversations", "notes.add"]
    [image] = await box.for_turn(["generate_image"], WHO)
    assert image.spec.policy == "ask"
    with pytest.raises(ValidationFailed, match="turned off by an administrator: fetch_url, "
                                               "datetime"):
        await box.for_turn(["fetch_url", "datetime", "calculator"], WHO)
    assert "fetch_url" not in [t.name for t in await box.catalog()]
    everything = {t.name: t for t in await box.catalog(everything=True)}
    assert everything["fetch_url"].enabled is False
    assert everything["datetime"].policy == "deny"

    back = await box.configure(ADMIN, "fetch_url", {"enabled": None})  # the default again
    assert back.enabled is True and back.changed is True
    async with sqlite_database.session() as session:
        rows = (await session.execute(select(m.AuditLog).where(
            m.AuditLog.action == "tool.update").order_by(m.AuditLog.id))).scalars().all()
    assert [(r.actor, r.target_type, r.target_id, r.details) for r in rows] == [
        ("root", "tool", "fetch_url", {"enabled": False}),
        ("root", "tool", "generate_image", {"default_on": False, "policy": "ask"}),
        ("root", "tool", "notes.add", {"default_on": True}),
        ("root", "tool", "datetime", {"policy": "deny"}),
        ("root", "tool", "fetch_url", {"enabled": None})]

    with pytest.raises(NotFound, match="no tool is called 'weather'"):
        await box.configure(ADMIN, "weather", {"enabled": False})
    with pytest.raises(ValidationFailed, match="allow, ask or deny"):
        await box.configure(ADMIN, "calculator", {"policy": "sometimes"})
    with pytest.raises(ValidationFailed):
        await box.configure(ADMIN, "calculator", {"owner": "me"})


async def test_broken_sources_lose_only_their_tools(sqlite_database: Database,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "SOURCE_TIMEOUT_S", 0.05)
    box = toolbox(sqlite_database, tmp_path, Source("mcp:down", fail=True),
                  Source("mcp:stuck", hang=True),
                  Source("mcp:copycat", [Echo("calculator", source="mcp:copycat")]))
    tools = await box.tools()
    assert sorted(tools) == sorted(BUILTINS)
    assert tools["calculator"].spec.source == "builtin"  # the first source keeps a name
    box.remove_source("mcp:stuck")
    assert box.sources == ("builtin", "mcp:down", "mcp:copycat")


async def test_names_a_model_could_not_tell_apart(sqlite_database: Database,
                                                  tmp_path: Path) -> None:
    box = toolbox(sqlite_database, tmp_path,
                  Source("mcp:a", [Echo("a.b"), Echo("a__b", source="mcp:a")]))
    with pytest.raises(ValidationFailed, match="cannot be used together"):
        await box.for_turn(["a.b", "a__b"], WHO)
    assert len(await box.for_turn(["a.b"], WHO)) == 1
