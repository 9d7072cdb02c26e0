"""The audit trail for admins (``services.audit_trail``; decision 0123).

- ``GET /api/audit`` — the newest rows matching the filters (actor, action prefix,
  target, time), a page at a time (``before_id``).
- ``GET /api/audit/verify`` — walk the hash chain; names the first row whose chain breaks.
- ``GET /api/audit/export.csv`` — the matching rows as CSV (formula-safe); the export is
  itself recorded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import StreamingResponse

from switchboard.api.auth import require_admin, state_of
from switchboard.api.tokens import Principal
from switchboard.services import audit_trail
from switchboard.services.audit import Actor, record

router = APIRouter(tags=["audit"], dependencies=[Depends(require_admin)])

Text = Annotated[str | None, Query(max_length=200)]


def _aware(value: datetime | None) -> datetime | None:
    """A time without a zone is UTC (what the page sends)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _filters(actor: Text = None, action: Text = None, target_type: Text = None,
             target_id: Text = None, since: datetime | None = None,
             until: datetime | None = None) -> audit_trail.Filters:
    return audit_trail.Filters(actor=actor, action=action, target_type=target_type,
                               target_id=target_id, since=_aware(since), until=_aware(until))


@router.get("/api/audit")
async def list_audit(
    request: Request, filters: audit_trail.Filters = Depends(_filters),
    limit: Annotated[int, Query(ge=1, le=audit_trail.MAX_LIMIT)] = 100,
    before_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> dict[str, Any]:
    entries = await audit_trail.search(state_of(request).db, filters, limit=limit,
                                       before_id=before_id)
    return {"entries": [e.model_dump(mode="json") for e in entries],
            "next_before_id": entries[-1].id if len(entries) == limit else None}


@router.get("/api/audit/verify")
async def verify_audit(request: Request) -> dict[str, Any]:
    """``ok`` false names the first broken row (``broken_id``, ``broken_seq``) and why."""
    return (await audit_trail.verify(state_of(request).db)).as_dict()


@router.get("/api/audit/export.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def export_audit(request: Request, filters: audit_trail.Filters = Depends(_filters),
                       who: Principal = Depends(require_admin)) -> StreamingResponse:
    db = state_of(request).db
    async with db.unit_of_work() as session:
        record(session, Actor(who.username, who.user_id), "audit.export",
               target_type="audit", details={"filters": {
                   k: (v.isoformat() if isinstance(v, datetime) else v)
                   for k, v in vars_of(filters).items() if v is not None}})

    async def body() -> AsyncIterator[bytes]:
        async for line in audit_trail.csv_lines(db, filters):
            yield line.encode("utf-8")

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(body(), media_type="text/csv; charset=utf-8", headers={
        "content-disposition": f'attachment; filename="audit-{stamp}.csv"'})


def vars_of(filters: audit_trail.Filters) -> dict[str, Any]:
    return {name: getattr(filters, name) for name in audit_trail.Filters.__slots__}
