"""Inference API: any input layout and size in, an elastogram in the input's geometry out, with metadata."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from usegan.active_model import NoModelError, resolve
from usegan.checkpoint import save_checkpoint
from usegan.inference import VirtualElastographer
from usegan.models.generator import GeneratorConfig, USEGANGenerator


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny-strain.pt"
    generator = USEGANGenerator(GeneratorConfig(base_channels=4, image_size=32, n_res_blocks=1))
    save_checkpoint(path, generator, mode="strain", version="usegan-strain-tiny")
    return path


@pytest.fixture(scope="module")
def engine(checkpoint):
    return VirtualElastographer.from_checkpoint(checkpoint)


@pytest.mark.parametrize(
    "image",
    [
        np.random.default_rng(0).integers(0, 256, (50, 70), dtype=np.uint8),  # 8-bit gray, landscape
        np.random.default_rng(1).integers(0, 65536, (90, 40), dtype=np.uint16),  # 16-bit gray, portrait
        np.random.default_rng(2).integers(0, 256, (33, 33, 3), dtype=np.uint8),  # RGB
        np.random.default_rng(3).integers(0, 256, (40, 64, 4), dtype=np.uint8),  # RGBA
    ],
    ids=["gray8", "gray16", "rgb", "rgba"],
)
def test_generate_any_layout_maps_back_to_input_geometry(engine, image):
    result = engine.generate(image)
    assert result.rgb.shape == (*image.shape[:2], 3) and result.rgb.dtype == np.uint8
    assert result.model_rgb.shape == (32, 32, 3)
    assert result.model_version == "usegan-strain-tiny" and result.mode == "strain"
    assert result.ms > 0 and "VIRTUAL" in result.caption and "usegan-strain-tiny" in result.caption


def test_paths_and_pil_give_same_result_as_arrays(engine, tmp_path):
    arr = np.random.default_rng(5).integers(0, 256, (48, 48), dtype=np.uint8)
    Image.fromarray(arr).save(tmp_path / "b.png")
    a = engine.generate(arr).rgb
    b = engine.generate(tmp_path / "b.png").rgb
    c = engine.generate(Image.fromarray(arr)).rgb
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_batch_matches_single_and_keeps_order(engine):
    rng = np.random.default_rng(9)
    images = [rng.integers(0, 256, (32, 32), dtype=np.uint8) for _ in range(5)]
    batch = engine.generate_batch(images, batch_size=2)
    singles = [engine.generate(im) for im in images]
    for b, s in zip(batch, singles, strict=True):
        assert np.abs(b.model_rgb.astype(int) - s.model_rgb.astype(int)).max() <= 1


def test_letterbox_padding_is_dropped_in_output(engine):
    wide = np.full((20, 80), 200, dtype=np.uint8)
    result = engine.generate(wide)
    assert result.letterbox.pad_top > 0 and result.rgb.shape == (20, 80, 3)
    pts = result.letterbox.points_to_source(result.letterbox.points_to_model(np.array([[5.0, 7.0]])))
    np.testing.assert_allclose(pts, [[5.0, 7.0]])


def test_bundled_lookup_names_missing_mode(tmp_path, checkpoint):
    with pytest.raises(NoModelError, match="no swe checkpoint in"):
        resolve("swe", model_dir=checkpoint.parent)
    assert VirtualElastographer.from_checkpoint(resolve("strain", model_dir=checkpoint.parent)).info.mode == "strain"


def test_importing_usegan_does_not_import_streamlit():
    """The library never imports Streamlit: import every module of the package and check."""
    code = (
        "import importlib, pkgutil, sys, usegan\n"
        "names = [m.name for m in pkgutil.walk_packages(usegan.__path__, 'usegan.')]\n"
        "names = [n for n in names if not n.endswith('__main__')]\n"
        "for name in names: importlib.import_module(name)\n"
        "assert len(names) > 30, names\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_precision_bf16_runs_in_bf16_and_stays_close_to_fp32(checkpoint, monkeypatch):
    import usegan.inference as inference

    fp32 = VirtualElastographer.from_checkpoint(checkpoint, precision="fp32")
    bf16 = VirtualElastographer.from_checkpoint(checkpoint, precision="bf16")
    assert (fp32.precision, bf16.precision) == ("fp32", "bf16")
    assert VirtualElastographer.from_checkpoint(checkpoint).precision == "fp32"  # the library's default
    dtypes: set = set()
    conv = next(m for m in bf16.generator.modules() if isinstance(m, torch.nn.Conv2d))
    hook = conv.register_forward_hook(lambda m, i, out: dtypes.add(out.dtype))
    image = np.random.default_rng(5).integers(0, 256, (48, 64), dtype=np.uint8)
    a, b = fp32.generate(image), bf16.generate(image)
    hook.remove()
    assert dtypes == {torch.bfloat16}  # the convolutions really ran in bf16
    assert np.abs(a.scalar - b.scalar).mean() < 0.02 * (fp32.info.colormap.vmax - fp32.info.colormap.vmin)
    cpu = torch.device("cpu")
    monkeypatch.setattr(inference, "cpu_has_fast_bf16", lambda: True)
    assert inference.resolve_precision("auto", cpu) == "bf16"
    assert inference.resolve_precision("auto", torch.device("cuda")) == "fp32"  # auto picks bf16 only for AMX CPUs
    monkeypatch.setattr(inference, "cpu_has_fast_bf16", lambda: False)
    assert inference.resolve_precision("auto", cpu) == "fp32"
    with pytest.raises(ValueError, match="precision must be one of.*'fp16'"):
        VirtualElastographer.from_checkpoint(checkpoint, precision="fp16")


def test_the_generator_runs_at_another_size_and_maps_back_to_the_input(checkpoint):
    default = VirtualElastographer.from_checkpoint(checkpoint)
    larger = VirtualElastographer.from_checkpoint(checkpoint, size=64)  # trained at 32: fully convolutional
    assert (default.size, larger.size) == (32, 64)
    image = np.random.default_rng(6).integers(0, 256, (50, 70), dtype=np.uint8)
    small, big = default.generate(image), larger.generate(image)
    assert big.model_rgb.shape == (64, 64, 3) and small.model_rgb.shape == (32, 32, 3)
    assert big.rgb.shape == small.rgb.shape == (50, 70, 3) and big.scalar.shape == (50, 70)
    _, distance = larger.info.colormap.invert(big.rgb)
    assert float(np.mean(distance > 12.0)) == 0.0  # still every pixel on the map
    for bad in (48 + 4, 0, 4096):  # not a multiple of 2 ** n_down (8), none, too large
        with pytest.raises(ValueError, match="size must be a multiple of 8"):
            VirtualElastographer.from_checkpoint(checkpoint, size=bad)


def test_a_failing_compile_is_logged_once_and_the_eager_generator_serves(checkpoint, monkeypatch, caplog):
    eager = VirtualElastographer.from_checkpoint(checkpoint)
    engine = VirtualElastographer.from_checkpoint(checkpoint, compile=True)
    calls = []

    def broken(*args, **kwargs):  # what a machine without a C++ compiler gives
        calls.append(1)
        raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found")

    monkeypatch.setattr(torch, "compile", broken)
    image = np.random.default_rng(5).integers(0, 256, (40, 40), dtype=np.uint8)
    with caplog.at_level("WARNING", logger="usegan.inference"):
        first, second = engine.generate(image), engine.generate(image)
    assert calls == [1] and not engine.compile  # tried once, then eager for good
    assert [r.message for r in caplog.records if "torch.compile failed" in r.message][0].count("InvalidCxxCompiler")
    np.testing.assert_array_equal(first.rgb, eager.generate(image).rgb)
    np.testing.assert_array_equal(second.rgb, first.rgb)


def test_a_call_while_another_thread_compiles_runs_eager_without_waiting(checkpoint, monkeypatch):
    engine = VirtualElastographer.from_checkpoint(checkpoint, compile=True)
    monkeypatch.setattr(torch, "compile", lambda *a, **k: pytest.fail("compiled although another thread was"))
    image = np.random.default_rng(6).integers(0, 256, (40, 40), dtype=np.uint8)
    from usegan.inference import _COMPILE_LOCK

    with _COMPILE_LOCK:  # another thread is compiling (this model or another)
        result = engine.generate(image)
    np.testing.assert_array_equal(result.rgb, VirtualElastographer.from_checkpoint(checkpoint).generate(image).rgb)
    assert engine.compile  # still to be compiled later


def test_compile_is_ignored_for_bf16():
    generator = USEGANGenerator(GeneratorConfig(base_channels=4, image_size=32, n_res_blocks=1))
    from usegan.checkpoint import ModelInfo

    info = ModelInfo(version="v", mode="strain", colour_scale={}, generator_config=generator.config)
    assert not VirtualElastographer(generator, info, precision="bf16", compile=True).compile


@pytest.mark.slow  # Inductor compiles C++ kernels: tens of seconds
def test_the_compiled_generator_gives_the_eager_outputs_and_compiles_once_per_shape(checkpoint, monkeypatch):
    eager = VirtualElastographer.from_checkpoint(checkpoint)
    engine = VirtualElastographer.from_checkpoint(checkpoint, compile=True)
    engine.warm_up()
    assert engine._compiled_shapes == {(1, 1, 32, 32)}
    images = [np.random.default_rng(i).integers(0, 256, (40, 50), dtype=np.uint8) for i in range(3)]
    for image in images:
        got, want = engine.generate(image), eager.generate(image)
        np.testing.assert_allclose(got.scalar, want.scalar, atol=1e-3)
        assert (got.rgb != want.rgb).any(axis=-1).mean() < 0.01  # a pixel may round to the next map colour
    assert engine._compiled_shapes == {(1, 1, 32, 32)} and engine.compile


def test_without_compile_on_demand_only_warm_up_compiles(checkpoint, monkeypatch):
    """The app's setting: a reader's image never pays a compile; the background warm-up does."""
    engine = VirtualElastographer.from_checkpoint(checkpoint, compile=True, compile_on_demand=False)
    compiled = []
    monkeypatch.setattr(torch, "compile", lambda model, **k: compiled.append(1) or model)  # an "instant compile"
    engine.generate(np.zeros((40, 40), dtype=np.uint8))
    assert compiled == [] and engine._compiled_shapes == set()
    engine.warm_up()
    assert compiled == [1] and engine._compiled_shapes == {(1, 1, 32, 32)}
