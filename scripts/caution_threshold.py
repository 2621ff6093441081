"""Does the quality map's caution flag the readings that are wrong? Measured per threshold, on real scans.

    python scripts/caution_threshold.py --model data/models/usegan-swe-v5.pt --real DIR --hybrid 50 \
        --hybrid-seed 20 --out DIR

The review page and the report caution an ROI whose pixels are mostly *unsure*: the model's predicted SD above
``sd_fraction`` of the colour scale's range (:func:`usegan.scoring.confidence.quality_map`; the app's per mode:
``UNSURE_SD_FRACTION``, chosen with this script). A
caution means something when it falls on wrong readings and spares right ones. The ROIs here (whole images, fp32):

* every false-hard region on the lesion-free scans of ``--real`` (:func:`usegan.training.fidelity.false_hard_regions`;
  on a lesion-free scan every such region is a wrong reading);
* the lesion of every hybrid case (``--hybrid`` of each type drawn into the same scans,
  :mod:`usegan.training.hybrid`): wrong when it does not read as its type is expected to
  (:func:`usegan.training.rfsim.reads_as_expected`).

For each ``sd_fraction`` of a grid: the share of wrong readings cautioned (``hit``), of right readings cautioned
(``false_alarm``) and Youden's J = hit - false_alarm; the grid's best J (the smallest fraction among ties). Writes
``<out>/caution_threshold.json`` and prints a table. The real scans are not in this repository (the BUSI normal
class; see ../shared/real-bmode/README).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

GRID = tuple(round(0.05 + 0.025 * k, 3) for k in range(23))  # 0.05 .. 0.60


def readings(engine, real: list, hybrids: list, mm_per_px: float) -> list[dict]:
    """The ROIs of the module docstring on ``engine``'s elastograms: ``{"kind", "wrong", "rgb", "sd", "mask"}``."""
    from fidelity_report import scalar_of

    from usegan.scoring import propose
    from usegan.training.fidelity import false_hard_regions
    from usegan.training.rfsim import reads_as_expected

    cmap, mode = engine.info.colormap, engine.info.mode
    rois = []
    for (_, _), out in zip(real, engine.generate_batch([image for _, image in real]), strict=True):
        scalar = np.nan_to_num(scalar_of(out, cmap), nan=0.5 * (cmap.vmin + cmap.vmax))
        for region in false_hard_regions(scalar, mode, mm_per_px):
            rois.append({"kind": "false-hard region", "wrong": True, "rgb": out.rgb, "sd": out.uncertainty,
                         "mask": region.mask})  # fmt: skip
    for case, out in zip(hybrids, engine.generate_batch([c.bmode for c in hybrids]), strict=True):
        score = propose(out.rgb, mode, case.mask, colormap=cmap, scalar=out.scalar).score
        rois.append({"kind": case.lesion_type, "wrong": not reads_as_expected(case.lesion_type, mode, score),
                     "rgb": out.rgb, "sd": out.uncertainty, "mask": case.mask})  # fmt: skip
    return rois


def sweep(rois: list[dict], colormap, grid=GRID) -> dict:
    """Per ``sd_fraction`` of ``grid``: hit, false alarm, J and cautioned counts per kind; and the best J."""
    from usegan.training.fidelity import cautioned

    wrong = [r for r in rois if r["wrong"]]
    right = [r for r in rois if not r["wrong"]]
    if not wrong or not right:
        raise SystemExit(f"need wrong and right readings, got {len(wrong)} wrong and {len(right)} right")
    rows = []
    for fraction in grid:
        flags = [bool(cautioned(r["rgb"], colormap, r["sd"], r["mask"], fraction)) for r in rois]
        hit = np.mean([f for f, r in zip(flags, rois, strict=True) if r["wrong"]])
        alarm = np.mean([f for f, r in zip(flags, rois, strict=True) if not r["wrong"]])
        kinds = {}
        for f, r in zip(flags, rois, strict=True):
            row = kinds.setdefault(r["kind"], {"wrong": 0, "wrong_cautioned": 0, "right": 0, "right_cautioned": 0})
            key = "wrong" if r["wrong"] else "right"
            row[key] += 1
            row[f"{key}_cautioned"] += int(f)
        rows.append({"sd_fraction": fraction, "hit": float(hit), "false_alarm": float(alarm),
                     "j": float(hit - alarm), "by_kind": kinds})  # fmt: skip
    best = max(rows, key=lambda row: (round(row["j"], 9), -row["sd_fraction"]))
    return {"n_wrong": len(wrong), "n_right": len(right), "grid": rows, "best": best["sd_fraction"]}


def main(argv: list[str] | None = None) -> int:
    from fidelity_report import load_engine, load_real

    from usegan.training.hybrid import hybrid_cases

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--real", type=Path, required=True, help="folder of real lesion-free scans")
    parser.add_argument("--hybrid", type=int, default=50, help="lesions of each type drawn into the scans")
    parser.add_argument("--hybrid-seed", type=int, required=True)
    parser.add_argument("--mm-per-px", type=float, default=0.18)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    engine = load_engine(args.model)
    real = load_real(args.real)
    hybrids = hybrid_cases(real, args.hybrid, args.hybrid_seed, args.mm_per_px)
    result = sweep(readings(engine, real, hybrids, args.mm_per_px), engine.info.colormap)
    result |= {"model": str(args.model), "version": engine.info.version, "real": str(args.real),
               "n_real": len(real), "hybrid": args.hybrid, "hybrid_seed": args.hybrid_seed}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "caution_threshold.json").write_text(json.dumps(result, indent=1))
    print(f"{result['version']}: {result['n_wrong']} wrong and {result['n_right']} right readings; best "
          f"sd_fraction {result['best']}")  # fmt: skip
    print("| sd_fraction | wrong cautioned (hit) | right cautioned (false alarm) | J |")
    print("|---|---|---|---|")
    for row in result["grid"]:
        print(f"| {row['sd_fraction']:.3f} | {row['hit']:.2f} | {row['false_alarm']:.2f} | {row['j']:+.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
