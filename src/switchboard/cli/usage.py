"""``switchboard usage``: tokens, cost, requests and errors per provider and model.

Reads the same report as ``GET /api/usage`` (``services.usage_report``), for everyone by
default (the CLI runs with the operator's rights) or one user with ``--user``.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("usage", help="tokens, cost, requests and errors per provider/model")
    p.add_argument("--from", dest="start", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="first day (default: 30 days ago)")
    p.add_argument("--to", dest="end", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="last day (default: today, UTC)")
    p.add_argument("--user", help="only this user's calls")
    p.add_argument("--by", choices=["provider", "model", "day", "user"], default="model",
                   help="how to break the totals down (default: model)")
    p.add_argument("--json", action="store_true", help="print the whole report as JSON")
    p.set_defaults(handler=run)


def _row(label: str, s: dict[str, Any]) -> str:
    cost = s.get("cost")
    # "~": some of the calls' tokens were estimated (the vendor reported none).
    approx = "~" if s.get("estimated") else ""
    cost_text = f"{approx}${cost}" if cost is not None else "unknown"
    latency = s.get("avg_latency_ms")
    return (f"{label:<44} {s['requests']:>8} {s['errors']:>6} {s['input_tokens']:>12} "
            f"{s['output_tokens']:>12} {cost_text:>14} "
            f"{(str(latency) + ' ms') if latency is not None else '-':>10}")


async def run(args: argparse.Namespace) -> int:
    from switchboard.cli.users import _db
    from switchboard.services import accounts
    from switchboard.services.usage_report import default_range, usage_report

    start, end = default_range()
    start, end = args.start or start, args.end or end
    db = await _db()
    try:
        user_id = (await accounts.get_user_by_name(db, args.user)).id if args.user else None
        report = await usage_report(db, start, end, user_id=user_id,
                                    by_user=args.by == "user")
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps(report, indent=2, default=str))
        return 0
    who = f"user {args.user}" if args.user else "all users"
    print(f"Usage {report['range']['from']} .. {report['range']['to']} ({who})")
    header = (f"{args.by.upper():<44} {'REQUESTS':>8} {'ERRORS':>6} {'INPUT TOK':>12} "
              f"{'OUTPUT TOK':>12} {'COST (USD)':>14} {'AVG LAT':>10}")
    print(header)
    print("-" * len(header))
    if args.by == "provider":
        rows = [(r["provider"], r) for r in report["by_provider"]]
    elif args.by == "model":
        rows = [(r["ref"], r) for r in report["by_model"]]
    elif args.by == "user":
        rows = [(r["username"] or "(no account: CLI or deleted user)", r)
                for r in report["by_user"]]
    else:
        rows = [(d["day"], d) for d in report["days"] if d["requests"]]
    for label, data in rows:
        print(_row(label, data))
    if not rows:
        print("(no calls in this range)")
    print("-" * len(header))
    print(_row("TOTAL", report["totals"]))
    if report["totals"].get("estimated"):
        print(f"~ {report['totals']['estimated']} call(s) with estimated tokens: the "
              "provider reported no usage (stopped or interrupted answers)")
    return 0
