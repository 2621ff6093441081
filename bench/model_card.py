"""Write the bundled models and their model cards from a ``train_bundled_models.py`` work folder."""

from __future__ import annotations

import json
import platform
import shutil
import statistics
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
GOALS = {"kappa": 0.75, "ssim_box": 0.80, "hist_intersection_box": 0.90, "mae_kpa_lesion": 10.0}


def matmul_gflops(n: int = 1024, dtype=torch.float32, repeats: int = 5) -> float:
    """Measured dense matrix-multiply throughput of this CPU (GFLOP/s), the ceiling for conv-heavy inference."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2 * n**3 / statistics.median(times) / 1e9


def inference_speed(model_path: Path, size: int = 256) -> dict:
    from usegan.bench import count_gflops
    from usegan.inference import VirtualElastographer

    engine = VirtualElastographer.from_checkpoint(model_path)
    x = torch.rand(1, 1, size, size) * 2 - 1
    gflops = count_gflops(engine.generator, size)
    times = []
    with torch.inference_mode():
        engine.generator(x.contiguous(memory_format=torch.channels_last))
        for _ in range(10):
            t0 = time.perf_counter()
            engine.run_model(x[:, 0].numpy() * 0.5 + 0.5)
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    return {
        "size": size,
        "gflops": round(gflops, 2),
        "median_ms": round(ms, 1),
        "achieved_gflops_per_s": round(gflops / (ms / 1000), 1),
        "matmul_fp32_gflops_per_s": round(matmul_gflops(), 1),
        "threads": torch.get_num_threads(),
    }


def fmt(value, digits=3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def comparison_table(results: dict, mode: str) -> str:
    from train_bundled_models import DESCRIPTIONS

    rows = [
        "| run | model | SSIM (box) | colour-hist. intersection | pre-score kappa | accuracy | MAE kPa lesion |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if not name.startswith(mode) or name.endswith("-long"):
            continue
        rows.append(
            f"| `{name}` | {DESCRIPTIONS.get(name, name)} | {fmt(r['ssim_box'])} | "
            f"{fmt(r['hist_intersection_box'])} | {fmt(r['kappa'])} | {fmt(r['accuracy'])} | "
            f"{fmt(r.get('mae_kpa_lesion'), 1)} |"
        )
    return "\n".join(rows)


def goal_lines(r: dict, mode: str, baseline: dict | None) -> list[str]:
    lines = []
    checks = [("kappa", ">="), ("ssim_box", ">="), ("hist_intersection_box", ">=")]
    if mode == "swe":
        checks.append(("mae_kpa_lesion", "<="))
    for key, op in checks:
        value, goal = r.get(key), GOALS[key]
        met = value is not None and (value >= goal if op == ">=" else value <= goal)
        lines.append(f"- {key}: {fmt(value)} (goal {op} {goal}) — {'met' if met else '**not met**'}")
    if baseline:
        for key in ("kappa", "ssim_box", "hist_intersection_box"):
            better = (r.get(key) or -1) >= (baseline.get(key) or -1)
            lines.append(
                f"- vs baseline on {key}: {fmt(r.get(key))} vs {fmt(baseline.get(key))} — "
                f"{'USE-GAN at least as good' if better else '**baseline better**'}"
            )
    return lines


def training_command(cfg: dict, run: Path) -> str:
    parts = [
        "python -m usegan train --data data/runs/bundled/phantom-train",
        f"--out data/runs/bundled/{run.name} --steps {cfg['steps']} --version {cfg['version']}",
        f"--image-size {cfg['image_size']} --batch-size {cfg['batch_size']} --bf16 {str(cfg['bf16']).lower()}",
        f"--threads {cfg['threads']} --vgg-layers {cfg['vgg_layers']} --vgg-input-size {cfg['vgg_input_size']}",
        f"--mode {cfg['mode']}",
    ]
    if cfg.get("resume"):
        parts.append(f"--resume data/runs/bundled/{run.name}/state.pt")
    return " ".join(parts)


def write_card(name: str, run: Path, results: dict, dest: Path) -> Path:
    """Card for bundled model ``name`` (``strain``/``swe``) made by ``run`` (``<name>-long``), evaluated as
    ``results[run.name]``; the equal-budget comparison uses ``results[name]`` and its baselines."""
    from usegan.checkpoint import file_sha256, load_generator

    _, info = load_generator(dest)
    r = results[run.name]
    equal_budget = results.get(name)
    baseline = results.get(f"{name}-unet")
    cfg = json.loads((run / "config.json").read_text())
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    done = next((e for e in reversed(log) if e["event"] == "done"), {})
    last_losses = next((e for e in reversed(log) if e["event"] == "train"), {})
    last_losses = {k: v for k, v in last_losses.items() if k.startswith("loss")}
    cmp_cfg = json.loads((run.parent / name / "config.json").read_text()) if equal_budget else {}
    cmp_done = {}
    if equal_budget:
        cmp_log = [json.loads(line) for line in (run.parent / name / "log.jsonl").read_text().splitlines()]
        cmp_done = next((e for e in reversed(cmp_log) if e["event"] == "done"), {})
    speed = inference_speed(dest)
    native = inference_speed(dest, info.generator_config.image_size)
    confusion = "\n".join(" ".join(f"{v:4d}" for v in row) for row in r["confusion"])
    if any(k.startswith(name + "-") and k != run.name for k in results):
        ablations = comparison_table(results, name)
    else:
        ablations = "_Baseline and ablations were run on the strain model only; see `usegan-strain-v1.md`._"
    goals = "\n".join(goal_lines(r, name, None))
    vs_baseline = "\n".join(goal_lines(equal_budget, name, baseline)[-3:]) if equal_budget and baseline else ""
    long_run = run.name != name
    hours = ((cmp_done.get("wall_time_s", 0) if long_run else 0) + done.get("wall_time_s", 0)) / 3600
    selection = json.loads((run.parent / "validation_selection.json").read_text())["validation"]
    others = [n for n in selection if n.split("-")[0] == name and n != run.name]
    chosen_why = "; ".join(
        f"chosen over `{o}` by pre-score kappa on the validation split: {fmt(selection[run.name]['kappa'])} vs "
        f"{fmt(selection[o]['kappa'])} (SSIM {fmt(selection[run.name]['ssim_box'])} vs {fmt(selection[o]['ssim_box'])})"
        for o in others
    )
    if long_run:
        made = (
            f"{cmp_cfg.get('steps', '?')} steps in `data/runs/bundled/{name}` (the equal-budget run compared "
            f"below), then continued from that state to {cfg['steps']} steps in `data/runs/bundled/{run.name}`"
        )
    else:
        made = (
            f"{cfg['steps']} steps in `data/runs/bundled/{name}` (the equal-budget run compared below); the "
            f"checkpoint kept is the one with the lowest validation L1 (step {done.get('best_step', '?')})"
        )
    text = f"""# Model card: `{info.version}`

