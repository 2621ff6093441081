"""``usegan backup DEST`` and ``usegan restore SRC [--force]``: consistent copies of the database and images.

``backup`` works while the app runs (the app takes it: :mod:`usegan.command_folder`); ``restore`` builds the
restored database and images in a temporary folder and swaps them in at once, so it needs the target data
directory's app stopped (restore into a fresh directory with ``USEGAN_DATA_DIR=...`` at any time).
"""

from __future__ import annotations

from usegan.commands import CommandError


def register(subparsers) -> None:
    backup = subparsers.add_parser("backup", help="copy the database and all images to DEST (a new folder)")
    backup.add_argument("dest")
    backup.set_defaults(func=run_backup)
    restore = subparsers.add_parser("restore", help="restore a backup folder into the data directory")
    restore.add_argument("src")
    restore.add_argument("--force", action="store_true", help="replace an existing database (moved aside, kept)")
    restore.set_defaults(func=run_restore)


def run_backup(args) -> int:
    from pathlib import Path

    from usegan.command_folder import CommandFailed, run_command
    from usegan.commands.user import os_actor
    from usegan.settings import get_settings

    try:
        code, lines = run_command(get_settings(), "backup", {"dest": str(Path(args.dest).resolve())}, os_actor())
    except CommandFailed as exc:
        raise CommandError(str(exc)) from exc
    print("\n".join(lines))
    return code


def run_restore(args) -> int:
    from usegan.settings import get_settings
    from usegan.store import StoreError
    from usegan.store.backup import restore

    settings = get_settings()
    try:
        aside = restore(args.src, settings.db_path, settings.images_dir, force=args.force)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(f"restored {args.src} into {settings.data_dir}")
    if aside is not None:
        print(f"the previous database and images were kept in {aside}")
    return 0
