"""``switchboard models add | enable | disable | set-default | remove | import | fallbacks``.

The catalog-changing sub-commands of ``switchboard models`` (``list`` lives in
``cli/models.py``, which appends these to its ``SUBCOMMANDS``).
"""

from __future__ import annotations

import argparse
from typing import Any

from switchboard.cli._catalog import catalog_db, cli_actor


def add_add(sub: Any) -> None:
    p = sub.add_parser("add", help="add a model to a provider")
    p.add_argument("provider", metavar="PROVIDER")
    p.add_argument("model_sdk_id", metavar="MODEL_SDK_ID", help="the vendor's model id")
    p.add_argument("--name", help="display name (default: from the price table, or the id)")
    p.add_argument("--disabled", action="store_true", help="add it disabled")
    p.add_argument("--price-input", metavar="USD", help="USD per million input tokens")
    p.add_argument("--price-cached-input", metavar="USD")
    p.add_argument("--price-output", metavar="USD", help="USD per million output tokens")
    p.add_argument("--context-window", type=int, metavar="TOKENS")
    p.add_argument("--max-output-tokens", type=int, metavar="TOKENS")
    p.add_argument("--type", dest="model_type", choices=("chat", "embedding"),
                   help="what the model is when the catalog does not know it (default: "
                        "the catalog's word, else chat); embedding models answer only "
                        "/v1/embeddings")
    p.set_defaults(handler=run_add)


def _model_parser(sub: Any, name: str, help_text: str, handler: Any) -> None:
    p = sub.add_parser(name, help=help_text)
    p.add_argument("provider", metavar="PROVIDER")
    p.add_argument("model_sdk_id", metavar="MODEL_SDK_ID")
    p.set_defaults(handler=handler)


def add_enable(sub: Any) -> None:
    _model_parser(sub, "enable", "offer a model", run_enable)


def add_disable(sub: Any) -> None:
    _model_parser(sub, "disable", "stop offering a model", run_disable)


def add_set_default(sub: Any) -> None:
    _model_parser(sub, "set-default", "make a model the default", run_set_default)


def add_remove(sub: Any) -> None:
    _model_parser(sub, "remove", "delete a model from the catalog", run_remove)


def add_import(sub: Any) -> None:
    p = sub.add_parser("import", help="add the models the vendor lists (needs the key)")
    p.add_argument("provider", metavar="PROVIDER")
    p.set_defaults(handler=run_import)


def add_fallbacks(sub: Any) -> None:
    p = sub.add_parser("fallbacks", help="the models that answer when a model fails")
    actions = p.add_subparsers(dest="fallbacks_action", metavar="ACTION", required=True)
    show = actions.add_parser("show", help="print a model's fallback chain")
    show.add_argument("model", metavar="PROVIDER:MODEL")
    show.set_defaults(handler=run_fallbacks_show)
    put = actions.add_parser(
        "set", help="replace a model's fallback chain: tried in order when it fails")
    put.add_argument("model", metavar="PROVIDER:MODEL")
    put.add_argument("fallbacks", metavar="FALLBACK", nargs="+",
                     help="provider:model refs, in the order they are tried")
    put.set_defaults(handler=run_fallbacks_set)
    clear = actions.add_parser("clear", help="remove a model's fallback chain")
    clear.add_argument("model", metavar="PROVIDER:MODEL")
    clear.set_defaults(handler=run_fallbacks_set, fallbacks=[])


SUBCOMMANDS = [add_add, add_enable, add_disable, add_set_default, add_remove, add_import,
               add_fallbacks]


async def run_add(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        view = await catalog.create_model(
            db, args.provider, args.model_sdk_id, name=args.name, enabled=not args.disabled,
            price_input=args.price_input, price_cached_input=args.price_cached_input,
            price_output=args.price_output, context_window=args.context_window,
            max_output_tokens=args.max_output_tokens, model_type=args.model_type,
            actor=cli_actor())
    price = ("unknown price" if view.price_input is None
             else f"${view.price_input} in / ${view.price_output} out per 1M tokens")
    print(f"added {args.provider}:{view.model_sdk_id} ({view.name}, {price})")
    return 0


async def _set_enabled(args: argparse.Namespace, enabled: bool) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        await catalog.update_model(db, (args.provider, args.model_sdk_id), enabled=enabled,
                                   actor=cli_actor())
    print(f"{'enabled' if enabled else 'disabled'} {args.provider}:{args.model_sdk_id}")
    return 0


async def run_enable(args: argparse.Namespace) -> int:
    return await _set_enabled(args, True)


async def run_disable(args: argparse.Namespace) -> int:
    return await _set_enabled(args, False)


async def run_set_default(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        await catalog.set_default_model(db, (args.provider, args.model_sdk_id),
                                        actor=cli_actor())
    print(f"the default model is now {args.provider}:{args.model_sdk_id}")
    return 0


async def run_remove(args: argparse.Namespace) -> int:
    from switchboard.services import catalog

    async with catalog_db() as db:
        await catalog.delete_model(db, (args.provider, args.model_sdk_id), actor=cli_actor())
    print(f"removed {args.provider}:{args.model_sdk_id}")
    return 0


async def run_import(args: argparse.Namespace) -> int:
    from switchboard import upstream
    from switchboard.services import catalog

    try:
        async with catalog_db() as db:
            result = await catalog.import_models(db, args.provider, actor=cli_actor())
    finally:
        await upstream.close_client()
    print(f"{result.provider}: {result.total_listed} models listed; "
          f"{len(result.added)} added, {len(result.updated)} updated, "
          f"{len(result.unchanged)} unchanged")
    for model_id in result.added:
        print(f"  + {result.provider}:{model_id}")
    return 0


async def run_fallbacks_show(args: argparse.Namespace) -> int:
    from switchboard.services import catalog
    from switchboard.services.fallback_chains import split_ref

    async with catalog_db() as db:
        view = await catalog.get_model_by_id(db, split_ref(args.model, "model"))
    print("\n".join(view.fallbacks) if view.fallbacks
          else f"{args.model} has no fallbacks")
    return 0


async def run_fallbacks_set(args: argparse.Namespace) -> int:
    from switchboard.services import catalog
    from switchboard.services.fallback_chains import split_ref

    async with catalog_db() as db:
        view = await catalog.update_model(db, split_ref(args.model, "model"),
                                          fallbacks=list(args.fallbacks), actor=cli_actor())
    if view.fallbacks:
        print(f"{args.model} falls back to {', '.join(view.fallbacks)} (in that order)")
    else:
        print(f"{args.model} has no fallbacks")
    return 0
