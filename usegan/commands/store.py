"""``usegan store check``: verify that every image file the database references exists and hashes to its name."""

from __future__ import annotations

from usegan.commands import CommandError


def register(subparsers) -> None:
    parser = subparsers.add_parser("store", help="inspect the case store")
    sub = parser.add_subparsers(dest="store_command", metavar="ACTION", required=True)
    check = sub.add_parser("check", help="find missing or corrupt image files (exit 1 when any)")
    check.set_defaults(func=run)


def run(args) -> int:
    from usegan.settings import get_settings
    from usegan.store import StoreError, open_store

    settings = get_settings()
    if not settings.db_path.is_file():
        raise CommandError(f"no case store at {settings.db_path}")
    try:
        with open_store(settings) as store:
            referenced = store.referenced_images()
            problems = store.check()
            counts = store.counts()
            version = store.schema_version
    except StoreError as exc:
        raise CommandError(str(exc)) from exc
    print(f"{settings.db_path}: schema version {version}, {counts['total']} cases, {len(referenced)} files referenced")
    for problem in problems:
        print(f"  {problem.problem}: {settings.images_dir / problem.sha256[:2] / problem.sha256}")
    print(f"{len(problems)} problem(s)" if problems else "all files present and intact")
    return 1 if problems else 0
