"""`usegan generate` and `usegan bench`: outputs, JSON lines and one clear error line per bad file."""

from __future__ import annotations

import json
import struct
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from usegan.checkpoint import save_checkpoint
from usegan.cli import main
from usegan.models.generator import GeneratorConfig, USEGANGenerator


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("m") / "tiny.pt"
    save_checkpoint(
        path,
        USEGANGenerator(GeneratorConfig(base_channels=4, image_size=32, n_res_blocks=1)),
        mode="swe",
        version="usegan-swe-tiny",
    )
    return path


def png_header_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose IHDR claims a huge size (a cheap decompression-bomb file: a few dozen bytes)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def test_generate_writes_outputs_and_json(model, tmp_path, capsys):
    images = tmp_path / "in"
    images.mkdir()
    Image.fromarray(np.full((30, 50), 90, np.uint8)).save(images / "a.png")
    Image.fromarray(np.full((64, 64, 3), 120, np.uint8)).save(images / "b.jpg")
    out = tmp_path / "out"
    assert main(["generate", str(images), "--out", str(out), "--model", str(model), "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["input"].rsplit("/", 1)[1] for r in records] == ["a.png", "b.jpg"]
    for r in records:
        assert set(r) >= {"input", "output", "model_version", "mode", "ms"}
        assert r["model_version"] == "usegan-swe-tiny" and r["mode"] == "swe" and r["ms"] > 0
    assert Image.open(out / "a_elasto.png").size == (50, 30)
    text = Image.open(out / "a_elasto.png").text  # the file itself says it is virtual and which model made it
    assert text["usegan:virtual"] == "true" and text["usegan:model_version"] == "usegan-swe-tiny"
    assert "Virtual elastography" in text["Description"] and json.loads(text["usegan:colour_scale"])["unit"] == "kPa"
    assert Image.open(out / "b_elasto.png").mode == "RGB"


def test_generate_bad_files_each_get_one_error_line(model, tmp_path, capsys):
    good = tmp_path / "good.png"
    Image.fromarray(np.full((40, 40), 100, np.uint8)).save(good)
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    truncated = tmp_path / "trunc.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:200])
    tiny = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((1, 1), np.uint8)).save(tiny)
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_claiming(100_000, 100_000))
    missing = tmp_path / "missing.png"
    out = tmp_path / "out"
    code = main(
        [
            "generate",
            str(missing),
            str(not_image),
            str(truncated),
            str(good),
            str(tiny),
            str(bomb),
            "--out",
            str(out),
            "--model",
            str(model),
        ]
    )
    captured = capsys.readouterr()
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    assert code == 1
    assert len(errors) == 5
    by_file = {
        name: next(e for e in errors if name in e)
        for name in ("missing.png", "notes.png", "trunc.png", "tiny.png", "bomb.png")
    }
    assert "no such file" in by_file["missing.png"]
    assert "1x1" in by_file["tiny.png"]
    assert "decompression bomb" in by_file["bomb.png"]
    assert "Traceback" not in captured.err
    assert (out / "good_elasto.png").is_file()  # the good one is still processed
    assert "5 of 6 input(s) failed" in captured.err


