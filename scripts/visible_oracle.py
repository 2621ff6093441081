"""How far a reader that follows the B-mode can take the pre-score kappa on a phantom set.

    python scripts/visible_oracle.py --data test=data/tmp/test held-out=data/tmp/heldout
    python scripts/visible_oracle.py --data test=data/tmp/test --model data/models/usegan-strain-v6.pt

A lesion "the B-mode shows" is one with ``lesion_contrast >= 0.8`` (:mod:`usegan.training.metrics`, the rule
behind ``usegan evaluate``'s visible-lesion kappa). The *B-mode-visible oracle* reads every lesion the B-mode shows
from the true elastogram, and every other lesion as its surroundings: the true elastogram with the lesion replaced by
the median of a 10 px ring around it. Both are scored inside the true lesion outline by
:func:`usegan.scoring.propose`, as a generated elastogram is. Its kappa is what a model reaches that is perfect
wherever the B-mode shows the lesion and blind elsewhere: a reference, not a bound (a model can read some lesions
below the contrast rule from their margins or shadows, and the rule's threshold is a choice).

With ``--model`` the checkpoint is evaluated on the same sets (:func:`usegan.training.evaluate.evaluate_cases`)
and its kappa is split the same way. For SWE the lesion MAE (kPa) is given too (the model's: all / shown / not
shown). Prints a markdown table; fp32.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from usegan.agreement import quadratic_weighted_kappa  # noqa: E402
from usegan.colormaps import colormap_for  # noqa: E402
from usegan.phantom.writer import read_case  # noqa: E402
from usegan.scoring import propose  # noqa: E402
from usegan.training.evaluate import CLASSES, crop_case, evaluate_cases, truth_class  # noqa: E402
from usegan.training.metrics import VISIBLE_LESION_CONTRAST, lesion_contrast  # noqa: E402

RING_PX = 10  # the ring the lesion's stand-in value comes from (lesion_contrast's ring)
HARD_CLASS = {"strain": 4, "swe": 2}  # breast: Tsukuba 4-5; SWE Emax >= 80 kPa (suspicious)


def blind_reading(scalar: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """``scalar`` ``(H, W)`` with the pixels of ``mask`` set to the median of a ``RING_PX`` ring around it."""
    ring = ndimage.maximum_filter(mask, size=2 * RING_PX + 1) & ~mask & np.isfinite(scalar)
    out = scalar.copy()
    out[mask] = np.nanmedian(scalar[ring] if ring.any() else scalar)
    return out


def case_folders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if (p / "meta.json").exists())


def oracle_rows(folder: Path, mode: str) -> list[dict]:
    """Per scored lesion of ``folder``: name, truth, visibility and the oracle's pre-score."""
    cmap = colormap_for(mode)
    rows = []
    for path in case_folders(folder):
        case = crop_case(read_case(path), mode)
        truth = truth_class(case, mode)
        if truth is None:
            continue
        mask = case["mask"].astype(bool)
        scalar, _ = cmap.invert(case["real"])
        visible = lesion_contrast(case["bmode"].astype(np.float32), mask) >= VISIBLE_LESION_CONTRAST
        read = scalar if visible else blind_reading(scalar, mask)
        score = propose(cmap.apply(read), mode, mask, colormap=cmap, scalar=read).score
        if score is not None:
            error = float(np.nanmean(np.abs(read - scalar)[mask]))  # kPa for SWE; 0 where the lesion is shown
            rows.append({"name": path.name, "truth": truth, "visible": bool(visible), "oracle": score, "error": error})
    return rows


def kappa(rows: list[dict], key: str, visible: bool | None = None) -> str:
    pairs = [(r["truth"], r[key]) for r in rows if r.get(key) is not None and visible in (None, r["visible"])]
    if not pairs:
        return "n/a"
    truth, pred = zip(*pairs, strict=True)
    return f"{quadratic_weighted_kappa(list(truth), list(pred), CLASSES):.3f}"


def mean_error(rows: list[dict], key: str, visible: bool | None = None) -> str:
    values = [r[key] for r in rows if r.get(key) is not None and visible in (None, r["visible"])]
    return f"{np.mean(values):.1f}" if values else "n/a"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", required=True, help="NAME=FOLDER phantom sets")
    parser.add_argument("--modes", default="strain,swe")
    parser.add_argument("--model", action="append", default=[], help="checkpoint(s) to split the same way")
    args = parser.parse_args()
    sets = dict(item.split("=", 1) for item in args.data)
    engines = []
    if args.model:
        from usegan.inference import VirtualElastographer

        engines = [VirtualElastographer.from_checkpoint(m, precision="fp32") for m in args.model]
    models = "".join(f" {e.info.version} kappa (shown / not shown) |" for e in engines)
    print("| set | mode | lesions scored (the B-mode shows) | hard lesions (Tsukuba 4-5; SWE Emax >= 80 kPa) the "
          "B-mode does not show | B-mode-visible oracle kappa |" + models)  # fmt: skip
    print("|---" * (5 + len(engines)) + "|")
    for name, folder in sets.items():
        for mode in args.modes.split(","):
            rows = oracle_rows(Path(folder), mode)
            by_name = {r["name"]: r for r in rows}
            cells = []
            for engine in engines:  # one column per model, filled on the rows of its mode
                if engine.info.mode != mode:
                    cells.append("")
                    continue
                report = evaluate_cases(engine, case_folders(Path(folder)))
                key = engine.info.version
                for case in report.per_case:
                    if case["name"] in by_name:
                        by_name[case["name"]][key] = case["prescore"]
                        by_name[case["name"]][key + " error"] = case.get("mae_kpa_lesion")
                cells.append(f"{kappa(rows, key)} ({kappa(rows, key, True)} / {kappa(rows, key, False)})")
                if mode == "swe":
                    cells[-1] += "; lesion MAE " + " / ".join(
                        mean_error(rows, key + " error", v) for v in (None, True, False)
                    )
            hard_class = HARD_CLASS[mode]
            hidden_hard = sum(1 for r in rows if not r["visible"] and r["truth"] >= hard_class)
            mae = f" (lesion MAE {mean_error(rows, 'error')} kPa)" if mode == "swe" else ""
            hard = sum(1 for r in rows if r["truth"] >= hard_class)
            print(f"| {name} | {mode} | {len(rows)} ({sum(r['visible'] for r in rows)}) | {hidden_hard} of {hard} | "
                  f"{kappa(rows, 'oracle')}{mae} | " + " | ".join(cells) + " |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
