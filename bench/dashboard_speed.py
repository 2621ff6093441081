"""Review-page speed for a small and a 36 MP image: open the case, re-score a new lesion ROI.

    OMP_NUM_THREADS=1 .venv/bin/python bench/dashboard_speed.py [--repeats 5] [--models data/models] [--json]
        [--small 256] [--large 6000] [--mode strain|swe] [--profile]

What runs is the review page itself (``pages/review.py``, through ``app.py`` and its sign-in gate), in this process
with Streamlit's ``AppTest``: the same script, services, store, models and caches a browser session runs, without
the websocket and the browser's drawing. Two cases are made first through the intake pipeline, as an upload would
be: a ``--small`` px square B-mode and a ``--large`` px one (6000: 36 MP, with full-resolution speckle; intake
stores its reading copy, :mod:`usegan.downscale`, and keeps the file as the original). Per image and action:

* ``server_ms``: the page's own run time, as it prints it ("Server time for this view: N ms");
* ``run_ms``: the whole ``AppTest`` run (Streamlit's script runner included);
* ``cpu_ms``: the CPU time this process spent in that run: the page's work, much less sensitive than the wall
  times above to other programs sharing the CPUs.

``open_cold`` = first opening (the virtual elastogram is generated and stored), ``open_warm`` = opening it again
from the worklist, ``roi`` = a new lesion ROI and a fat reference at its depth, as the canvas sends them (the
proposal, the measurements, the quality map and the images are recomputed in that run). The two images take turns,
so a change in the machine's load hits both alike. The last lines compare the large image's medians with the small
one's (the goal: within 2x) and give the load average, since the machine may be shared. ``--profile`` prints the
top of a cProfile of each image's last ROI run (the page's thread) to stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ACTIONS = ("open_cold", "open_warm", "roi")
SERVER_TIME = re.compile(r"Server time for this view: (\d+) ms")


def png(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def make_cases(env: dict[str, str], small_side: int, large_side: int) -> dict[str, str]:
    """A ``small_side`` px and a ``large_side`` px upload of the fixture sample's B-mode, through the intake
    pipeline; returns ``{label: case_id}``."""
    from usegan.intake.pipeline import Intake
    from usegan.screencrop import CropBox
    from usegan.settings import get_settings
    from usegan.store import open_store

    settings = get_settings(environ=env)
    sample = next(Path(settings.samples_dir).glob("*/bmode.png"))
    small = np.asarray(Image.open(sample).convert("L").resize((small_side, small_side)))
    rng = np.random.default_rng(0)
    big = np.asarray(Image.fromarray(small).resize((large_side, large_side), Image.BILINEAR)).astype(np.int16)
    big = np.clip(big + rng.integers(-12, 13, big.shape), 0, 255).astype(np.uint8)  # speckle at full resolution
    cases = {}
    with open_store(settings) as store:
        intake = Intake(store, settings)
        for pixels in (small, big):
            side = pixels.shape[0]
            label = f"{side * side / 1e6:.0f} MP" if side * side >= 1e6 else f"{side} px"
            image = intake.read(png(pixels), f"bench-{side}.png")
            cases[label] = intake.create_case(image, user="doc", organ="breast", crop=CropBox.full(*pixels.shape[:2]))
    return cases


@contextmanager
def environment(env: dict[str, str]):
    """``env`` set in ``os.environ`` for the block (the app reads its settings from there), restored after."""
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def lesion_marks(shape: tuple[int, int], i: int):
    """The canvas's marks for repeat ``i``: a lesion rectangle of a new size each time (so every run recomputes)
    and a fat circle at the lesion's depth, in the case's own pixels."""
    from usegan.scoring.roi import Ellipse, Rect
    from usegan.ui.roi_canvas import Marks

    h, w = shape
    x, y = round(w * 0.35), round(h * 0.35)
    lw, lh = round(w * (0.2 + 0.02 * i)), round(h * 0.2)
    fat = Ellipse(w * 0.15, y + lh / 2, w * 0.03, w * 0.03)
    return Marks(rois={"lesion": Rect(x, y, lw, lh), "reference": fat})


def server_ms(at) -> float:
    for caption in at.caption:
        if found := SERVER_TIME.search(caption.value):
            return float(found.group(1))
    problems = [e.value for e in at.exception] + [e.value for e in at.error]
    raise RuntimeError(f"the review page did not finish: {problems or 'no server time shown'}")


@contextmanager
def profiled(top: int = 30):
    """cProfile the thread the next ``AppTest.run()`` starts (the page's script thread), print the top lines."""
    import cProfile
    import pstats

    profiles: list = []

    def start(frame, event, arg):
        sys.setprofile(None)
        profile = cProfile.Profile()
        profiles.append(profile)
        profile.enable()

    threading.setprofile(start)
    try:
        yield
    finally:
        threading.setprofile(None)
    if profiles:
        stats = pstats.Stats(profiles[-1], stream=sys.stderr)
        stats.sort_stats("cumulative").print_stats(r"usegan|pages|PIL|numpy|streamlit.elements", top)


def time_page(cases: dict[str, str], repeats: int, mode: str, profile: bool) -> dict[str, dict[str, list]]:
    """Open each case ``repeats`` times and re-score a new ROI after each opening, the images taking turns (so a
    change in the machine's load hits both alike); ``{label: {action: [Timing, ...]}}``."""
    from usegan.store import Store
    from usegan.web.process import get_store

    found: dict[str, dict[str, list]] = {label: {a: [] for a in ACTIONS} for label in cases}
    store: Store = get_store(maintain=False)  # the app's store for this data folder (the pages get the same one)
    try:
        _time_cases(store, cases, repeats, mode, profile, found)
    finally:
        store.close()  # the folder is deleted next; the app's registry of stores is keyed by its path
    return found


def _signed_in():
    from streamlit.testing.v1 import AppTest

    from tests.app_fixtures import app_session

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=900)
    at.session_state["auth_user"] = app_session("doc")
    return at.run()


