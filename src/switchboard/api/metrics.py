"""``GET /metrics``: the Prometheus exposition of ``services.metrics`` (decision 0118).

Who may read it: an admin (API token or browser session), or a scraper holding
``SWITCHBOARD_METRICS_TOKEN`` as ``Authorization: Bearer ...`` — a token that opens this
one endpoint and nothing else, so a monitoring system needs no admin account. Errors
leave in the REST shape (``api.surface``): 401 without a valid credential, 403 for a
member, 404 when metrics are turned off.

With several workers any one of them answers for all (the series are read from the
shared multiprocess directory); the budgets' gauges are read from the database at
scrape time, so they are the same whoever answers.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from switchboard.api.credentials import optional_principal, state_of
from switchboard.api.errors import ApiError
from switchboard.security.tokens import constant_time_equals
from switchboard.services import budgets
from switchboard.services.budget_policy import BudgetPolicy
from switchboard.services.metrics import CONTENT_TYPE, Metrics
from switchboard.services.policy import wall_clock


async def metrics_endpoint(request: Request) -> Response:
    state = state_of(request)
    metrics = state.metrics
    if not isinstance(metrics, Metrics):
        raise ApiError(404, "metrics are turned off on this server (SWITCHBOARD_METRICS=off)",
                       "not_found")
    if not _scrape_token(request, state.settings.metrics_token):
        principal = await optional_principal(request)
        if principal is None:
            raise ApiError(401, "authentication required: send 'Authorization: Bearer ...' "
                           "with the scrape token (SWITCHBOARD_METRICS_TOKEN) or an admin's "
                           "API token", "unauthorized",
                           headers={"www-authenticate": 'Bearer realm="switchboard"'})
        if not principal.is_admin:
            raise ApiError(403, "metrics are for admins and the scrape token", "forbidden")
    found = await _budget_states(request)
    if metrics.multiproc_dir:  # reads every worker's files: off the event loop
        body = await asyncio.to_thread(metrics.render, found)
    else:
        body = metrics.render(found)
    return Response(body, media_type=CONTENT_TYPE)


def _scrape_token(request: Request, expected: str | None) -> bool:
    if expected is None:
        return False
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return scheme.lower() == "bearer" and constant_time_equals(token.strip(), expected)


async def _budget_states(request: Request) -> list[budgets.BudgetState]:
    """Each budget's current period; no database read when there is no budget."""
    state = state_of(request)
    book = await budgets.book(state.db)
    definitions = sorted({d for found in book.by_subject.values() for d in found},
                         key=lambda d: d.id)
    if not definitions:
        return []
    for policy in state.pipeline.admission:  # SQLite: this process's counters, written
        if isinstance(policy, BudgetPolicy):
            await policy.drain()
    return await budgets.states(state.db, definitions, now=wall_clock(),
                                timezone=state.settings.budget_timezone)
