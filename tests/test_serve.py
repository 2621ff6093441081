"""The app process imports scanner images by itself: ``usegan serve --dicom`` with no browser connected turns 20
DICOM objects sent over the network into 20 cases (the background worker, not a page, does the import)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.dicom_factory import make_us_dataset
from usegan.dicomnet.scu import Destination, send_datasets
from usegan.settings import get_settings
from usegan.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, timeout_s: float, what: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        if process.poll() is not None:
            raise AssertionError(f"the app exited while waiting for {what}: {process.stdout.read().decode()[-3000:]}")
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as reply:
            return reply.status == 200
    except OSError:
        return False


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_twenty_objects_sent_with_no_browser_connected_become_twenty_cases(tmp_path):
    web_port, dicom_port = free_port(), free_port()
    env = {
        **os.environ,
        "USEGAN_DATA_DIR": str(tmp_path / "data"),
        "USEGAN_DICOM_PORT": str(dicom_port),
        "USEGAN_WORKER_INTERVAL_S": "1",
        "OMP_NUM_THREADS": "1",
    }
    command = [sys.executable, "-m", "usegan", "serve", "--dicom", "--host", "127.0.0.1", "--port", str(web_port),
               "--", "--server.fileWatcherType", "none"]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: answers(f"http://127.0.0.1:{web_port}/_stcore/health"), 90, "the web server", process)
        wait_until(lambda: listening(dicom_port), 30, "the DICOM receiver", process)
        datasets = [make_us_dataset(rows=64, columns=80) for _ in range(20)]
        send_datasets(datasets, Destination("127.0.0.1", dicom_port, "USEGAN"), calling_ae="SCANNER1")
        settings = get_settings(environ=env)
        archived = lambda: len(list(settings.archive_dir.rglob("*.dcm")))  # noqa: E731
        # moved to the archive only after its case row is committed; no page was ever requested
        wait_until(lambda: archived() == 20, 120, "20 archived files", process)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    with open_store(settings) as store:  # the app has stopped: the database is ours to read
        cases = store.query("SELECT source, created_by, sop_instance_uid FROM cases")
    assert len(cases) == 20 and set(cases["source"]) == {"dicom"} and set(cases["created_by"]) == {"dicom-ingest"}
    assert set(cases["sop_instance_uid"]) == {str(ds.SOPInstanceUID) for ds in datasets}
