"""Start-up loads only what the first request needs (issue 12: start-up time, idle memory).

A real server start (the app's lifespan on an already migrated and seeded database, the
ordinary case) and a first ``/v1`` request must not import the modules below; each is
deferred to the first request that needs it. A module that creeps back into the start
fails here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from switchboard.api.routes import ROUTER_MODULES

# module -> why a start does not need it
DEFERRED = {
    "pypdf": "about 8 MB resident; imported with the first PDF attachment",
    "alembic": "only when the schema is behind head (db.migrate.ensure_schema)",
    "jinja2": "the web pages' templates, built on the first page (web.views.templates)",
    "redis": "only when SWITCHBOARD_REDIS_URL is set",
    "opentelemetry.sdk": "traces: only when OTEL_EXPORTER_OTLP_ENDPOINT is set (decision 0120)",
    "switchboard.services.otel": "the same",
    "jsonschema": "only when a response schema is checked (spec.schema_check)",
    "cryptography": "about 6 MB resident; the first provider key sealed or opened "
                    "(security.secretbox)",
    "httpx._main": "httpx's command-line client and its rich/pygments, never run by "
                   "a server (switchboard/__init__.py, decision 0089)",
    "rich": "only httpx's command-line client imported it",
    "pygments": "only httpx's command-line client imported it",
    "sqlalchemy.dialects.postgresql": "~1.7 MB on a SQLite server: loaded with a PostgreSQL "
                                      "engine (db.types, db.upsert; decision 0183)",
    "selectolax": "~1.8 MB resident: the first page a model fetches (tools.builtin.html_text)",
    "mcp": "the MCP SDK (seconds, tens of MB), when a configured MCP server is first used",
    "switchboard.services.mcp.connection": "imports the MCP SDK (services.mcp.manager)",
    "fastapi": "~11 MB resident, ~0.1 s: the REST routers, pages, docs and the 404/405 "
               "answers, built on the first request /v1 does not serve (api.front_door, "
               "decision 0201)",
    "switchboard.api.fastapi_app": "the same",
    "switchboard.api.auth": "FastAPI's dependencies (api.credentials reads the caller)",
    "switchboard.api.openapi": "the API document, built on its first request (api.docs)",
    "switchboard.api.anthropic.wire": "/v1/messages, on its first request (api.lazy_routes)",
    "switchboard.api.anthropic.convert_request": "/v1/messages, on its first request",
    "switchboard.api.responses.wire": "/v1/responses, on its first request",
    "switchboard.api.responses.render": "/v1/responses, on its first request",
    # provider adapters: with the first provider of their kind built (decision 0220); the
    # registry knows the kinds from registry.kinds.BUILTIN_KINDS and their light config
    **{f"switchboard.providers.{kind}.provider": "its adapter, imported with the first "
       "provider of that kind (registry.kinds.BuiltinKind, decision 0220)"
       for kind in ("offline", "openai", "openai_compatible", "anthropic", "mistral",
                    "gemini")},
    # the web chat's conversation services: with the first chat answer, vision stand-in,
    # leaderboard page or conversation search (decision 0221)
    **{f"switchboard.services.{name}": "web chat only, imported where used (decision 0221)"
       for name in ("chat_input", "conversations", "chat_history", "message_files",
                    "attachments", "grade_votes", "message_tree")},
    # password hashing: with the first password hashed or checked (decision 0223)
    "argon2": "~0.5 MB resident with its CFFI bindings: the first password "
              "(security.password_pool imports security.passwords then)",
    "switchboard.security.passwords": "the same",
    # the ORM: with the first ORM query, session or REST request (decisions 0236, 0237)
    "sqlalchemy.orm": "~6 MB resident: SQLAlchemy's ORM, imported with the first session "
                      "(db.engine.create_sessionmaker) or mapped class (decision 0237)",
    "switchboard.db.orm": "~4 MB resident, ~1.7 MB more once configured: the mapped "
                          "classes, imported when db.models is first read (decision 0236)",
    # the tool loop and the built-in tools: with the first request that runs a tool
    # (server_tools on /v1, a web-chat turn with tools, the tools page; decision 0223)
    **{f"switchboard.{name}": "the tool loop and the built-in tools (~0.6 MB): "
       "AppState.toolbox is built, api.openai.server_tools imported, on first use"
       for name in ("services.tools.driver", "services.tools.loop", "services.tools.emulated",
                    "services.tools.toolbox", "services.tools.builtin",
                    "api.openai.server_tools")},
    # the REST routers and web pages: on the first request that reaches them (decision 0181)
    **{m: "REST routers and pages, mounted on first use (api.lazy_routes.DeferredRouters)"
       for m in ROUTER_MODULES},
}

_SCRIPT = """
import asyncio, json, sys
from switchboard.db.migrate import ensure_schema
if sys.argv[1] == "migrate":
    from switchboard.db.engine import Database
    from switchboard.services.seed import seed_catalog
    from switchboard.services import accounts, budgets, rate_limit_rules
    from switchboard.services.audit import CLI
    async def prepare():
        await ensure_schema()
        db = Database.from_settings()
        await seed_catalog(db)  # a first start seeds once, with every adapter imported
        user = await accounts.create_user(db, "caller", "a long password", role="user")
        token, view = await accounts.create_token(db, user.id)
        # budgets and a rate-limit rule on the caller, as ``bench --budgets --limits``
        # runs, so the /v1 answer reads them
        for scope, ids in (("global", {}), ("user", {"user_id": user.id}),
                           ("token", {"token_id": view.id})):
            await budgets.set_budget(db, CLI, scope=scope, amount="1000000",
                                     period="month", **ids)
        await rate_limit_rules.set_rule(db, CLI, "user", user.id,
                                        (2_000_000_000, 2_000_000_000, 1_000_000))
        await db.dispose()
        print(json.dumps({"token": token}))
    asyncio.run(prepare())
    raise SystemExit
