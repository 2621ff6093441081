"""Generate virtual elastograms from B-mode images: a notebook-friendly API over a loaded generator.

>>> from usegan.inference import VirtualElastographer
>>> elastographer = VirtualElastographer.from_checkpoint("data/models/usegan-strain-v6.pt")  # doctest: +SKIP
>>> result = elastographer.generate("bmode.png")  # doctest: +SKIP
>>> result.rgb.shape, result.model_version, result.mode  # doctest: +SKIP
((480, 640, 3), 'usegan-strain-1.0.0', 'strain')

Any size, channel layout or bit depth goes in (8/16-bit gray, RGB, RGBA; path, bytes, PIL image or array); the image
is converted to gray, letterboxed to the model's square size, run under ``torch.inference_mode()``, and the output is
mapped back to the input's geometry. Only the generator is built.

The generator predicts the elastogram's scalar (strain: normalised strain 0 hard .. 1 soft; SWE: kPa) and its
uncertainty; the RGB image is rendered from the scalar through the mode's colour map *after* resizing to the input
geometry, so every pixel of ``rgb`` is exactly a colour of the map. Scoring a generated elastogram uses ``scalar``
directly; colour inversion stays for real elastograms and screen captures.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from usegan import VIRTUAL_LABEL
from usegan.checkpoint import CheckpointError, ModelInfo, load_generator
from usegan.imageio import DEFAULT_MAX_PIXELS, ImageLike, load_image, to_gray
from usegan.letterbox import Letterbox
from usegan.models.generator import USEGANGenerator
from usegan.settings import PRECISIONS

log = logging.getLogger(__name__)
# One torch.compile at a time in the process: the Inductor settings of :func:`compiling` are process-wide, and two
# compiles at once (the strain and SWE warm-ups) could end each other's; they would only share the cores anyway.
_COMPILE_LOCK = threading.Lock()
SQRT2 = float(np.sqrt(2.0))
MAX_SIZE = 1024  # largest side the generator may be run at (memory and time grow with its square)


@dataclass(frozen=True)
class Elastogram:
    """One generated virtual elastogram and where it came from."""

    rgb: np.ndarray  # (H, W, 3) uint8 in the input image's geometry, every pixel a colour of the map
    model_rgb: np.ndarray  # (size, size, 3) uint8 as the model produced it
    bmode_model: np.ndarray  # (size, size) float32 in [0, 1]: the letterboxed gray input
    letterbox: Letterbox  # maps ROIs between input and model pixels
    model_version: str  # version of the checkpoint that made it
    mode: str  # "strain" or "swe"
    colour_scale: dict  # {"vmin", "vmax", "unit"} to invert colours to strain / kPa
    ms: float  # milliseconds spent in this image's share of the forward pass
    label: str = VIRTUAL_LABEL  # shown with the image wherever it goes
    scalar: np.ndarray | None = None  # (H, W) float32: strain (normalised, 0 hard .. 1 soft) or kPa; None: RGB head
    uncertainty: np.ndarray | None = None  # (H, W) float32: predicted standard deviation of ``scalar``, same unit
    model_scalar: np.ndarray | None = None  # (size, size) float32 ``scalar`` as the model produced it
    model_uncertainty: np.ndarray | None = None  # (size, size) float32 ``uncertainty`` as the model produced it

    @property
    def caption(self) -> str:
        return f"VIRTUAL {self.mode.upper()} elastogram - model {self.model_version}"

    def png_text(self) -> dict[str, str]:
        """PNG text chunks that keep the label and provenance with a saved elastogram file."""
        return {
            "Description": f"{self.label}. {self.caption}.",
            "usegan:virtual": "true",
            "usegan:model_version": self.model_version,
            "usegan:mode": self.mode,
            "usegan:colour_scale": json.dumps(self.colour_scale),
        }

    def metadata(self) -> dict:
        return {
            "model_version": self.model_version,
            "mode": self.mode,
            "colour_scale": self.colour_scale,
            "ms": round(self.ms, 2),
            "label": self.label,
        }


def on_map_fraction_off(rgb: np.ndarray, colormap) -> float:
    """Fraction of pixels of an ``(H, W, 3)`` uint8 image that are not a colour of ``colormap`` (Delta E > 12)."""
    _, dist = colormap.invert(rgb)
    return float(np.mean(dist > 12.0))


def tensor_to_rgb(batch: torch.Tensor) -> np.ndarray:
    """``(B, 3, H, W)`` in [-1, 1] -> ``(B, H, W, 3)`` uint8."""
    arr = ((batch.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return arr.permute(0, 2, 3, 1).cpu().numpy()


def cpu_has_fast_bf16() -> bool:
    """True where the CPU multiplies bfloat16 in hardware (Intel AMX): there bf16 autocast about halves the
    generator's time at 256 px (docs/benchmarks.md); elsewhere bf16 is emulated and slower than fp32. Asks torch's
    ``torch.cpu._is_amx_tile_supported`` (private; a torch without it counts as no AMX)."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    try:
        return bool(probe and probe())
    except Exception:  # noqa: BLE001 - a probe that fails means "not known to be fast"
        return False


