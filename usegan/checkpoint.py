"""Checkpoints that describe themselves: weights + everything needed to rebuild and label the model.

A checkpoint is a ``torch.save``'d dict (loaded with ``weights_only=True``: no pickled code runs)::

    format            "usegan-checkpoint/2" (format 1 = free-RGB generators: refused, see FORMAT_1_REFUSAL)
    architecture      "usegan" (default) or "unet" (the pix2pix baseline)
    generator_config  GeneratorConfig.to_dict() (or UNetConfig.to_dict())
    state_dict        generator weights (fp16 or fp32 tensors)
    mode              "strain" | "swe"
    colour_scale      {"vmin": .., "vmax": .., "unit": ..}
    version           e.g. "usegan-strain-1.0.0"
    training          free-form summary (data, command, wall time, hardware, steps)
    metrics           evaluation figures
    created_at        ISO timestamp

``load_generator(path)`` builds only the generator (no discriminator, VGG or optimizer) and turns every way a file
can be broken into a :class:`CheckpointError` that names the file and the problem.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from usegan.colormaps import Colormap, colormap_for
from usegan.fileutil import file_sha256
from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.models.unet import UNetConfig, UNetGenerator
from usegan.vocab import Mode, values

ARCHITECTURES = {"usegan": (GeneratorConfig, USEGANGenerator), "unet": (UNetConfig, UNetGenerator)}

FORMAT = "usegan-checkpoint/2"
FORMAT_1 = "usegan-checkpoint/1"
FORMAT_1_REFUSAL = (
    "is a format-1 checkpoint: its generator regresses free RGB and can put pixels off the colour map, so this "
    "version does not serve it; retrain, or start a new run from its weights with `usegan train --init-from PATH`"
)
MODES = values(Mode)
REQUIRED_KEYS = ("format", "generator_config", "state_dict", "mode", "colour_scale", "version")


class CheckpointError(ValueError):
    """A checkpoint file cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class ModelInfo:
    """What a loaded checkpoint says about itself."""

    version: str  # human-readable model version, shown on every generated elastogram
    mode: str  # "strain" or "swe"
    colour_scale: dict  # {"vmin", "vmax", "unit"}: how colours map back to strain / kPa
    generator_config: GeneratorConfig | UNetConfig  # rebuilds the network
    path: str = ""  # file it was loaded from
    sha256: str = ""  # of that file
    training: dict = field(default_factory=dict)  # data, command, wall time, hardware
    metrics: dict = field(default_factory=dict)  # evaluation figures
    created_at: str = ""  # ISO timestamp
    architecture: str = "usegan"  # "usegan" or "unet" (baseline)

    @property
    def trained_on_phantoms_only(self) -> bool:
        return bool(self.training.get("simulated_data_only", True))

    @property
    def colormap(self):
        return Colormap.from_scale(self.mode, self.colour_scale)


def default_colour_scale(mode: str) -> dict:
    return colormap_for(mode).to_scale()


def architecture_of(generator: torch.nn.Module) -> str:
    """``"usegan"`` or ``"unet"`` for a generator instance."""
    for name, (_, cls) in ARCHITECTURES.items():
        if isinstance(generator, cls):
            return name
    raise TypeError(f"cannot checkpoint a {type(generator).__name__}")