import time, traceback
import greenlet
from starlette.testclient import TestClient
from switchboard.api.app import create_app
from switchboard.cli import serve
from switchboard.config import load_settings
orm_loaded_by = []  # the stack (our frames) of whatever imported the ORM
def stack():
    frames = traceback.format_stack()
    outer = greenlet.getcurrent().parent  # an async session's work runs in a greenlet
    if outer is not None and outer.gr_frame is not None:
        frames = traceback.format_stack(outer.gr_frame) + frames
    return "".join(f for f in frames if "/switchboard/" in f)
class WhoImportsTheOrm:
    def find_spec(self, name, path, target=None):
        if name in ("switchboard.db.orm", "sqlalchemy.orm"):
            orm_loaded_by.append(name + ": " + stack())
        return None
sys.meta_path.insert(0, WhoImportsTheOrm())
def mappers():
    orm = sys.modules.get("switchboard.db.orm")
    if orm is None:
        return []
    return [mp.class_.__name__ for mp in orm.Base.registry.mappers if mp.configured]
# what ``switchboard serve`` does before uvicorn starts (an already seeded database)
asyncio.run(serve._prepare(load_settings()))
with TestClient(create_app()) as client:
    first = client.post("/v1/chat/completions", json={"model": "x", "messages": []})
    loaded = sorted(m for m in json.loads(sys.argv[2]) if sys.modules.get(m) is not None)
    # a real answer, through the pipeline (the seeded offline model, no network)
    answer = client.post("/v1/chat/completions",
                         headers={"authorization": f"Bearer {sys.argv[3]}"},
                         json={"model": "offline-chat",
                               "messages": [{"role": "user", "content": "hello"}]})
    answered = sorted(m for m in json.loads(sys.argv[2]) if sys.modules.get(m) is not None)
    # the background tasks' first rounds: the usage flush (0.5 s) and its token touch,
    # the flags' poll (0.5 s), the progress saver (1 s), the revocation stamp (read by
    # a request once 1 s old); the alert round (every 30 s) and the MCP warm-up (2 s
    # after the start) are run here directly
    time.sleep(1.2)
    again = client.post("/v1/chat/completions",
                        headers={"authorization": f"Bearer {sys.argv[3]}"},
                        json={"model": "offline-chat",
                              "messages": [{"role": "user", "content": "again"}]})
    state = client.app.state.sb
    client.portal.call(state.alerts.run_once)
    client.portal.call(state.mcp._warm, 0)  # the MCP warm-up, 2 s after a start
    # the other /v1 surfaces' answers: a stream, a stored response and its retrieval
    auth = {"authorization": f"Bearer {sys.argv[3]}"}
    streamed = client.post("/v1/chat/completions", headers=auth, json={
        "model": "offline-chat", "stream": True,
        "messages": [{"role": "user", "content": "hello"}]})
    stored = client.post("/v1/responses", headers=auth,
                         json={"model": "offline-chat", "input": "hello"})
    fetched = client.get(f"/v1/responses/{stored.json()['id']}", headers=auth)
    time.sleep(0.6)
    rounds = [again.status_code, state.usage.written, state.revocations.stats.checks > 0,
              state.flags.reloads, streamed.status_code, stored.status_code,
              fetched.status_code]
    orm = [mappers(),
           [m for m in ("switchboard.db.orm", "sqlalchemy.orm") if m in sys.modules],
           orm_loaded_by[:2]]
    from switchboard.services.auto import tasks  # its cue table: compiled on first use
    compiled = tasks._pattern.cache_info().currsize
    later = client.post("/v1/messages", json={"model": "x", "max_tokens": 1, "messages": []})
    light = [client.get(p).status_code for p in ("/v1/models", "/v1/models/x", "/healthz")]
    fastapi_before = "fastapi" in sys.modules
    routers_before = "switchboard.api.routes.me" in sys.modules
    me = client.get("/api/me")
    print(json.dumps({"first": first.status_code, "loaded": loaded, "compiled": compiled,
                      "answer": [answer.status_code, answered],
                      "rounds": rounds, "orm": orm,
                      "messages": [later.status_code, later.json()["type"]],
                      "wire_after": "switchboard.api.anthropic.wire" in sys.modules,
                      "fastapi": [light, fastapi_before, "fastapi" in sys.modules],
                      "rest": [routers_before, me.status_code,
                               "switchboard.api.routes.me" in sys.modules]}))
