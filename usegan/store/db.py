"""The :class:`Store`: one DuckDB file + one content-addressed image folder, shared safely by threads.

Concurrency model:

* One process (the app) owns the database file; DuckDB locks it, and another process that tries to open it gets
  :class:`StoreBusyError` naming the inbox folder to hand files in through instead.
* Inside the process, every thread reads through its own ``cursor()`` of the shared connection (DuckDB
  connections must not be used by two threads at once), and every write runs in ``transaction()``: one transaction,
  serialised by a lock (single writer), that also appends the audit row, so a mutation and its audit entry commit
  or vanish together. A process killed mid-transaction leaves the last committed state (DuckDB's WAL).
* Images are written *before* the rows that reference them, so a committed row never points at a missing file.

The domain methods live in mixins, one per concern (:mod:`.cases`, :mod:`.intake`, :mod:`.attachments`,
:mod:`.reviews`, :mod:`.users`, :mod:`.auth`, :mod:`.worklist`, :mod:`.research`). Their contract: a mixin uses
the core this class provides (``clock``, ``images``, the patient-identifier switches, ``auth_policy``,
``transaction()``, ``audit()``, ``query()``, per-thread cursors) and its own members, plus a few declared methods
of another mixin (e.g. ``_require_case`` of :mod:`.cases`); ``tests/test_store_mixins.py`` holds that list and
fails on an undeclared one. Components hang off the store: ``store.registry`` (:mod:`.registry`),
``store.training_pairs`` (:mod:`.training_pairs`) and ``store.read_models`` (:mod:`.read_models`). Nothing outside
this package speaks SQL or touches a private name of the store (``tests/test_store_boundary.py``); writes elsewhere
go through the public :meth:`Store.transaction` and :meth:`Store.audit`.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from usegan.store.attachments import AttachmentsMixin
from usegan.store.auth import AuthMixin, AuthPolicy
from usegan.store.cases import CasesMixin
from usegan.store.errors import StoreBusyError, StoreError, StoreFullError
from usegan.store.files import disk_full_message, is_disk_full, private_files
from usegan.store.images import ImageProblem, ImageStore
from usegan.store.intake import IntakeMixin
from usegan.store.migrations import current_version, migrate
from usegan.store.research import ResearchMixin
from usegan.store.reviews import ReviewsMixin
from usegan.store.schema import REFERENCED_IMAGES_SQL, SCHEMA_VERSION
from usegan.store.users import UsersMixin
from usegan.store.util import from_json, new_id, to_json, utc_now  # noqa: F401  (re-exported)
from usegan.store.worklist import WorklistMixin

# Nothing is fetched from the network: DuckDB must not install or load extensions on its own (a crafted backup
# could otherwise make it download one).
DUCKDB_CONFIG: dict[str, str | bool | int | float | list[str]] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class Store(
    CasesMixin, IntakeMixin, AttachmentsMixin, ReviewsMixin, UsersMixin, AuthMixin, WorklistMixin, ResearchMixin
):
    """The case store. Use :func:`open_store` for the configured locations, or pass paths (tests, scripts).

    ``clock`` returns naive-UTC ``datetime`` and is injectable for tests (lockout expiry, ordering).
    """

    def __init__(
        self,
        db_path: str | Path,
        images_dir: str | Path,
        *,
        read_only: bool = False,
        store_patient_names: bool = False,
        store_patient_ids: bool = False,
        inbox_dir: str | Path | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        auth_policy: AuthPolicy | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self.images = ImageStore(Path(images_dir))
        self.read_only = read_only
        self.store_patient_names = store_patient_names
        self.store_patient_ids = store_patient_ids
        self.clock = clock
        self.auth_policy = auth_policy or AuthPolicy()
        self._write_lock = threading.RLock()
        self._local = threading.local()
        self._cursors: dict[threading.Thread, duckdb.DuckDBPyConnection] = {}  # by the thread that uses it
        self._cursors_lock = threading.Lock()
        if not read_only:
            self.db_path.parent.mkdir(parents=True, exist_ok=True)
        elif not self.db_path.is_file():
            raise StoreError(f"no database at {self.db_path}")
        try:
            self._con: duckdb.DuckDBPyConnection | None = duckdb.connect(
                str(self.db_path), read_only=read_only, config=DUCKDB_CONFIG
            )
        except duckdb.IOException as exc:
            if "lock" in str(exc).lower():
                inbox = inbox_dir or self.db_path.parent / "inbox"
                raise StoreBusyError(
                    f"the database {self.db_path} is open in another process (the app?): stop it, or hand files "
                    f"in through {inbox}"
                ) from exc
            raise StoreError(f"cannot open the database {self.db_path}: {exc}") from exc
        if read_only:
            if current_version(self._con) != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.db_path} has schema version {current_version(self._con)}, "
                    f"expected {SCHEMA_VERSION}: open it once for writing to upgrade"
                )
        else:
            migrate(self._con)
            self.checkpoint()  # fold a WAL left by an unclean stop into the file now (it grows without bound else)
            private_files(self.db_path)
        from usegan.store.read_models import ReadModels
        from usegan.store.registry import Registry
        from usegan.store.training_pairs import TrainingPairs

        self.registry = Registry(self)  # model versions, promotion state
        self.training_pairs = TrainingPairs(self)  # fine-tuning pairs and their fixed split
        self.read_models = ReadModels(self)  # denormalised tables for the research audit

    # -- connections ---------------------------------------------------------------------------------------
    def _cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (created on first use). Creating one closes those of threads that have ended: the
        app runs every page run on a new thread, and each kept cursor holds about 10 KB (2000 page runs left 2000
        cursors open before)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            if self._con is None:
                raise StoreError(f"the store {self.db_path} is closed")
            cur = self._con.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                for thread in [t for t in self._cursors if not t.is_alive()]:
                    try:
                        self._cursors.pop(thread).close()
                    except duckdb.Error:
                        pass
                self._cursors[threading.current_thread()] = cur
        return cur

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One serialised write transaction: committed at the end of the block, rolled back on any exception.

        Blocks nest: a ``transaction()`` opened inside another on the same thread joins it (DuckDB has no
        savepoints), so a write helper called inside a caller's block commits or vanishes with the caller's writes.
        Yields the cursor to run statements on (store modules only: nothing outside :mod:`usegan.store` speaks SQL).
        A full disk becomes :class:`StoreFullError` (one clear sentence; the block was rolled back).
        """
        if self.read_only:
            raise StoreError(f"the store {self.db_path} was opened read-only")
        current = getattr(self._local, "transaction", None)
        if current is not None:
            yield current
            return
        with self._write_lock:
            cur = self._cursor()
            cur.execute("BEGIN TRANSACTION")
            self._local.transaction = cur
            try:
                yield cur
                cur.execute("COMMIT")
            except BaseException as exc:
                try:
                    cur.execute("ROLLBACK")
                except duckdb.Error:
                    pass  # the failed COMMIT already ended the transaction
                if isinstance(exc, duckdb.Error | OSError) and is_disk_full(exc):
                    raise StoreFullError(disk_full_message(self.db_path.parent)) from exc
                raise
            finally:
                self._local.transaction = None

    def wal_bytes(self) -> int:
        """Size of the write-ahead log now (0 when there is none)."""
        wal = self.db_path.with_name(self.db_path.name + ".wal")
        return wal.stat().st_size if wal.exists() else 0

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | None = None,
        before: object = None,
        after: object = None,
    ) -> None:
        """Append one audit row (there is no update or delete of audit rows). Inside a :meth:`transaction` block it
        commits or vanishes with the block's writes; outside one it is a transaction of its own."""
        if not actor or not isinstance(actor, str):
            raise ValueError(f"every change needs the acting user name, got {actor!r}")
        with self.transaction() as cur:
            cur.execute(
                "INSERT INTO audit (logged_at, actor, action, entity, entity_id, before, after) VALUES (?,?,?,?,?,?,?)",
                [self.clock(), actor, action, entity, entity_id, to_json(before), to_json(after)],
            )

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """Run a read-only SQL query on this thread's cursor and return a DataFrame (for exports and tooling)."""
        return self._cursor().execute(sql, params or []).df()

    def checkpoint(self) -> bool:
        """Fold the write-ahead log into the database file (at open, clean stop and periodically, so the ``.wal``
        stays small). Returns ``False`` when another connection is mid-transaction (the next one will do)."""
        if self.read_only or self._con is None:
            return False
        with self._write_lock:
            try:
                self._cursor().execute("CHECKPOINT")
            except duckdb.TransactionException:
                return False
            except duckdb.Error as exc:
                if is_disk_full(exc):
                    raise StoreFullError(disk_full_message(self.db_path.parent)) from exc
                raise
        return True

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._con is None

    def close(self) -> None:
        if self._con is not None and not self.read_only:
            try:
                self.checkpoint()
            except (duckdb.Error, StoreError):
                pass  # closing must not fail; the next open checkpoints
        with self._cursors_lock:
            for cur in self._cursors.values():
                try:
                    cur.close()
                except duckdb.Error:
                    pass
            self._cursors.clear()
        if self._con is not None:
            self._con.close()
            self._con = None
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- store-wide ----------------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        return current_version(self._cursor())

    def referenced_images(self) -> list[str]:
        """Every sha256 the database points at (B-mode, originals, elastograms, reports)."""
        rows = self._cursor().execute(REFERENCED_IMAGES_SQL).fetchall()
        return [r[0] for r in rows]

    def check(self) -> list[ImageProblem]:
        """Hash every referenced image file; return the missing or corrupt ones (empty = healthy)."""
        return self.images.check(self.referenced_images())

    def audit_log(
        self, *, entity: str | None = None, entity_id: str | None = None, actor: str | None = None, limit: int = 100
    ) -> pd.DataFrame:
        """Newest-first audit rows (``audit_id, logged_at, actor, action, entity, entity_id, before, after``)."""
        where, params = [], []
        for column, value in (("entity", entity), ("entity_id", entity_id), ("actor", actor)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = "SELECT * FROM audit" + (" WHERE " + " AND ".join(where) if where else "")
        return self.query(sql + " ORDER BY audit_id DESC LIMIT ?", [*params, int(limit)])


def open_store(settings=None, *, read_only: bool = False, **kwargs) -> Store:
    """Open the store at the configured locations (``settings.db_path``, ``settings.images_dir``)."""
    if settings is None:
        from usegan.settings import get_settings

        settings = get_settings()
    kwargs.setdefault("auth_policy", auth_policy_from(settings))
    return Store(
        settings.db_path,
        settings.images_dir,
        read_only=read_only,
        store_patient_names=settings.store_patient_names,
        store_patient_ids=settings.store_patient_ids,
        inbox_dir=settings.inbox_dir,
        **kwargs,
    )


def auth_policy_from(settings) -> AuthPolicy:
    """The :class:`AuthPolicy` the deployment's settings describe."""
    return AuthPolicy(
        free_failures=settings.login_free_failures,
        client_free_failures=settings.login_client_free_failures,
        backoff_s=settings.login_backoff_s,
        backoff_max_s=settings.login_backoff_max_s,
        session_idle_s=settings.session_idle_s,
        session_max_s=settings.session_max_s,
    )
