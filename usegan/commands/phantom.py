"""``usegan phantom``: simulate paired phantom cases into a folder (one sub-folder per case plus index.csv).

Case ``i`` of a run has lesion type ``types[i % len(types)]`` (balanced classes) and seed
``case_seed(seed, i)``, so the output does not depend on the number of workers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from usegan.commands import CommandError
from usegan.phantom.scanner import PROFILE_NAMES
from usegan.vocab import LesionType, values

LESION_TYPES = values(LesionType)
# the share options (flags --small-in-frame, ...), passed as keywords to usegan.phantom.case.random_case_of_type
SHARES = ("small_in_frame", "shallow", "superficial", "dark_shadows")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "phantom",
        help="simulate paired B-mode / strain / shear-wave phantom cases",
        description="Simulate N seeded phantom cases into OUT (bmode.png, strain.png, swe.png, mask.png, "
        "stiffness_kpa.npy, strain_true.npy, meta.json per case, and index.csv).",
    )
    parser.add_argument("-n", "--count", type=int, required=True, help="number of cases")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--seed", type=int, default=0, help="run seed (case i uses a seed derived from it and i)")
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (default 256)")
    parser.add_argument(
        "--types",
        nargs="+",
        default=list(LESION_TYPES),
        metavar="TYPE",
        help=f"lesion types, cycled in order (default all: {' '.join(LESION_TYPES)})",
    )
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--sheet", type=Path, default=None, help="also write a contact sheet PNG of the first rows")
    parser.add_argument("--start", type=int, default=0, help="index of the first case (to extend a run)")
    parser.add_argument("--no-true-strain", action="store_true", help="do not write strain_true.npy (smaller)")
    parser.add_argument(
        "--scanner",
        choices=sorted(PROFILE_NAMES),
        default="training",
        help="imaging-chain ranges: 'training', 'held-out' (settings and overlays outside the training ranges, "
        "for the held-out scanner test set) or 'one-chain' (one fixed chain: the randomisation ablation)",
    )
    parser.add_argument(
        "--small-in-frame",
        type=float,
        default=0.0,
        metavar="P",
        help="share of lesion cases redrawn small in a whole field (usegan.phantom.case.shrink_lesion); default 0: "
        "phantom-3 as it was",
    )
    parser.add_argument(
        "--shallow",
        type=float,
        default=0.0,
        metavar="P",
        help="share of lesion cases moved up under a thin fat layer, a few mm below the skin "
        "(usegan.phantom.case.raise_lesion); default 0: phantom-3 as it was",
    )
    parser.add_argument(
        "--superficial",
        type=float,
        default=0.0,
        metavar="P",
        help="share of cases whose skin and subcutaneous layer look like real scans' (bright skin line and septa; "
        "usegan.phantom.case.brighten_superficial); default 0: phantom-3 as it was",
    )
    parser.add_argument(
        "--dark-shadows",
        type=float,
        default=0.0,
        metavar="P",
        help="share of cases with one or two broad shadows as dark and wide as real scans' "
        "(usegan.phantom.case.deepen_shadows); default 0: phantom-3 as it was",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def _work(job: tuple[int, int, str, int, str, bool, dict]) -> dict:
    """Worker: build and write case ``index``; return its index.csv row. Module-level so it pickles. The job's last
    field: the keyword arguments of :func:`usegan.phantom.case.random_case_of_type` (scanner, shares)."""
    from usegan.phantom.case import case_seed, random_case_of_type
    from usegan.phantom.writer import case_name, index_row, write_case

    index, seed, lesion_type, size, out, true_strain, draw = job
    case = random_case_of_type(case_seed(seed, index), lesion_type, size, **draw)
    name = case_name(index)
    write_case(case, Path(out) / name, true_strain=true_strain)
    return index_row(name, case)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from usegan.phantom.writer import write_index

    if args.count < 1:
        raise CommandError(f"-n must be at least 1, got {args.count}")
    if not 16 <= args.size <= 2048:
        raise CommandError(f"--size must be between 16 and 2048 pixels, got {args.size}")
    unknown = [t for t in args.types if t not in LESION_TYPES]
    if unknown:
        raise CommandError(f"unknown lesion type(s) {', '.join(unknown)}; choose from {', '.join(LESION_TYPES)}")
    if args.workers < 1:
        raise CommandError(f"--workers must be at least 1, got {args.workers}")
    shares = {name: getattr(args, name) for name in SHARES}
    for name, share in shares.items():
        if not 0.0 <= share <= 1.0:
            raise CommandError(f"--{name.replace('_', '-')} must be between 0 and 1, got {share}")
    if args.start < 0:
        raise CommandError(f"--start must be >= 0, got {args.start}")
    if args.out.exists() and not args.out.is_dir():
        raise CommandError(f"--out {args.out} exists and is not a folder")
    args.out.mkdir(parents=True, exist_ok=True)
    jobs = [
        (
            i,
            args.seed,
            args.types[i % len(args.types)],
            args.size,
            str(args.out),
            not args.no_true_strain,
            {"scanner": args.scanner, **shares},
        )
        for i in range(args.start, args.start + args.count)
    ]
    rows = _previous_rows(args.out, {f"case_{i:05d}" for i, *_ in jobs})
    progress = tqdm(total=len(jobs), unit="case", disable=args.quiet, file=sys.stderr)
    if args.workers == 1:
        for job in jobs:
            rows.append(_work(job))
            progress.update()
    else:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.workers) as pool:
            for row in pool.imap_unordered(_work, jobs, chunksize=4):
                rows.append(row)
                progress.update()
    progress.close()
    index = write_index(rows, args.out)
    if args.sheet is not None:
        _write_sheet(args, jobs[: len(LESION_TYPES)])
    print(f"wrote {len(jobs)} cases to {args.out} ({index.name}: {len(rows)} rows)")
    return 0


def _previous_rows(out: Path, replaced: set[str]) -> list[dict]:
    """Rows of an existing index.csv in ``out`` that this run does not overwrite (so --start extends a run)."""
    from usegan.phantom.writer import read_index

    if not (out / "index.csv").is_file():
        return []
    return [row for row in read_index(out) if row["name"] not in replaced]


def _write_sheet(args: argparse.Namespace, jobs: list[tuple]) -> None:
    from usegan.imageio import save_png
    from usegan.phantom.case import case_seed, random_case_of_type
    from usegan.phantom.sheet import contact_sheet

    cases = [
        random_case_of_type(case_seed(seed, i), t, size, **job[6]) for job in jobs for i, seed, t, size in [job[:4]]
    ]
    save_png(contact_sheet(cases), args.sheet)
    print(f"wrote contact sheet {args.sheet}")
