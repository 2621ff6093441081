"""Backup and restore: a consistent copy of the database plus every image file it references.

Backup: the database is copied with DuckDB's ``COPY FROM DATABASE`` into a fresh file, inside the store's write
lock, so it is one consistent snapshot. Image files are immutable and are written *before* the rows naming them
are committed, so copying them after the snapshot always finds every file the snapshot references; each is
hashed on the way (a corrupt source file fails the backup instead of being copied silently).

Layout of a backup folder: ``usegan.duckdb``, ``images/ab/abcd...``, ``manifest.json`` (schema version, counts,
time, the sha256 of the database copy). Restore checks the manifest and every image hash before it replaces
anything, and moves an existing database and images aside rather than deleting them.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb

from usegan.fileutil import file_sha256
from usegan.intake.pseudonym import KEY_FILE
from usegan.store.db import DUCKDB_CONFIG
from usegan.store.errors import StoreError, StoreFullError
from usegan.store.files import is_disk_full, private_files
from usegan.store.images import ImageStore
from usegan.store.migrations import current_version
from usegan.store.schema import REFERENCED_IMAGES_SQL
from usegan.store.util import utc_now

DB_NAME = "usegan.duckdb"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class BackupManifest:
    created_at: str  # ISO time, UTC
    schema_version: int
    cases: int
    images: int  # files copied
    database_sha256: str  # of the database file in the backup
    pseudonym_key_sha256: str = ""  # of pseudonym.key in the backup ("" when the installation had none)


def backup(store, dest: str | Path, *, by: str = "system") -> BackupManifest:
    """Write a consistent backup of ``store`` into ``dest`` (must not exist, or be an empty folder).

    ``by`` names who asked, for the audit log (the entry is written after the snapshot, so it is not in it)."""
    dest = Path(dest)
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise StoreError(f"backup destination {dest} exists and is not empty: choose a new folder")
    dest.mkdir(parents=True, exist_ok=True)
    db_copy = dest / DB_NAME
    cur = store._cursor()
    with store._write_lock:
        target = str(db_copy).replace("'", "''")
        cur.execute(f"ATTACH '{target}' AS usegan_backup")
        try:
            catalog = cur.execute("SELECT current_database()").fetchone()[0]  # the file's stem, e.g. "usegan"
            cur.execute(f'COPY FROM DATABASE "{catalog}" TO usegan_backup')
        finally:
            cur.execute("DETACH usegan_backup")
        referenced = store.referenced_images()
        cases = int(cur.execute("SELECT count(*) FROM cases").fetchone()[0])
        version = store.schema_version
    out_images = ImageStore(dest / "images")
    for sha in referenced:
        data = store.images.read_bytes(sha)  # verifies the hash
        target_path = out_images.path(sha)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target_path.write_bytes(data)
    # the pseudonym key goes with the database: restored without it, the same patient would get a new pseudonym
    key_sha = ""
    key_file = store.db_path.parent / KEY_FILE
    if key_file.is_file():
        shutil.copyfile(key_file, dest / KEY_FILE)
        (dest / KEY_FILE).chmod(0o600)
        key_sha = file_sha256(dest / KEY_FILE)
    manifest = BackupManifest(utc_now().isoformat(), version, cases, len(referenced), file_sha256(db_copy), key_sha)
    (dest / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2), encoding="utf-8")
    with store.transaction() as cur:
        store.audit(by, "store.backup", "store", str(dest), None, asdict(manifest))
    return manifest


def verify_backup(src: str | Path) -> BackupManifest:
    """Check a backup folder: manifest present, database hash, schema, every referenced image present and intact."""
    src = Path(src)
    try:
        manifest = BackupManifest(**json.loads((src / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(f"{src} is not a usegan backup (no readable {MANIFEST}: {exc})") from exc
    db_file = src / DB_NAME
    if not db_file.is_file() or file_sha256(db_file) != manifest.database_sha256:
        raise StoreError(f"the database in {src} is missing or does not match its manifest")
    try:  # a crafted file must give one clear line, and DuckDB must not fetch extensions for it
        con = duckdb.connect(str(db_file), read_only=True, config=DUCKDB_CONFIG)
        try:
            version = current_version(con)
            referenced = [row[0] for row in con.execute(REFERENCED_IMAGES_SQL).fetchall()]
        finally:
            con.close()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"the database in {src} is not a readable usegan database ({first_line})") from exc
    if manifest.pseudonym_key_sha256 and (
        not (src / KEY_FILE).is_file() or file_sha256(src / KEY_FILE) != manifest.pseudonym_key_sha256
    ):
        raise StoreError(f"the pseudonym key in {src} is missing or does not match its manifest")
    if version != manifest.schema_version:
        raise StoreError(f"schema version in {src} is {version}, its manifest says {manifest.schema_version}")
    problems = ImageStore(src / "images").check(referenced)
    if problems:
        raise StoreError(f"backup {src} has {len(problems)} missing or corrupt image(s), e.g. {problems[0]}")
    return manifest


def restore(src: str | Path, db_path: str | Path, images_dir: str | Path, *, force: bool = False) -> Path | None:
    """Restore a verified backup to ``db_path`` and ``images_dir`` (that data directory's app must be stopped).

    Everything is first built in a hidden staging folder next to the database (same disk): a full disk or a
    damaged file stops the restore there and the staging folder is removed, leaving the data directory as it was.
    Only then is an existing database (with its images) moved, with ``force``, into ``<data dir>/pre-restore-<time>/``
    (returned, never deleted) and the staged database and images renamed into place (renames cannot run out of
    space). Raises :class:`StoreError` (one clear line) otherwise.
    """
    src, db_path, images_dir = Path(src), Path(db_path), Path(images_dir)
    verify_backup(src)
    if db_path.exists():
        if not force:
            raise StoreError(f"a database already exists at {db_path}: pass --force to replace it (kept aside)")
        try:  # refuse while the app holds the file: moving it away under a running app would lose writes
            duckdb.connect(str(db_path), config=DUCKDB_CONFIG).close()
        except duckdb.IOException as exc:
            raise StoreError(f"the database {db_path} is open in another process (the app?): stop it first") from exc
    db_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=db_path.parent))
    try:
        shutil.copyfile(src / DB_NAME, staging / DB_NAME)
        staged_images = ImageStore(staging / "images")
        source_images = ImageStore(src / "images")
        for sha in source_images.all_names():
            staged_images.put(source_images.read_bytes(sha))
        private_files(staging / DB_NAME)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, StoreFullError) or (isinstance(exc, OSError) and is_disk_full(exc)):
            raise StoreFullError(
                f"the disk holding {db_path.parent} filled up while restoring: nothing was changed; free space "
                "and try again"
            ) from exc
        if isinstance(exc, OSError):
            raise StoreError(f"restoring {src} failed, nothing was changed: {exc}") from exc
        raise
    aside = None
    if db_path.exists() or images_dir.exists():
        aside = db_path.parent / f"pre-restore-{utc_now():%Y%m%dT%H%M%S}"
        aside.mkdir(mode=0o700, parents=True)
        for path in (db_path, db_path.with_name(db_path.name + ".wal"), images_dir, db_path.parent / KEY_FILE):
            if path.exists():
                path.replace(aside / path.name)
    (staging / DB_NAME).replace(db_path)
    if (staging / "images").exists():
        shutil.move(staging / "images", images_dir)  # a rename on the same disk
    else:
        images_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if (src / KEY_FILE).is_file():  # a fresh install's own key is replaced (an old one was moved aside above)
        key_target = db_path.parent / KEY_FILE
        key_target.unlink(missing_ok=True)
        shutil.copyfile(src / KEY_FILE, key_target)
        key_target.chmod(0o600)
    shutil.rmtree(staging, ignore_errors=True)
    return aside
