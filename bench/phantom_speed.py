"""Phantom generation speed: the acceptance target is >= 2 cases/s for `usegan phantom --size 256` with 2 workers.

    .venv/bin/python bench/phantom_speed.py                  # 2000 cases, 2 workers, size 256
    .venv/bin/python bench/phantom_speed.py -n 200 --profile # quicker, plus a per-stage profile of one worker

Writes to a temporary folder (removed afterwards) and prints cases/s for the whole CLI run (simulate + write).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def stage_profile(size: int, repeats: int = 12) -> None:
    """Seconds per case of each stage in this process (one core)."""
    import numpy as np

    from usegan.phantom.bmode import simulate_bmode
    from usegan.phantom.case import case_seed, random_case_of_type, sample_params
    from usegan.phantom.mechanics import axial_strain
    from usegan.phantom.tissue import LESION_TYPES, build_tissue
    from usegan.phantom.writer import write_case

    totals = dict.fromkeys(("tissue", "bmode", "strain", "case_total", "write"), 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            rng = np.random.default_rng(i)
            params = sample_params(rng, LESION_TYPES[i % len(LESION_TYPES)])
            t0 = time.perf_counter()
            tissue = build_tissue(params, size, rng)
            t1 = time.perf_counter()
            simulate_bmode(tissue.echo, tissue.atten, tissue.mm_per_px, rng)
            t2 = time.perf_counter()
            axial_strain(tissue.stiffness_kpa)
            t3 = time.perf_counter()
            case = random_case_of_type(case_seed(0, i), params.lesion_type, size)
            t4 = time.perf_counter()
            write_case(case, Path(tmp) / f"c{i}")
            t5 = time.perf_counter()
            for key, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                totals[key] += dt
    for key, total in totals.items():
        print(f"  {key:<11} {1000 * total / repeats:7.1f} ms/case")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from usegan.cli import main as cli

    if args.profile:
        print(f"per-stage profile, size {args.size}, one process:")
        stage_profile(args.size)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        code = cli(
            [
                "phantom",
                "-n",
                str(args.n),
                "--out",
                tmp,
                "--size",
                str(args.size),
                "--workers",
                str(args.workers),
                "--quiet",
            ]
        )
        elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(code)
    rate = args.n / elapsed
    verdict = "PASS" if rate >= 2.0 else "FAIL"
    print(
        f"{args.n} cases, size {args.size}, {args.workers} workers: {elapsed:.1f} s = {rate:.2f} cases/s "
        f"(target >= 2): {verdict}"
    )


if __name__ == "__main__":
    main()
