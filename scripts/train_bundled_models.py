"""Reproduce the bundled models (``make model``): phantom data, USE-GAN strain + SWE, baseline, ablations, cards.

Stages (each skipped when its output exists, so an interrupted run resumes):

1. simulate the base training set (``--train-cases``, seed 1000, training scanner profile), an extra training set
   (``--extra-cases``, seed 2000) merged with it for stage 3 (``phantom-big``: links, no copies), the
   in-distribution test set (300 cases, seed 9000) and the *held-out scanner* test set (300 cases, seed 9500,
   ``--scanner held-out``: imaging settings and overlays outside the training ranges); test seeds never overlap
   training seeds;
2. **base**: ``strain-base`` (USE-GAN, colour-map head, fill masking, randomised scanners) for ``--base-steps`` on
   the base set (``swe-base`` too, for the record: it never learned lesion stiffness, see its card);
3. **lesion stage, strain** (bundled ``strain``): from the base run's last checkpoint, ``--steps`` more on the
   merged set with the lesion terms (patches placed on a lesion 60 % of the time, lesion pixels that the B-mode
   shows weighted 5x in the L1 and scalar losses), learning rate 1e-4;
4. **SWE from strain** (bundled ``swe``): from the strain lesion stage with its position logits negated (the strain
   map's hard end is the SWE map's stiff end: same features, the other end of the map), ``--swe-steps`` on the
   merged set with the lesion terms at 70 % / 11x, the lesion-crop discriminator and the cross-entropy scalar loss.
   An SWE model trained from its own base pushed every dark region to the soft end (fat lobules outnumber
   carcinomas) and neither L1 nor cross-entropy fine-tuning pulled carcinomas back within 2000 steps;
5. **equal budget** (``--runs``), every run from scratch on the merged set for ``--steps`` with the stage-3
   recipe: ``strain-scratch`` (USE-GAN), ``strain-unet`` (pix2pix U-Net, GAN + 100 L1), ``strain-rgbhead``
   (free-RGB head instead of the colour-map head), ``strain-rgb-nomask`` (free RGB and no fill masking);
6. **phantom-2 stage** (``strain-v4``, bundled until v6; ``swe-v4``, :func:`phantom2_legs`): phantom-2 adds broad
   acoustic shadows (appearance only) and deep chest walls; from the stage-3 / stage-4 checkpoints, two legs at
   native 256 px (whole scaled boxes, batch 12, VGG19 relu1_1-relu5_1 at full size), leg a on 3000 cases of seed
   3000, leg b from leg a on the first 2000 of them, for the steps the lent GPU reached in its time budget
   (:data:`V4_LEGS`); and the equal-budget pair ``eq-usegan`` / ``eq-unet`` from scratch at constant learning
   rate for :data:`EQ_STEPS` (``scripts/gpu_stage.sh`` ran this stage on an H100 with ``--phantom2-only``);
7. **phantom-3 stage, SWE** (bundled ``swe-v5``, :func:`phantom3_stage`): phantom-3 adds dark bands along the lateral
   image edges (probe-edge drop-out, appearance only); from ``swe-v4``, whole 256 px boxes on this CPU (batch 4,
   VGG19 relu1_1-relu3_1 on 128 px copies, two threads) on 1500 cases of seed 4000 for the steps a 1500 s time
   budget reached (:data:`V5_RUNS`);
   and the randomisation ablation (:func:`randomisation_pair`): USE-GAN from scratch for 600 steps of the stage-3
   recipe on those 1500 cases and on the same seeds rendered with one fixed imaging chain (``--scanner one-chain``);
8. (stage 8 of the script, the GPU candidates of :data:`GPU_P3_RUNS`, runs only on a lent GPU with
   ``--phantom3-gpu-only``: tried once, not shipped, so ``make model`` does not repeat it; see docs/fidelity.md)
9. **style stage, strain** (bundled ``strain-v6``, :func:`style_stage`): from ``strain-v4`` on this CPU (the
   stage-7 recipe) on 1500 phantom-3 cases of seed 4000 with more shallow lesions and the real-like superficial look
   (``--shallow 0.4 --superficial 0.5``), the depth-gain (TGC) augmentation and unpaired appearance transfer from
   the first 67 real lesion-free scans of ``--real`` (``--style-dir``, ``--style-beta 0.03``: half of the B-modes
   take a real scan's low-frequency Fourier amplitude; the scans have no elastogram and supervise nothing), 1461
   steps (``strain-sst2``); ``strain-v6`` is the weight-space average 0.5 ``strain-v4`` + 0.5 ``strain-sst2``
   (:data:`AVERAGES`). Needs ``--real`` (the BUSI normal class, not in this repository): without it ``make model``
   refuses to start;
10. ``usegan evaluate`` every run on both test sets; copy the final checkpoints of the runs
    :data:`model_card.VERSIONS` names (``strain-v6``, ``swe-v5``; end of the learning-rate decay or the fixed
    average, no choice on the test sets) to ``data/models/`` and write their model cards (``.md``).

CPU recipe (stages 2-5): the generator runs at 256 px; training uses random 128 px patches of the box scaled as
inference scales it (a quarter of the cost per image, same resolution), bf16 autocast, VGG19 on 64 px copies up to
relu3_1. The test sets and every training set are simulated with the current phantom (phantom-3): the shipped
checkpoints' stages 2-5 saw phantom-1 cases, the same cases without the broad shadows, deep chest walls and edge
bands, and stage 6 phantom-2 cases (without the edge bands).

bf16 autocast (every CPU stage) is fast only on a CPU with AMX, as the shipped stages had. On a 2-core AVX2 CPU
without it a stage-9 step took over 17 s in bf16 against 3.1 s in fp32 (2026-11-29), so ``make model`` takes about
five times longer there; training in fp32 instead changes the arithmetic and with it the checkpoint (an fp32 rebuild
of an SWE candidate measured differently from its bf16 run: docs/fidelity.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USEGAN = [sys.executable, "-m", "usegan"]
TRAIN_SEED, EXTRA_SEED, TEST_SEED, HELD_OUT_SEED = 1000, 2000, 9000, 9500
MAIN_RUNS = ("strain", "swe")
RUNS_VERSION = "v3"  # the version RUNS stamp: their stage-3/4 runs "strain" and "swe" made the v3 models
LESION = ["--w-lesion", "4", "--lesion-focus", "0.6"]  # stage 3 and 4: the lesion terms
FINE_TUNE = ["--lr-g", "1e-4", "--lr-d", "1e-4"]

COMMON = [
    "--image-size",
    "256",
    "--patch-size",
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
    "250",
    "--sample-every",
    "500",
    "--max-val-cases",
    "48",
    "--log-every",
    "50",
    "--quiet",
]
RUNS = {
    "strain-base": ["--mode", "strain"],
    "swe-base": ["--mode", "swe"],
    "strain": ["--mode", "strain", *LESION, *FINE_TUNE],
    "swe": ["--mode", "swe", "--init-invert-position", "true", "--w-lesion", "10", "--lesion-focus", "0.7",
            "--local-discriminator", "true", "--scalar-loss", "bce"],
    "strain-scratch": ["--mode", "strain", *LESION],
    "strain-unet": ["--mode", "strain", "--architecture", "unet", "--base-channels", "16", "--w-color", "0",
                    "--w-vgg", "0", *LESION],
    "strain-rgbhead": ["--mode", "strain", "--output", "rgb", *LESION],
    "strain-rgb-nomask": ["--mode", "strain", "--output", "rgb", "--mask-fill", "false", *LESION],
    "strain-scratch-p3": ["--mode", "strain", *LESION, "--num-workers", "1"],
    "strain-onechain": ["--mode", "strain", *LESION, "--num-workers", "1"],
}  # fmt: skip
# Stage 6 (v4): fine-tune on phantom-2 (broad shadows, deep chest walls) at native 256 px, batch 12, full VGG19;
# trained on a lent GPU for a time budget (the cards give the steps each run reached: pass them as --v4-steps to
# reproduce on a CPU). eq-usegan / eq-unet: the equal-budget pair at constant learning rate, compared at the
# largest snapshot both reach.
PHANTOM2_SEED = 3000
GPU_COMMON = ["--image-size", "256", "--patch-size", "256", "--batch-size", "12", "--bf16", "true",
              "--vgg-input-size", "0", "--val-every", "250", "--sample-every", "500", "--max-val-cases", "48",
              "--log-every", "50", "--quiet"]  # fmt: skip
SNAPSHOTS = ",".join(str(k) for k in range(500, 40001, 500))
V4_CASES, V4_CASES_B = 3000, 2000  # the GPU legs' training sets (the second leg's: the first 2000 of the same seed)
V4_LEGS = {"strain-v4": (1314, 735), "swe-v4": (1247, 703)}  # steps each GPU leg reached in its time budget
EQ_STEPS = 1000  # the largest snapshot both equal-budget runs reached on the GPU
# run -> (flags, the stage-3 / stage-4 run it starts from; None = from scratch)
V4_RUNS = {
    "strain-v4": (["--mode", "strain", *LESION, *FINE_TUNE], "strain"),
    "swe-v4": (["--mode", "swe", "--w-lesion", "10", "--lesion-focus", "0.7", "--local-discriminator", "true",
                "--scalar-loss", "bce", *FINE_TUNE], "swe"),
    "eq-usegan": (["--mode", "strain", *LESION, "--decay-start", "1", "--snapshot-steps", SNAPSHOTS], None),
    "eq-unet": (["--mode", "strain", "--architecture", "unet", "--base-channels", "16", "--w-color", "0",
                 "--w-vgg", "0", *LESION, "--decay-start", "1", "--snapshot-steps", SNAPSHOTS], None),
}  # fmt: skip
# Stage 7 (v5, SWE only): fine-tune swe-v4 on phantom-3 (dark bands along the lateral image edges) on this 2-core
# CPU: whole 256 px boxes, batch 4, VGG19 relu1_1-relu3_1 on 128 px copies, two threads, for a 1500 s time budget
# (the third field of V5_RUNS: the steps it reached). Shipped because the false-hard rate on the real normal scans
# fell with the phantom metrics held (docs/fidelity.md): the real scans served for that decision.
PHANTOM3_SEED, V5_CASES = 4000, 1500
CPU_256 = ["--image-size", "256", "--patch-size", "256", "--batch-size", "4", "--bf16", "true", "--threads", "2",
           "--vgg-layers", "relu1_1,relu2_1,relu3_1", "--vgg-input-size", "128", "--val-every", "250",
           "--sample-every", "250", "--max-val-cases", "24", "--log-every", "25", "--quiet"]  # fmt: skip
# run -> (flags, the run it starts from, steps)
V5_RUNS = {"swe-v5": (V4_RUNS["swe-v4"][0], "swe-v4", 1464)}
# Stage 8 (v6 candidates, lent GPU): the bundled models fine-tuned on phantom-3 (seed 4000; 2400 cases, --v4-cases) at
# the GPU recipe of stage 6 (whole 256 px boxes, batch 12, full VGG19), with the depth-gain (TGC) augmentation; and the
# same strain recipe without it as the control. The CPU fine-tunes of strain v4 (batch 4, VGG at 128 px) lost held-out
# kappa with and without the augmentation; at this GPU recipe they lost it too (docs/fidelity.md).
DEPTH_GAIN = ["--depth-gain", "0.3"]
GPU_P3_RUNS = {
    "strain-gpu-dg": ([*V4_RUNS["strain-v4"][0], *DEPTH_GAIN], "strain-v4"),
    "strain-gpu-control": (V4_RUNS["strain-v4"][0], "strain-v4"),
    "swe-gpu-dg": ([*V4_RUNS["swe-v4"][0], *DEPTH_GAIN], "swe-v5"),
}
# Stage 9 (v6, strain only): strain-v4 fine-tuned on this CPU (CPU_256) on phantom-3 cases with more shallow lesions
# and the real-like superficial look (SUPERFICIAL_CASES of PHANTOM3_SEED with SUPERFICIAL_FLAGS), the depth-gain (TGC)
# augmentation and unpaired appearance transfer from real lesion-free scans (``--style-dir``: the first STYLE_SCANS
# of ``--real`` by name; they have no elastogram and supervise nothing; the others stay unseen for the checks), for
# the steps in the table; the shipped strain-v6 is the weight-space average of strain-v4 and that run (AVERAGES,
# usegan.training.ensemble.interpolate). Shipped by a rule set before it was evaluated (docs/fidelity.md): the
# unseen real scans served for that decision.
SUPERFICIAL_FLAGS, SUPERFICIAL_CASES = ["--shallow", "0.4", "--superficial", "0.5"], 1500
STYLE_SCANS = 67
V6_RUNS = {"strain-sst2": ([*V4_RUNS["strain-v4"][0], *DEPTH_GAIN, "--style-beta", "0.03"], "strain-v4", 1461)}
AVERAGES = {"strain-v6": ("strain-v4", "strain-sst2", 0.5)}  # run -> (a, b, alpha): (1 - alpha) a + alpha b
CPU_RUNS = {**V5_RUNS, **V6_RUNS}  # runs with the CPU_256 recipe
# GPU stage -> (its runs, the phantom seed of its training set, that set's folder under --work)
GPU_STAGES = {"phantom2": (V4_RUNS, PHANTOM2_SEED, "phantom2-train"), "phantom3": (GPU_P3_RUNS, PHANTOM3_SEED,
              "phantom3-gpu-train")}  # fmt: skip
# The randomisation ablation: USE-GAN from scratch with the stage-3 recipe for RANDOMISATION_STEPS on the phantom-3
# set of stage 7 (a random imaging chain per case) and on the same seeds rendered with one fixed chain
# (``--scanner one-chain``); run -> training set.
RANDOMISATION_RUNS = {"strain-scratch-p3": "phantom3-train", "strain-onechain": "phantom3-onechain"}
RANDOMISATION_STEPS = 600
BASES = {"strain": "strain-base", "swe": "strain"}  # what each bundled run starts from
EQUAL_BUDGET = ("strain-scratch", "strain-unet", "strain-rgbhead", "strain-rgb-nomask")
DESCRIPTIONS = {
    "strain": "USE-GAN (GAN + L1 + Color + VGG19), colour-map head, fill masking, lesion terms; base + fine-tune",
    "swe": "USE-GAN (GAN + L1 + Color + VGG19), colour-map head, fill masking, lesion terms; base + fine-tune",
    "strain-scratch": "USE-GAN, colour-map head, fill masking, lesion terms, from scratch",
    "strain-unet": "pix2pix U-Net baseline (unet_128 at 128 px patches; GAN + 100 L1), colour-map head",
    "strain-rgbhead": "USE-GAN with a free-RGB tanh head (ablation of the colour-map head)",
    "strain-rgb-nomask": "USE-GAN, free-RGB head, no fill masking (ablation of fill masking too)",
    "strain-scratch-p3": "USE-GAN, colour-map head, fill masking, lesion terms, from scratch, random imaging chains",
    "strain-onechain": "the same on the same seeds rendered with one fixed imaging chain (randomisation ablation)",
    "eq-usegan": "USE-GAN, colour-map head, fill masking, lesion terms, from scratch, constant learning rate",
    "eq-unet": "pix2pix U-Net baseline (unet_256 depth, ngf 16; GAN + 100 L1), colour-map head, constant learning rate",
}


def sh(cmd: list[str], log: Path | None = None) -> subprocess.CompletedProcess:
    print("$", shlex.join(str(c) for c in cmd), flush=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    with open(log, "w") if log else open(os.devnull, "w") as fh:
        proc = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=fh, text=True, env=env, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"command failed ({proc.returncode}): {shlex.join(map(str, cmd))}; see {log}")
    return proc


def simulate(
    folder: Path, n: int, seed: int, scanner: str = "training", workers: int = 2, extra: Sequence[str] = ()
) -> Path:
    if not (folder / "index.csv").is_file():
        sh([*USEGAN, "phantom", "-n", n, "--out", folder, "--seed", seed, "--size", 256, "--workers", workers,
            "--no-true-strain", "--quiet", "--scanner", scanner, *extra])  # fmt: skip
    return folder


def finished(out: Path, steps: int) -> bool:
    if not (out / "best.pt").is_file() or json.loads((out / "config.json").read_text())["steps"] != steps:
        return False
    return any(json.loads(line).get("event") == "done" for line in (out / "log.jsonl").read_text().splitlines())


def merged(folder: Path, parts: list[Path]) -> Path:
    """One training folder over several ``usegan phantom`` folders: an index.csv whose names are ``<k><case>``
    and a link per case (no copies)."""
    import csv

    if (folder / "index.csv").is_file():
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for k, part in enumerate(parts):
        with (part / "index.csv").open(newline="") as fh:
            for row in csv.DictReader(fh):
                link = folder / f"{'abcdefgh'[k]}{row['name']}"
                if not link.exists():
                    link.symlink_to((part / row["name"]).resolve(), target_is_directory=True)
                rows.append({**row, "name": link.name})
    with (folder / "index.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


def continuation(out: Path, init: Path | None) -> list:
    """``usegan train`` flags to go on in ``out``: resume its ``state.pt`` when there, else start from ``init``."""
    if (out / "state.pt").is_file():
        return ["--resume", out / "state.pt"]
    return ["--init-from", init] if init else []


def train_run(
    name: str, train: Path, work: Path, steps: int, snapshot: int | None = None, init_from: Path | None = None
) -> Path:
    """Train run ``name`` (a key of RUNS) to ``steps``; resumes from its own ``state.pt`` when interrupted."""
    out = work / name
    if finished(out, steps):
        return out
    version = f"usegan-{name}-{RUNS_VERSION}"
    cmd = [*USEGAN, "train", "--data", train, "--out", out, "--steps", steps, "--version", version]
    cmd += [*COMMON, *RUNS[name]]
    if snapshot:
        cmd += ["--snapshot-steps", snapshot]
    out.mkdir(parents=True, exist_ok=True)
    sh([*cmd, *continuation(out, init_from)], out / "train.stderr.log")
    return out


def start_run(
    name: str,
    out: Path,
    train: Path,
    steps: int,
    init: Path | None,
    budget_s: float = 0.0,
    device: str = "",
    loader_workers: int = 1,
    extra_flags: Sequence = (),
) -> subprocess.Popen | None:
    """Start stage-6, -7, -8 or -9 run ``name`` (a key of :data:`V4_RUNS`, :data:`V5_RUNS`, :data:`GPU_P3_RUNS` or
    :data:`V6_RUNS`) in ``out`` as a background process (None when it has finished already), with ``extra_flags``
    after the table's; resumes from its ``state.pt``, else starts from ``init``."""
    if finished(out, steps):
        return None
    common = [*CPU_256] if name in CPU_RUNS else [*GPU_COMMON]
    extra = {**V4_RUNS, **CPU_RUNS, **GPU_P3_RUNS}[name][0]
    cmd = [*USEGAN, "train", "--data", train, "--out", out, "--steps", steps, "--version", f"usegan-{name}",
           *common, "--num-workers", loader_workers, *extra, *extra_flags]  # fmt: skip
    if budget_s:
        cmd += ["--time-budget-s", budget_s]
    if device:
        cmd += ["--device", device]
    out.mkdir(parents=True, exist_ok=True)
    cmd += continuation(out, init)
    print("$", shlex.join(str(c) for c in cmd), flush=True)
    log = open(out / "train.stderr.log", "w")  # noqa: SIM115 - the child holds it; closed when it exits
    # one thread per process unless the flags say otherwise: on the GPU machine four trainers with 16 spinning
    # OpenMP threads each starved their data workers (39 images/s a run, the U-Net as slow as USE-GAN: data-bound)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([str(c) for c in cmd], stdout=log, stderr=log, cwd=ROOT, env=env)


