"""The toolbox: every source of tools merged, with the administrator's settings applied.

One per process (``AppState.toolbox``; the CLI builds its own with ``process_toolbox``).
Sources are the built-in tools and, later, one per MCP server (``add_source`` /
``remove_source``: the MCP lane plugs in there). What the loop asks is ``for_turn``: the
tools of one turn, as runnable tools whose ``spec.policy`` is the effective one.

Settings (decision 0097) live in ``tool_settings``, one row per tool an administrator
changed, NULL meaning "the tool's default": built-ins are enabled, on by default and
allowed; a tool of another source (MCP) is enabled, off by default, with the policy its
source gives. ``enabled`` false hides a tool from everyone; ``deny`` keeps it from
models (both are refused by name when a turn asks for them). The table is read on every
``for_turn`` and listing — a few rows, one indexed read, far cheaper than a model call —
so a change is seen by every server process at once without a cache to drop.

A source is asked for its tools with a time limit (``SOURCE_TIMEOUT_S``) and any error it
raises is logged, never passed on: one MCP server that hangs or breaks must not take the
other tools, or the turn, down with it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import select

from switchboard.config import Settings
from switchboard.db import Database
from switchboard.db import models as m
from switchboard.services import audit, flags
from switchboard.services.errors import NotFound, ValidationFailed
from switchboard.services.file_bytes import FileRoot, configured
from switchboard.services.pipeline import Pipeline
from switchboard.services.principal import Principal
from switchboard.services.tools.builtin import SOURCE as BUILTIN
from switchboard.services.tools.builtin import BuiltinSource
from switchboard.services.tools.contract import (
    RunnableTool,
    ToolContext,
    ToolOutput,
    ToolPolicy,
    ToolSource,
    ToolSpec,
)

log = logging.getLogger("switchboard.tools")

SOURCE_TIMEOUT_S = 5.0
MAX_TOOLS_PER_TURN = 64
MAX_NAME_CHARS = 200
POLICIES: tuple[ToolPolicy, ...] = ("allow", "ask", "deny")


@dataclass(frozen=True, slots=True)
class ToolInfo:
    """A tool as listed: what it is, and its effective settings."""

    name: str
    description: str
    source: str
    enabled: bool
    default_on: bool
    policy: ToolPolicy
    changed: bool
    """An administrator changed one of its settings (a row exists)."""

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "source": self.source,
                "enabled": self.enabled, "default_on": self.default_on,
                "policy": self.policy, "changed": self.changed}


@dataclass(frozen=True, slots=True)
class _Row:
    enabled: bool | None
    default_on: bool | None
    policy: ToolPolicy | None


class ConfiguredTool:
    """A source's tool with the effective policy in its spec (the loop reads
    ``spec.policy`` to know whether to ask the user first)."""

    def __init__(self, tool: RunnableTool, policy: ToolPolicy) -> None:
        self._tool = tool
        self._spec = tool.spec if tool.spec.policy == policy else replace(tool.spec,
                                                                          policy=policy)

    @property
    def spec(self) -> ToolSpec:
        return self._spec

    async def run(self, arguments: Mapping[str, Any], context: ToolContext) -> ToolOutput:
        return await self._tool.run(arguments, context)


def _info(tool: RunnableTool, row: _Row | None) -> ToolInfo:
    spec = tool.spec
    builtin = spec.source == BUILTIN
    return ToolInfo(
        name=spec.name, description=spec.description, source=spec.source,
        enabled=True if row is None or row.enabled is None else row.enabled,
        default_on=builtin if row is None or row.default_on is None else row.default_on,
        policy=spec.policy if row is None or row.policy is None else row.policy,
        changed=row is not None)


class Toolbox:
    """The process's tools (see the module docstring)."""

    def __init__(self, db: Database, sources: Sequence[ToolSource] = ()) -> None:
        self.db = db
        self._sources: dict[str, ToolSource] = {}
        for source in sources:
            self.add_source(source)

    def add_source(self, source: ToolSource) -> None:
        """Offer ``source``'s tools (an MCP server added at run time); a source of the same
        name is replaced."""
        self._sources[source.name] = source

    def remove_source(self, name: str) -> None:
        self._sources.pop(name, None)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(self._sources)

    async def _listed(self, source: ToolSource) -> Sequence[RunnableTool]:
        try:
            async with asyncio.timeout(SOURCE_TIMEOUT_S):
                return await source.list_tools()
        except TimeoutError:
            log.warning("tool_source_timeout", extra={"source": source.name})
        except Exception:  # a broken source loses its own tools, nothing else
            log.exception("tool_source_failed", extra={"source": source.name})
        return ()

    async def tools(self) -> dict[str, RunnableTool]:
        """Every tool of every source by public name; the first source to offer a name
        keeps it (built-ins first), a clash is logged."""
        listed = await asyncio.gather(*(self._listed(s) for s in self._sources.values()))
        found: dict[str, RunnableTool] = {}
        for tools in listed:
            for tool in tools:
                name = tool.spec.name
                if name in found:
                    log.warning("tool_name_clash", extra={"tool": name,
                                                          "source": tool.spec.source})
                    continue
                found[name] = tool
        return found

    async def _rows(self) -> dict[str, _Row]:
        async with self.db.session() as session:
            rows = (await session.execute(select(m.ToolSetting))).scalars().all()
        return {r.name: _Row(r.enabled, r.default_on, r.policy)  # type: ignore[arg-type]
                for r in rows}

    async def catalog(self, *, everything: bool = False,
                      principal: Principal | None = None) -> list[ToolInfo]:
        """The tools, sorted by source (built-ins first) then name. Without
        ``everything``, only those a member may use (enabled, not denied) and, for
        ``principal``, none when an admin turned the tool loop off for them and no MCP
        tool when MCP is off (the flags ``for_turn`` enforces, so the composer's menu
        offers nothing the turn would refuse), nor a tool whose own flag is off for them
        (``ToolSpec.flag``: drawing pictures without ``image_generation``)."""
        if not everything and principal is not None and not flags.enabled("tool_loop",
                                                                          principal):
            return []
        tools, rows = await self.tools(), await self._rows()
        if not everything and principal is not None:
            mcp = flags.enabled("mcp", principal)
            tools = {n: t for n, t in tools.items()
                     if (mcp or not t.spec.source.startswith("mcp:"))
                     and (t.spec.flag is None or flags.enabled(t.spec.flag, principal))}
        infos = [_info(tool, rows.get(name)) for name, tool in tools.items()]
        if not everything:
            infos = [i for i in infos if i.enabled and i.policy != "deny"]
        return sorted(infos, key=lambda i: (i.source != BUILTIN, i.source, i.name))

    async def for_turn(self, names: Sequence[str] | None,
                       principal: Principal) -> list[RunnableTool]:
        """The tools of one turn: ``None`` = those on by default; else exactly the named
        ones. An unknown, disabled or denied name is a ``ValidationFailed`` naming every
        such name (field ``tools``). ``principal`` is who the turn is for (kept for
        per-role rules; every enabled tool is open to every member today)."""
        if names is not None:
            if len(names) > MAX_TOOLS_PER_TURN:
                raise ValidationFailed(f"at most {MAX_TOOLS_PER_TURN} tools in one turn; "
                                       f"{len(names):,} were asked", field="tools")
            if any(not isinstance(n, str) or len(n) > MAX_NAME_CHARS for n in names):
                raise ValidationFailed(f"a tool name is text of at most {MAX_NAME_CHARS} "
                                       "characters", field="tools")
        tools, rows = await self.tools(), await self._rows()
        if not flags.enabled("mcp", principal):  # an admin's switch: no MCP tools
            tools = {n: t for n, t in tools.items() if not t.spec.source.startswith("mcp:")}
        infos = {name: _info(tool, rows.get(name)) for name, tool in tools.items()}
        usable = {name for name, i in infos.items() if i.enabled and i.policy != "deny"}
        if names is None:
            chosen = [name for name in infos if name in usable and infos[name].default_on]
        else:
            chosen = list(dict.fromkeys(names))  # in the order asked, once each
            unknown = [n for n in chosen if n not in infos]
            off = [n for n in chosen if n in infos and n not in usable]
            problems = []
            if unknown:
                problems.append("unknown tool(s): " + ", ".join(repr(n[:60]) for n in unknown))
            if off:
                problems.append("turned off by an administrator: " + ", ".join(off))
            if problems:
                raise ValidationFailed("; ".join(problems) + ". Available: "
                                       + (", ".join(sorted(usable)) or "none"), field="tools")
        out = [ConfiguredTool(tools[name], infos[name].policy) for name in chosen]
        wire: dict[str, str] = {}
        for tool in out:
            other = wire.setdefault(tool.spec.wire_name, tool.spec.name)
            if other != tool.spec.name:
                raise ValidationFailed(f"the tools {other!r} and {tool.spec.name!r} cannot be "
                                       "used together (a model would see the same name)",
                                       field="tools")
        return list(out)

    async def configure(self, actor: audit.Actor, name: str,
                        changes: Mapping[str, Any]) -> ToolInfo:
        """Change an administrator's settings of tool ``name``: ``enabled``,
        ``default_on`` (booleans) and ``policy``; a key given as None goes back to the
        tool's default, a key not given is kept. One audit row with the changes."""
        allowed = {"enabled", "default_on", "policy"}
        if set(changes) - allowed:
            raise ValidationFailed("only enabled, default_on and policy can be changed",
                                   field=sorted(set(changes) - allowed)[0])
        if changes.get("policy") not in (None, *POLICIES):
            raise ValidationFailed("policy is allow, ask or deny", field="policy")
        tool = (await self.tools()).get(name)
        if tool is None:
            raise NotFound(f"no tool is called {name[:MAX_NAME_CHARS]!r}")
        async with self.db.unit_of_work() as session:
            row = await session.get(m.ToolSetting, name)
            if row is None:
                row = m.ToolSetting(name=name)
                session.add(row)
            for key, value in changes.items():
                setattr(row, key, value)
            audit.record(session, actor, "tool.update", target_type="tool", target_id=name,
                         details={k: changes[k] for k in sorted(changes)})
            await session.flush()
            saved = _Row(row.enabled, row.default_on, row.policy)  # type: ignore[arg-type]
        return _info(tool, saved)


def process_toolbox(settings: Settings, db: Database, pipeline: Pipeline,
                    files: FileRoot | None = None) -> Toolbox:
    """The toolbox of a server process or a CLI command: the built-in tools, configured
    from ``settings`` (MCP sources are added by whoever starts them); ``files``: where
    drawn pictures are kept (None: the store the settings choose)."""
    return Toolbox(db, [BuiltinSource(
        db, pipeline, files if files is not None else configured(settings, db),
        fetch_allow_private=settings.tools_fetch_allow_private,
        image_model=settings.tools_image_model)])
