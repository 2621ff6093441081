"""The ``usegan`` command line: one sub-command module per task under :mod:`usegan.commands`.

Each module in ``usegan/commands/`` defines ``register(subparsers)`` which adds its sub-command(s) and sets
``func`` on the parser to a callable ``func(args) -> int``. Heavy imports (torch, duckdb) happen inside those
functions so that ``usegan --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

from usegan import __version__
from usegan.commands import CommandError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="usegan",
        description="Virtual ultrasound elastography (USE-GAN): generate, score, train, store, report.",
    )
    parser.add_argument("--version", action="version", version=f"usegan {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    import usegan.commands as commands_pkg

    for info in sorted(pkgutil.iter_modules(commands_pkg.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"usegan.commands.{info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CommandError as exc:
        print(f"usegan {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
