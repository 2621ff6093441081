"""Operations the running app performs for administrators (and for the CLI through the command folder):
health check, backup into the data directory's ``backups/`` folder. No Streamlit here."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from usegan.store.util import utc_now


@dataclass(frozen=True)
class Health:
    schema_version: int
    cases: int
    files_referenced: int
    problems: list  # ImageProblem: missing or corrupt image files
    wal_bytes: int  # size of the write-ahead log now
    disk_free_bytes: int  # free space on the data directory's disk
    live_sessions: int
    blocked_sign_ins: int  # throttle entries backing off now

    @property
    def ok(self) -> bool:
        return not self.problems and self.disk_free_bytes > 200 * 2**20

    def lines(self) -> list[str]:
        out = [
            f"schema version {self.schema_version}, {self.cases} cases, {self.files_referenced} files referenced",
            f"write-ahead log {self.wal_bytes / 2**20:.1f} MB, {self.disk_free_bytes / 2**30:.1f} GB free on disk",
            f"{self.live_sessions} live session(s), {self.blocked_sign_ins} sign-in back-off(s) active",
        ]
        out += [f"{p.problem}: {p.sha256}" for p in self.problems]
        out.append("all files present and intact" if not self.problems else f"{len(self.problems)} problem(s)")
        return out


def health(store, data_dir: str | Path) -> Health:
    referenced = store.referenced_images()
    return Health(
        schema_version=store.schema_version,
        cases=int(store.counts()["total"]),
        files_referenced=len(referenced),
        problems=store.check(),
        wal_bytes=store.wal_bytes(),
        disk_free_bytes=shutil.disk_usage(data_dir).free,
        live_sessions=store.live_sessions(),
        blocked_sign_ins=len(store.throttled()),
    )


def backup_now(store, backups_dir: str | Path, *, by: str, dest: str | Path | None = None):
    """A consistent backup of the running store into ``dest`` (default ``backups_dir/<UTC time>``); returns
    ``(folder, manifest)``. A failure (full disk...) removes the half-written folder."""
    from usegan.store.backup import backup

    dest = Path(dest) if dest else Path(backups_dir) / f"usegan-{utc_now():%Y%m%dT%H%M%S}"
    existed = dest.exists()
    try:
        manifest = backup(store, dest, by=by)
    except BaseException:
        if not existed:
            shutil.rmtree(dest, ignore_errors=True)
        raise
    return dest, manifest
