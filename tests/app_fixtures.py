"""A self-contained app environment for tests, the browser check and the dashboard benchmark.

:func:`tiny_checkpoint` writes an untrained ``base_channels=8`` generator whose output head is set to one colour
of the colour map, so its elastograms invert to a known strain / kPa everywhere and scoring has something to
score (a random untrained model paints off-map colours, which the scorer rightly refuses). Nothing is downloaded.
"""

from __future__ import annotations

import math
from pathlib import Path

USERS = {"admin": "admin", "doc": "clinician", "res": "researcher", "student": "viewer"}
PASSWORD = "correct-horse-42"  # every fixture user's password (>= 10 characters, as the store requires)


def tiny_checkpoint(path: str | Path, mode: str, version: str, lut_index: int = 40, image_size: int = 64) -> Path:
    """Write a tiny checkpoint whose every output pixel is ``colormap.lut[lut_index]`` (0 = blue end)."""
    import torch

    from usegan.checkpoint import save_checkpoint
    from usegan.models.generator import GeneratorConfig, USEGANGenerator

    generator = USEGANGenerator(GeneratorConfig(base_channels=8, image_size=image_size))
    conv = generator.head[1]
    with torch.no_grad():
        conv.weight.zero_()
        # the head predicts the colour-map position through a sigmoid (rendered at round(position * 255)):
        # pick the bias that lands on LUT entry ``lut_index`` (ends kept finite), and a small uncertainty
        position = min(max(float(lut_index), 0.2), 254.8) / 255.0
        conv.bias.copy_(torch.tensor([math.log(position / (1.0 - position)), -4.0]))
    save_checkpoint(path, generator, mode=mode, version=version, training={"simulated_data_only": True})
    return Path(path)


def make_environment(root: str | Path, n_samples: int = 2, with_users: bool = True) -> dict[str, str]:
    """Create ``root/{data,models,samples}`` and return the ``USEGAN_*`` environment variables pointing there.

    Models: strain (hard blue, Tsukuba 5 on any ROI) and SWE; samples: ``n_samples`` small phantom cases;
    users: :data:`USERS`, all with :data:`PASSWORD` (the store is closed again before returning).
    """
    from usegan.phantom.case import random_case_of_type
    from usegan.phantom.writer import write_case

    root = Path(root)
    env = {
        "USEGAN_DATA_DIR": str(root / "data"),
        "USEGAN_MODEL_DIR": str(root / "models"),
        "USEGAN_SAMPLES_DIR": str(root / "samples"),
        "USEGAN_WORKER_INTERVAL_S": "1",  # the app's background worker imports the spool every second in tests
    }
    tiny_checkpoint(root / "models" / "tiny-strain.pt", "strain", "tiny-strain-test", lut_index=30)
    tiny_checkpoint(root / "models" / "tiny-swe.pt", "swe", "tiny-swe-test", lut_index=120)
    for i, kind in enumerate(("malignant", "fibroadenoma", "cyst")[:n_samples]):
        write_case(random_case_of_type(i, kind, size=96), root / "samples" / f"sample_{i}_{kind}")
    if with_users:
        from usegan.store import Store

        with Store(root / "data" / "usegan.duckdb", root / "data" / "images") as store:
            for name, role in USERS.items():
                store.add_user(name, PASSWORD, role, created_by="fixtures")
    return env


def app_session(username: str) -> dict:
    """``st.session_state["auth_user"]`` for an in-process AppTest: a real server-side session of ``username`` in
    this process's store (the pages check it on every run, as they do for a browser's cookie)."""
    from usegan.web.process import get_store

    store = get_store(maintain=False)
    user = store.get_user(username)
    return {"username": user.username, "role": user.role, "sid": store.start_session(user.username)}
