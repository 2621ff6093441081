"""usegan.fileutil: atomic writes leave the old file or the new one, unique temp names, JSON-safe values."""

from __future__ import annotations

import datetime as dt
import json
import math
import threading
from pathlib import Path

import numpy as np
import pytest

from usegan import fileutil


def test_atomic_write_replaces_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "state.json"
    fileutil.write_json_atomic(target, {"a": 1})
    fileutil.write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["state.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "state.txt"
    fileutil.atomic_write_text(target, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(fileutil.os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        fileutil.atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.txt"]


def test_concurrent_writers_never_share_a_temporary_file(tmp_path):
    target = tmp_path / "shared.bin"
    payloads = [bytes([i]) * 200_000 for i in range(8)]
    errors: list[BaseException] = []

    def write(data: bytes) -> None:
        try:
            for _ in range(5):
                fileutil.atomic_write_bytes(target, data)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(p,)) for p in payloads]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert target.read_bytes() in payloads  # one writer's whole payload, never a mix
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]


def test_hashes_and_clock(tmp_path):
    path = tmp_path / "x.bin"
    path.write_bytes(b"abc")
    expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert fileutil.file_sha256(path) == fileutil.sha256_bytes(b"abc") == expected
    now = fileutil.utc_now()
    assert now.tzinfo is None
    assert abs((dt.datetime.now(dt.UTC).replace(tzinfo=None) - now).total_seconds()) < 60


def test_json_safe_round_trips_what_the_project_stores():
    value = {
        1: np.float32(0.5),
        "nan": float("nan"),
        "inf": np.float64(math.inf),
        "arr": np.arange(3),
        "tuple": (1, np.int64(2)),
        "when": dt.datetime(2025, 1, 2, 3, 4, 5),
        "path": Path("/tmp/x"),
        "flag": np.bool_(True),
    }
    safe = fileutil.json_safe(value)
    assert json.loads(json.dumps(safe)) == {
        "1": 0.5, "nan": None, "inf": None, "arr": [0, 1, 2], "tuple": [1, 2],
        "when": "2025-01-02T03:04:05", "path": "/tmp/x", "flag": True,
    }  # fmt: skip
