"""``usegan user add | passwd | disable | enable | list``: manage accounts (run while the app is stopped).

Passwords are read from the terminal (twice), or from ``--password-stdin`` for scripts; never from the command
line, where they would land in the shell history and the process list.
"""

from __future__ import annotations

import getpass
import sys

from usegan.commands import CommandError
from usegan.vocab import Role, values


def register(subparsers) -> None:
    parser = subparsers.add_parser("user", help="manage user accounts and roles")
    sub = parser.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="create a user")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=values(Role))
    passwd = sub.add_parser("passwd", help="set a new password (also lifts a lockout)")
    passwd.add_argument("username")
    for p in (add, passwd):
        p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    for name, text in (("disable", "disable an account"), ("enable", "re-enable a disabled account")):
        sub.add_parser(name, help=text).add_argument("username")
    sub.add_parser("list", help="list users, roles and lockouts")
    parser.add_argument("--by", default=None, help="who is making the change, for the audit log (default: $USER)")
    parser.set_defaults(func=run)


def _read_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"new password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise CommandError("the two passwords differ")
    return first


def run(args) -> int:
    import os

    from usegan.store import StoreError, open_store

    actor = args.by or f"cli:{os.environ.get('USER', 'unknown')}"
    try:
        with open_store() as store:
            if args.user_command == "list":
                users = store.list_users()
                print(f"{'user':<20} {'role':<11} {'state':<26} last sign-in")
                for u in users:
                    state = (
                        "disabled"
                        if u.disabled
                        else (f"locked until {u.locked_until:%Y-%m-%d %H:%M}" if u.locked_until else "active")
                    )
                    last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
                    print(f"{u.username:<20} {u.role:<11} {state:<26} {last}")
                if not users:
                    print("(no users: the app creates an admin with a one-time password on first start)")
            elif args.user_command == "add":
                store.add_user(args.username, _read_password(args), args.role, created_by=actor)
                print(f"added {args.username} ({args.role})")
            elif args.user_command == "passwd":
                store.set_password(args.username, _read_password(args), changed_by=actor)
                print(f"password of {args.username} changed")
            else:
                store.set_disabled(args.username, args.user_command == "disable", changed_by=actor)
                print(f"{args.username} {args.user_command}d")
    except (StoreError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    return 0
