"""``create_app()``: the ASGI application (``api.front_door``: the ``/v1`` routes and the
health and metrics endpoints served without FastAPI, everything else by the FastAPI app
it builds on first need, decision 0201) and its lifespan.

Startup order: settings -> database (pool) -> schema upgrade (``ensure_schema``: safe with
several processes, it takes a lock on PostgreSQL) -> catalog seed (both skipped when
``switchboard serve`` has just done them, decision 0199) -> registry -> usage recorder ->
answers left in progress by a dead process closed, progress saving started
(``services.answer_progress``) -> SIGTERM/SIGINT hooked so open streams end with a last
error event (``api.shutdown``). Shutdown reverses it, after in-flight requests have
finished (uvicorn's graceful shutdown) and partial answers have been persisted
(``AppState.drain``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import partial

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from switchboard.api.access_log import AccessLog
from switchboard.api.body_limit import BodyLimit
from switchboard.api.credentials import has_credential
from switchboard.api.front_door import FrontDoor
from switchboard.api.gc_tuning import tune_gc
from switchboard.api.lazy_routes import DEFERRED_ROUTES
from switchboard.api.metrics import metrics_endpoint
from switchboard.api.openai.routes import routes as openai_routes
from switchboard.api.shutdown import hook_signals
from switchboard.api.state import AppState
from switchboard.api.tokens import TokenAuthenticator
from switchboard.api.transport_security import StrictTransportSecurity
from switchboard.config import Settings, load_settings
from switchboard.db import Database
from switchboard.registry import Registry
from switchboard.services import accounts, audit_trail
from switchboard.services.alert_signals import SignalReporter
from switchboard.services.alerts import Evaluator
from switchboard.services.answer_jobs import AnswerJobs
from switchboard.services.answer_progress import (
    AnswerProgress,
    close_abandoned,
    registry_pricer,
)
from switchboard.services.answer_relay import DECIDE_CHANNEL, STOP_CHANNEL, AnswerRelay
from switchboard.services.flags import FlagBook
from switchboard.services.keys import open_vault
from switchboard.services.metrics import NULL_METRICS, build_metrics
from switchboard.services.metrics import install as install_metrics
from switchboard.services.revocations import RevocationWatch
from switchboard.services.sessions import SessionStore
from switchboard.services.tracing import build_tracer
from switchboard.services.usage import UsageRecorder

log = logging.getLogger("switchboard.server")

RegistryLoader = Callable[[Database], Callable[[], Awaitable[Registry]]]


def _default_registry_loader(db: Database) -> Callable[[], Awaitable[Registry]]:
    """The registry for this process, built from the database catalog and served from
    the catalog cache until a write (here, or in another process via Redis) changes it."""
    from switchboard.services.registry_source import load_registry

    return partial(load_registry, db)  # its coroutine as it is: none of ours around it


async def _prepare_database(settings: Settings, db: Database) -> None:
    """Schema at head, catalog seeded; skipped when ``switchboard serve`` has just done
    it for this database (``services.database_prep``, decision 0199)."""
    from switchboard.services.database_prep import prepare_database

    await prepare_database(settings.database_url, db)


def create_app(settings: Settings | None = None,
               registry_loader: RegistryLoader | None = None) -> FrontDoor:
    settings = settings or load_settings()

    @asynccontextmanager
    async def lifespan(app: FrontDoor) -> AsyncIterator[None]:
        metrics = build_metrics(settings.metrics, users=settings.metrics_users)
        install_metrics(metrics)  # the catalog cache (a process singleton) counts hits
        db = Database.from_settings(settings)
        await _prepare_database(settings, db)
        usage = UsageRecorder(db)
        # Revocations anywhere (CLI, other workers) reach both auth caches within 1 s.
        revocations = RevocationWatch(db)
        await revocations.start()
        tokens = TokenAuthenticator(db, revocations=revocations)
        sessions = SessionStore(db, revocations=revocations)
        revocations.on_revocation(tokens.invalidate)
        revocations.on_revocation(sessions.forget_all)
        state = AppState(
            settings=settings, db=db, usage=usage, tokens=tokens,
            load_registry=(registry_loader or _default_registry_loader)(db),
            sessions=sessions, revocations=revocations, progress=AnswerProgress(db),
            metrics=metrics, tracer=build_tracer(settings),
        )
        progress = state.progress
        assert progress is not None

        async def close_abandoned_answers() -> None:
            await close_abandoned(db, me=progress.writer, stale_after=progress.stale_after,
                                  price=registry_pricer(await state.registry()),
                                  record=usage.record)

        async def touch_tokens() -> None:  # last_used_at, batched with the usage writes
            await accounts.touch_tokens(db, tokens.take_touched())

        usage.after_flush.append(touch_tokens)
        SignalReporter(db).install(state.breakers, usage)  # breakers, backlog -> alerts
        state.alerts = Evaluator(db, vault=open_vault, timezone=settings.budget_timezone,
                                 base_url=settings.public_url,
                                 interval=settings.alert_interval)
        state.alerts.before_round.append(state.write_budgets)
        if settings.audit_retention_days:  # the configured retention, about once an hour
            state.alerts.before_round.append(
                audit_trail.Retention(db, settings.audit_retention_days))
        await state.registry()  # fail at startup, not on the first request
        usage.start()
        await close_abandoned_answers()
        progress.recover = close_abandoned_answers
        progress.start()
        state.alerts.start()
        unhook_signals = hook_signals(state.shutdown.request)
        unsubscribe_stops: Callable[[], None] | None = None
        unsubscribe_decisions: Callable[[], None] | None = None
        if settings.redis_url:  # other processes' catalog writes drop our cache at once
            from switchboard.services.cache import catalog_cache

            await catalog_cache().start_listener()
            # answers followed from, and stopped by, other workers (decision 0070)
            state.relay = AnswerRelay(settings.redis_url)
            state.jobs = AnswerJobs(mirror=state.relay)
            unsubscribe_stops = catalog_cache().on_notice(STOP_CHANNEL,
                                                          state.jobs.on_stop_notice)
            unsubscribe_decisions = catalog_cache().on_notice(DECIDE_CHANNEL,
                                                              state.jobs.on_decide_notice)
        state.flags = FlagBook(db)  # a kill switch anywhere reaches us within 1 s
        await state.flags.start()
        if not state.flags.off_for_everyone("mcp"):  # after start-up, in the background
            state.mcp.warm_up()  # the first MCP turn does not wait for a server's start
        app.state.sb = state
        if settings.gc_tuning:
            tune_gc()  # start-up is over: what it made lives as long as the process
        try:
            yield
        finally:
            revocations.close()
            await state.flags.close()
            unhook_signals()
            state.shutdown.request()  # streams still open (a server run in a thread)
            await state.drain()
            await state.mcp.aclose()  # MCP sessions end; stdio servers exit with them
            await state.alerts.close()
            if unsubscribe_stops is not None:
                unsubscribe_stops()
            if unsubscribe_decisions is not None:
                unsubscribe_decisions()
            if state.relay is not None:
                await state.relay.close()
            await progress.close()
            await usage.close()
            await state.pipeline.drain()  # budget settlements, rate-limit releases
            if state.tracer is not None:
                state.tracer.shutdown()  # the spans still batched
            metrics.close()
            install_metrics(NULL_METRICS)
            from switchboard.upstream import close_client

            await close_client()
            if settings.redis_url:
                from switchboard.services.cache import catalog_cache

                await catalog_cache().close()
            await db.dispose()

    def body_limit(app: ASGIApp) -> ASGIApp:
        return BodyLimit(app, max_body_bytes=settings.max_body_bytes,
                         max_chat_body_bytes=settings.max_chat_body_bytes,
                         authorised=has_credential)

    return FrontDoor(
        # Served by the front door; also first in the FastAPI app's table (its 405s,
        # OpenAPI document). No REST route or page shares a path with them.
        routes=[*openai_routes, *DEFERRED_ROUTES,
                Route("/healthz", healthz, methods=["GET"]),
                Route("/readyz", readyz, methods=["GET"]),
                Route("/metrics", metrics_endpoint, methods=["GET"])],
        lifespan=lifespan,
        # Outermost first, as before: HSTS on every HTTPS response (413s included), the
        # access log outside the rest (it logs the body limit's 413s too), then the
        # error boundary (any unhandled exception: its surface's error) — the access
        # log's own layer (``errors=True``: one layer fewer per request, the same
        # answers as ``ErrorBoundary`` just inside it; tests/api/test_front_door.py).
        middleware=[StrictTransportSecurity, partial(AccessLog, errors=True), body_limit],
    )


async def healthz(request: Request) -> Response:
    """Liveness: the process answers."""
    return Response(b'{"status":"ok"}', media_type="application/json")


async def readyz(request: Request) -> Response:
    """Readiness: the database answers and the registry is loaded."""
    state: AppState = request.app.state.sb
    checks: dict[str, str] = {}
    status = 200
    try:
        from sqlalchemy import text

        async with state.db.session() as session:
            await session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # report, don't crash the probe
        checks["database"] = f"error: {type(exc).__name__}"
        status = 503
    try:
        await state.registry()
        checks["registry"] = "ok"
    except Exception as exc:
        checks["registry"] = f"error: {type(exc).__name__}"
        status = 503
    checks["usage_pending"] = str(state.usage.pending)
    return Response(orjson.dumps({"status": "ok" if status == 200 else "unavailable",
                                  "checks": checks}), status, media_type="application/json")