def compile_generator(generator: torch.nn.Module):
    """``generator`` through ``torch.compile`` as it is served and benchmarked: Inductor, one static graph per input
    shape. Needs a C++ compiler; each new input shape compiles on its first call (tens of s), which must run inside
    :func:`compiling`."""
    return torch.compile(generator, dynamic=False)


@contextmanager
def compiling() -> Iterator[None]:
    """Inductor settings for compiling the generator: weight freezing (the weights become constants that Inductor
    pre-packs for oneDNN; the generator must not require gradients). Process-wide while it lasts. Measured here:
    ``torch.compile(options={"freezing": True})`` is not the same (unet_256 300 ms with it, 117 ms with this)."""
    import torch._inductor.config as inductor_config

    with inductor_config.patch(freezing=True):
        yield


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` -> ``"bf16"`` on a CPU with AMX, else ``"fp32"``; ``"fp32"`` / ``"bf16"`` as given."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "auto":
        return "bf16" if device.type == "cpu" and cpu_has_fast_bf16() else "fp32"
    return precision


class VirtualElastographer:
    """A generator in ``eval()`` mode plus its :class:`ModelInfo`; after construction only its compiled copy
    changes (made under a lock), so one instance can be shared by threads (the app caches one per checkpoint).

    ``precision``: ``"fp32"``, ``"bf16"`` (autocast; positions differ from fp32 by about 4e-4 of the map on the
    phantom test, every pixel still a colour of the map) or ``"auto"`` (bf16 where the CPU has AMX). The library
    default is fp32, the reference every evaluation reports; the app and ``usegan generate`` pass the
    ``inference_precision`` setting (default ``"auto"``).

    ``compile``: run the fp32 generator through ``torch.compile`` (Inductor with weight freezing, one static graph
    per input shape; 1.5-1.8x faster on a CPU without AMX, docs/benchmarks.md; the ``inference_compile`` setting,
    default off; ignored for bf16). Compiling takes 20-45 s per input shape: with ``compile_on_demand`` (batch work)
    the first call at a shape compiles; without it only :meth:`warm_up` compiles (the app runs it in a background
    thread) and every other call runs the eager generator until its shape is ready. Calls from other threads never
    wait for a compile. A compile that fails (no C++ compiler) is logged once and the eager generator serves from then
    on. Outputs match eager fp32 to about 2e-5."""

    def __init__(
        self,
        generator: USEGANGenerator,
        info: ModelInfo,
        device: str | torch.device = "cpu",
        channels_last: bool = True,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        allow_rgb_head: bool = False,
        precision: str = "fp32",
        size: int | None = None,
        compile: bool = False,
        compile_on_demand: bool = True,
    ) -> None:
        if getattr(generator.config, "output", "rgb") != "colormap" and not allow_rgb_head:
            raise CheckpointError(
                f"{info.path or info.version}: this generator regresses free RGB (checkpoint format 1 or the 'rgb' "
                "ablation) and can put pixels off the colour map, so it is not served; retrain it, or start a new "
                "run from its weights with `usegan train --init-from PATH`"
            )
        self.generator = generator.eval()
        self.info = info
        self.device = torch.device(device)
        self.precision = resolve_precision(precision, self.device)  # "fp32" or "bf16"
        self.channels_last = channels_last
        self.max_pixels = max_pixels
        multiple = generator.config.multiple
        if size is not None and (size < multiple or size % multiple or size > MAX_SIZE):
            raise ValueError(f"size must be a multiple of {multiple} up to {MAX_SIZE} pixels, got {size!r}")
        self._size = size or info.generator_config.image_size
        self.compile = compile and self.precision == "fp32"
        self.compile_on_demand = compile_on_demand
        self._compiled = None  # the torch.compile'd generator, made on first use
        self._compiled_shapes: set[tuple[int, ...]] = set()  # input shapes compiled and ready
        self.channels_last = channels_last and not self.compile  # Inductor picks its own layouts
        if self.channels_last:
            self.generator.to(memory_format=torch.channels_last)

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str | torch.device = "cpu", **kwargs) -> VirtualElastographer:
        generator, info = load_generator(path, device)
        return cls(generator, info, device, **kwargs)

    @property
    def size(self) -> int:
        """Side of the square the image is letterboxed to and the generator runs at (fully convolutional, so any
        multiple of its down-sampling factor works); default the size it was trained at."""
        return self._size

    def prepare(self, image: ImageLike) -> tuple[np.ndarray, Letterbox]:
        """Any image -> the model's ``(size, size)`` gray input in [0, 1] and the letterbox that made it."""
        gray = to_gray(load_image(image, self.max_pixels))
        box = Letterbox.fit(gray.shape[0], gray.shape[1], self.size)
        return box.to_model(gray), box

    @torch.inference_mode()
    def run_model(self, gray_batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
        """``(B, size, size)`` float gray in [0, 1] -> ``(rgb (B, size, size, 3) uint8, position (B, size, size)
        float32 in [0, 1], log_scale (B, size, size) float32)``; position and log scale are ``None`` for an RGB
        head."""
        x = torch.from_numpy(np.ascontiguousarray(gray_batch, dtype=np.float32))[:, None] * 2 - 1
        x = x.to(self.device)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        compiled = self._compiled_output(x, self.compile_on_demand) if self.compile else None
        if compiled is not None:
            rgb, position, log_scale = compiled
        else:
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                rgb, position, log_scale = self.generator(x, with_scalar=True, quantise=True)
        if position is None:
            return tensor_to_rgb(rgb), None, None
        return tensor_to_rgb(rgb), position[:, 0].float().cpu().numpy(), log_scale[:, 0].float().cpu().numpy()

    def _compiled_output(self, x: torch.Tensor, may_compile: bool, wait: bool = False):
        """The compiled generator's outputs for ``x``, or None when the eager generator must serve: this shape is not
        compiled and this call may not compile it, compiling failed before, or another compile is running (only
        ``wait``, the warm-up, waits for it)."""
        shape = tuple(x.shape)
        if shape in self._compiled_shapes:
            return self._compiled(x, with_scalar=True, quantise=True)
        if not may_compile or not _COMPILE_LOCK.acquire(blocking=wait):
            return None
        try:
            if not self.compile or shape in self._compiled_shapes:  # settled while this call waited
                return self._compiled_output(x, may_compile=False) if self.compile else None
            if self._compiled is None:
                self._compiled = compile_generator(self.generator)
            t0 = time.perf_counter()
            with compiling():
                out = self._compiled(x, with_scalar=True, quantise=True)
            self._compiled_shapes.add(shape)
            log.info("%s compiled for input %s in %.1f s", self.info.version, shape, time.perf_counter() - t0)
            return out
        except Exception as exc:  # noqa: BLE001 - no C++ compiler, an unsupported op: serve eager, say it once
            self.compile = False
            log.warning("%s: torch.compile failed (%s: %s); serving the eager generator", self.info.version,
                        type(exc).__name__, str(exc).splitlines()[0][:200] if str(exc) else "")  # fmt: skip
            return None
        finally:
            _COMPILE_LOCK.release()

    @torch.inference_mode()
    def warm_up(self) -> None:
        """Compile for one image at the model's size now (when ``compile``), so the first reader does not wait."""
        if self.compile:
            self._compiled_output(torch.zeros(1, 1, self.size, self.size, device=self.device), True, wait=True)

    def generate(self, image: ImageLike) -> Elastogram:
        return self.generate_batch([image])[0]

    def generate_batch(self, images: Sequence[ImageLike], batch_size: int = 8) -> list[Elastogram]:
        """Generate for many images, ``batch_size`` at a time; results keep the input order."""
        prepared = [self.prepare(image) for image in images]
        results: list[Elastogram] = []
        for start in range(0, len(prepared), batch_size):
            chunk = prepared[start : start + batch_size]
            t0 = time.perf_counter()
            outputs, positions, log_scales = self.run_model(np.stack([gray for gray, _ in chunk]))
            ms = (time.perf_counter() - t0) * 1000 / len(chunk)
            for i, ((gray, box), out) in enumerate(zip(chunk, outputs, strict=True)):
                maps: dict = {"rgb": box.to_source(out)}
                if positions is not None:
                    maps = self._maps(positions[i], log_scales[i], box)
                results.append(
                    Elastogram(
                        model_rgb=out,
                        bmode_model=gray,
                        letterbox=box,
                        model_version=self.info.version,
                        mode=self.info.mode,
                        colour_scale=dict(self.info.colour_scale),
                        ms=ms,
                        **maps,
                    )
                )
        return results

    def _maps(self, position: np.ndarray, log_scale: np.ndarray, box: Letterbox) -> dict:
        """Model-space position and log scale -> RGB, scalar and uncertainty in the model's and the source's
        geometry. The RGB is rendered from the resized position, so resizing never blends two map colours into a
        colour that is not on the map."""
        cmap = self.info.colormap
        span = cmap.vmax - cmap.vmin
        model_std = (SQRT2 * np.exp(log_scale) * span).astype(np.float32)
        source_position = np.clip(box.to_source(position.astype(np.float32)), 0.0, 1.0)
        return {
            "rgb": cmap.lut[np.rint(source_position * (cmap.lut.shape[0] - 1)).astype(np.int64)],
            "scalar": cmap.from_position(source_position),
            "uncertainty": box.to_source(model_std),
            "model_scalar": cmap.from_position(position),
            "model_uncertainty": model_std,
        }