def _timed(at, profile_label: str | None = None) -> tuple[float, float, float]:
    """Run the page; ``(server_ms as the page prints it, wall ms of the run, CPU ms of this process)``. The CPU
    time counts the page's work (the test runner's main thread sleeps while the script thread runs), and is
    much less sensitive than wall time to other programs sharing the CPUs."""
    wall, cpu = time.perf_counter(), time.process_time()
    if profile_label:
        print(f"--- cProfile of the last ROI run, {profile_label}", file=sys.stderr)
        with profiled():
            at.run()
    else:
        at.run()
    return server_ms(at), (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _time_cases(store, cases: dict[str, str], repeats: int, mode: str, profile: bool, found: dict) -> None:
    sessions = {label: _signed_in() for label in cases}  # one browser session per image
    from usegan.services.signing import marks_keys

    shapes = {label: (store.get_case(c).height, store.get_case(c).width) for label, c in cases.items()}
    for i in range(repeats):
        for label, case_id in cases.items():
            at = sessions[label]
            at.switch_page("pages/worklist.py").run()
            at.session_state["review_case_id"] = case_id  # what a click on the worklist row sets
            at.session_state["review_mode"] = mode
            at.switch_page("pages/review.py")
            found[label]["open_cold" if i == 0 else "open_warm"].append(_timed(at))

            # The reader's new marks, as the page keeps them after a mouse-up, on a fresh canvas (what the page does
            # when a new lesion replaces the old one): every figure and image of the page is recomputed in this run.
            state_key, revision, _ = marks_keys("review", case_id, mode, store.get_case(case_id).bmode_sha)
            at.session_state[state_key] = lesion_marks(shapes[label], i)
            at.session_state[revision] = (at.session_state[revision] if revision in at.session_state else 0) + 1
            found[label]["roi"].append(_timed(at, label if profile and i == repeats - 1 else None))
            if not any(m.value.startswith("Lesion size (scored region)") for m in at.markdown):
                raise RuntimeError(f"{label}: the page did not measure the new lesion ROI")


def summarise(found: dict[str, dict[str, list]]) -> dict:
    images = {
        label: {
            action: {
                "server_ms_median": statistics.median(s for s, _, _ in values),
                "server_ms_max": max(s for s, _, _ in values),
                "run_ms_median": statistics.median(r for _, r, _ in values),
                "cpu_ms_median": statistics.median(c for _, _, c in values),
                "n": len(values),
            }
            for action, values in actions.items()
            if values
        }
        for label, actions in found.items()
    }
    small, large = list(images)

    def ratios(figure: str) -> dict[str, float]:
        return {
            action: images[large][action][figure] / max(images[small][action][figure], 1.0)
            for action in images[small]
            if action in images[large]
        }

    return {
        "images": images,
        "large_over_small_server": ratios("server_ms_median"),
        "large_over_small_cpu": ratios("cpu_ms_median"),
        "load_average": list(os.getloadavg()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="openings per image (the first is cold)")
    parser.add_argument("--models", type=Path, default=None, help="model folder (default: tiny fixture models)")
    parser.add_argument("--small", type=int, default=256, help="side of the small image in pixels")
    parser.add_argument("--large", type=int, default=6000, help="side of the large image in pixels (6000 = 36 MP)")
    parser.add_argument("--mode", choices=("strain", "swe"), default="strain")
    parser.add_argument("--profile", action="store_true", help="cProfile each image's last ROI run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.repeats < 2:
        parser.error("--repeats must be at least 2 (the first opening is cold)")

    from tests.app_fixtures import make_environment

    root = Path(tempfile.mkdtemp(prefix="usegan-bench-"))
    try:
        env = make_environment(root, n_samples=1)
        if args.models is not None:
            env["USEGAN_MODEL_DIR"] = str(args.models.resolve())
        with environment(env):
            started = time.perf_counter()
            cases = make_cases(env, args.small, args.large)
            intake_s = time.perf_counter() - started
            found = time_page(cases, args.repeats, args.mode, args.profile)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summary = summarise(found) | {"intake_s": intake_s, "mode": args.mode}
    if args.json:
        print(json.dumps(summary, indent=2))
        return 0
    print(f"intake of both images: {intake_s:.1f} s (not part of the figures below); mode {args.mode}")
    for label, actions in summary["images"].items():
        for action, row in actions.items():
            server = f"server {row['server_ms_median']:6.0f} ms (max {row['server_ms_max']:5.0f})"
            print(f"{label:7s} {action:10s} {server}   run {row['run_ms_median']:6.0f} ms   "
                  f"CPU {row['cpu_ms_median']:6.0f} ms   n={row['n']}")  # fmt: skip
    for figure in ("server", "cpu"):
        ratios = ", ".join(f"{a} {r:.2f}x" for a, r in summary[f"large_over_small_{figure}"].items())
        print(f"large / small ({figure} medians): {ratios}")
    print("load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in summary["load_average"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