def test_generate_bad_model_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"garbage")
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(img)
    assert main(["generate", str(img), "--out", str(tmp_path), "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.pt" in err and "Traceback" not in err


def test_generate_without_bundled_model_names_the_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(tmp_path / "nomodels"))
    img = tmp_path / "x.png"
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(img)
    assert main(["generate", str(img), "--out", str(tmp_path), "--mode", "strain"]) == 2
    assert "no strain checkpoint" in capsys.readouterr().err


def test_bench_json_reports_both_models(capsys):
    from usegan.bench import run_benchmark
    from usegan.models.generator import GeneratorConfig

    report = run_benchmark(
        size=32, repeats=1, config=GeneratorConfig(base_channels=4, image_size=32), include_unet=False
    )
    (row,) = [r for r in report["results"] if r["variant"] == "fp32"]
    assert row["params"] > 0 and row["gflops"] > 0 and row["median_ms_b1"] > 0 and row["images_per_s_b16"] > 0
    assert {r["variant"] for r in report["results"]} >= {"fp32", "fp32+channels_last"}


@pytest.mark.parametrize("fast_bf16", [True, False])
def test_bench_times_bf16_only_where_the_app_serves_it_unless_asked(monkeypatch, capsys, fast_bf16):
    import usegan.inference
    from usegan.bench import run_benchmark
    from usegan.models.generator import GeneratorConfig

    monkeypatch.setattr(usegan.inference, "cpu_has_fast_bf16", lambda: fast_bf16)
    tiny = {"size": 32, "repeats": 1, "config": GeneratorConfig(base_channels=4, image_size=32), "include_unet": False}
    report = run_benchmark(**tiny)
    timed = {r["variant"] for r in report["results"]}
    assert ("bf16+channels_last" in timed) is fast_bf16
    assert report["served_variant"] == ("bf16+channels_last" if fast_bf16 else "fp32+channels_last")
    assert "bf16+channels_last" in {r["variant"] for r in run_benchmark(**tiny, bf16=True)["results"]}
    assert "bf16+channels_last" not in {r["variant"] for r in run_benchmark(**tiny, bf16=False)["results"]}
    assert main(["bench", "--size", "32", "--repeats", "1", "--no-unet", "--no-bf16"]) == 0
    assert f"the app serves {report['served_variant']} here" in capsys.readouterr().out


def test_gflops_counts_convolutions_exactly():
    from usegan.bench import count_gflops

    conv = torch.nn.Conv2d(1, 2, 3, padding=1)
    assert count_gflops(conv, 8) == pytest.approx(2 * (8 * 8 * 2) * 9 / 1e9)


def test_gflops_count_what_an_upblock_runs_in_each_mode():
    from usegan.bench import count_gflops
    from usegan.models.layers import UpBlock

    block = UpBlock(1, 2, "none")  # output (1, 2, 16, 16) from an 8 x 8 input
    assert count_gflops(block.train(), 8) == pytest.approx(2 * (16 * 16 * 2) * 9 / 1e9)
    assert count_gflops(block.eval(), 8) == pytest.approx(2 * (16 * 16 * 2) * 4 / 1e9)


def test_version_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and "usegan" in capsys.readouterr().out


# -- the CLI itself: light, acyclic, one clear line per misuse ------------------------------------------------------


def test_help_leaves_torch_out_of_sys_modules():
    """``usegan --help`` (and a sub-command's help built from a config dataclass) must not import torch."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from usegan.cli import main\n"
        "for argv in (['--help'], ['train', '--help'], ['finetune', '--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('HEAVY', sorted(m for m in ('torch', 'duckdb', 'streamlit') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "--config" in out and "HEAVY []" in out, out[-500:]


def test_commands_never_import_the_cli_module():
    """``usegan.cli`` imports every ``usegan.commands`` module; the reverse would be a cycle."""
    import ast
    from pathlib import Path

    import usegan.commands

    offenders = []
    for path in Path(usegan.commands.__path__[0]).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if any(n and (n == "usegan.cli" or n.startswith("usegan.cli.")) for n in names):
                offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders


def test_config_options_have_help_from_field_metadata():
    from dataclasses import fields

    from usegan.configs import help_of
    from usegan.finetune.run import FinetuneConfig
    from usegan.training.config import TrainConfig

    for cls in (TrainConfig, FinetuneConfig):
        missing = [f.name for f in fields(cls) if not help_of(f)]
        assert not missing, f"{cls.__name__} fields without help: {missing}"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("{not json", "is not valid JSON"),
        ("[1, 2]", "must hold a JSON object"),
        ('{"steps": 5, "stepz": 1}', "unknown TrainConfig config keys: ['stepz']"),
    ],
)
def test_bad_config_file_is_one_clear_line(tmp_path, capsys, content, message):
    path = tmp_path / "train.json"
    if content is not None:
        path.write_text(content)
    assert main(["train", "--config", str(path), "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("usegan train: error:"), err


def test_boolean_options_refuse_garbage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--augment", "maybe"])
    assert exit_info.value.code == 2
    assert "not a boolean: 'maybe'" in capsys.readouterr().err


@pytest.mark.slow  # Inductor compiles C++ kernels: tens of seconds even for a tiny model
def test_bench_times_torch_compile_when_asked_and_reports_its_compile_time(capsys):
    from usegan.bench import run_benchmark
    from usegan.models.generator import GeneratorConfig

    tiny = {"size": 32, "repeats": 1, "config": GeneratorConfig(base_channels=4, image_size=32), "include_unet": False}
    assert "fp32+compile" not in {r["variant"] for r in run_benchmark(**tiny)["results"]}
    (row,) = [r for r in run_benchmark(**tiny, torch_compile=True)["results"] if r["variant"] == "fp32+compile"]
    assert row["compile_s"] > 0 and row["median_ms_b1"] > 0 and row["images_per_s_b16"] > 0
    assert row["max_abs_diff_vs_fp32"] < 1e-4  # the same outputs as eager fp32
    assert main(["bench", "--size", "32", "--repeats", "1", "--no-unet", "--no-bf16", "--compile"]) == 0
    assert "fp32+compile: the first call compiled for" in capsys.readouterr().out
