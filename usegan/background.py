"""Background work belongs to the app process, not to a page: one worker thread, started once with the app.

Every ``settings.worker_interval_s`` seconds, whether or not a browser is connected, it

1. imports the DICOM spool (:func:`usegan.dicomnet.ingest.ingest_spool`: scanner images become cases), and
2. collects a finished fine-tune job (:meth:`usegan.finetune.jobs.JobRunner.collect`: its candidate is registered).

``usegan serve`` starts it before the web server, so images sent while nobody has the app open are imported;
``app.py`` also calls :func:`ensure_worker` (idempotent), so a plain ``streamlit run app.py`` gets it on the
first page view. The worker writes through the process's one shared Store (:func:`usegan.web.process.get_store`).
Its last outcome is readable from pages (:func:`worker_status`) and logged; an error is logged and retried on the
next tick, never raised into a page.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass

log = logging.getLogger("usegan.background")
WORKER_USER = "background-worker"  # the actor named in the audit log for what the worker registers
IMPORT_BATCH = 200  # spool files handled per tick (the rest wait for the next one)


@dataclass(frozen=True)
class WorkerStatus:
    running: bool  # the thread is alive
    interval_s: float  # seconds between ticks
    ticks: int  # ticks completed
    last_tick_at: dt.datetime | None  # UTC, naive
    last_import: str  # ingest summary of the last tick that saw files, "" if none yet
    imported_total: int  # cases created by the worker since it started
    last_error: str  # "" when the last tick went well


class BackgroundWorker:
    """A daemon thread running :meth:`tick` every ``interval_s`` seconds until :meth:`stop`."""

    def __init__(self, store, settings, *, interval_s: float | None = None, collect_jobs: bool = True) -> None:
        interval = float(settings.worker_interval_s if interval_s is None else interval_s)
        if not interval > 0:
            raise ValueError(f"worker interval must be > 0 seconds, got {interval!r}")
        self.store, self.settings, self.interval_s, self.collect_jobs = store, settings, interval, collect_jobs
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._ticks, self._imported = 0, 0
        self._last_tick_at: dt.datetime | None = None
        self._last_import, self._last_error = "", ""

    def tick(self) -> None:
        """One round: import the spool, collect a finished fine-tune job. Errors are logged and kept, not raised."""
        from usegan.dicomnet.ingest import ingest_spool

        errors = []
        try:
            report = ingest_spool(self.store, self.settings, limit=IMPORT_BATCH)
            if report.imported or report.duplicates or report.quarantined or report.error:
                with self._lock:
                    self._last_import = report.summary()
                    self._imported += len(report.imported)
            if report.error:
                errors.append(f"spool import: {report.error}")
        except Exception as exc:  # a broken spool must not kill the worker
            log.exception("spool import failed")
            errors.append(f"spool import: {type(exc).__name__}: {exc}")
        # only when a job was ever started: collecting imports the training stack (torch), which a worker ticking
        # next to the first page runs should not do for nothing
        if self.collect_jobs and (self.settings.jobs_dir / "finetune.latest").is_file():
            try:
                from usegan.finetune.jobs import JobRunner

                if JobRunner(self.settings.jobs_dir).collect(self.store, by=WORKER_USER) is not None:
                    log.info("fine-tune job collected")
            except Exception as exc:
                log.exception("fine-tune job collection failed")
                errors.append(f"job collection: {type(exc).__name__}: {exc}")
        with self._lock:
            self._ticks += 1
            self._last_tick_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            self._last_error = "; ".join(errors)

    def _run(self) -> None:
        log.info("background worker started: every %.1f s (spool %s)", self.interval_s, self.settings.inbox_dir)
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.interval_s)
        log.info("background worker stopped")

    def start(self) -> BackgroundWorker:
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="usegan-background", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def status(self) -> WorkerStatus:
        with self._lock:
            return WorkerStatus(
                self._thread is not None and self._thread.is_alive(), self.interval_s, self._ticks,
                self._last_tick_at, self._last_import, self._imported, self._last_error,
            )  # fmt: skip


_WORKERS: dict[str, BackgroundWorker] = {}
_WORKERS_LOCK = threading.Lock()


def ensure_worker(settings=None, store=None) -> BackgroundWorker:
    """The process's worker for ``settings.db_path``, started on the first call (later calls return it)."""
    from usegan.web.process import get_store

    if settings is None:
        from usegan.settings import get_settings

        settings = get_settings()
    key = str(settings.db_path.resolve())
    with _WORKERS_LOCK:
        worker = _WORKERS.get(key)
        if worker is None or not worker.status().running:
            worker = _WORKERS[key] = BackgroundWorker(store or get_store(settings), settings).start()
        return worker


def worker_status(settings=None) -> WorkerStatus | None:
    """The status of this process's worker, or ``None`` when none was started."""
    if settings is None:
        from usegan.settings import get_settings

        settings = get_settings()
    worker = _WORKERS.get(str(settings.db_path.resolve()))
    return None if worker is None else worker.status()


def stop_workers() -> None:
    with _WORKERS_LOCK:
        for worker in _WORKERS.values():
            worker.stop()
        _WORKERS.clear()
