"""``usegan export --format csv|parquet [--out DIR] [--research]``: cases, scores, reviews and model versions as
files; with ``--research``, the research export instead (signed readings with ROIs, figures, images and masks, no
patient identifiers; ``docs/export.md``) that ``docs/notebooks/research_audit.ipynb`` opens."""

from __future__ import annotations

from usegan.commands import CommandError


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help="export cases, scores, reviews and model versions")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--out", default=None, help="folder to write into (default: <data dir>/exports/<time>)")
    parser.add_argument(
        "--research",
        action="store_true",
        help="write the research export (readings, reader sessions, images and masks; no patient identifiers)",
    )
    parser.add_argument("--no-images", action="store_true", help="with --research: tables only, no images or masks")
    parser.set_defaults(func=run)


def run(args) -> int:
    from pathlib import Path

    from usegan.command_folder import CommandFailed, run_command
    from usegan.commands.user import os_actor
    from usegan.settings import get_settings
    from usegan.store.util import utc_now

    settings = get_settings()
    out = Path(args.out) if args.out else settings.data_dir / "exports" / f"{utc_now():%Y%m%dT%H%M%S}"
    payload = {
        "out": str(out.resolve()),
        "format": args.format,
        "research": args.research,
        "images": not args.no_images,
    }
    try:  # through the running app when it holds the database
        code, lines = run_command(settings, "export", payload, os_actor())
    except CommandFailed as exc:
        raise CommandError(str(exc)) from exc
    print("\n".join(lines))
    return code
