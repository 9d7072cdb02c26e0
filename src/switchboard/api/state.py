"""What one server process holds for its lifetime, in ``app.state.sb``.

Built once in the lifespan: the database (engine + pool), the registry (rebuilt only when
the catalog changes), the usage recorder (batched writes), the token cache, the call
pipeline. Request
handlers only read from here: no per-request construction of any of these.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from switchboard.api.shutdown import StreamShutdown
from switchboard.api.throttle import LoginThrottle
from switchboard.api.tokens import TokenAuthenticator
from switchboard.config import Settings
from switchboard.db import Database
from switchboard.registry import Registry
from switchboard.security.vault import Vault
from switchboard.services.alerts import Evaluator
from switchboard.services.answer_jobs import AnswerJobs
from switchboard.services.answer_progress import AnswerProgress
from switchboard.services.answer_relay import AnswerRelay
from switchboard.services.auto.defaults import DatabaseDefaults
from switchboard.services.auto.route import AutoRouter
from switchboard.services.breakers import Breakers
from switchboard.services.budget_policy import BudgetPolicy
from switchboard.services.file_bytes import FileBytes, configured
from switchboard.services.flags import FlagBook
from switchboard.services.flags import enabled as flags_enabled
from switchboard.services.grades import Leaderboard
from switchboard.services.mcp.manager import McpManager
from switchboard.services.metrics import NULL_METRICS, Hooks
from switchboard.services.pipeline import Pipeline, default_policies, usage_recorder
from switchboard.services.principal import Principal
from switchboard.services.revocations import RevocationWatch
from switchboard.services.router import process_router
from switchboard.services.sessions import SessionStore
from switchboard.services.tracing import Tracer
from switchboard.services.usage import UsageRecorder

if TYPE_CHECKING:
    from switchboard.services.tools.toolbox import Toolbox


@dataclass
class AppState:
    settings: Settings
    db: Database
    usage: UsageRecorder
    tokens: TokenAuthenticator
    load_registry: Callable[[], Awaitable[Registry]]
    sessions: SessionStore
    revocations: RevocationWatch | None = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    setup_throttle: LoginThrottle = field(default_factory=LoginThrottle)  # per address
    fingerprint: str = field(default_factory=lambda: "sb_" + secrets.token_hex(5))
    progress: AnswerProgress | None = None
    """Answers in progress, saved every second (so a crash keeps what was said)."""
    shutdown: StreamShutdown = field(default_factory=StreamShutdown)
    """Open streams, ended with a last error event when the server is asked to stop."""
    breakers: Breakers = field(default_factory=Breakers)
    """This process's circuit breakers, per provider instance and key (decision 0063)."""
    jobs: AnswerJobs = field(default_factory=AnswerJobs)
    """The web chat's answers being written (jobs that outlive their request)."""
    relay: AnswerRelay | None = None
    """With Redis: answers followed and stopped from another worker."""
    leaderboard: Leaderboard = field(default_factory=Leaderboard)
    """Grades fitted from feedback, cached per task type (``services.grades``)."""
    metrics: Hooks = NULL_METRICS
    """This process's Prometheus series (``NULL_METRICS``: SWITCHBOARD_METRICS=off)."""
    tracer: Tracer | None = None
    """Spans over OTLP when an endpoint is configured (decision 0120); else None."""
    alerts: Evaluator | None = None
    """The alert evaluator of this process (one round at a time across workers)."""
    flags: FlagBook | None = None
    """The feature flags of this process (services.flags; every flag on when None)."""
    _registry: Registry | None = None
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    pipeline: Pipeline = field(init=False)
    """The one call pipeline every surface of this process calls (services.pipeline)."""
    mcp: McpManager = field(init=False)
    files: FileBytes = field(init=False)
    """Where stored files' bytes live: the data directory or the database, as the
    settings choose (services.file_bytes, decision 0171)."""
    """This process's MCP sessions, one per enabled server, started on first use; its
    ``sources()`` are the MCP sources of tools (issue 14)."""

    def __post_init__(self) -> None:
        self.leaderboard.db = self.db  # Auto's grades refresh from this database
        if self.metrics.enabled:  # each fact reported where it is known
            self.breakers.on_change = self.metrics.breaker
            self.usage.metrics = self.metrics
        data_dir = self.settings.data_dir
        self.files = configured(self.settings, self.db)
        self.mcp = McpManager(self.db, functools.cache(lambda: Vault.load(data_dir)))
        self.pipeline = Pipeline(self.registry, default_policies(self.settings, self.db),
                                 AutoRouter(process_router(self.settings, self.breakers),
                                            DatabaseDefaults(self.db), self.leaderboard),
                                 usage_recorder(self.usage, self.metrics),
                                 metrics=self.metrics, tracer=self.tracer)

    @functools.cached_property
    def toolbox(self) -> Toolbox:
        """The tools a model may use in this process: built-ins, later MCP servers
        (services.tools.toolbox). Built on first use (a web-chat turn with tools,
        ``server_tools`` on ``/v1``, the tools page): the built-in tools' modules are
        not loaded by a server that never runs one (issue 12, decision 0223)."""
        from switchboard.services.tools.toolbox import process_toolbox

        toolbox = process_toolbox(self.settings, self.db, self.pipeline, self.files)
        # Every enabled MCP server, as one source that follows changes (decision 0108).
        toolbox.add_source(self.mcp.as_source())
        return toolbox

    async def write_budgets(self) -> None:
        """This process's budget counters written now: on SQLite they live in memory
        and are written behind (decision 0088); whoever looks at a budget (a page, the
        alert evaluator) should see the call that just ended."""
        for policy in self.pipeline.admission:
            if isinstance(policy, BudgetPolicy):
                await policy.drain()

    def feature_on(self, name: str, principal: Principal) -> bool:
        """Whether feature flag ``name`` is on for ``principal`` (memory only)."""
        if self.flags is None:
            return flags_enabled(name, principal)
        return self.flags.enabled(name, principal)

    async def registry(self) -> Registry:
        """The current registry; ``load_registry`` answers from its cache when the
        catalog has not changed, so this is cheap on every request."""
        self._registry = await self.load_registry()
        return self._registry

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` in the background, tracked so shutdown can wait for it (used to
        persist a partial answer when its request was cancelled)."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def drain(self, wait_seconds: float = 10.0) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=wait_seconds)
