"""``usegan evaluate``: image quality and pre-score agreement of a model on a phantom test folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from usegan.settings import PRECISIONS
from usegan.vocab import Organ, values


def register(subparsers) -> None:
    p = subparsers.add_parser("evaluate", help="evaluate a model on a phantom test set")
    p.add_argument("--model", required=True, type=Path, help="checkpoint to evaluate")
    p.add_argument("--data", required=True, type=Path, help="test folder written by `usegan phantom`")
    p.add_argument("--organ", default=Organ.BREAST.value, choices=values(Organ))
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N cases")
    p.add_argument("--csv", type=Path, help="per-case CSV (default: <model stem>_eval.csv next to the model)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument(
        "--precision",
        default="fp32",
        choices=PRECISIONS,
        help='generator arithmetic: "fp32" (reference, default), "bf16", or "auto" (as the app serves it)',
    )
    p.add_argument(
        "--size",
        type=int,
        default=None,
        help="side the generator runs at, a multiple of its down-sampling factor (default: the size it was trained at)",
    )
    p.add_argument(
        "--allow-rgb-head",
        action="store_true",
        help="also evaluate a free-RGB generator (format-1 / 'rgb' ablation), which the app and CLI refuse to serve",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from usegan.checkpoint import CheckpointError
    from usegan.commands import CommandError
    from usegan.inference import VirtualElastographer
    from usegan.training.evaluate import case_folders, evaluate_cases, report_json, write_per_case_csv

    try:
        engine = VirtualElastographer.from_checkpoint(
            args.model, allow_rgb_head=args.allow_rgb_head, precision=args.precision, size=args.size
        )
        folders = case_folders(args.data, args.limit or None)
    except (CheckpointError, FileNotFoundError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    report = evaluate_cases(engine, folders, organ=args.organ)
    csv_path = write_per_case_csv(report, args.csv or args.model.with_name(f"{args.model.stem}_eval.csv"))
    if args.json:
        print(report_json(report))
    else:
        s = report.summary()
        run = f"{s['mode']}, {s['precision']}, {s['size']} px"
        print(f"{s['model_version']} ({run}) on {s['n_cases']} cases of {args.data}")
        for key in (
            "ssim_box",
            "psnr_box",
            "hist_intersection_box",
            "kappa",
            "accuracy",
            "mae_kpa_lesion",
            "mae_kpa_box",
            "ncc_box",
            "off_map_fraction",
            "off_map_max",
            "uncertainty_spearman",
            "interval90_coverage",
        ):
            if s.get(key) is not None:
                print(f"  {key:24} {s[key]:.4f}")
        print("  confusion (rows truth 1-5, cols pre-score 1-5):")
        for row in s["confusion"]:
            print("   ", row)
        if s["lesion_errors"]:
            print_lesion_errors(s["lesion_errors"])
        print(f"  per-case CSV: {csv_path}")
    return 0


def print_lesion_errors(table: dict[str, dict]) -> None:
    """The SWE lesion error by lesion type (:func:`usegan.training.evaluate.lesion_errors`) as a text table."""

    def kpa(value: float | None) -> str:
        return "-" if value is None else f"{value:.1f}"

    print("  SWE lesion error, kPa (visible: the B-mode shows the lesion):")
    print(f"    {'lesion type':16} {'n':>4} {'truth':>7} {'MAE':>7} {'bias':>7} {'visible (n)':>13} {'hidden (n)':>13}")
    for name, g in table.items():
        means = " ".join(f"{kpa(g[key]):>7}" for key in ("truth", "mae", "bias"))
        shown = f"{kpa(g['mae_visible'])} ({g['n_visible']})"
        hidden = f"{kpa(g['mae_hidden'])} ({g['n_hidden']})"
        print(f"    {name:16} {g['n']:>4} {means} {shown:>13} {hidden:>13}")