**Virtual {info.mode.upper()} elastography generator (USE-GAN).** Trained on *simulated phantoms only*: it
demonstrates the system and **must be fine-tuned on a department's own paired B-mode/elastography data before any
clinical use**. Its output is a model's estimate, never a measurement.

| field | value |
|---|---|
| file | `{dest.name}` ({dest.stat().st_size / 1e6:.1f} MB, fp16 weights) |
| sha256 | `{file_sha256(dest)}` |
| mode / colour scale | {info.mode} / {info.colour_scale} |
| architecture | {info.architecture}: `{info.generator_config}` |
| created | {info.created_at} |

## Training data
- `usegan phantom` cases, size 256, **seed 1000: {info.training.get("train_cases", "?")} training and
  {info.training.get("val_cases", "?")} validation cases** (a seeded 10% hold-out of the same folder). Each pair is
  cropped to its elastography box and letterboxed to {cfg["image_size"]}x{cfg["image_size"]}
  (`usegan.training.data.BoxCropDataset`): where a scanner draws its box is the operator's choice, so the model
  learns the elastogram of the region it is given and the app shows it over the whole (cropped) image.
- Lesion types cycled evenly: none, cyst, fibroadenoma, malignant, malignant with stiff halo, iso-echoic stiff.

## How it was made
Reproduce everything with `make model` (`bench/train_bundled_models.py`): {made}; {chosen_why}. The test set
played no part in any choice.

    {training_command(cfg, run)}

Loss weights GAN {cfg["w_gan"]} / L1 {cfg["w_l1"]} / Color {cfg["w_color"]} / VGG {cfg["w_vgg"]} ({cfg["gan_mode"]}),
Adam lr {cfg["lr_g"]} with linear decay over the second half of each run, batch {cfg["batch_size"]}, seed
{cfg["seed"]}, bf16 autocast. The VGG19 term uses a fixed seeded *random* VGG19 (relu1_1-relu3_1 on 64x64 copies):
no ImageNet weights can be downloaded here, and the full VGG19 would cost ~6x the generator per step on a CPU.
Pass `--vgg-weights PATH` (a torchvision `vgg19` state dict) where you have them.

