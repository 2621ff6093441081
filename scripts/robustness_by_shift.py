"""Which departure from the training scanner costs the bundled models what: the held-out scanner, one group at a time.

    python scripts/robustness_by_shift.py --out data/tmp/shift [-n 150] [--seed 9500]

The held-out scanner test set moves every imaging setting outside the training ranges at once, so its kappa says
*that* the models do not hold up, not *why*. Here the same ``n`` phantom cases (same seed: the same tissue and
lesions) are rendered with the training scanner, with each ``held-out:<group>`` profile of
:data:`usegan.phantom.scanner.SHIFT_GROUPS` (the training case of the same seed with that group of settings drawn
from the held-out ranges, every other draw and the elastography box unchanged: ``SHIFTS``) and with the full
held-out scanner (every draw anew), and each bundled model is evaluated on each set with
:func:`usegan.training.evaluate.set_summary`.

Writes ``shift.json`` and ``shift.md`` (a table: kappa and its change from the training scanner on the same lesions
with a paired bootstrap interval, kappa on lesions the B-mode shows, NCC, SWE lesion MAE and carcinomas read softer
than their truth, per profile and mode) into ``--out``; the simulated sets are kept there
(``<profile>/``) and reused on a second run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from usegan.phantom.case import PHANTOM_VERSION  # noqa: E402
from usegan.phantom.scanner import SHIFT_GROUPS  # noqa: E402
from usegan.research.stats import KappaEstimate  # noqa: E402
from usegan.settings import PRECISIONS  # noqa: E402


def profiles() -> list[str]:
    return ["training", *(f"held-out:{group}" for group in SHIFT_GROUPS), "held-out"]


def simulate(folder: Path, profile: str, n: int, seed: int) -> None:
    """``n`` cases of ``profile`` into ``folder`` with ``usegan phantom``; kept for the next run with the same
    profile, seed and count (``simulated.json`` says which), simulated anew otherwise."""
    stamp = folder / "simulated.json"
    wanted = {"profile": profile, "seed": seed, "n": n, "phantom": PHANTOM_VERSION}
    if stamp.exists() and json.loads(stamp.read_text(encoding="utf-8")) == wanted:
        return
    if folder.exists():
        shutil.rmtree(folder)
    command = [sys.executable, "-m", "usegan", "phantom", "-n", str(n), "--seed", str(seed), "--size", "256"]
    subprocess.run([*command, "--scanner", profile, "--out", str(folder), "--quiet"], check=True, cwd=ROOT)
    stamp.write_text(json.dumps(wanted), encoding="utf-8")


def paired_difference(base: dict, shifted: dict) -> dict:
    """Kappa on ``shifted`` minus kappa on ``base`` over the cases both scored, with a paired bootstrap interval
    (the fields of a :class:`usegan.research.stats.KappaEstimate`): the same lesions, imaged two ways (a field-of-view
    shift draws the tissue in other pixels, and a case whose truth then differs is left out:
    :func:`usegan.research.stats.paired_kappa_change`)."""
    from usegan.research.stats import paired_kappa_change

    return asdict(paired_kappa_change(base["cases"], shifted["cases"]))


def table(results: dict) -> str:
    from usegan.training.evaluate import SUMMARY_COLUMNS, summary_cells

    columns = ["scanner", "mode", "kappa", "change vs training (95 % CI, paired)", *SUMMARY_COLUMNS]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for profile, modes in results.items():
        for mode, m in modes.items():
            change = KappaEstimate(**m["vs_training"]).change_text if "vs_training" in m else ""
            cells = [profile, mode, f"{m['kappa']:.3f}", change, *summary_cells(m)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "tmp" / "shift")
    parser.add_argument("-n", "--count", type=int, default=150, help="cases per profile")
    parser.add_argument("--seed", type=int, default=9500, help="phantom seed, the same for every profile")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "data" / "models")
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="generator precision (fp32: reference)")
    args = parser.parse_args(argv)

    from usegan.checkpoint import bundled_checkpoints
    from usegan.inference import VirtualElastographer
    from usegan.training.evaluate import set_summary

    engines = {
        mode: VirtualElastographer.from_checkpoint(path, precision=args.precision)
        for mode, path in sorted(bundled_checkpoints(args.model_dir).items())
    }
    results: dict[str, dict] = {}
    for profile in profiles():
        folder = args.out / profile.replace(":", "-")
        simulate(folder, profile, args.count, args.seed)
        results[profile] = {mode: set_summary(engine, folder) for mode, engine in engines.items()}
        if profile != "training":
            for mode, m in results[profile].items():
                m["vs_training"] = paired_difference(results["training"][mode], m)
        print(profile, json.dumps({mode: {k: v for k, v in m.items() if k != "cases"} for mode, m in
                                   results[profile].items()}), flush=True)  # fmt: skip
    versions = {mode: engine.info.version for mode, engine in engines.items()}
    summary = {"models": versions, "n": args.count, "seed": args.seed, "precision": args.precision, "results": results}
    (args.out / "shift.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (args.out / "shift.md").write_text(table(results), encoding="utf-8")
    print(table(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
