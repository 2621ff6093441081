"""``usegan ingest``: import the DICOM spool into cases when the app (the usual importer) is not running."""

from __future__ import annotations

import argparse

from usegan.commands import CommandError
from usegan.vocab import Organ, values


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="import received DICOM files (the spool) into cases",
        description="Import every complete file in the DICOM spool (settings.inbox_dir) into the case store: "
        "de-duplicated by SOP Instance UID, archived when handled, quarantined with a reason when unusable. "
        "The app does this itself while it runs (it is the database's single writer).",
    )
    parser.add_argument(
        "--organ",
        default=Organ.BREAST.value,
        choices=values(Organ),
        help="organ assumed when a file's BodyPartExamined names none of these (default: breast)",
    )
    parser.add_argument("--limit", type=int, default=None, help="import at most this many files")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from usegan.dicomnet.ingest import ingest_spool
    from usegan.settings import get_settings
    from usegan.store import StoreBusyError, open_store

    settings = get_settings()
    if args.limit is not None and args.limit < 0:
        raise CommandError(f"--limit must be >= 0, got {args.limit}")
    try:
        store = open_store(settings)
    except StoreBusyError as exc:
        raise CommandError(str(exc)) from exc
    with store:
        report = ingest_spool(store, settings, default_organ=args.organ, limit=args.limit)
    for name, case_id in report.imported:
        print(f"imported  {name} -> {case_id}")
    for name, case_id in report.duplicates:
        print(f"duplicate {name} (case {case_id})")
    for name, reason in report.quarantined:
        print(f"quarantined {name}: {reason}")
    print(report.summary())
    return 1 if report.error else 0
