"""REST routers, one module per area; each exposes ``router`` (a FastAPI ``APIRouter``).
``api.app`` mounts every module named in ``ROUTER_MODULES``."""

ROUTER_MODULES: tuple[str, ...] = (
    "switchboard.api.routes.session",
    "switchboard.api.routes.me",
    "switchboard.api.routes.tokens",
    "switchboard.api.routes.users",
    "switchboard.api.routes.catalog",
    "switchboard.api.routes.providers",
    "switchboard.api.routes.chat",
    "switchboard.api.routes.answers",
    "switchboard.api.routes.conversations",
    "switchboard.api.routes.usage",
    "switchboard.api.routes.dashboard",
    "switchboard.api.routes.alerts",
    "switchboard.api.routes.limits",
    "switchboard.api.routes.budgets",
    "switchboard.api.routes.files",
    "switchboard.api.routes.tools",
    "switchboard.api.routes.auto",
    "switchboard.api.routes.mcp",
    "switchboard.api.routes.audit",
    "switchboard.api.routes.flags",
    "switchboard.api.routes.grades",
    "switchboard.web.views",
)
