"""CPU inference benchmark: USE-GAN's default generator vs pix2pix's ``unet_256``, built in the same run.

Reports parameters, GFLOPs per image (2 x multiply-accumulates of conv / linear layers, counted with forward
hooks), median milliseconds at batch 1 and images/s at batch 16, for each speed lever tried: plain fp32,
``channels_last``, bf16 autocast and, when asked, ``torch.compile`` (Inductor with weight freezing, fp32; its
compile time is reported apart). Timing uses ``torch.inference_mode()`` after warm-up runs.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass

import torch
from torch import nn

from usegan.models.generator import GeneratorConfig, USEGANGenerator
from usegan.models.layers import UpBlock
from usegan.models.unet import UNetConfig, UNetGenerator


@dataclass
class BenchResult:
    model: str  # "usegan" or "unet_256"
    variant: str  # "fp32", "fp32+channels_last", "bf16+channels_last", "fp32+compile"
    params: int  # trainable parameters
    gflops: float  # per image at the benchmark size
    median_ms_b1: float  # median latency, batch 1
    images_per_s_b16: float  # throughput, batch 16
    max_abs_diff_vs_fp32: float  # output difference against plain fp32 on the same input (quality check)
    compile_s: float = 0.0  # "fp32+compile": seconds the first call took (compiling), paid once per process


def count_gflops(model: nn.Module, size: int, in_channels: int = 1) -> float:
    """GFLOPs (2 x MACs) of one forward pass on a ``(1, in_channels, size, size)`` input, as the model's mode
    (train / eval) runs it."""
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            # ConvTranspose: each input pixel does out_channels*k*k MACs
            if isinstance(module, nn.ConvTranspose2d):
                macs += inputs[0].numel() * module.out_channels * module.kernel_size[0] * module.kernel_size[1]
            else:
                macs += output.numel() * kernel
        elif isinstance(module, nn.Linear):
            macs += output.numel() * module.in_features
        elif isinstance(module, UpBlock) and not module.training:  # its conv module is not called in eval mode
            macs += module.eval_multiply_adds(output.numel())

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.inference_mode():
        model(torch.zeros(1, in_channels, size, size))
    for h in handles:
        h.remove()
    return 2 * macs / 1e9


def time_runs(model: nn.Module, x: torch.Tensor, repeats: int, bf16: bool = False) -> list[float]:
    """Seconds of each of ``repeats`` forward passes on ``x`` after one warm-up pass, under
    ``torch.inference_mode()`` (and bf16 autocast when ``bf16``)."""
    times = []
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        model(x)  # warm-up
        for _ in range(repeats):
            t0 = time.perf_counter()
            model(x)
            times.append(time.perf_counter() - t0)
    return times


def bench_model(
    name: str,
    model: nn.Module,
    size: int,
    repeats: int = 10,
    batch: int = 16,
    variants: tuple[str, ...] = ("fp32", "fp32+channels_last", "bf16+channels_last"),
) -> list[BenchResult]:
    model.eval().requires_grad_(False)  # as the app loads it (load_generator); lets Inductor freeze the weights
    params = sum(p.numel() for p in model.parameters())
    gflops = count_gflops(model, size)
    torch.manual_seed(0)
    x1 = torch.rand(1, 1, size, size) * 2 - 1
    xb = torch.rand(batch, 1, size, size) * 2 - 1
    with torch.inference_mode():
        reference = model(x1).float()
    results = []
    for variant in variants:
        if variant == "fp32+compile":
            results.append(_bench_compiled(name, model, x1, xb, reference, params, gflops, repeats, batch))
            continue
        channels_last = "channels_last" in variant
        bf16 = variant.startswith("bf16")
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        model.to(memory_format=fmt)
        a, b = x1.contiguous(memory_format=fmt), xb.contiguous(memory_format=fmt)
        t1 = time_runs(model, a, repeats, bf16)
        tb = time_runs(model, b, max(2, repeats // 4), bf16)
        with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            diff = (model(a).float() - reference).abs().max().item()
        results.append(
            BenchResult(
                name,
                variant,
                params,
                round(gflops, 3),
                round(statistics.median(t1) * 1000, 2),
                round(batch / statistics.median(tb), 2),
                round(diff, 4),
            )
        )
    model.to(memory_format=torch.contiguous_format)
    return results


def _bench_compiled(name, model, x1, xb, reference, params, gflops, repeats, batch) -> BenchResult:
    """fp32 through :func:`usegan.inference.compile_generator`, as the app serves it with ``inference_compile``;
    batch 16 compiles a second graph (not timed apart)."""
    from usegan.inference import compile_generator, compiling

    model.to(memory_format=torch.contiguous_format)  # the variants before may have left it channels_last
    compiled = compile_generator(model)
    with compiling():
        t0 = time.perf_counter()
        with torch.inference_mode():
            diff = (compiled(x1).float() - reference).abs().max().item()
        compile_s = time.perf_counter() - t0
        t1 = time_runs(compiled, x1, repeats, bf16=False)
        tb = time_runs(compiled, xb, max(2, repeats // 4), bf16=False)  # its warm-up call compiles batch 16
    return BenchResult(name, "fp32+compile", params, round(gflops, 3), round(statistics.median(t1) * 1000, 2),
                       round(batch / statistics.median(tb), 2), round(diff, 6), round(compile_s, 1))  # fmt: skip


def run_benchmark(
    size: int = 256,
    repeats: int = 10,
    threads: int | None = None,
    config: GeneratorConfig | None = None,
    include_unet: bool = True,
    bf16: bool | None = None,
    torch_compile: bool = False,
) -> dict:
    """Benchmark the default (or given) USE-GAN config and the unet_256 reference; returns a JSON-able dict.

    ``bf16``: also time bf16 autocast; ``None`` (default) only where the CPU runs it fast (AMX), i.e. where the
    app serves it. Without AMX it is emulated, 5-70x slower than fp32 here, and the app serves fp32
    (:func:`usegan.inference.resolve_precision`); ``served_variant`` names what the app runs on this machine.
    ``torch_compile``: also time ``torch.compile`` (``fp32+compile``; measured, not served: see docs/benchmarks.md)."""
    from usegan.inference import cpu_has_fast_bf16

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = config or GeneratorConfig(image_size=size)
    fast_bf16 = cpu_has_fast_bf16()
    variants = (
        ("fp32", "fp32+channels_last")
        + (("bf16+channels_last",) if bf16 or (bf16 is None and fast_bf16) else ())
        + (("fp32+compile",) if torch_compile else ())
    )
    rows = bench_model("usegan", USEGANGenerator(config), size, repeats, variants=variants)
    if include_unet:
        rows += bench_model("unet_256", UNetGenerator(UNetConfig()), size, max(3, repeats // 2), variants=variants)
    report = {
        "size": size,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cpu_fast_bf16": fast_bf16,
        "served_variant": "bf16+channels_last" if fast_bf16 else "fp32+channels_last",
        "generator_config": config.to_dict(),
        "results": [asdict(r) for r in rows],
    }
    if include_unet:
        best = {m: min((r for r in rows if r.model == m), key=lambda r: r.median_ms_b1) for m in ("usegan", "unet_256")}
        report["ratio_unet_over_usegan"] = {
            "gflops": round(best["unet_256"].gflops / best["usegan"].gflops, 2),
            "median_ms_b1": round(best["unet_256"].median_ms_b1 / best["usegan"].median_ms_b1, 2),
            "params": round(best["unet_256"].params / best["usegan"].params, 2),
        }
    return report
