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

from switchboard.db import Database, utcnow
from switchboard.db import models as m
from switchboard.services.metering import CallOutcome


async def save_step(db: Database, answer_id: int, role: str, parts: list[dict[str, Any]], *,
                    outcome: CallOutcome | None = None) -> int | None:
    """Save one step (``assistant`` with its tool calls and the call's usage, or ``tool``
    with the results) just before answer ``answer_id``; returns its id (None: the
    conversation was deleted meanwhile)."""
    async with db.unit_of_work() as session:
        answer = await session.get(m.Message, answer_id)
        if answer is None:
            return None
        row = m.Message(conversation_id=answer.conversation_id, role=role,
                        parent_id=answer.parent_id, parts=parts, status="complete",
                        provider=answer.provider, model=answer.model)
        if outcome is not None:
            usage = outcome.result.usage
            finish = outcome.result.finish_reason
            row.provider, row.model = outcome.provider, outcome.model
            row.input_tokens = usage.input_tokens
            row.output_tokens = usage.output_tokens
            row.cached_tokens = usage.cached_input_tokens
            row.cache_write_tokens = usage.cache_write_tokens
            row.reasoning_tokens = usage.reasoning_tokens
            row.cost = outcome.cost
            row.usage_estimated = outcome.estimated
            row.latency_ms = outcome.latency_ms
            row.ttft_ms = outcome.ttft_ms
            row.finish_reason = finish.unified if finish else None
        session.add(row)
        await session.flush()
        answer.parent_id = row.id
        answer.parts = []
        answer.progress_at = utcnow()
        return row.id


__all__ = ["save_step"]
