"""Phantom cases on disk: one folder per case plus ``index.csv``, and reading them back.

Folder layout (shared with :mod:`usegan.datasets`, the sample picker and the scoring validation)::

    OUT/index.csv                      one row per case (INDEX_COLUMNS)
    OUT/<name>/bmode.png               (H, W) uint8 gray B-mode
    OUT/<name>/strain.png              (H, W, 3) uint8 SE elastogram (colour in the box, B-mode outside)
    OUT/<name>/swe.png                 (H, W, 3) uint8 SWE elastogram
    OUT/<name>/mask.png                (H, W) uint8 lesion mask, 0 / 255
    OUT/<name>/stiffness_kpa.npy       (H, W) float32 Young's modulus, kPa
    OUT/<name>/strain_true.npy         (H, W) float16 true axial strain (compression positive; optional)
    OUT/<name>/meta.json               seed, params, box, colour scales, labels (PhantomCase.meta())
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from usegan.imageio import load_image, save_png
from usegan.phantom.case import PhantomCase

INDEX_COLUMNS = (
    "name",
    "lesion_type",
    "shape",
    "pattern",
    "tsukuba",
    "bgr",
    "strain_ratio",
    "emean_kpa",
    "emax_kpa",
    "box_x",
    "box_y",
    "box_w",
    "box_h",
    "size",
    "seed",
)


def case_name(index: int) -> str:
    """Folder name of case ``index``: zero-padded so folders sort in index order."""
    return f"case_{index:05d}"


def write_case(case: PhantomCase, folder: str | Path, true_strain: bool = True) -> Path:
    """Write one case's files into ``folder`` (created); returns the folder. ``true_strain=False`` leaves out
    ``strain_true.npy`` (the bundled samples do, to stay small)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    save_png(case.bmode, folder / "bmode.png")
    save_png(case.strain_rgb, folder / "strain.png")
    save_png(case.swe_rgb, folder / "swe.png")
    save_png(case.mask.astype(np.uint8) * 255, folder / "mask.png")
    np.save(folder / "stiffness_kpa.npy", case.stiffness_kpa.astype(np.float32))
    if true_strain:
        np.save(folder / "strain_true.npy", case.strain.astype(np.float16))
    tmp = folder / ".meta.json.tmp"
    tmp.write_text(json.dumps(case.meta(), indent=2), encoding="utf-8")
    tmp.replace(folder / "meta.json")
    return folder


def index_row(name: str, case: PhantomCase) -> dict:
    """The ``index.csv`` row of a case."""
    labels, x, y, w, h = case.labels, *case.box
    return {
        "name": name,
        "lesion_type": case.params.lesion_type,
        "shape": case.params.shape if labels["has_lesion"] else "",
        "pattern": case.params.pattern if labels["has_lesion"] else "",
        "tsukuba": "" if labels["tsukuba"] is None else labels["tsukuba"],
        "bgr": int(labels["bgr"]),
        "strain_ratio": "" if labels["strain_ratio"] is None else labels["strain_ratio"],
        "emean_kpa": "" if labels["emean_kpa"] is None else labels["emean_kpa"],
        "emax_kpa": "" if labels["emax_kpa"] is None else labels["emax_kpa"],
        "box_x": x,
        "box_y": y,
        "box_w": w,
        "box_h": h,
        "size": case.size,
        "seed": case.seed,
    }


def write_index(rows: list[dict], out: str | Path, columns: tuple[str, ...] = INDEX_COLUMNS) -> Path:
    """Write ``index.csv`` (rows sorted by name, ``columns``: a phantom folder's by default) into ``out``, atomically;
    returns its path."""
    path = Path(out) / "index.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".index.csv.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(sorted(rows, key=lambda r: r["name"]))
    tmp.replace(path)
    return path


def read_index(root: str | Path) -> list[dict]:
    """Rows of ``root/index.csv`` as dicts of strings."""
    path = Path(root) / "index.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no index.csv (not a phantom folder written by `usegan phantom`)")
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def read_case(folder: str | Path) -> dict:
    """Read a case folder: ``bmode`` (H, W) uint8, ``strain_rgb``/``swe_rgb`` (H, W, 3) uint8, ``mask`` (H, W)
    bool, ``stiffness_kpa`` (H, W) float32, ``meta`` dict, ``name``; plus ``strain`` (float32) when present."""
    folder = Path(folder)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise FileNotFoundError(f"{folder}: no meta.json (not a phantom case folder)")
    case = {
        "name": folder.name,
        "meta": json.loads(meta_path.read_text(encoding="utf-8")),
        "bmode": load_image(folder / "bmode.png"),
        "strain_rgb": load_image(folder / "strain.png"),
        "swe_rgb": load_image(folder / "swe.png"),
        "mask": load_image(folder / "mask.png") > 127,
        "stiffness_kpa": np.load(folder / "stiffness_kpa.npy").astype(np.float32),
    }
    if (folder / "strain_true.npy").is_file():
        case["strain"] = np.load(folder / "strain_true.npy").astype(np.float32)
    return case
