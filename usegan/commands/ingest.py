"""``usegan ingest``: import the DICOM spool, or a folder of images / DICOM files, into cases.

Both go through the one intake pipeline (:mod:`usegan.intake.pipeline`). While the app runs it owns the database
and its background worker imports the spool by itself; ``ingest --folder`` then hands the folder's DICOM files
to that spool instead of opening the database.
"""

from __future__ import annotations

import argparse

from usegan.commands import CommandError
from usegan.vocab import Organ, values


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "ingest",
        help="import received DICOM files (the spool) or a folder of images into cases",
        description="Import every complete file in the DICOM spool (settings.inbox_dir), or with --folder every "
        "PNG/JPEG/TIFF/DICOM file under a folder, into the case store: pseudonymised, cropped to the image area, "
        "calibrated, de-duplicated. The running app imports the spool by itself (its background worker); while it "
        "runs, --folder hands the folder's DICOM files to the spool.",
    )
    parser.add_argument(
        "--organ",
        default=Organ.BREAST,
        choices=values(Organ),
        help="organ assumed when a file's BodyPartExamined names none of these (default: breast)",
    )
    parser.add_argument("--limit", type=int, default=None, help="import at most this many spool files")
    parser.add_argument("--folder", default=None, help="import this folder (recursively) instead of the spool")
    parser.add_argument("--patient-id", default=None, help="patient id for plain images of --folder (pseudonymised)")
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
        if args.folder:
            return _hand_to_spool(args.folder, settings)
        raise CommandError(
            f"{exc}. The running app imports the spool by itself every {settings.worker_interval_s} s; "
            "nothing to do here"
        ) from exc
    with store:
        if args.folder:
            from usegan.intake.pipeline import Intake

            try:
                folder = Intake(store, settings).import_folder(
                    args.folder, user="folder-import", organ=args.organ, patient_id=args.patient_id
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            for name, case_id in folder.imported:
                print(f"imported  {name} -> {case_id}")
            for name, case_id in folder.duplicates:
                print(f"duplicate {name} (case {case_id})")
            for name, reason in folder.failed:
                print(f"failed    {name}: {reason}")
            print(folder.summary())
            return 1 if folder.failed else 0
        report = ingest_spool(store, settings, default_organ=args.organ, limit=args.limit)
    for name, case_id in report.imported:
        print(f"imported  {name} -> {case_id}")
    for name, case_id in report.duplicates:
        print(f"duplicate {name} (case {case_id})")
    for name, reason in report.quarantined:
        print(f"quarantined {name}: {reason}")
    print(report.summary())
    return 1 if report.error else 0


def _hand_to_spool(folder: str, settings) -> int:
    """The app holds the database: copy the folder's DICOM files into its spool (atomically) for its worker."""
    from pathlib import Path

    from usegan.dicomio import is_dicom_bytes
    from usegan.dicomnet.spool import write_atomic

    root = Path(folder)
    if not root.is_dir():
        raise CommandError(f"{root}: not a folder")
    handed, skipped = 0, []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if not is_dicom_bytes(data[:132]):
            skipped.append(str(path.relative_to(root)))
            continue
        write_atomic(settings.inbox_dir, f"folder-{handed:05d}-{path.stem}.dcm", data)
        handed += 1
    print(f"the app is running: {handed} DICOM file(s) handed to its spool ({settings.inbox_dir}); it imports them")
    for name in skipped:
        print(f"not handed over (only DICOM goes through the spool; stop the app to import images): {name}")
    return 1 if skipped else 0
