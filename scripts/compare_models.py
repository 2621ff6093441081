"""A candidate checkpoint against a baseline of the same mode on the same phantom sets, case by case.

    python scripts/compare_models.py --candidate runs/strain-dg/last.pt \
        --data test=data/tmp/test held-out=data/tmp/heldout --out data/tmp/compare

Per set and model (:func:`usegan.training.evaluate.set_summary`): kappa, kappa on lesions the B-mode shows, NCC,
SWE lesion MAE, carcinomas read softer than their truth and the largest off-map fraction; and the candidate's kappa
change over the baseline on the same cases, with a paired bootstrap interval
(:func:`usegan.research.stats.paired_kappa_change`): two models on one set differ far less by chance than two
separate intervals suggest. The baseline defaults to the bundled model of the candidate's mode. Writes
``compare.json`` and ``compare.md`` (a table) into ``--out``. Decide what a candidate must reach before running
this (docs/fidelity.md keeps the rules and their outcomes); ``scripts/rule_verdict.py`` judges it item by item.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from usegan.research.stats import KappaEstimate, paired_kappa_change  # noqa: E402
from usegan.settings import PRECISIONS  # noqa: E402


def named_sets(values: list[str]) -> dict[str, Path]:
    """``["test=path", ...]`` (or bare paths, named by their folder) -> ``{name: folder}``."""
    sets: dict[str, Path] = {}
    for value in values:
        name, _, path = value.rpartition("=") if "=" in value else ("", "", value)
        folder = Path(path)
        if not (folder / "index.csv").is_file():
            raise SystemExit(f"{folder}: not a phantom folder from `usegan phantom` (no index.csv)")
        sets[name or folder.name] = folder
    return sets


def table(results: dict, versions: dict[str, str]) -> str:
    from usegan.training.evaluate import SUMMARY_COLUMNS, summary_cells

    columns = ["set", "model", "kappa", "change vs baseline (95 % CI, paired)", *SUMMARY_COLUMNS]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for name, models in results.items():
        for role in ("baseline", "candidate"):
            m = models[role]
            change = KappaEstimate(**models["change"]).change_text if role == "candidate" else ""
            cells = [name, versions[role], f"{m['kappa']:.3f}", change, *summary_cells(m)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidate", type=Path, required=True, help="checkpoint to compare")
    parser.add_argument("--baseline", type=Path, help="checkpoint to compare with (default: the bundled one)")
    parser.add_argument("--data", nargs="+", required=True, help="phantom folders, NAME=FOLDER or FOLDER")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "tmp" / "compare")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "data" / "models", help="where the bundled are")
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="generator precision (fp32: reference)")
    args = parser.parse_args(argv)
    sets = named_sets(args.data)

    from usegan.checkpoint import bundled_checkpoints
    from usegan.inference import VirtualElastographer
    from usegan.training.evaluate import set_summary

    candidate = VirtualElastographer.from_checkpoint(args.candidate, precision=args.precision)
    mode = candidate.info.mode
    baseline_path = args.baseline or bundled_checkpoints(args.model_dir)[mode]
    baseline = VirtualElastographer.from_checkpoint(baseline_path, precision=args.precision)
    if baseline.info.mode != mode:
        raise SystemExit(f"the baseline is a {baseline.info.mode} model and the candidate a {mode} one")
    engines = {"baseline": baseline, "candidate": candidate}
    versions = {role: engine.info.version for role, engine in engines.items()}
    results: dict[str, dict] = {}
    for name, folder in sets.items():
        results[name] = {role: set_summary(engine, folder) for role, engine in engines.items()}
        pair = results[name]["baseline"]["cases"], results[name]["candidate"]["cases"]
        results[name]["change"] = asdict(paired_kappa_change(*pair))
        print(name, json.dumps(results[name]["change"]), flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    summary = {"models": versions, "mode": mode, "precision": args.precision, "sets": {k: str(v) for k, v in
               sets.items()}, "results": results}  # fmt: skip
    (args.out / "compare.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (args.out / "compare.md").write_text(table(results, versions), encoding="utf-8")
    print(table(results, versions))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
