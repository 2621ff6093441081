"""``usegan generate``: B-mode images in, ``<stem>_elasto.png`` virtual elastograms out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from usegan.vocab import Mode, values

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".dcm", ".dicom"}


def register(subparsers) -> None:
    p = subparsers.add_parser("generate", help="generate virtual elastograms for images or folders of images")
    p.add_argument("inputs", nargs="+", metavar="IMAGES_OR_DIRS")
    p.add_argument("--out", required=True, type=Path, help="output folder for <stem>_elasto.png")
    p.add_argument("--model", type=Path, help="checkpoint (default: the model in use for --mode, as in the app)")
    p.add_argument(
        "--mode", choices=values(Mode), default=Mode.STRAIN.value, help="which model in use (default strain)"
    )
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.add_argument(
        "--uncertainty",
        action="store_true",
        help="also write <stem>_uncertainty.npy ((H, W) float32 predicted standard deviation, in the colour scale's "
        "unit) and <stem>_uncertainty.png (gray, white = half the scale's span or more)",
    )
    p.set_defaults(func=run)


def expand_inputs(inputs: list[str]) -> list[Path]:
    """Files as given; folders expanded (sorted) to the image files directly inside them."""
    paths: list[Path] = []
    for item in inputs:
        path = Path(item)
        if path.is_dir():
            paths += sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        else:
            paths.append(path)
    return paths


def model_in_use(mode: str, settings) -> Path:
    """The checkpoint the app would use for ``mode`` (:func:`usegan.active_model.resolve`): the registry of the
    configured store is read when the database exists, else the bundled model is used."""
    from usegan.active_model import resolve
    from usegan.store import StoreError, open_store

    if not settings.db_path.is_file():
        return resolve(mode, None, settings.model_dir)
    try:
        with open_store(settings, read_only=True) as store:
            return resolve(mode, store, settings.model_dir)
    except StoreError as exc:
        raise StoreError(f"cannot tell which {mode} model is in use ({exc}); pass --model PATH") from exc


def load_engine(mode: str, model: Path | None, settings):
    """The :class:`usegan.inference.VirtualElastographer` a command runs: checkpoint ``model``, else the model in use
    for ``mode`` (:func:`model_in_use`), at the configured precision and image-size limit. ``CommandError`` (one
    line, exit 2) when it cannot be found or loaded."""
    from usegan.active_model import NoModelError
    from usegan.checkpoint import CheckpointError
    from usegan.commands import CommandError
    from usegan.inference import VirtualElastographer
    from usegan.store import StoreError

    try:
        return VirtualElastographer.from_checkpoint(
            model or model_in_use(mode, settings),
            max_pixels=settings.max_image_pixels,
            precision=settings.inference_precision,
            compile=settings.inference_compile,
        )
    except (CheckpointError, FileNotFoundError, NoModelError, StoreError) as exc:
        raise CommandError(str(exc)) from exc


def write_uncertainty(result, stem: Path) -> dict:
    """Write ``stem``.npy (float32 std) and ``stem``.png (8-bit view); returns their paths and the mean std."""
    import numpy as np

    from usegan.imageio import save_png

    span = float(result.colour_scale["vmax"]) - float(result.colour_scale["vmin"])
    np.save(stem.with_suffix(".npy"), result.uncertainty.astype(np.float32))
    view = np.clip(result.uncertainty / (0.5 * span) * 255.0, 0, 255).astype(np.uint8)
    text = {**result.png_text(), "Description": f"Predicted uncertainty (std) of a {result.caption}"}
    png = save_png(view, stem.with_suffix(".png"), text=text)
    return {
        "uncertainty_npy": str(stem.with_suffix(".npy")),
        "uncertainty_png": str(png),
        "uncertainty_mean": round(float(result.uncertainty.mean()), 4),
        "uncertainty_unit": result.colour_scale.get("unit", ""),
    }


def run(args: argparse.Namespace) -> int:
    from usegan.commands import CommandError
    from usegan.imageio import ImageLoadError, save_png
    from usegan.preprocess import read_image
    from usegan.settings import get_settings

    settings = get_settings()
    engine = load_engine(args.mode, args.model, settings)
    args.out.mkdir(parents=True, exist_ok=True)
    failures = 0
    paths = expand_inputs(args.inputs)
    if not paths:
        raise CommandError("no input images found")
    batch: list[tuple[Path, object]] = []

    def flush() -> None:
        if not batch:
            return
        results = engine.generate_batch([image for _, image in batch], batch_size=args.batch_size)
        for (path, _), result in zip(batch, results, strict=True):
            out = save_png(result.rgb, args.out / f"{path.stem}_elasto.png", text=result.png_text())
            record = {"input": str(path), "output": str(out), **result.metadata()}
            if args.uncertainty and result.uncertainty is not None:
                record.update(write_uncertainty(result, args.out / f"{path.stem}_uncertainty"))
            print(json.dumps(record) if args.json else f"{path} -> {out} ({result.caption}, {result.ms:.0f} ms)")
        batch.clear()

    for path in paths:
        try:
            image = read_image(path, max_pixels=settings.max_image_pixels)
        except ImageLoadError as exc:
            failures += 1
            print(f"error: {exc}", file=sys.stderr)
            continue
        batch.append((path, image))
        if len(batch) >= args.batch_size:
            flush()
    flush()
    if failures:
        print(f"{failures} of {len(paths)} input(s) failed", file=sys.stderr)
    return 1 if failures else 0
