"""Scale benchmark for the case store: N synthetic cases, store open time, worklist latency.

Cases are inserted in bulk (:func:`usegan.store.synthetic.fill_synthetic_cases`): they share one tiny B-mode
file, which is enough because the worklist never reads images.
Targets: open < 2 s, worklist (latest 50, filtered) < 100 ms.

    .venv/bin/python bench/store_scale.py --cases 100000 [--json] [--dir /tmp/x]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from usegan.store import Store  # noqa: E402
from usegan.store.synthetic import fill_synthetic_cases  # noqa: E402

QUERIES = {
    "latest 50": {},
    "status=draft": {"status": "draft"},
    "organ=thyroid": {"organ": "thyroid"},
    "last 30 days": {"date_from": dt.date(2025, 12, 1), "date_to": dt.date(2025, 12, 31)},
    "reviewer=dr_3 signed": {"reviewer": "dr_3", "status": "signed"},
    "all filters": {
        "status": ["signed", "amended"],
        "organ": "breast",
        "date_from": dt.date(2025, 1, 1),
        "reviewer": "dr_1",
    },
    "search": {"search": "P-0000123"},
}


def populate(store: Store, n: int) -> float:
    start = time.perf_counter()
    fill_synthetic_cases(store, n)
    return time.perf_counter() - start


def timed(fn, repeat: int = 7) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, max(times) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    work = Path(args.dir or tempfile.mkdtemp(prefix="usegan-store-bench-"))
    db, images = work / "usegan.duckdb", work / "images"
    result: dict = {"cases": args.cases}
    start = time.perf_counter()
    with Store(db, images) as store:
        result["create_s"] = round(time.perf_counter() - start, 3)
        result["insert_s"] = round(populate(store, args.cases), 3)
        store.checkpoint()
    start = time.perf_counter()
    store = Store(db, images)
    result["open_s"] = round(time.perf_counter() - start, 3)
    first = time.perf_counter()
    rows = store.worklist()
    result["first_worklist_ms"] = round((time.perf_counter() - first) * 1000, 1)
    if len(rows) != 50:
        raise SystemExit(f"expected 50 rows, got {len(rows)}")
    result["worklist_ms"] = {}
    for name, filters in QUERIES.items():
        median, worst = timed(lambda f=filters: store.worklist(**f))
        result["worklist_ms"][name] = {"median": round(median, 2), "max": round(worst, 2)}
    median, worst = timed(store.counts)
    result["counts_ms"] = {"median": round(median, 2), "max": round(worst, 2)}
    store.close()
    result["db_mb"] = round(db.stat().st_size / 1e6, 1)
    slowest = max(v["median"] for v in result["worklist_ms"].values())
    result["ok"] = result["open_s"] < 2.0 and slowest < 100.0
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.cases:,} cases: insert {result['insert_s']} s, open {result['open_s']} s, "
            f"first worklist {result['first_worklist_ms']} ms, db {result['db_mb']} MB"
        )
        for name, t in result["worklist_ms"].items():
            print(f"  worklist {name:<22} median {t['median']:7.2f} ms   max {t['max']:7.2f} ms")
        print(f"  counts                          median {result['counts_ms']['median']:7.2f} ms")
        print("targets met (open < 2 s, worklist < 100 ms)" if result["ok"] else "TARGETS MISSED")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
