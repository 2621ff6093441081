"""Fidelity of the bundled models on images they were never trained on: real scans, garbage, phantom realism.

    python scripts/fidelity_report.py --real ../shared/real-bmode/breast-normal --out data/tmp/fidelity

For each mode's model (``--model-dir``, default the bundled ones):

* **real normal scans** (a folder of lesion-free B-mode images, e.g. the BUSI "normal" class: Al-Dhabyani et al.,
  Data in Brief 28 (2020) 104863; never copied into this repository): off-map fraction of every virtual elastogram
  and the *false-hard rate* (share of scans with a compact hard region a clinician would put an ROI on:
  :mod:`usegan.training.fidelity`; pixel spacing assumed ``--mm-per-px``, 0.18 for those 256 px scans);
* **garbage** (noise, all black, all white, a picture of text): off-map fraction;
* **second simulator** (with ``--second-sim N``): ``N`` lesions of each type from :mod:`usegan.training.rfsim`
  (an RF simulation of a gel phantom written apart from :mod:`usegan.phantom`), scored inside the true lesion:
  how many read as expected (carcinomas hard, fibroadenomas not hard, cysts soft), how many cannot be scored;
  and the same lesions *framed* (``--second-sim-frame K``, default 3): each case cropped to a box K times the
  lesion, as an operator frames the elastography box (:func:`usegan.training.rfsim.framed`);
* **hybrid cases** (with ``--hybrid N``): ``N`` simulated lesions of each type drawn into the real scans
  (:mod:`usegan.training.hybrid`: real anatomy and scanner texture, simulated lesion), scored and framed the same way,
  and split by depth (``by_depth``: lesions centred above / below :data:`usegan.training.fidelity.SHALLOW_ROW` of the
  image); with ``--hybrid-background DIR`` (a ``usegan phantom`` folder) the same lesions drawn into its lesion-free
  scans too (``hybrid_on_background``): whether a miss is the lesion or the real tissue around it;
* **phantom realism** (with ``--phantoms DIR`` of ``usegan phantom`` cases): :mod:`usegan.phantom.realism` against
  the real scans, whole and by depth band (``by_depth_band``: the top third, skin and subcutaneous fat, and the rest).

Writes ``report.json`` and contact sheets (``sheet_<mode>.png``: B-mode | virtual elastogram for the first scans,
``sheet_second_sim_<mode>.png`` / ``sheet_hybrid_<mode>.png``: the same for the first second-simulator / hybrid
cases, lesion outlined, proposal written,
``sheet_realism.png``: phantom and real B-modes) into ``--out``: sheets hold real images, so keep them out of the
repository (``data/tmp`` is ignored). Works with models whose output is a scalar map and, for comparison with the
first bundled models, with code whose elastograms are RGB only (their colours are inverted).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from usegan.scoring.confidence import FRAME_FACTOR
from usegan.settings import PRECISIONS

ROOT = Path(__file__).resolve().parent.parent


def scalar_of(result, cmap) -> np.ndarray:
    scalar = getattr(result, "scalar", None)
    return scalar if scalar is not None else cmap.invert(result.rgb)[0]


def region_place(centroid_xy: tuple[float, float], shape: tuple[int, int]) -> str:
    """Where a false-hard region sits on an ``(H, W)`` scan: "edge" (centre within 15 % of the width of the left or
    right edge), "deep" (below 60 % of the height) or "other"."""
    (x, y), (height, width) = centroid_xy, shape
    if x < 0.15 * width or x > 0.85 * width:
        return "edge"
    return "deep" if y > 0.6 * height else "other"


@functools.lru_cache(maxsize=2)
def load_engine(path: Path, precision: str = "fp32", size: int | None = None):
    """The :class:`usegan.inference.VirtualElastographer` of the checkpoint at ``path``, loaded once per report (the
    real-scan check and each lesion check of a mode share it)."""
    from usegan.inference import VirtualElastographer

    return VirtualElastographer.from_checkpoint(path, precision=precision, size=size)


def grey_u8(path: Path) -> np.ndarray:
    """The image at ``path`` as ``(H, W)`` uint8 grey."""
    from usegan.imageio import load_image, to_gray

    return np.round(to_gray(load_image(path)) * 255).astype(np.uint8)


def load_real(folder: Path) -> list[tuple[str, np.ndarray]]:
    """The scans of ``folder`` (PNG / JPEG) as ``(name, uint8 (H, W) grey)`` pairs, sorted by name."""
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if not files:
        raise SystemExit(f"{folder}: no images")
    return [(p.name, grey_u8(p)) for p in files]


def evaluate_model(
    path: Path,
    real: list[tuple[str, np.ndarray]],
    mm_per_px: float,
    out: Path,
    precision: str = "fp32",
    size: int | None = None,
) -> dict:
    from usegan.training.fidelity import cautioned, false_hard_regions, garbage_images

    engine = load_engine(path, precision, size)
    cmap = engine.info.colormap
    mode = engine.info.mode
    off, hard, rows = [], [], []
    places = {"edge": 0, "deep": 0, "other": 0}
    flagged = 0  # false-hard regions an ROI over which the quality map cautions
    results = engine.generate_batch([image for _, image in real])
    for (name, _), result in zip(real, results, strict=True):
        _, dist = cmap.invert(result.rgb)
        off.append(float(np.mean(dist > 12.0)))
        scalar = np.nan_to_num(scalar_of(result, cmap), nan=0.5 * (cmap.vmin + cmap.vmax))
        regions = false_hard_regions(scalar, mode, mm_per_px)
        hard.append(bool(regions))
        for region in regions:
            places[region_place(region.centroid_xy, scalar.shape)] += 1
            flagged += bool(cautioned(result.rgb, cmap, result.uncertainty, region.mask))
        rows.append({"name": name, "off_map": off[-1], "hard_regions": len(regions)})
    junk = {name: engine.generate(image) for name, image in garbage_images().items()}
    junk_off = {name: float(np.mean(cmap.invert(r.rgb)[1] > 12.0)) for name, r in junk.items()}
    tiles = [np.concatenate([np.stack([im] * 3, -1) if im.ndim == 2 else im[..., :3], r.rgb], 1)
             for (_, im), r in zip(real[:12], results[:12], strict=True)]  # fmt: skip
    sheet = np.concatenate([np.concatenate(tiles[i : i + 4], 1) for i in range(0, len(tiles) - 3, 4)], 0)
    Image.fromarray(sheet).save(out / f"sheet_{mode}.png")
    return {
        "model": str(path),
        "version": engine.info.version,
        "precision": engine.precision,
        "size": engine.size,
        "n_real": len(real),
        "real_off_map_mean": float(np.mean(off)),
        "real_off_map_max": float(np.max(off)),
        "false_hard_rate": float(np.mean(hard)),
        "false_hard_regions_by_place": places,
        "false_hard_regions_cautioned": flagged,
        "garbage_off_map": junk_off,
        "per_scan": rows,
    }


def realism(phantoms: Path, real: list[tuple[str, np.ndarray]], out: Path) -> dict:
    from usegan.imageio import load_image
    from usegan.phantom.realism import compare, compare_bands, feature_table

    bmodes = [load_image(p) for p in sorted(phantoms.glob("*/bmode.png"))[:150]]
    report = compare(feature_table(bmodes), feature_table([im for _, im in real]))
    bands = compare_bands(bmodes, [im for _, im in real])
    top = np.concatenate([im for _, im in real[:8]], 1)
    bottom = np.concatenate([np.asarray(Image.fromarray(b).resize((256, 256))) for b in bmodes[:8]], 1)
    Image.fromarray(np.concatenate([top, bottom], 0)).save(out / "sheet_realism.png")
    return {**report.summary(), "by_depth_band": {name: band.summary() for name, band in bands.items()}}


def on_backgrounds(cases: list, phantoms: Path) -> list:
    """Hybrid ``cases`` redrawn (:func:`usegan.training.hybrid.redraw`) into the lesion-free scans of the ``usegan
    phantom`` folder ``phantoms`` (its ``none`` cases, resized to each case's size), taken in turn."""
    from usegan.phantom.writer import read_index
    from usegan.training.hybrid import redraw

    try:
        names = [row["name"] for row in read_index(phantoms) if row["lesion_type"] == "none"]
    except FileNotFoundError as error:
        raise SystemExit(str(error)) from None
    if not names:
        raise SystemExit(f"{phantoms}: no lesion-free ('none') cases")
    grey = {name: grey_u8(phantoms / name / "bmode.png") for name in names}
    out = []
    for i, case in enumerate(cases):
        name = names[i % len(names)]
        h, w = case.mask.shape
        scan = Image.fromarray(grey[name]).resize((w, h), Image.Resampling.BILINEAR)
        out.append(redraw(case, np.asarray(scan), name))
    return out


def lesion_check(
    path: Path,
    cases: list,
    name: str,
    out: Path,
    precision: str = "fp32",
    frame: float = FRAME_FACTOR,
    size: int | None = None,
) -> dict:
    """:func:`usegan.training.fidelity.second_simulator_report` of the model at ``path`` on the lesion ``cases``
    (:class:`usegan.training.rfsim.StressCase`), their sheet ``sheet_<name>_<mode>.png`` (the first 12: B-mode |
    virtual elastogram, lesion outlined, proposal written) and (``frame`` > 0) the report on the same cases framed in
    a box ``frame`` times the lesion (``framed``); ``size``: the side the model runs at (default its training size)."""
    from PIL import ImageDraw
    from scipy import ndimage

    from usegan.training.fidelity import depth_split, framing_gain, second_simulator_report
    from usegan.training.rfsim import framed

    engine = load_engine(path, precision, size)
    outputs = engine.generate_batch([c.bmode for c in cases])
    report = second_simulator_report(engine, cases, outputs)
    tiles = []
    for case, result, score in zip(cases[:12], outputs[:12], report["per_case"][:12], strict=True):
        rgb = result.rgb.copy()
        rgb[case.mask ^ ndimage.binary_erosion(case.mask, iterations=2)] = 255
        tile = Image.fromarray(np.concatenate([np.stack([case.bmode] * 3, -1), rgb], 1))
        ImageDraw.Draw(tile).text((4, 4), f"{case.lesion_type}: {score}", fill=(255, 255, 0))
        tiles.append(np.asarray(tile))
    sheet = np.concatenate([np.concatenate(tiles[i : i + 3], 1) for i in range(0, len(tiles) - 2, 3)], 0)
    Image.fromarray(sheet).save(out / f"sheet_{name}_{engine.info.mode}.png")
    mode = engine.info.mode
    result = {"version": engine.info.version, **report, "by_depth": depth_split(cases, mode, report["per_case"])}
    if frame > 0:
        result["framed"] = {"factor": frame, **second_simulator_report(engine, [framed(c, frame) for c in cases])}
        result["framed"]["by_depth"] = depth_split(cases, mode, result["framed"]["per_case"])
        # where the review page offers its framed reading: the lesions under a quarter of the frame
        result["framed"]["small_in_frame"] = framing_gain(cases, mode, report["per_case"], result["framed"]["per_case"])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--real", type=Path, required=True, help="folder of lesion-free real B-mode PNGs")
    parser.add_argument("--model-dir", type=Path, default=ROOT / "data" / "models")
    parser.add_argument("--phantoms", type=Path, help="a `usegan phantom` folder to compare with the real scans")
    parser.add_argument("--mm-per-px", type=float, default=0.18, help="pixel spacing of the real scans, mm")
    parser.add_argument("--out", type=Path, default=ROOT / "data" / "tmp" / "fidelity")
    parser.add_argument("--second-sim", type=int, default=0, help="lesions of each type from the second simulator")
    parser.add_argument("--second-sim-seed", type=int, default=0)
    parser.add_argument(
        "--second-sim-frame",
        type=float,
        default=FRAME_FACTOR,
        help="also score the second-simulator and hybrid lesions framed in a box K x their size (0: not)",
    )
    parser.add_argument(
        "--hybrid", type=int, default=0, help="lesions of each type drawn into the real scans (usegan.training.hybrid)"
    )
    parser.add_argument("--hybrid-seed", type=int, default=0)
    parser.add_argument(
        "--hybrid-background",
        type=Path,
        help="a `usegan phantom` folder: also draw the same hybrid lesions into its lesion-free scans "
        "(usegan.training.hybrid.redraw; is a miss the lesion or the real tissue around it?)",
    )
    parser.add_argument("--precision", default="fp32", choices=PRECISIONS, help="generator precision (fp32: reference)")
    parser.add_argument("--size", type=int, default=None, help="side the models run at (default: their training size)")
    args = parser.parse_args(argv)
    from usegan.checkpoint import bundled_checkpoints
    from usegan.training.hybrid import hybrid_cases
    from usegan.training.rfsim import stress_cases

    real = load_real(args.real)
    args.out.mkdir(parents=True, exist_ok=True)
    report: dict = {"real": str(args.real), "mm_per_px": args.mm_per_px, "models": {}}
    # the lesion cases do not depend on the model: made once, read by each mode's model
    checks: dict[str, tuple[str, int, int, list]] = {}  # report key -> (sheet name, lesions per type, seed, cases)
    if args.second_sim:
        cases = stress_cases(args.second_sim, args.second_sim_seed)
        checks["second_simulator"] = ("second_sim", args.second_sim, args.second_sim_seed, cases)
    if args.hybrid:
        hybrid = hybrid_cases(real, args.hybrid, args.hybrid_seed, args.mm_per_px)
        checks["hybrid"] = ("hybrid", args.hybrid, args.hybrid_seed, hybrid)
        if args.hybrid_background:
            cases = on_backgrounds(hybrid, args.hybrid_background)
            checks["hybrid_on_background"] = ("hybrid_background", args.hybrid, args.hybrid_seed, cases)
    for mode, path in sorted(bundled_checkpoints(args.model_dir).items()):
        report["models"][mode] = evaluate_model(path, real, args.mm_per_px, args.out, args.precision, args.size)
        for key, (name, n_per_type, seed, cases) in checks.items():
            report["models"][mode][key] = {
                "n_per_type": n_per_type,
                "seed": seed,
                **lesion_check(path, cases, name, args.out, args.precision, args.second_sim_frame, args.size),
            }
    if args.phantoms:
        report["realism"] = realism(args.phantoms, real, args.out)
    (args.out / "report.json").write_text(json.dumps(report, indent=2))
    summary = {m: _without(r, ("per_scan", "per_case")) for m, r in report["models"].items()}
    print(json.dumps({"models": summary, "realism": report.get("realism")}, indent=2))
    return 0


def _without(report: dict, keys: tuple[str, ...]) -> dict:
    """``report`` without ``keys`` at any depth (the printed summary leaves per-scan and per-case lists out)."""
    return {k: _without(v, keys) if isinstance(v, dict) else v for k, v in report.items() if k not in keys}


if __name__ == "__main__":
    sys.exit(main())