def wait_all(procs: dict[str, subprocess.Popen | None]) -> None:
    failed = [name for name, proc in procs.items() if proc is not None and proc.wait() != 0]
    if failed:
        raise SystemExit(f"run(s) failed: {', '.join(failed)}; see their train.stderr.log")


def gpu_stage(
    stage: str,
    work: Path,
    names: list[str],
    steps: int,
    budget_s: float,
    cases: int,
    workers: int,
    device: str = "",
    init_dir: Path | None = None,
) -> dict[str, Path]:
    """A stage on a lent GPU (a key of :data:`GPU_STAGES`: stage 6 ``phantom2`` with ``--phantom2-only``, stage 8
    ``phantom3`` with ``--phantom3-gpu-only``): simulate ``cases`` cases of the stage's seed and train its runs
    ``names`` side by side, each for ``steps`` or until ``budget_s`` (0 = no budget). A run that starts from a
    checkpoint starts from ``init_dir/<run>.pt`` (stage 6's first leg: copies of the v3 checkpoints; its second: the
    first leg's; stage 8: copies of the bundled checkpoints its table names)."""
    table, seed, folder = GPU_STAGES[stage]
    unknown = sorted(set(names) - set(table))
    if unknown:
        raise SystemExit(f"unknown {stage} run(s) {', '.join(unknown)}; choose from {', '.join(table)}")
    missing = [n for n in names if table[n][1] and not (init_dir and (init_dir / f"{n}.pt").is_file())]
    if missing:
        raise SystemExit(f"{', '.join(missing)} start(s) from a checkpoint: pass --v4-init-dir DIR holding <run>.pt")
    train = simulate(work / folder, cases, seed, workers=workers)
    loader_workers = max(1, (os.cpu_count() or 2) // max(1, len(names)) - 1)
    procs = {}
    for name in names:
        init = (init_dir / f"{name}.pt").resolve() if init_dir and table[name][1] else None
        procs[name] = start_run(name, work / name, train, steps, init, budget_s, device, loader_workers)
    wait_all(procs)
    return {name: work / name for name in names}


def phantom2_legs(work: Path, inits: dict[str, Path], workers: int, eq: bool) -> dict[str, Path]:
    """Stage 6 in ``make model``: the two legs of the shipped v4 models for the steps their GPU legs reached
    (:data:`V4_LEGS`), leg a on :data:`V4_CASES` phantom-2 cases from the stage-3 / stage-4 checkpoints (``inits``:
    run -> checkpoint), leg b on the first ``V4_CASES_B`` of them from leg a; with ``eq`` the equal-budget pair for
    :data:`EQ_STEPS`. Runs of a leg train side by side."""
    legs = {
        "a": simulate(work / "phantom2-train", V4_CASES, PHANTOM2_SEED, workers=workers),
        "": simulate(work / f"phantom2-train-{V4_CASES_B}", V4_CASES_B, PHANTOM2_SEED, workers=workers),
    }
    procs: dict[str, subprocess.Popen | None] = {}
    if eq:
        for name in ("eq-usegan", "eq-unet"):
            procs[name] = start_run(name, work / name, legs["a"], EQ_STEPS, None)
    for i, (leg, data) in enumerate(legs.items()):
        leg_procs = {}
        for name, steps in V4_LEGS.items():
            init = inits[name] if i == 0 else work / f"{name}a" / "last.pt"
            leg_procs[name + leg] = start_run(name, work / f"{name}{leg}", data, steps[i], init)
        wait_all(leg_procs)
    wait_all(procs)
    return {name: work / name for name in (*V4_LEGS, *(("eq-usegan", "eq-unet") if eq else ()))}


def phantom3_stage(work: Path, inits: dict[str, Path], workers: int) -> dict[str, Path]:
    """Stage 7 in ``make model``: each run of :data:`V5_RUNS` on :data:`V5_CASES` phantom-3 cases from its stage-6
    checkpoint (``inits``: run -> checkpoint) for the steps it reached on this CPU, one after the other (each takes
    both cores)."""
    data = simulate(work / "phantom3-train", V5_CASES, PHANTOM3_SEED, workers=workers)
    for name, (_, _, steps) in V5_RUNS.items():
        wait_all({name: start_run(name, work / name, data, steps, inits[name])})
    return {name: work / name for name in V5_RUNS}


def style_scans(work: Path, real: Path) -> Path:
    """``work/real-style``: links to the first :data:`STYLE_SCANS` images of ``real`` by name (the unlabelled
    target-domain scans of stage 9; the others are kept unseen for the real-scan checks). Raises ``SystemExit``
    when ``real`` holds fewer."""
    from usegan.datasets import IMAGE_SUFFIXES

    scans = sorted(p for p in real.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(scans) < STYLE_SCANS:
        raise SystemExit(f"stage 9 needs {STYLE_SCANS} real lesion-free scans in {real}, found {len(scans)}")
    folder = work / "real-style"
    folder.mkdir(parents=True, exist_ok=True)
    for scan in scans[:STYLE_SCANS]:
        if not (folder / scan.name).exists():
            (folder / scan.name).symlink_to(scan.resolve())
    return folder


def style_stage(work: Path, inits: dict[str, Path], real: Path, workers: int) -> dict[str, Path]:
    """Stage 9 in ``make model``: each run of :data:`V6_RUNS` on :data:`SUPERFICIAL_CASES` cases of
    :data:`PHANTOM3_SEED` simulated with :data:`SUPERFICIAL_FLAGS`, from its checkpoint in ``inits``, with the
    appearance of :func:`style_scans` of ``real`` mixed in; then each average of :data:`AVERAGES` (its folder holds
    ``last.pt`` only)."""
    from usegan.training.ensemble import interpolate

    data = simulate(work / "phantom3-sup-train", SUPERFICIAL_CASES, PHANTOM3_SEED, workers=workers,
                    extra=SUPERFICIAL_FLAGS)  # fmt: skip
    style = ["--style-dir", style_scans(work, real)]
    for name, (_, _, steps) in V6_RUNS.items():
        wait_all({name: start_run(name, work / name, data, steps, inits[name], extra_flags=style)})
    for name, (a, b, alpha) in AVERAGES.items():
        (work / name).mkdir(exist_ok=True)
        if not (work / name / "last.pt").is_file():
            interpolate(work / a / "last.pt", work / b / "last.pt", alpha, work / name / "last.pt", f"usegan-{name}")
    return {name: work / name for name in (*V6_RUNS, *AVERAGES)}


def randomisation_pair(work: Path, workers: int) -> dict[str, Path]:
    """The randomisation ablation (:data:`RANDOMISATION_RUNS`): both runs side by side, one thread each."""
    sets = {
        "phantom3-train": simulate(work / "phantom3-train", V5_CASES, PHANTOM3_SEED, workers=workers),
        "phantom3-onechain": simulate(work / "phantom3-onechain", V5_CASES, PHANTOM3_SEED, "one-chain", workers),
    }
    with ThreadPoolExecutor(len(RANDOMISATION_RUNS)) as pool:
        outs = pool.map(
            lambda n: train_run(n, sets[RANDOMISATION_RUNS[n]], work, RANDOMISATION_STEPS), RANDOMISATION_RUNS
        )
        return dict(zip(RANDOMISATION_RUNS, outs, strict=True))


def evaluate(run: Path, test: Path, tag: str = "eval", checkpoint: str = "last.pt") -> dict:
    cached = run / f"{tag}.json"
    if cached.is_file() and cached.stat().st_mtime > (run / checkpoint).stat().st_mtime:
        return json.loads(cached.read_text())
    proc = sh(
        [
            *USEGAN,
            "evaluate",
            "--model",
            run / checkpoint,
            "--data",
            test,
            "--json",
            "--allow-rgb-head",
            "--csv",
            run / f"{tag}_per_case.csv",
        ]  # fmt: skip
    )
    cached.write_text(proc.stdout)
    return json.loads(proc.stdout)


def real_scan_check(run: Path, real: Path, checkpoint: str = "last.pt") -> dict:
    """Off-map fraction and false-hard rate of a run on the real normal scans in ``real``
    (``scripts/fidelity_report.py``, fp32; sheets in ``run/real/``), cached like :func:`evaluate`."""
    from fidelity_report import evaluate_model, load_real

    cached = run / "real.json"
    if cached.is_file() and cached.stat().st_mtime > (run / checkpoint).stat().st_mtime:
        return json.loads(cached.read_text())
    (run / "real").mkdir(exist_ok=True)
    report = evaluate_model(run / checkpoint, load_real(real), 0.18, run / "real")
    summary = {k: v for k, v in report.items() if k != "per_scan"}
    cached.write_text(json.dumps(summary, indent=2))
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=ROOT / "data" / "runs" / "bundled", help="work folder")
    parser.add_argument("--train-cases", type=int, default=900)
    parser.add_argument("--extra-cases", type=int, default=1100)
    parser.add_argument("--test-cases", type=int, default=300)
    parser.add_argument("--base-steps", type=int, default=5300, help="steps of the base strain / swe runs")
    parser.add_argument(
        "--steps", type=int, default=2000, help="steps of the strain lesion stage and equal-budget runs"
    )
    parser.add_argument("--swe-steps", type=int, default=1000, help="steps of the SWE-from-strain stage")
    parser.add_argument("--runs", default=",".join(EQUAL_BUDGET), help="equal-budget runs: " + ",".join(EQUAL_BUDGET))
    parser.add_argument("--parallel", type=int, default=2, help="runs trained at once")
    parser.add_argument("--skip-cards", action="store_true")
    parser.add_argument(
        "--phantom2-only",
        default="",
        help="run only stage 6 for these comma-separated runs (" + ",".join(V4_RUNS) + "), e.g. on a lent GPU",
    )
    parser.add_argument(
        "--phantom3-gpu-only",
        default="",
        help="run only stage 8 for these comma-separated runs (" + ",".join(GPU_P3_RUNS) + "), on a lent GPU",
    )
    parser.add_argument("--v4-steps", type=int, default=40000, help="stages 6 and 8: steps of each run (at most)")
    parser.add_argument("--v4-budget-s", type=float, default=0.0, help="stages 6 and 8: wall-clock budget per run")
    parser.add_argument("--v4-cases", type=int, default=3000, help="stages 6 and 8: training cases")
    parser.add_argument("--workers", type=int, default=2, help="processes simulating phantom cases")
    parser.add_argument("--v4-init-dir", type=Path, help="stages 6 and 8: start run R from DIR/R.pt where it exists")
    parser.add_argument("--device", default="", help='training device ("cuda", "cpu"; empty = cuda if there)')
    parser.add_argument(
        "--real",
        type=Path,
        default=ROOT.parent / "shared" / "real-bmode" / "breast-normal",
        help="real lesion-free scans (the BUSI normal class): stage 9's unlabelled appearance source (its first "
        f"{STYLE_SCANS} by name; make model refuses to start without them) and the "
        "randomisation ablation's false-hard rate",
    )
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    if args.phantom2_only or args.phantom3_gpu_only:
        stage = "phantom2" if args.phantom2_only else "phantom3"
        names = [n for n in (args.phantom2_only or args.phantom3_gpu_only).split(",") if n]
        gpu_stage(
            stage,
            args.work,
            names,
            args.v4_steps,
            args.v4_budget_s,
            args.v4_cases,
            args.workers,
            args.device,
            args.v4_init_dir,
        )
        print(f"total wall time {time.time() - t0:.0f} s")
        return 0
    if not args.real.is_dir():  # refused before hours of training, not at stage 9
        raise SystemExit(
            f"stage 9 (strain v6) needs the real lesion-free scans: {args.real} is not a folder (pass --real DIR, "
            "the BUSI normal class; they are not in this repository)"
        )
    base_set = simulate(args.work / "phantom-train", args.train_cases, TRAIN_SEED)
    extra_set = simulate(args.work / "phantom-extra", args.extra_cases, EXTRA_SEED)
    big_set = merged(args.work / "phantom-big", [base_set, extra_set])
    names = [n for n in args.runs.split(",") if n]
    unknown = sorted(set(names) - set(EQUAL_BUDGET))
    if unknown:
        raise SystemExit(f"unknown run(s) {', '.join(unknown)}; choose from {', '.join(EQUAL_BUDGET)}")

    def bundled_runs() -> dict[str, Path]:
        base = train_run("strain-base", base_set, args.work, args.base_steps)
        strain = train_run("strain", big_set, args.work, args.steps, init_from=base / "last.pt")
        swe = train_run("swe", big_set, args.work, args.swe_steps, init_from=strain / "last.pt")
        return {"strain-base": base, "strain": strain, "swe": swe}

    with ThreadPoolExecutor(args.parallel) as pool:
        swe_base = pool.submit(train_run, "swe-base", base_set, args.work, args.base_steps)
        bundled = pool.submit(bundled_runs)
        runs = {**bundled.result(), "swe-base": swe_base.result()}
        runs.update(zip(names, pool.map(lambda n: train_run(n, big_set, args.work, args.steps), names), strict=True))
    inits = {"strain-v4": runs["strain"] / "last.pt", "swe-v4": runs["swe"] / "last.pt"}
    runs.update(phantom2_legs(args.work, inits, args.workers, eq=True))
    runs.update(randomisation_pair(args.work, args.workers))
    runs.update(
        phantom3_stage(args.work, {n: runs[base] / "last.pt" for n, (_, base, _) in V5_RUNS.items()}, args.workers)
    )
    inits = {n: runs[base] / "last.pt" for n, (_, base, _) in V6_RUNS.items()}
    runs.update(style_stage(args.work, inits, args.real, args.workers))
    tests = {
        "test": simulate(args.work / "phantom-test", args.test_cases, TEST_SEED),
        "heldout": simulate(args.work / "heldout-test", args.test_cases, HELD_OUT_SEED, "held-out"),
    }
    results: dict[str, dict] = {}
    for name, out in runs.items():
        for tag, folder in tests.items():
            results[f"{name}/{tag}"] = evaluate(out, folder, tag)
    for name in RANDOMISATION_RUNS:
        results[f"{name}/real"] = real_scan_check(runs[name], args.real)
    (args.work / "results.json").write_text(json.dumps(results, indent=2))
    keys = ("kappa", "kappa_visible", "ncc_box", "mae_kpa_lesion", "off_map_max", "uncertainty_spearman")
    print(json.dumps({n: {k: r.get(k) for k in keys} for n, r in results.items()}, indent=2))
    if not args.skip_cards:
        from model_card import VERSIONS, write_bundled_models

        write_bundled_models(args.work, results, {m: f"{m}-{VERSIONS[m]}" for m in MAIN_RUNS}, args.steps)
    print(f"total wall time {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
