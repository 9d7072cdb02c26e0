"""``switchboard providers``: list, add, update, remove and test provider instances.

Keys are not set here (they never go on a command line): use ``switchboard keys set``.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from switchboard.cli._catalog import catalog_db, cli_actor, parse_settings, print_json

if TYPE_CHECKING:
    from switchboard.services.views import ProviderView

_DESCRIPTION = (
    "Manage provider instances: a name, a kind (the adapter: openai, anthropic, mistral, "
    "gemini, openai_compatible, offline, or a plugin's), an optional base URL and "
    "settings. Set keys with `switchboard keys set NAME`."
)


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("providers", help="manage provider instances",
                              description=_DESCRIPTION)
    p.set_defaults(handler=run_list, json=False)
    sub = p.add_subparsers(dest="providers_command", metavar="SUBCOMMAND")

    ls = sub.add_parser("list", help="list providers (the default)")
    ls.add_argument("--json", action="store_true", help="machine-readable output")
    ls.set_defaults(handler=run_list)

    add = sub.add_parser("add", help="add a provider instance")
    add.add_argument("name", metavar="NAME", help="unique name, used as NAME:model")
    add.add_argument("--kind", required=True, help="adapter kind, e.g. openai_compatible")
    add.add_argument("--base-url", metavar="URL", help="the vendor's API base URL")
    add.add_argument("--preset", metavar="PRESET",
                     help="a known OpenAI-compatible vendor (groq, together, ollama, ...)")
    add.add_argument("--disabled", action="store_true", help="add it disabled")
    add.add_argument("--no-allow-unlisted", action="store_false", dest="allow_unlisted",
                     help="accept only the models listed in the catalog (default: model "
                          "ids it does not list are passed to the vendor)")
    add.add_argument("--set", action="append", metavar="KEY=VALUE", dest="settings",
                     help="a setting of the kind's config (repeatable), e.g. timeout=60")
    add.set_defaults(handler=run_add)

    up = sub.add_parser("update", help="change a provider instance")
    up.add_argument("name", metavar="NAME")
    up.add_argument("--rename", metavar="NEW_NAME", help="a new name")
    url = up.add_mutually_exclusive_group()
    url.add_argument("--base-url", metavar="URL")
    url.add_argument("--default-base-url", action="store_true",
                     help="go back to the kind's default base URL")
    state = up.add_mutually_exclusive_group()
    state.add_argument("--enable", action="store_true")
    state.add_argument("--disable", action="store_true")
    unlisted = up.add_mutually_exclusive_group()
    unlisted.add_argument("--allow-unlisted", action="store_true", dest="allow_unlisted",
                          default=None,
                          help="pass model ids the catalog does not list to the vendor "
                               "(the default)")
    unlisted.add_argument("--no-allow-unlisted", action="store_false", dest="allow_unlisted",
                          help="accept only the models listed in the catalog")
    up.add_argument("--set", action="append", metavar="KEY=VALUE", dest="settings",
                    help="set a setting (repeatable)")
    up.add_argument("--unset", action="append", metavar="KEY", help="remove a setting")
    up.set_defaults(handler=run_update)

    rm = sub.add_parser("remove", help="delete a provider instance")
    rm.add_argument("name", metavar="NAME")
    rm.add_argument("--cascade", action="store_true",
                    help="also delete its models (conversation history is kept)")
    rm.set_defaults(handler=run_remove)

    test = sub.add_parser("test", help="check the key with one cheap call to the vendor")
    test.add_argument("name", metavar="NAME")
    test.set_defaults(handler=run_test)


async def run_list(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        providers = await catalog.get_providers(db)
    if args.json:
        print_json([p.model_dump(mode="json") for p in providers])
        return 0
    rows = [("NAME", "KIND", "STATE", "UNLISTED", "KEY", "STATUS", "MODELS", "BASE URL")]
    for p in providers:
        enabled_models = sum(1 for x in p.models if x.is_enabled)
        rows.append((p.name, p.kind, provider_state(p),
                     "allowed" if p.allow_unlisted_models else "refused",
                     p.api_key_masked or "-", p.status, f"{enabled_models}/{len(p.models)}",
                     p.base_url or "(default)"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def provider_state(view: ProviderView) -> str:
    """One word for the two separate states (decision 0035): "disabled" is an admin's
    switch; "needs key" is an enabled provider without a key (stored or environment)."""
    from switchboard.services.catalog_queries import describe

    if not view.enabled:
        return "disabled"
    return "ready" if describe(view).configured else "needs key"


async def run_add(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        view = await catalog.create_provider(
            db, name=args.name, kind=args.kind, base_url=args.base_url, preset=args.preset,
            enabled=not args.disabled, settings=parse_settings(args.settings),
            allow_unlisted_models=args.allow_unlisted, actor=cli_actor())
    print(f"added provider {view.name!r} ({view.kind}"
          f"{', ' + view.base_url if view.base_url else ''}); set its key with "
          f"`switchboard keys set {view.name}`")
    return 0


async def run_update(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    changes: dict[str, Any] = {}
    if args.rename:
        changes["name"] = args.rename
    if args.base_url:
        changes["base_url"] = args.base_url
    elif args.default_base_url:
        changes["base_url"] = None
    if args.enable or args.disable:
        changes["enabled"] = bool(args.enable)
    if args.allow_unlisted is not None:
        changes["allow_unlisted_models"] = args.allow_unlisted
    async with catalog_db() as db:
        if args.settings or args.unset:
            current = dict((await catalog.get_provider(db, args.name)).settings)
            current.update(parse_settings(args.settings))
            for key in args.unset or []:
                current.pop(key, None)
            changes["settings"] = current
        if not changes:
            print("nothing to change (see `switchboard providers update --help`)")
            return 2
        view = await catalog.update_provider(db, args.name, actor=cli_actor(), **changes)
    unlisted = ("passes unlisted models through" if view.allow_unlisted_models
                else "accepts only listed models")
    print(f"updated provider {view.name!r} ({provider_state(view)}; {unlisted})")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        await catalog.delete_provider(db, args.name, cascade=args.cascade, actor=cli_actor())
    print(f"removed provider {args.name!r}")
    return 0


async def run_test(args: argparse.Namespace) -> int:
    from switchboard import upstream
    from switchboard.services import catalog

    try:
        async with catalog_db() as db:
            result = await catalog.test_provider(db, args.name, actor=cli_actor())
    finally:
        await upstream.close_client()
    print(f"{result.provider}: {result.status} in {result.latency_ms} ms: {result.message}")
    return 0 if result.ok else 1
