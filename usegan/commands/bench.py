"""``usegan bench``: CPU inference benchmark of USE-GAN against pix2pix's unet_256 (see :mod:`usegan.bench`)."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="benchmark generator inference on this machine")
    p.add_argument("--size", type=int, default=256, help="square input side (default 256)")
    p.add_argument("--repeats", type=int, default=10, help="timed runs at batch 1 (default 10)")
    p.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    p.add_argument("--no-unet", action="store_true", help="skip the unet_256 reference")
    p.add_argument(
        "--bf16",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="time bf16 autocast too (default: only on a CPU with AMX, where the app serves it; elsewhere it is "
        "emulated and slow)",
    )
    p.add_argument(
        "--compile",
        action="store_true",
        help="time torch.compile too (Inductor with weight freezing, fp32; needs a C++ compiler; the first call "
        "compiles, tens of seconds, reported as compile_s)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from usegan.bench import run_benchmark

    report = run_benchmark(
        args.size, args.repeats, args.threads or None, include_unet=not args.no_unet, bf16=args.bf16,
        torch_compile=args.compile,
    )  # fmt: skip
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    size, served = report["size"], report["served_variant"]
    print(f"size {size}x{size}, {report['threads']} threads, torch {report['torch']}; the app serves {served} here (*)")
    print(f"{'model':10} {'variant':20} {'params':>10} {'GFLOPs':>8} {'ms@b1':>8} {'img/s@b16':>10} {'maxdiff':>8}")
    for r in report["results"]:
        served = r["model"] == "usegan" and r["variant"] == report["served_variant"]
        variant = r["variant"] + ("*" if served else "")
        print(
            f"{r['model']:10} {variant:20} {r['params']:>10,} {r['gflops']:>8.2f} {r['median_ms_b1']:>8.1f} "
            f"{r['images_per_s_b16']:>10.1f} {r['max_abs_diff_vs_fp32']:>8.4f}"
        )
    for r in report["results"]:
        if r["compile_s"]:
            print(f"{r['model']} {r['variant']}: the first call compiled for {r['compile_s']:.1f} s (once per process)")
    if "ratio_unet_over_usegan" in report:
        print("unet_256 / usegan:", report["ratio_unet_over_usegan"])
    return 0
