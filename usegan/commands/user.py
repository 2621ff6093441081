"""``usegan user add | passwd | role | disable | enable | unlock | list``: manage accounts, also while the app runs
(the running app carries the change out: :mod:`usegan.command_folder`).

Passwords are read from the terminal (twice), or from ``--password-stdin`` for scripts; never from the command
line, where they would land in the shell history and the process list. The audit log names the operating-system
user who ran the command (``cli:<login>``).
"""

from __future__ import annotations

import getpass
import sys

from usegan.commands import CommandError
from usegan.vocab import Role, values


def register(subparsers) -> None:
    parser = subparsers.add_parser("user", help="manage user accounts and roles (works while the app runs)")
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=values(Role))
    passwd = sub.add_parser("passwd", help="set a new password (also lifts sign-in back-offs, ends sessions)")
    passwd.add_argument("username")
    for p in (add, passwd):
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    role = sub.add_parser("role", help="change a user's role (their sessions end)")
    role.add_argument("username")
    role.add_argument("role", choices=values(Role))
    for name, text in (("disable", "disable an account"), ("enable", "re-enable a disabled account")):
        sub.add_parser(name, help=text).add_argument("username")
    sub.add_parser("unlock", help="lift sign-in back-offs of a user name or client address").add_argument("name")
    sub.add_parser("list", help="list users, roles and back-offs")
    parser.set_defaults(func=run)


def os_actor() -> str:
    """``cli:<login>`` of the operating-system user running the command (for the audit log)."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        import os

        return f"cli:uid{os.getuid()}"


def _read_password(args) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise CommandError("--password-stdin: standard input is empty")
        return line.rstrip("\n")
    if not sys.stdin.isatty():
        raise CommandError("no terminal to ask for the password on: pipe it in with --password-stdin")
    try:
        first = getpass.getpass(f"new password for {args.username}: ")
        again = getpass.getpass("again: ")
    except EOFError:
        raise CommandError("no password given") from None
    if again != first:
        raise CommandError("the two passwords differ")
    return first


def _password_hash(args) -> str:
    from usegan.store.passwords import check_password
    from usegan.store.users import HASHER

    password = _read_password(args)
    try:
        check_password(password, args.username)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    return HASHER.hash(password)


def run(args) -> int:
    from usegan.command_folder import CommandFailed, run_command
    from usegan.settings import get_settings

    action = args.user_command
    if action in ("add", "passwd"):
        payload = {"username": args.username, "password_hash": _password_hash(args)}
        if action == "add":
            payload["role"] = args.role
    elif action == "role":
        payload = {"username": args.username, "role": args.role}
    elif action == "unlock":
        payload = {"name": args.name}
    elif action == "list":
        payload = {}
    else:
        payload = {"username": args.username}
    try:
        code, lines = run_command(get_settings(), f"user.{action}", payload, os_actor(), must_exist=False)
    except CommandFailed as exc:
        raise CommandError(str(exc)) from exc
    for line in lines:
        print(line)
    return code
