"""CLI commands that work while the app runs: the CLI leaves a request in ``<data dir>/commands/`` and the app
process (the only one allowed to open the database for writing) runs it and leaves the result next to it.

Both ways run the same handler from :data:`HANDLERS`: directly on an opened store when no app holds the database,
or through the folder when one does (:func:`run_command`). The folder is 0700 inside the 0700 data directory, so
only the account that runs the app (or root) can drop requests: the same people who could open the database
file. Passwords never travel in clear: the CLI checks the policy and sends the argon2 hash.

Files: ``<id>.request.json`` (written atomically by the CLI) -> ``<id>.running`` (claimed by the app) ->
``<id>.result.json`` (``{"exit": 0, "lines": [...], "error": ""}``), which the CLI reads and deletes.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

from usegan.store.errors import StoreBusyError, StoreError

FOLDER = "commands"


class CommandFailed(Exception):
    """The command ran and failed; the message is one line for the user."""


# -- handlers: (store, settings, args, actor) -> (exit code, lines) -------------------------------------------------
def _user_list(store, settings, args, actor):
    lines = [f"{'user':<20} {'role':<11} {'state':<30} last sign-in"]
    now = store.clock()
    for u in store.list_users():
        if u.disabled:
            state = "disabled"
        elif u.locked_until and u.locked_until > now:
            state = f"backing off until {u.locked_until:%Y-%m-%d %H:%M}"
        else:
            state = "active"
        last = f"{u.last_login_at:%Y-%m-%d %H:%M}" if u.last_login_at else "-"
        lines.append(f"{u.username:<20} {u.role:<11} {state:<30} {last}")
    if len(lines) == 1:
        lines.append("(no users: the app creates an admin with a one-time password on first start)")
    return 0, lines


def _user_add(store, settings, args, actor):
    store.add_user(args["username"], None, args["role"], created_by=actor, password_hash=args["password_hash"])
    return 0, [f"added {args['username']} ({args['role']})"]


def _user_passwd(store, settings, args, actor):
    store.set_password(args["username"], None, changed_by=actor, password_hash=args["password_hash"])
    return 0, [f"password of {args['username']} changed; their sessions ended"]


def _user_role(store, settings, args, actor):
    store.set_role(args["username"], args["role"], changed_by=actor)
    return 0, [f"{args['username']} is now {args['role']}"]


def _user_disable(store, settings, args, actor):
    store.set_disabled(args["username"], True, changed_by=actor)
    return 0, [f"{args['username']} disabled"]


def _user_enable(store, settings, args, actor):
    store.set_disabled(args["username"], False, changed_by=actor)
    return 0, [f"{args['username']} enabled"]


def _user_unlock(store, settings, args, actor):
    n = store.unlock(args["name"], by=actor)
    return 0, [f"lifted {n} sign-in back-off entr{'y' if n == 1 else 'ies'} for {args['name']}"]


def _backup(store, settings, args, actor):
    from usegan.operations import backup_now

    folder, manifest = backup_now(store, settings.data_dir / "backups", by=actor, dest=args.get("dest"))
    return 0, [f"backed up {manifest.cases} cases and {manifest.images} files to {folder}"]


def _store_check(store, settings, args, actor):
    from usegan.operations import health

    report = health(store, settings.data_dir)
    return (0 if not report.problems else 1), [f"{settings.db_path}:", *report.lines()]


def _export(store, settings, args, actor):
    from usegan.store.export import export_tables

    out = Path(args["out"])
    if args.get("research"):
        from usegan.research.export import export_research

        export_research(store, out, args["format"], images=bool(args.get("images", True)))
        return 0, [str(p) for p in sorted(p for p in out.iterdir() if p.is_file())]
    return 0, [str(p) for p in export_tables(store, out, args["format"])]


HANDLERS: dict[str, Callable] = {
    "user.list": _user_list,
    "user.add": _user_add,
    "user.passwd": _user_passwd,
    "user.role": _user_role,
    "user.disable": _user_disable,
    "user.enable": _user_enable,
    "user.unlock": _user_unlock,
    "backup": _backup,
    "store.check": _store_check,
    "export": _export,
}


def _execute(store, settings, name: str, args: dict, actor: str) -> tuple[int, list[str]]:
    handler = HANDLERS.get(name)
    if handler is None:
        raise CommandFailed(f"unknown command {name!r}")
    try:
        return handler(store, settings, args, actor)
    except (StoreError, ValueError, KeyError, OSError) as exc:
        raise CommandFailed(str(exc)) from exc


# -- the CLI side -------------------------------------------------------------------------------------------------
def run_command(
    settings, name: str, args: dict, actor: str, *, timeout_s: float = 600.0, must_exist: bool = True
) -> tuple[int, list[str]]:
    """Run ``name`` on the store: directly when no process holds the database, else through the running app.
    Raises :class:`CommandFailed` (one line) when it fails or no app answers."""
    from usegan.store import open_store
    from usegan.store.files import private_umask

    private_umask()
    if must_exist and not settings.db_path.is_file():
        raise CommandFailed(f"no case store at {settings.db_path}")
    try:
        store = open_store(settings)
    except StoreBusyError:
        return _through_app(settings, name, args, actor, timeout_s)
    with store:
        return _execute(store, settings, name, args, actor)


def _through_app(settings, name: str, args: dict, actor: str, timeout_s: float) -> tuple[int, list[str]]:
    folder = settings.data_dir / FOLDER
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    request_id = f"{time.time_ns()}-{secrets.token_hex(4)}"
    request = folder / f"{request_id}.request.json"
    tmp = folder / f".{request_id}.tmp"
    payload = {"command": name, "args": args, "actor": actor}
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)
    tmp.replace(request)
    result = folder / f"{request_id}.result.json"
    running = folder / f"{request_id}.running"
    deadline = time.monotonic() + timeout_s
    claim_deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if result.exists():
            answer = json.loads(result.read_text(encoding="utf-8"))
            result.unlink(missing_ok=True)
            if answer.get("error"):
                raise CommandFailed(answer["error"])
            return int(answer.get("exit", 0)), list(answer.get("lines", []))
        if not running.exists() and request.exists() and time.monotonic() > claim_deadline:
            request.unlink(missing_ok=True)
            raise CommandFailed(
                f"the database {settings.db_path} is held by another process that does not run commands from "
                f"{folder} (an app started before this version, or another CLI command): wait for it, or stop it"
            )
        time.sleep(0.2)
    raise CommandFailed(f"the app did not finish {name} within {timeout_s:.0f} s; see the app's log")


# -- the app side -------------------------------------------------------------------------------------------------
def run_pending(store, settings) -> int:
    """Run every waiting request (oldest first); called by the app's maintenance thread. Returns how many ran."""
    folder = settings.data_dir / FOLDER
    if not folder.is_dir():
        return 0
    ran = 0
    for request in sorted(folder.glob("*.request.json"), key=lambda p: p.name):
        request_id = request.name.removesuffix(".request.json")
        running = folder / f"{request_id}.running"
        try:
            request.replace(running)  # claim it (a second app thread would find it gone)
        except FileNotFoundError:
            continue
        try:
            payload = json.loads(running.read_text(encoding="utf-8"))
            answer = dict(zip(("exit", "lines"), _execute(
                store, settings, str(payload["command"]), dict(payload.get("args") or {}), str(payload["actor"])
            ), strict=True))  # fmt: skip
        except CommandFailed as exc:
            answer = {"exit": 2, "lines": [], "error": str(exc)}
        except (ValueError, KeyError, TypeError) as exc:
            answer = {"exit": 2, "lines": [], "error": f"unreadable command request: {exc}"}
        tmp = folder / f".{request_id}.result.tmp"
        tmp.write_text(json.dumps(answer), encoding="utf-8")
        os.chmod(tmp, 0o600)
        tmp.replace(folder / f"{request_id}.result.json")
        running.unlink(missing_ok=True)
        ran += 1
    return ran
