"""Validate the score engines against phantom ground truth.

    .venv/bin/python scripts/scoring_validation.py --cases 500 --size 128 --seed 0

Prints the Tsukuba agreement with its confusion matrix, the strain-ratio and SWE-Emean agreement, and exits 1
when a target is missed (Tsukuba >= 95 %, strain ratio within 10 % and Emean within 2 kPa for >= 95 % of cases).
See :mod:`usegan.scoring.validation` for what is compared with what.
"""

from __future__ import annotations

import argparse
import sys
import time

from usegan.scoring.validation import validate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500, help="number of phantom lesion cases")
    parser.add_argument("--size", type=int, default=128, help="phantom image side in pixels")
    parser.add_argument("--seed", type=int, default=0, help="run seed")
    parser.add_argument("--target", type=float, default=0.95, help="agreement each figure must reach")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    report = validate(args.cases, args.size, args.seed)
    print(report.summary())
    print(f"disagreements (seed, type, truth, proposed): {report.disagreements[:20]}")
    print(f"elapsed: {time.perf_counter() - start:.1f} s")
    ok = (
        report.tsukuba_agreement >= args.target
        and report.ratio_agreement >= args.target
        and report.emean_agreement >= args.target
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
