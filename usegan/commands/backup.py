"""``usegan backup DEST`` and ``usegan restore SRC [--force]``: consistent copies of the database and images.

Both need the app stopped (the app process holds the database); from inside the app, call
:func:`usegan.store.backup.backup` on its open store instead.
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
    from usegan.settings import get_settings
    from usegan.store import StoreError, open_store
    from usegan.store.backup import backup

    settings = get_settings()
    if not settings.db_path.is_file():
        raise CommandError(f"no case store at {settings.db_path}")
    try:
        with open_store(settings) as store:
            manifest = backup(store, args.dest)
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(f"backed up {manifest.cases} cases and {manifest.images} files to {args.dest}")
    return 0


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
