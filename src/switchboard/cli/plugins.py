"""``switchboard plugins``: which provider kinds are installed, and which failed to load.

Lists the built-in adapters and the kinds found through the ``switchboard.providers``
entry point group (with their distribution and version), then every failure with its
reason. A failure never stops the other kinds from working, so this command is where a
broken or conflicting plugin shows up.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "plugins",
        help="list provider kinds (built-in and plugins) and plugin failures",
        description=__doc__.split("\n\n")[1] if __doc__ else None,
    )
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from switchboard.registry import load_kinds
    from switchboard.registry.kinds import plugins_disabled

    kinds = load_kinds()
    if args.json:
        print(json.dumps({
            "plugins_enabled": not plugins_disabled(),
            "kinds": [
                {
                    "kind": k.kind,
                    "display_name": k.display_name,
                    "source": k.source,
                    "distribution": k.distribution,
                    "version": k.version,
                    "target": k.target,
                }
                for k in kinds
            ],
            "failures": [
                {
                    "name": f.name,
                    "source": f.source,
                    "distribution": f.distribution,
                    "version": f.version,
                    "target": f.target,
                    "reason": f.reason,
                }
                for f in kinds.failures
            ],
        }, indent=2))
        return 0
    width = max((len(k.kind) for k in kinds), default=4)
    print("provider kinds:")
    for k in kinds:
        print(f"  {k.kind.ljust(width)}  {k.display_name}  [{k.origin}]")
    if plugins_disabled():
        print("plugins: disabled (SWITCHBOARD_DISABLE_PLUGINS is set)")
    if kinds.failures:
        print("failures:")
        for f in kinds.failures:
            origin = " ".join(p for p in (f.distribution, f.version) if p) or f.source
            print(f"  {f.name} [{origin}]: {f.reason}")
    return 0
