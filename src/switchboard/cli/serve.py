"""``switchboard serve``: run the server (uvicorn) and say where to open it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the web UI and API server")
    p.add_argument("--host", default=os.environ.get("SWITCHBOARD_HOST", "127.0.0.1"),
                   help="address to bind (default 127.0.0.1; 0.0.0.0 for all interfaces)")
    p.add_argument("--port", type=int, default=int(os.environ.get("SWITCHBOARD_PORT", "8000")))
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (more than 1 needs PostgreSQL; see README)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.set_defaults(handler=run)


async def _prepare() -> str | None:
    """Migrate the database, seed the catalog, and make a setup link if no admin exists
    (done here, once, rather than in each worker's startup)."""
    from switchboard.db import Database
    from switchboard.db.migrate import ensure_schema
    from switchboard.services import accounts
    from switchboard.services.seed import seed_catalog

    await ensure_schema()
    db = Database.from_settings()
    try:
        await seed_catalog(db)
        if await accounts.needs_setup(db):
            return await accounts.create_setup_token(db)
        return None
    finally:
        await db.dispose()


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from switchboard.config import load_settings
    from switchboard.logs import configure

    settings = load_settings()
    if args.workers > 1 and settings.is_sqlite:
        print("error: --workers > 1 needs PostgreSQL (set SWITCHBOARD_DATABASE_URL); "
              "SQLite allows one writer process", file=sys.stderr)
        return 2
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    base = f"http://{host}:{args.port}"
    setup_token = asyncio.run(_prepare())
    print(f"Switchboard is starting: open {base}/", flush=True)
    print(f"  database: {settings.database_url.split('@')[-1]}", flush=True)
    if setup_token is not None:
        print("  No admin account exists yet. Create it with this one-time link "
              "(valid 24 h):", flush=True)
        print(f"  {base}/setup?token={setup_token}", flush=True)
    uvicorn.run(
        "switchboard.api.app:create_app", factory=True, host=args.host, port=args.port,
        workers=args.workers, log_level=args.log_level, timeout_graceful_shutdown=10,
        proxy_headers=False, server_header=False,
        # With --workers, uvicorn kills a worker that misses a 5 s health check as hung;
        # a worker that is only slow under heavy load would lose its batched usage rows
        # (decision 0005). 30 s still catches a real hang.
        timeout_worker_healthcheck=30, log_config=configure(args.log_level),
        # uvicorn's access log would print query strings (the setup link's token);
        # ``api.access_log`` replaces it. (``log_level`` re-enables it whatever the
        # log config says, so it must be switched off here.)
        access_log=False,
    )
    return 0