"""


def _run(*args: str) -> str:
    # rate limits on, as ``bench --limits`` runs (none refuses a call)
    env = {**os.environ, "SWITCHBOARD_RATE_LIMITS": "on", "SWITCHBOARD_RATE_LIMITS_USER":
           "rpm=2000000000,tpm=2000000000,concurrent=1000000"}
    out = subprocess.run([sys.executable, "-c", _SCRIPT, *args], capture_output=True,
                         text=True, check=False, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_a_start_and_a_first_request_load_none_of_the_deferred_modules(
        _isolated_env: Path) -> None:
    # a database at head, seeded, with a caller: the start needs no migration tooling
    token = json.loads(_run("migrate").strip().splitlines()[-1])["token"]
    report = json.loads(_run("serve", json.dumps(sorted(DEFERRED)), token)
                        .strip().splitlines()[-1])
    assert report["first"] == 401  # the request was answered, by the OpenAI surface
    assert report["loaded"] == [], {m: DEFERRED[m] for m in report["loaded"]}
    # a first real answer (the offline model's, its adapter imported for it) loads none
    # of the others either: no tool loop, no password hashing, ... (decision 0223)
    status, answered = report["answer"]
    assert status == 200
    assert answered == ["switchboard.providers.offline.provider"], {
        m: DEFERRED[m] for m in answered}
    assert report["compiled"] == 0  # the Auto classifier's regexes: with the first auto call
    # budgets and limits read, the background tasks' first rounds run (a second answer
    # after the revocation stamp's second, a usage flush, the flags read, an alert round)
    again, written, stamp_read, flag_reads, *surfaces = report["rounds"]
    assert again == 200 and written >= 2 and stamp_read and flag_reads >= 1
    assert surfaces == [200, 200, 200]  # a stream, a stored response, its retrieval
    # none of it configured the ORM's mappers: ``switchboard serve``'s preparation, the
    # start, the answers and the background rounds read and write through Core
    configured, orm_loaded, importers = report["orm"]
    assert configured == [], (
        "an ORM query or instance on the /v1 path configures all 39 mappers (~1.7 MB): "
        "use Core on db tables (decision 0235)")
    # nor imported the ORM classes at all (~4 MB): ``m.Provider`` read on the path, or a
    # ``from switchboard.db.models import Provider`` at the top of a module it imports
    assert orm_loaded == [], (
        "the ORM (our classes, or SQLAlchemy's session and mappers) was imported on the "
        "/v1 path: use db.tables and db.transaction() there, m.<Class> and sessions only "
        "in functions of REST paths (decisions 0236, 0237); by:\n" + "\n".join(importers))
    # the deferred surface still answers, in its own error shape, once asked
    assert report["messages"] == [401, "error"] and report["wire_after"] is True
    # FastAPI itself: not imported by the /v1 surfaces nor health, then by the first
    # request for the REST API, which it answers (decision 0201)
    assert report["fastapi"] == [[401, 401, 200], False, True]
    # the REST routers too: not mounted by a /v1 request, answering once asked
    assert report["rest"] == [False, 401, True]


_FIRST_START = """
import asyncio, json, sys
from switchboard.cli import serve
from switchboard.config import load_settings
from switchboard.db import Database
from switchboard.db.migrate import at_head
from switchboard.services.seed import is_seeded
settings = load_settings()
setup = asyncio.run(serve._prepare(settings))
async def check():
    db = Database.from_settings(settings)
    try:
        return await at_head(settings.database_url), await is_seeded(db)
    finally:
        await db.dispose()
