"""Operations faults: the write-ahead log stays bounded through kill -9 cycles, a full disk gives one clear sentence
and loses nothing, restore builds aside and swaps, damaged backups are one clear line, files are private."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from tests.store_fixtures import PASSWORD, fast_hasher_fixture  # noqa: F401
from usegan.cli import main
from usegan.store import Store, StoreError, StoreFullError
from usegan.store.backup import backup, restore
from usegan.store.files import FILE_MODE

ROOT = Path(__file__).resolve().parent.parent
WAL_BOUND = 2 * 2**20  # the .wal after any number of kill -9 cycles stays under 2 MB (it grew by ~30 MB a cycle)

# One "app run": open the store (checkpoint at open), write ~3 MB of rows, then wait to be killed.
_WRITER = textwrap.dedent(
    """
    import sys, time
    import numpy as np
    from usegan.store import Store
    s = Store(sys.argv[1], sys.argv[2])
    print(s.wal_bytes(), flush=True)
    s.create_case(np.random.default_rng(int(time.time_ns()) % 2**32).integers(0, 255, (64, 64), dtype=np.uint8),
                  organ="breast", created_by="t")
    for i in range(6):  # ~3 MB of committed rows: audit entries have no length limit
        s.audit("t", "test.bulk", "test", str(i), None, {"blob": "x" * 500_000})
    print("written", flush=True)
    time.sleep(600)
    """
)


@pytest.mark.parametrize("cycles", [4, pytest.param(30, marks=pytest.mark.slow)])
def test_kill_9_cycles_keep_the_wal_bounded(tmp_path, cycles):
    db, images = tmp_path / "usegan.duckdb", tmp_path / "images"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    wal_at_open = []
    for _ in range(cycles):
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(db), str(images)], stdout=subprocess.PIPE,
                                env=env, text=True)  # fmt: skip
        wal_at_open.append(int(proc.stdout.readline()))
        assert proc.stdout.readline().strip() == "written"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert db.with_name("usegan.duckdb.wal").stat().st_size > 0  # each kill left a WAL behind ...
    assert max(wal_at_open) < WAL_BOUND, wal_at_open  # ... which the next open folded in
    with Store(db, images) as store:
        assert store.counts()["total"] == cycles  # nothing committed was lost
        audit = store.audit_log(actor="t", limit=10_000)
        assert (audit["action"] == "test.bulk").sum() == cycles * 6
    assert not db.with_name("usegan.duckdb.wal").exists() or db.with_name("usegan.duckdb.wal").stat().st_size == 0


def test_a_clean_close_leaves_no_wal_and_files_are_private(fast_hasher, tmp_path):
    old = os.umask(0o022)
    try:
        with Store(tmp_path / "d" / "usegan.duckdb", tmp_path / "d" / "images") as store:
            store.add_user("dr_a", PASSWORD, "clinician", created_by="t")
            store.create_case(np.zeros((16, 16), np.uint8), organ="breast", created_by="dr_a")
            assert store.wal_bytes() > 0
    finally:
        os.umask(old)
    wal = tmp_path / "d" / "usegan.duckdb.wal"
    assert not wal.exists() or wal.stat().st_size == 0
    assert (tmp_path / "d" / "usegan.duckdb").stat().st_mode & 0o777 == FILE_MODE


def _fill(path: Path) -> None:
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


@pytest.fixture
def small_disk(tmp_path):
    """A 6 MB tmpfs (needs root); skipped where mounting is not allowed."""
    mount = tmp_path / "small"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_gives_one_sentence_and_loses_nothing(fast_hasher, small_disk):
    data = small_disk / "data"
    with Store(data / "usegan.duckdb", data / "images") as store:
        store.add_user("dr_a", PASSWORD, "clinician", created_by="t")
        case_id = store.create_case(np.zeros((64, 64), np.uint8), organ="breast", created_by="dr_a")
        _fill(small_disk / "filler")
        with pytest.raises(StoreFullError, match=r"is full: nothing was saved .* free some space, then try again"):
            store.save_draft(case_id, "dr_a", {}, None, "conclusion " * 1_800, 0)
        with pytest.raises(StoreFullError, match="is full"):
            store.create_case(np.random.default_rng(1).integers(0, 255, (512, 512), dtype=np.uint8),
                              organ="breast", created_by="dr_a")  # fmt: skip
        (small_disk / "filler").unlink()
        store.add_user("dr_b", PASSWORD, "clinician", created_by="t")  # works again once there is space
    with Store(data / "usegan.duckdb", data / "images") as store:
        assert store.counts()["total"] == 1 and [u.username for u in store.list_users()] == ["dr_a", "dr_b"]
        assert not store.check()
        assert not list((data / "images").rglob(".tmp-*"))


def test_restore_onto_a_disk_that_fills_changes_nothing(fast_hasher, tmp_path, small_disk):
    with Store(tmp_path / "src" / "usegan.duckdb", tmp_path / "src" / "images") as store:
        for i in range(8):
            store.create_case(np.random.default_rng(i).integers(0, 255, (400, 400), dtype=np.uint8),
                              organ="breast", created_by="t")  # fmt: skip
        backup(store, tmp_path / "bk")
    data = small_disk / "data"
    with Store(data / "usegan.duckdb", data / "images") as store:
        store.create_case(np.zeros((8, 8), np.uint8), organ="thyroid", created_by="t")
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    _fill(small_disk / "filler")
    with pytest.raises(StoreFullError, match="filled up while restoring: nothing was changed"):
        restore(tmp_path / "bk", data / "usegan.duckdb", data / "images", force=True)
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before  # no staging left, nothing replaced
    (small_disk / "filler").unlink()
    with Store(data / "usegan.duckdb", data / "images") as store:
        assert store.counts()["total"] == 1


@pytest.mark.parametrize("damage", ["no manifest", "garbage database", "truncated database", "missing image"])
def test_damaged_backups_are_one_clear_line(fast_hasher, tmp_path, monkeypatch, capsys, damage):
    with Store(tmp_path / "src" / "usegan.duckdb", tmp_path / "src" / "images") as store:
        store.create_case(np.zeros((16, 16), np.uint8), organ="breast", created_by="t")
        backup(store, tmp_path / "bk")
    bk = tmp_path / "bk"
    manifest = json.loads((bk / "manifest.json").read_text())
    if damage == "no manifest":
        (bk / "manifest.json").unlink()
    elif damage in ("garbage database", "truncated database"):
        db = bk / "usegan.duckdb"
        payload = os.urandom(8192) if damage == "garbage database" else db.read_bytes()[:5000]
        db.write_bytes(payload)
        import hashlib

        manifest["database_sha256"] = hashlib.sha256(payload).hexdigest()  # a crafted, self-consistent backup
        (bk / "manifest.json").write_text(json.dumps(manifest))
    else:
        next(p for p in (bk / "images").rglob("*") if p.is_file()).unlink()
    monkeypatch.setenv("USEGAN_DATA_DIR", str(tmp_path / "fresh"))
    assert main(["restore", str(bk)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("usegan restore: error: ") and "Traceback" not in err
    assert not (tmp_path / "fresh" / "usegan.duckdb").exists()


def test_extension_autoload_is_off(tmp_path):
    with Store(tmp_path / "usegan.duckdb", tmp_path / "images") as store:
        settings = store.query(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions')"
        )
    assert set(settings["value"]) == {"false"}


def test_cli_misuse_is_one_clear_line(fast_hasher, monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", open(os.devnull))  # no terminal: no EOFError traceback
    assert main(["user", "add", "dr_x", "--role", "viewer"]) == 2
    assert capsys.readouterr().err.strip() == (
        "usegan user: error: no terminal to ask for the password on: pipe it in with --password-stdin"
    )
    assert main(["backup", "/nonexistent-dir/x"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    with pytest.raises(SystemExit):
        main(["user", "add", "dr_x", "--role", "viewer", "--by", "someone-else"])  # no free-text actor any more
    assert "unrecognized arguments: --by" in capsys.readouterr().err


def test_store_error_is_a_store_full_error_parent():
    assert issubclass(StoreFullError, StoreError)


def test_free_text_has_length_limits(fast_hasher, tmp_path):
    from usegan.store.limits import MAX_CONCLUSION, MAX_NOTES

    with Store(tmp_path / "usegan.duckdb", tmp_path / "images") as store:
        store.add_user("dr_a", PASSWORD, "clinician", created_by="t")
        with pytest.raises(ValueError, match="notes may have at most 5,000 characters, got 5,001"):
            store.create_case(
                np.zeros((8, 8), np.uint8), organ="breast", created_by="dr_a", notes="n" * (MAX_NOTES + 1)
            )
        case_id = store.create_case(np.zeros((8, 8), np.uint8), organ="breast", created_by="dr_a")
        with pytest.raises(ValueError, match="conclusion may have at most 20,000 characters"):
            store.save_draft(case_id, "dr_a", {}, None, "x" * 10_000_000, 0)
        assert store.save_draft(case_id, "dr_a", {}, None, "x" * MAX_CONCLUSION, 0).row_version == 1
        assert store.counts()["total"] == 1