def save_checkpoint(
    path: str | Path,
    generator: USEGANGenerator,
    *,
    mode: str,
    version: str,
    colour_scale: dict | None = None,
    training: dict | None = None,
    metrics: dict | None = None,
    half: bool = False,
) -> str:
    """Write a self-describing checkpoint atomically; returns the file's sha256.

    ``half=True`` stores floating-point weights as fp16 (half the size; loading restores fp32).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    state = {
        k: (v.half() if half and v.is_floating_point() else v).detach().cpu().clone()
        for k, v in generator.state_dict().items()
    }
    payload = {
        "format": FORMAT,
        "architecture": architecture_of(generator),
        "generator_config": generator.config.to_dict(),
        "state_dict": state,
        "mode": mode,
        "colour_scale": colour_scale or default_colour_scale(mode),
        "version": version,
        "training": training or {},
        "metrics": metrics or {},
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(payload, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return file_sha256(path)


def read_checkpoint(path: str | Path) -> dict:
    """The raw checkpoint dict, validated; :class:`CheckpointError` for anything unusable."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, KeyError) as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt?): {reason}") from exc
    except Exception as exc:  # unpickling errors come in many types; none may escape as a traceback
        raise CheckpointError(f"{path}: not a usegan checkpoint ({type(exc).__name__})") from exc
    if not isinstance(payload, dict):
        raise CheckpointError(f"{path}: not a usegan checkpoint (top level is {type(payload).__name__})")
    missing = [k for k in REQUIRED_KEYS if k not in payload]
    if missing:
        raise CheckpointError(f"{path}: not a usegan checkpoint (missing {', '.join(missing)})")
    if payload["format"] == FORMAT_1:
        raise CheckpointError(f"{path} {FORMAT_1_REFUSAL}")
    if payload["format"] != FORMAT:
        raise CheckpointError(f"{path}: unsupported checkpoint format {payload['format']!r}, expected {FORMAT!r}")
    if payload["mode"] not in MODES:
        raise CheckpointError(f"{path}: unknown mode {payload['mode']!r}")
    return payload


def load_generator(path: str | Path, device: str | torch.device = "cpu") -> tuple[USEGANGenerator, ModelInfo]:
    """Build the generator from a checkpoint, in ``eval()`` mode, fp32, on ``device``."""
    path = Path(path)
    payload = read_checkpoint(path)
    architecture = payload.get("architecture", "usegan")
    if architecture not in ARCHITECTURES:
        raise CheckpointError(f"{path}: unknown architecture {architecture!r}")
    config_cls, model_cls = ARCHITECTURES[architecture]
    try:
        config = config_cls.from_dict(payload["generator_config"])
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: bad generator config: {exc}") from exc
    generator = model_cls(config)
    state = {k: v.float() if v.is_floating_point() else v for k, v in payload["state_dict"].items()}
    try:
        generator.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "mismatch"
        detail = "; ".join(line.strip() for line in str(exc).splitlines()[1:3])
        raise CheckpointError(f"{path}: weights do not match the generator config ({first} {detail})") from exc
    generator.eval().requires_grad_(False).to(device)
    info = ModelInfo(
        version=str(payload["version"]),
        mode=payload["mode"],
        colour_scale=dict(payload["colour_scale"]),
        generator_config=config,
        path=str(path),
        sha256=file_sha256(path),
        training=dict(payload.get("training") or {}),
        metrics=dict(payload.get("metrics") or {}),
        created_at=str(payload.get("created_at", "")),
        architecture=architecture,
    )
    return generator, info


def _directory_signature(directory: Path) -> tuple:
    if not directory.is_dir():
        return ()
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(directory.glob("*.pt")))


@functools.lru_cache(maxsize=16)
def _bundled_checkpoints(directory: str, signature: tuple) -> tuple[tuple[str, Path], ...]:
    found: dict[str, Path] = {}
    for path in sorted(Path(directory).glob("*.pt")):
        try:
            mode = read_checkpoint(path)["mode"]
        except CheckpointError:
            continue
        found[mode] = path
    return tuple(found.items())


def bundled_checkpoints(model_dir: str | Path) -> dict[str, Path]:
    """``{mode: path}`` of the newest ``*.pt`` checkpoint per mode in ``model_dir`` (by name order); unreadable
    files are skipped. Reading a checkpoint's header means loading the whole file, so the answer is cached until
    the folder's ``*.pt`` files change (name, size or modification time): cheap enough for every page run."""
    directory = Path(model_dir)
    return dict(_bundled_checkpoints(str(directory), _directory_signature(directory)))