ready = asyncio.run(check())
heavy = sorted(m for m in ("alembic", "mako", "sqlalchemy.orm", "switchboard.db.orm",
                            "switchboard.providers.anthropic.provider") if m in sys.modules)
print(json.dumps({"setup": setup is not None, "ready": ready, "heavy": heavy}))
"""


def test_a_first_start_migrates_and_seeds_in_a_child_process(_isolated_env: Path) -> None:
    """A new database: ``serve`` migrates and seeds it through ``switchboard db prepare``
    in a child process, so Alembic, its templates, the ORM and every adapter the seed
    imports (~24 MB) do not stay in the server (decision 0238)."""
    out = subprocess.run([sys.executable, "-c", _FIRST_START], capture_output=True,
                         text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert "ready at" in out.stdout  # the child's own report, on the server's output
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report == {"setup": True, "ready": [True, True], "heavy": []}


def test_a_failed_preparation_stops_serve_with_the_childs_reason(
        _isolated_env: Path) -> None:
    """A database migrated by a newer Switchboard: the child refuses, says why, and
    ``serve`` exits with its status instead of starting."""
    script = ("import asyncio, sys\n"
              "from sqlalchemy import text\n"
              "from switchboard.db import create_engine\n"
              "async def newer():\n"
              "    engine = create_engine()\n"
              "    async with engine.begin() as c:\n"
              "        await c.execute(text('CREATE TABLE alembic_version "
              "(version_num VARCHAR(32) PRIMARY KEY)'))\n"
              "        await c.execute(text(\"INSERT INTO alembic_version VALUES "
              "('9999_from_the_future')\"))\n"
              "    await engine.dispose()\n"
              "asyncio.run(newer())\n"
              "from switchboard.cli.main import main\n"
              "sys.exit(main(['serve', '--port', '1']))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 1, (out.stdout, out.stderr)
    assert "9999_from_the_future" in out.stderr and "upgrade Switchboard" in out.stderr
    assert "Switchboard is starting" not in out.stdout
