"""``usegan store check``: verify that every image file the database references exists and hashes to its name;
also the write-ahead log size, free disk, sessions and sign-in back-offs. Works while the app runs."""

from __future__ import annotations

from usegan.commands import CommandError


def register(subparsers) -> None:
    parser = subparsers.add_parser("store", help="inspect the case store")
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="find missing or corrupt image files (exit 1 when any)")
    check.set_defaults(func=run)


def run(args) -> int:
    from usegan.command_folder import CommandFailed, run_command
    from usegan.commands.user import os_actor
    from usegan.settings import get_settings

    try:
        code, lines = run_command(get_settings(), "store.check", {}, os_actor())
    except CommandFailed as exc:
        raise CommandError(str(exc)) from exc
    print("\n".join(lines))
    return code
