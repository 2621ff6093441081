"""Smoke test of bench/dashboard_speed.py on tiny images: it makes both cases through intake (the large one
through its reading copy), runs the review page for every action, and reports every figure. No timing is
asserted (speed belongs in the benchmark's report, docs/benchmarks.md)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "dashboard_speed.py"


def _bench():
    spec = importlib.util.spec_from_file_location("dashboard_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dashboard_speed_reports_every_action_for_both_images(capsys, monkeypatch):
    bench = _bench()
    made = {}
    make_cases = bench.make_cases

    def recording(env, small, large):
        made["cases"] = make_cases(env, small, large)
        from usegan.settings import get_settings
        from usegan.store import open_store

        with open_store(get_settings(environ=env)) as store:
            made["shapes"] = {k: (store.get_case(c).height, store.get_case(c).width) for k, c in made["cases"].items()}
        return made["cases"]

    monkeypatch.setattr(bench, "make_cases", recording)
    assert bench.main(["--small", "64", "--large", "1100", "--repeats", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert list(report["images"]) == ["64 px", "1 MP"]
    assert made["shapes"] == {"64 px": (64, 64), "1 MP": (1024, 1024)}  # the large one as its reading copy
    for actions in report["images"].values():
        assert {a: row["n"] for a, row in actions.items()} == {"open_cold": 1, "open_warm": 1, "roi": 2}
        assert all(
            row["server_ms_median"] > 0 and row["run_ms_median"] > 0 and row["cpu_ms_median"] > 0
            for row in actions.values()
        )
    assert (
        set(report["large_over_small_server"])
        == set(report["large_over_small_cpu"])
        == {"open_cold", "open_warm", "roi"}
    )
    assert len(report["load_average"]) == 3 and report["mode"] == "strain"