Hardware and time: {platform.machine()} CPU, 2 cores shared by two training runs (1 thread each), no GPU:
{hours:.2f} h of wall time in all, **{
        fmt(done.get("images_per_s"), 2)
    } training images/s** for this run. Last running losses:
`{json.dumps(last_losses)}`.

## Metrics on the fixed phantom test set
300 cases, `usegan phantom -n 300 --seed 9000 --size 256` (never used in training), each cropped to its box.
Reproduce with `usegan evaluate --model data/models/{dest.name} --data data/runs/bundled/phantom-test`.

| metric | value |
|---|---|
| SSIM inside the elastography box | {fmt(r["ssim_box"])} |
| PSNR inside the box (dB) | {fmt(r["psnr_box"], 2)} |
| colour-histogram intersection (8x8x8 RGB bins, box) | {fmt(r["hist_intersection_box"])} |
| pre-score on the generated elastogram vs ground truth, quadratic-weighted kappa | {fmt(r["kappa"])} |
| pre-score exact agreement | {fmt(r["accuracy"])} ({r["n_scored"]} cases with a lesion) |
| SWE mean absolute error in the lesion / whole box (kPa) | {fmt(r.get("mae_kpa_lesion"), 1)} / {
        fmt(r.get("mae_kpa_box"), 1)
    } |

Ground truth: Tsukuba class from the phantom's true strain (strain), or the breast SWE class from the true kPa map
(SWE: 1 = Emax below 80 kPa, 2 = at or above). Confusion matrix (rows truth 1-5, columns pre-score 1-5):

```
{confusion}
```

## Baseline and ablations (same data, {cmp_cfg.get("steps", "?")} steps each, same evaluation)
{ablations}

## Quality goals (issue targets), reported honestly
{goals}
{vs_baseline}

Short of a goal means: the phantom mapping is only partly predictable by design (an iso-echoic stiff lesion is
invisible on B-mode), and this model had {cfg["steps"]} CPU steps. More steps, a GPU, ImageNet VGG weights and,
above all, real paired data are the levers; the numbers above are what this checkpoint does.

## Inference speed on this CPU
At {speed["size"]}x{speed["size"]}: **{speed["median_ms"]} ms median per image** (batch 1, channels_last, fp32,
{speed["threads"]} threads) for {speed["gflops"]} GFLOPs, i.e. {speed["achieved_gflops_per_s"]} GFLOP/s against a
measured fp32 1024x1024 matrix-multiply rate of {speed["matmul_fp32_gflops_per_s"]} GFLOP/s on the same machine at
the same time. The gap is memory-bound work (instance norm, reflection padding, nearest upsampling, attention
pooling) that moves many bytes per FLOP. The app and `usegan generate` run the model at its own training size,
{native["size"]}x{native["size"]}: **{native["median_ms"]} ms median** ({native["gflops"]} GFLOPs).

## Limits
- Simulated data only: the phantoms follow published stiffness ranges and a linear-elastic plane-strain model,
  but real tissue, scanners and artefacts differ. Not for clinical use until fine-tuned on real paired data and
  re-evaluated (`usegan finetune`, `usegan evaluate`).
- Strain is relative: colour shows stiffness relative to the region, not an absolute value.
- B-mode appearance predicts stiffness only partly; the clinician confirms every score.
"""
    card = dest.with_suffix(".md")
    card.write_text(text, encoding="utf-8")
    return card


def write_bundled_models(work: Path, results: dict, chosen: dict[str, str]) -> list[Path]:
    """Copy the chosen run's best checkpoint per mode (``chosen``: mode -> run name) to data/models/ with a card."""
    models = ROOT / "data" / "models"
    models.mkdir(parents=True, exist_ok=True)
    written = []
    for name in ("strain", "swe"):
        if name not in chosen:
            continue
        run = work / chosen[name]
        dest = models / f"usegan-{name}-v1.pt"
        shutil.copyfile(run / "best.pt", dest)
        written += [dest, write_card(name, run, results, dest)]
    print("wrote", *written, sep="\n  ")
    return written


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "runs" / "bundled"
    selection = json.loads((work / "validation_selection.json").read_text())
    write_bundled_models(work, json.loads((work / "results.json").read_text()), selection["chosen"])
