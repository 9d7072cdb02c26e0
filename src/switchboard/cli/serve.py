"""``switchboard serve``: run the server (uvicorn) and say where to open it.

Transport security, in one of two deployments (README, "Serve over HTTPS"):

- **Direct TLS**: ``--tls-cert`` / ``--tls-key`` (PEM files) go to uvicorn's SSL options.
  Every response over HTTPS then carries ``Strict-Transport-Security``
  (``api.transport_security``) and the session cookie is ``Secure``.
- **Behind a TLS-terminating proxy**: ``--forwarded-allow-ips`` names the proxies whose
  ``X-Forwarded-Proto`` / ``X-Forwarded-For`` are believed (uvicorn's proxy-header
  handling, https://www.uvicorn.org/settings/#http). The request then has the browser's
  scheme (cookie ``Secure``, HSTS) and the client's address (login throttle, logs).
  Without the option those headers are ignored: any client could send them, and a forged
  ``X-Forwarded-For`` would give it a fresh throttle key per attempt.

Binding a non-loopback address with neither prints a warning: passwords, API tokens and
provider keys typed into the UI would cross the network in clear.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import ssl
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from switchboard.config import Settings


# What uvicorn imports in each worker: the app factory (``create_app``), by its path so
# ``--workers`` processes can import it too.
APP_FACTORY = "switchboard.api.app:create_app"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("serve", help="run the web UI and API server")
    p.add_argument("--host", default=os.environ.get("SWITCHBOARD_HOST", "127.0.0.1"),
                   help="address to bind (default 127.0.0.1; 0.0.0.0 for all interfaces)")
    p.add_argument("--port", type=int, default=int(os.environ.get("SWITCHBOARD_PORT", "8000")))
    p.add_argument("--workers", type=int, default=1,
                   help="worker processes (more than 1 needs PostgreSQL; see README)")
    p.add_argument("--log-level", default="info",
                   choices=["critical", "error", "warning", "info", "debug"])
    p.add_argument("--tls-cert", default=os.environ.get("SWITCHBOARD_TLS_CERT") or None,
                   metavar="PEM", help="serve HTTPS with this certificate (chain) file")
    p.add_argument("--tls-key", default=os.environ.get("SWITCHBOARD_TLS_KEY") or None,
                   metavar="PEM", help="the private key of --tls-cert")
    p.add_argument("--forwarded-allow-ips",
                   default=os.environ.get("SWITCHBOARD_FORWARDED_ALLOW_IPS") or None,
                   metavar="IPS", help="comma-separated addresses or networks of trusted "
                   "reverse proxies whose X-Forwarded-For/-Proto headers are believed")
    p.set_defaults(handler=run)


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_tls_files(cert: str | None, key: str | None) -> str | None:
    """An error message for an unusable ``--tls-cert``/``--tls-key`` pair, else None
    (checked here so a bad path is one line, not an SSL traceback from every worker)."""
    if cert is None and key is None:
        return None
    if cert is None or key is None:
        return "--tls-cert and --tls-key go together (SWITCHBOARD_TLS_CERT/_KEY)"
    for flag, path in (("--tls-cert", cert), ("--tls-key", key)):
        if not Path(path).is_file():
            return f"{flag}: no such file: {path}"
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        return (f"--tls-cert/--tls-key: cannot load the certificate and key "
                f"({exc.strerror or exc}); both must be PEM files and match")
    return None


def plain_http_warning(host: str, tls: bool, forwarded_allow_ips: str | None) -> str | None:
    if tls or forwarded_allow_ips or is_loopback(host):
        return None
    return (f"warning: serving plain HTTP on {host}: passwords, API tokens and provider "
            "keys typed into the UI cross the network in clear. Use --tls-cert/--tls-key, "
            "or put a TLS-terminating proxy in front and pass --forwarded-allow-ips "
            "(README: \"Serve over HTTPS\").")


async def _prepare(settings: Settings) -> str | None:
    """Migrate the database, seed the catalog, and make a setup link if no admin exists
    (done here, once, rather than in each worker's startup: the workers' lifespans are
    told so through the environment, ``services.database_prep``, decision 0199).

    Migrating and seeding run in a child process (``switchboard db prepare``), when
    there is anything to do: Alembic, its templates and the adapters the seed imports
    would otherwise stay resident in the server for its whole life, ~24 MB after a first
    start (decision 0238). A start on a prepared database asks two plain reads."""
    from switchboard.db import Database
    from switchboard.services import accounts
    from switchboard.services.database_prep import is_prepared, mark_prepared

    db = Database.from_settings(settings)
    try:
        if not await is_prepared(settings.database_url, db):
            prepare_in_child()
        mark_prepared(settings.database_url)
        if await accounts.needs_setup(db):
            return await accounts.create_setup_token(db)
        return None
    finally:
        await db.dispose()


class PrepareFailed(Exception):
    """``switchboard db prepare`` failed; it has said why on stderr."""

    def __init__(self, status: int) -> None:
        super().__init__(f"preparing the database failed (exit status {status})")
        self.status = status


def prepare_in_child() -> None:
    """``switchboard db prepare`` in a child process with this one's environment (the
    same database), its output on ours; raises ``PrepareFailed`` if it fails. Blocking:
    nothing else runs yet."""
    done = subprocess.run([sys.executable, "-m", "switchboard.cli.main", "db", "prepare"],
                          check=False)
    if done.returncode != 0:
        raise PrepareFailed(done.returncode)


def prepare_metrics_dir(data_dir: Path, port: int, workers: int) -> str | None:
    """Point the workers' Prometheus values at one directory, emptied now (decision 0118).

    With several workers a scrape reaches one of them, which must answer for all: each
    worker writes its series to memory-mapped files in ``PROMETHEUS_MULTIPROC_DIR`` and
    the scrape sums them. Files left by an earlier run would add its counts to this one,
    so the directory is emptied before any worker starts. One worker keeps its series in
    memory (no files), unless the operator set the variable themselves."""
    from switchboard.services.metrics import MULTIPROC_ENV

    chosen = os.environ.get(MULTIPROC_ENV)
    if not chosen and workers <= 1:
        return None
    path = Path(chosen) if chosen else data_dir / "prometheus" / str(port)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    os.environ[MULTIPROC_ENV] = str(path)  # inherited by the workers uvicorn starts
    return str(path)


def run(args: argparse.Namespace) -> int:
    from switchboard.config import load_settings
    from switchboard.logs import configure

    # A server process tunes its garbage collector after start-up (decision 0179); the
    # workers uvicorn spawns inherit the variable. Only here: a test or a CLI command
    # that builds the app keeps Python's defaults.
    os.environ.setdefault("SWITCHBOARD_GC_TUNING", "on")
    settings = load_settings()
    if args.workers > 1 and settings.is_sqlite:
        print("error: --workers > 1 needs PostgreSQL (set SWITCHBOARD_DATABASE_URL); "
              "SQLite allows one writer process", file=sys.stderr)
        return 2
    problem = check_tls_files(args.tls_cert, args.tls_key)
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    tls = args.tls_cert is not None
    allow = args.forwarded_allow_ips.strip() if args.forwarded_allow_ips else None
    warning = plain_http_warning(args.host, tls, allow)
    if warning is not None:
        print(warning, file=sys.stderr, flush=True)
    host = "localhost" if args.host in ("127.0.0.1", "0.0.0.0", "::") else args.host
    base = f"{'https' if tls else 'http'}://{host}:{args.port}"
    if settings.metrics:
        prepare_metrics_dir(settings.data_dir, args.port, args.workers)
    try:
        setup_token = asyncio.run(_prepare(settings))
    except PrepareFailed as failed:  # the child printed the reason
        return failed.status
    print(f"Switchboard is starting: open {base}/", flush=True)
    print(f"  database: {settings.database_url.split('@')[-1]}", flush=True)
    if setup_token is not None:
        print("  No admin account exists yet. Create it with this one-time link "
              "(valid 24 h):", flush=True)
        print(f"  {base}/setup?token={setup_token}", flush=True)
    options: dict[str, Any] = dict(
        factory=True, host=args.host, port=args.port, workers=args.workers,
        log_level=args.log_level, timeout_graceful_shutdown=10,
        ssl_certfile=args.tls_cert, ssl_keyfile=args.tls_key,
        # Forwarded headers only from the proxies named (see the module doc).
        proxy_headers=allow is not None, forwarded_allow_ips=allow, server_header=False,
        # With --workers, uvicorn kills a worker that misses a 5 s health check as hung;
        # a worker that is only slow under heavy load would lose its batched usage rows
        # (decision 0005). 30 s still catches a real hang.
        timeout_worker_healthcheck=30, log_config=configure(args.log_level),
        # uvicorn's access log would print query strings (the setup link's token);
        # ``api.access_log`` replaces it. (``log_level`` re-enables it whatever the
        # log config says, so it must be switched off here.)
        access_log=False,
        # No route is a WebSocket; "auto" would import a WebSocket library (wsproto or
        # websockets) into every worker for nothing (start-up, memory: decision 0182).
        ws="none",
    )
    if args.workers > 1:
        import uvicorn  # its supervisor starts and watches the worker processes

        uvicorn.run(APP_FACTORY, **options)
        return 0
    return serve_one_process(options)


def serve_one_process(options: dict[str, Any]) -> int:
    """Run the server in this process with uvicorn's ``Config`` and ``Server``, as
    ``uvicorn.run`` does for one worker, without importing uvicorn's command line
    (``cli.uvicorn_server``, decision 0234: ~1.4 MB of the idle budget)."""
    from switchboard.cli.uvicorn_server import STARTUP_FAILURE, Config, Server

    config = Config(APP_FACTORY, **options)
    config.load_app()
    server = Server(config=config)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    return 0 if server.started else STARTUP_FAILURE
