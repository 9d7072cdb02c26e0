"""Each step of a tool loop saved as it happens (issue 14, decision 0101).

A turn has ONE placeholder answer from its start (its id is the answer job's id, the stop
button's and the reattach's), and it stays the turn's *last* message. Each step is saved
*before* it, in one short transaction:

    question -> assistant (tool calls) -> tool (results) -> ... -> placeholder (final text)

``save_step`` inserts the step's row as the placeholder's parent and re-hangs the
placeholder under it; the placeholder is emptied (the parts the progress writer saved
belong to the step now). So whatever ends the turn — a reload, the stop button, a crash,
a failing model at step 3 — the steps before are complete messages of the conversation,
the history of the next turn replays them on any model (``chat_history`` already converts
tool calls and results across vendors), and regenerating the question re-runs the loop
as a new version (a sibling of the first step).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, literal, select, update

from switchboard.db import Database, tables, utcnow
from switchboard.db import models as m
from switchboard.services.metering import CallOutcome

_COLUMNS = tables.messages.c


async def save_step(db: Database, answer_id: int, role: str, parts: list[dict[str, Any]], *,
                    outcome: CallOutcome | None = None) -> int | None:
    """Save one step (``assistant`` with its tool calls and the call's usage, or ``tool``
    with the results) just before answer ``answer_id``; returns its id (None: the
    conversation was deleted meanwhile).

    Two statements in one transaction (``INSERT … SELECT … RETURNING``, then the
    placeholder re-hung and emptied): a step is on the loop's path, and on a busy
    machine each round trip to the database costs more than the work (bench.tool_loop)."""
    now = utcnow()
    values: dict[str, Any] = {"role": role, "parts": parts, "status": "complete",
                              "usage_estimated": False, "created_at": now}
    if outcome is not None:
        usage = outcome.result.usage
        finish = outcome.result.finish_reason
        values.update(
            provider=outcome.provider, model=outcome.model,
            input_tokens=usage.input_tokens, output_tokens=usage.output_tokens,
            cached_tokens=usage.cached_input_tokens, cache_write_tokens=usage.cache_write_tokens,
            reasoning_tokens=usage.reasoning_tokens, cost=outcome.cost,
            usage_estimated=outcome.estimated, latency_ms=outcome.latency_ms,
            ttft_ms=outcome.ttft_ms, finish_reason=finish.unified if finish else None)
    copied = ["conversation_id", "parent_id", *(c for c in ("provider", "model")
                                                if c not in values)]
    source = select(*(_COLUMNS[c] for c in copied),
                    *(literal(v, type_=_COLUMNS[k].type) for k, v in values.items())
                    ).where(m.Message.id == answer_id)
    async with db.unit_of_work() as session:
        step_id = (await session.execute(
            insert(m.Message).from_select([*copied, *values], source)
            .returning(m.Message.id))).scalar_one_or_none()
        if step_id is None:
            return None
        await session.execute(update(m.Message).where(m.Message.id == answer_id)
                              .values(parent_id=step_id, parts=[], progress_at=now))
        return step_id


async def set_note(db: Database, answer_id: int, note: str) -> None:
    """Say on the answer being written what it is doing ("waiting for your approval"), so
    a page loaded from the database (another tab, after a reload) shows it. Only while
    it is being written (``writer`` set): never over a final answer."""
    async with db.unit_of_work() as session:
        await session.execute(update(m.Message).where(
            m.Message.id == answer_id, m.Message.writer.is_not(None)).values(error=note))


__all__ = ["save_step", "set_note"]
