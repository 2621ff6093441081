"""Reproduce the bundled models (``make model``): phantom data, USE-GAN strain + SWE, baseline, ablations, cards.

Stages (each skipped when its output exists, so an interrupted run resumes):

1. simulate the training set (``--train-cases``, seed 1000) and the fixed test set (300 cases, seed 9000) with
   ``usegan phantom``; the test seeds never overlap the training seeds;
2. train, two runs at a time with one thread each:
   ``strain`` and ``swe`` (USE-GAN), ``strain-unet`` (pix2pix U-Net, GAN + 100 L1 only),
   ``strain-noattn`` (USE-GAN without attention), ``strain-nocolorvgg`` (USE-GAN without Color and VGG terms);
3. continue ``strain`` and ``swe`` from their state to ``--long-steps`` in ``strain-long`` / ``swe-long`` (the
   bundled models; the equal-budget comparison above is made at ``--steps``);
4. ``usegan evaluate`` every run's best checkpoint on the test set;
5. per mode, choose ``<mode>`` or ``<mode>-long`` by pre-score kappa on the *validation* split (never the test set),
   copy it to ``data/models/`` and write its model card (``.md``).

The exact commands run are printed and written into the cards.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USEGAN = [sys.executable, "-m", "usegan"]
TRAIN_SEED, TEST_SEED = 1000, 9000

# The CPU recipe: 128x128, bf16 autocast, VGG on 64x64 up to relu3_1 (the full VGG19 costs ~6x the generator).
COMMON = [
    "--image-size",
    "128",
    "--batch-size",
    "6",
    "--bf16",
    "true",
    "--threads",
    "1",
    "--vgg-layers",
    "relu1_1,relu2_1,relu3_1",
    "--vgg-input-size",
    "64",
    "--val-every",
    "100",
    "--sample-every",
    "100",
    "--max-val-cases",
    "48",
    "--log-every",
    "20",
    "--quiet",
]
RUNS = {
    "strain": ["--mode", "strain"],
    "swe": ["--mode", "swe"],
    "strain-unet": [
        "--mode",
        "strain",
        "--architecture",
        "unet",
        "--base-channels",
        "16",
        "--w-color",
        "0",
        "--w-vgg",
        "0",
    ],
    "strain-noattn": ["--mode", "strain", "--use-attention", "false"],
    "strain-nocolorvgg": ["--mode", "strain", "--w-color", "0", "--w-vgg", "0"],
}
DESCRIPTIONS = {
    "strain": "USE-GAN (GAN + L1 + Color + VGG19)",
    "swe": "USE-GAN (GAN + L1 + Color + VGG19)",
    "strain-unet": "pix2pix U-Net baseline (unet_256 design at 128 px, i.e. unet_128; GAN + 100 L1)",
    "strain-noattn": "USE-GAN without spatial/channel attention",
    "strain-nocolorvgg": "USE-GAN without Color and VGG terms (GAN + L1)",
}


def sh(cmd: list[str], log: Path | None = None) -> subprocess.CompletedProcess:
    print("$", shlex.join(str(c) for c in cmd), flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log, "w") if log else open(os.devnull, "w") as fh:
        proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=fh, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {shlex.join(map(str, cmd))}; see {log}")
    return proc


def simulate(folder: Path, n: int, seed: int) -> Path:
    if not (folder / "index.csv").is_file():
        sh(
            [
                *USEGAN,
                "phantom",
                "-n",
                n,
                "--out",
                folder,
                "--seed",
                seed,
                "--size",
                256,
                "--workers",
                2,
                "--no-true-strain",
                "--quiet",
            ]
        )
    return folder


def finished(out: Path, steps: int) -> bool:
    if not (out / "best.pt").is_file() or json.loads((out / "config.json").read_text())["steps"] != steps:
        return False
    return any(json.loads(line).get("event") == "done" for line in (out / "log.jsonl").read_text().splitlines())


def train_run(name: str, train: Path, work: Path, steps: int, start_from: Path | None = None) -> Path:
    """Train run ``name`` (a key of RUNS, or ``<key>-long``) to ``steps``; ``start_from`` seeds its state."""
    out = work / name
    if finished(out, steps):
        return out
    key = name.removesuffix("-long")
    version = f"usegan-{key}-v1"  # only one run per mode is shipped (see select_on_validation)
    cmd = [*USEGAN, "train", "--data", train, "--out", out, "--steps", steps, "--version", version]
    cmd += [*COMMON, *RUNS[key]]
    out.mkdir(parents=True, exist_ok=True)
    resume = out / "state.pt"
    if start_from is not None and not resume.is_file():
        shutil.copyfile(start_from, resume)
    if resume.is_file():
        cmd += ["--resume", resume]
    sh(cmd, out / "train.stderr.log")
    return out


def validation_folder(work: Path, train: Path) -> Path:
    """The training folder's seeded 10% hold-out (the trainer's own validation split) as a folder of links."""
    from usegan.training.data import train_val_split

    _, val = train_val_split(train, "strain", 128, False, 0.1, 0)
    out = work / "phantom-val"
    out.mkdir(exist_ok=True)
    for index in val.indices:
        name = val.dataset.base.names[index]
        if not (out / name).exists():
            (out / name).symlink_to((train / name).resolve())
    return out


def select_on_validation(work: Path, train: Path, runs: dict) -> dict[str, str]:
    """For each mode, ship the run (``<mode>`` or ``<mode>-long``) with the higher pre-score kappa on the
    *validation* split (ties: higher SSIM). The test set is never used to choose."""
    val = validation_folder(work, train)
    chosen, table = {}, {}
    for mode in ("strain", "swe"):
        candidates = [n for n in (mode, f"{mode}-long") if n in runs]
        for name in candidates:
            table[name] = evaluate(runs[name], val, tag="val")
        if candidates:
            chosen[mode] = max(candidates, key=lambda n: (round(table[n]["kappa"], 3), table[n]["ssim_box"]))
    (work / "validation_selection.json").write_text(json.dumps({"chosen": chosen, "validation": table}, indent=2))
    return chosen


def evaluate(run: Path, test: Path, tag: str = "eval") -> dict:
    cached = run / f"{tag}.json"
    if cached.is_file() and cached.stat().st_mtime > (run / "best.pt").stat().st_mtime:
        return json.loads(cached.read_text())
    proc = sh(
        [
            *USEGAN,
            "evaluate",
            "--model",
            run / "best.pt",
            "--data",
            test,
            "--json",
            "--csv",
            run / f"{tag}_per_case.csv",
        ]
    )
    cached.write_text(proc.stdout)
    return json.loads(proc.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "runs" / "bundled", help="work folder")
    parser.add_argument("--train-cases", type=int, default=1500)
    parser.add_argument("--test-cases", type=int, default=300)
    parser.add_argument("--steps", type=int, default=1500, help="optimisation steps per run")
    parser.add_argument("--long-steps", type=int, default=5000, help="steps of the bundled strain/swe models")
    parser.add_argument("--runs", default=",".join(RUNS), help="comma-separated subset of " + ",".join(RUNS))
    parser.add_argument("--parallel", type=int, default=2, help="runs trained at once")
    parser.add_argument("--skip-cards", action="store_true")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train = simulate(args.work / "phantom-train", args.train_cases, TRAIN_SEED)
    names = [n for n in args.runs.split(",") if n]
    with ThreadPoolExecutor(args.parallel) as pool:
        runs = dict(zip(names, pool.map(lambda n: train_run(n, train, args.work, args.steps), names), strict=True))
        longs = [n for n in ("strain", "swe") if n in runs]
        runs.update(
            zip(
                [f"{n}-long" for n in longs],
                pool.map(
                    lambda n: train_run(f"{n}-long", train, args.work, args.long_steps, runs[n] / "state.pt"), longs
                ),
                strict=True,
            )
        )
    test = simulate(args.work / "phantom-test", args.test_cases, TEST_SEED)
    results = {name: evaluate(run, test) for name, run in runs.items()}
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    print(
        json.dumps(
            {
                n: {k: r.get(k) for k in ("ssim_box", "hist_intersection_box", "kappa", "mae_kpa_lesion")}
                for n, r in results.items()
            },
            indent=2,
        )
    )
    if not args.skip_cards:
        from model_card import write_bundled_models

        chosen = select_on_validation(args.work, train, runs)
        write_bundled_models(args.work, results, chosen)
    print(f"total wall time {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
