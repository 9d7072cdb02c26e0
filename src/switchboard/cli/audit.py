"""``switchboard audit verify | prune | export``: the tamper-evident audit trail
(``services.audit_trail``; decision 0123)."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("audit", help="verify, prune or export the audit trail")
    s = p.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    v = s.add_parser(
        "verify", help="check the hash chain; exits 1 naming the first broken row",
        description="Recomputes every row's SHA-256 from the retention checkpoint to the "
        "chain's head. Note the head hash it prints somewhere else (a ticket, a log "
        "shipper) to prove later that the trail was not rebuilt.")
    v.add_argument("--json", action="store_true", help="machine-readable output")
    v.set_defaults(handler=_verify)
    pr = s.add_parser(
        "prune", help="delete rows older than N days, keeping the chain verifiable",
        description="Deletes the oldest rows and leaves a checkpoint (the last deleted "
        "row's hash) that verify starts from. The prune itself is recorded.")
    pr.add_argument("--days", type=int, required=True, metavar="N",
                    help="keep the rows of the last N days (at least 1)")
    pr.set_defaults(handler=_prune)
    ex = s.add_parser("export", help="write the rows as CSV to standard output")
    ex.add_argument("--actor")
    ex.add_argument("--action", help="an action or a dotted prefix, e.g. provider.key")
    ex.add_argument("--target-type")
    ex.add_argument("--target-id")
    ex.set_defaults(handler=_export)


async def _verify(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import audit_trail

    db = await _db()
    try:
        verdict = await audit_trail.verify(db)
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps(verdict.as_dict(), indent=2))
    elif verdict.ok:
        print(f"audit trail intact: {verdict.checked} rows checked "
              f"(from position {verdict.checkpoint_seq + 1} to {verdict.head_seq})")
        print(f"head hash: {verdict.head_hash}")
    else:
        where = (f"row {verdict.broken_id} (position {verdict.broken_seq})"
                 if verdict.broken_id is not None else f"position {verdict.broken_seq}")
        print(f"audit trail BROKEN at {where}: {verdict.reason}")
    return 0 if verdict.ok else 1


async def _prune(args: argparse.Namespace) -> int:
    from datetime import timedelta

    from switchboard.cli.users import _db
    from switchboard.db import utcnow
    from switchboard.services import audit_trail
    from switchboard.services.audit import CLI
    from switchboard.services.errors import ValidationFailed

    if args.days < 1:
        raise ValidationFailed("--days must be at least 1", field="days")
    db = await _db()
    try:
        deleted = await audit_trail.prune(db, utcnow() - timedelta(days=args.days), CLI)
    finally:
        await db.dispose()
    print(f"deleted {deleted} audit rows older than {args.days} days")
    return 0


async def _export(args: argparse.Namespace) -> int:
    import sys

    from switchboard.cli.users import _db
    from switchboard.services import audit_trail
    from switchboard.services.audit import CLI, record

    filters = audit_trail.Filters(actor=args.actor, action=args.action,
                                  target_type=args.target_type, target_id=args.target_id)
    db = await _db()
    try:
        async with db.unit_of_work() as session:
            record(session, CLI, "audit.export", target_type="audit", details={
                "filters": {k: v for k, v in vars(args).items()
                            if k in ("actor", "action", "target_type", "target_id") and v}})
        async for line in audit_trail.csv_lines(db, filters):
            sys.stdout.write(line)
    finally:
        await db.dispose()
    return 0
