"""Background fine-tune jobs: one at a time, in their own process, visible to every page run and browser.

State lives in files under ``settings.jobs_dir`` (never in a browser session), so a refresh, a second browser or a
restarted app sees the same job::

    jobs/finetune.lock        {"job_id", "pid", "kind"}: held from start until the job's end is noticed
    jobs/finetune.latest      id of the newest job
    jobs/<job_id>/job.json    who started it, when, mode, run folder, pid
    jobs/<job_id>/progress.json  written by the worker: state, step, steps, message
    jobs/<job_id>/log.txt     the worker's stdout + stderr

:meth:`JobRunner.start` runs in the app (which owns the store): it syncs and exports the pairs
(:func:`usegan.finetune.run.prepare_plan`), then starts ``python -m usegan finetune --plan ...`` in a new
session; the worker never opens the database. :meth:`JobRunner.collect` (called by the page when it polls)
registers the finished candidate in the store. A second start while a job runs raises :class:`JobRunningError`;
the lock is taken with ``O_EXCL``, so two simultaneous clicks cannot both win.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from usegan.fileutil import write_json_atomic
from usegan.finetune.run import FinetuneConfig, prepare_plan, register_result

_PROCESSES: dict[str, subprocess.Popen] = {}  # job id -> worker started by this process (to reap it)


class JobRunningError(RuntimeError):
    """A fine-tune job is already running; the message names it."""


@dataclass(frozen=True)
class JobStatus:
    job_id: str  # e.g. the candidate version
    state: str  # preparing / training / evaluating / done / failed
    running: bool  # the worker process is alive
    mode: str  # strain / swe
    started_by: str  # user name
    started_at: str  # ISO time
    step: int  # steps done
    steps: int  # steps planned
    message: str  # last progress line, or why it failed
    version: str  # candidate version
    log_path: str  # worker log
    registered: bool  # the candidate is in the registry

    @property
    def fraction(self) -> float:
        return 0.0 if not self.steps else min(1.0, self.step / self.steps)


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def _alive(pid: int, job_id: str, kind: str) -> bool:
    """Whether the job's process still runs (not a zombie, and not another program that reused the pid)."""
    proc = _PROCESSES.get(job_id)
    if proc is not None and kind == "worker":
        return proc.poll() is None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.is_file():
        try:
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                return False
            if kind == "worker":
                return job_id.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, IndexError):
            return False
    return True


class JobRunner:
    """Start, watch, cancel and collect fine-tune jobs under ``jobs_dir`` (default ``settings.jobs_dir``)."""

    def __init__(self, jobs_dir: str | Path | None = None, python: str = sys.executable) -> None:
        if jobs_dir is None:
            from usegan.settings import get_settings

            jobs_dir = get_settings().jobs_dir
        self.jobs_dir = Path(jobs_dir)
        self.python = python
        self.lock_path = self.jobs_dir / "finetune.lock"

    # -- the lock ------------------------------------------------------------------------------------------
    def _acquire(self, job_id: str) -> None:
        self.jobs_dir.mkdir(parents=True, exist_ok=True)
        held = _read_json(self.lock_path)
        if held is not None:
            if _alive(int(held["pid"]), held["job_id"], held.get("kind", "worker")):
                raise JobRunningError(f"fine-tune job {held['job_id']} is still running: wait for it or cancel it")
            try:  # stale: move it aside atomically, so only one of two racing starters clears it
                os.rename(self.lock_path, self.jobs_dir / f".stale-{held['job_id']}-{os.getpid()}.lock")
            except FileNotFoundError:
                pass
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            raise JobRunningError("another fine-tune job was started a moment ago") from None
        with os.fdopen(fd, "w") as fh:
            json.dump({"job_id": job_id, "pid": os.getpid(), "kind": "starter"}, fh)

    def _release(self, job_id: str) -> None:
        held = _read_json(self.lock_path)
        if held is not None and held["job_id"] == job_id:
            self.lock_path.unlink(missing_ok=True)

    # -- start / status / collect / cancel --------------------------------------------------------------------
    def start(self, store, config: FinetuneConfig, *, by: str) -> JobStatus:
        """Prepare the run and start the worker; raises :class:`JobRunningError` if one runs, ``ValueError`` when
        there is nothing to train on."""
        self.collect(store, by=by)  # a finished job is registered (and its lock released) first
        job_id = f"job-{os.getpid()}-{os.urandom(3).hex()}"
        self._acquire(job_id)
        try:
            command = f"dashboard fine-tune by {by}: mode={config.mode} steps={config.steps}"
            plan = prepare_plan(store, config, by=by, command=command)
            job_id_final = plan.version
            folder = self.jobs_dir / job_id_final
            folder.mkdir(parents=True, exist_ok=True)
            progress = folder / "progress.json"
            write_json_atomic(progress, {"state": "preparing", "step": 0, "steps": config.steps, "message": ""})
            argv = [self.python, "-m", "usegan", "finetune", "--plan", str(Path(plan.out) / "plan.json"),
                    "--progress", str(progress), "--quiet"]  # fmt: skip
            with open(folder / "log.txt", "ab") as log:
                proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except BaseException:
            self._release(job_id)
            raise
        _PROCESSES[job_id_final] = proc
        job = {"job_id": job_id_final, "pid": proc.pid, "mode": config.mode, "started_by": by,
               "started_at": plan.created_at, "out": plan.out, "steps": config.steps}  # fmt: skip
        write_json_atomic(folder / "job.json", job)
        write_json_atomic(self.lock_path, {"job_id": job_id_final, "pid": proc.pid, "kind": "worker"})
        (self.jobs_dir / "finetune.latest").write_text(job_id_final, encoding="utf-8")
        return self.status()

    def status(self, store=None) -> JobStatus | None:
        """The newest job's status (``None`` if there never was one); ``store`` only to tell if it is registered."""
        latest = self.jobs_dir / "finetune.latest"
        if not latest.is_file():
            return None
        job_id = latest.read_text(encoding="utf-8").strip()
        folder = self.jobs_dir / job_id
        job = _read_json(folder / "job.json") or {}
        progress = _read_json(folder / "progress.json") or {}
        running = bool(job) and _alive(int(job["pid"]), job_id, "worker")
        state = progress.get("state", "preparing")
        message = progress.get("message", "")
        if not running and state not in ("done", "failed"):
            state, message = "failed", "the worker stopped before finishing: see the log"
        registered = False
        if store is not None:
            registered = any(r.version == job_id for r in store.registry.list(job.get("mode")))
        return JobStatus(
            job_id, state, running, job.get("mode", ""), job.get("started_by", ""), job.get("started_at", ""),
            int(progress.get("step", 0)), int(progress.get("steps", job.get("steps", 0))), message, job_id,
            str(folder / "log.txt"), registered,
        )  # fmt: skip

    def collect(self, store, *, by: str):
        """If the newest job finished: register its candidate (once) and release the lock. Returns the
        ``ModelRecord`` registered or already there, or ``None`` (nothing finished, or the job failed)."""
        status = self.status()
        if status is None or status.running:
            return None
        self._release(status.job_id)
        _PROCESSES.pop(status.job_id, None)
        job = _read_json(self.jobs_dir / status.job_id / "job.json") or {}
        result = _read_json(Path(job.get("out", "")) / "result.json") if job else None
        if status.state != "done" or result is None:
            return None
        return register_result(store, result, by=by)

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of the newest job's log (progress bars' carriage returns become newlines)."""
        status = self.status()
        if status is None or not Path(status.log_path).is_file():
            return ""
        text = Path(status.log_path).read_bytes()[-65536:].decode("utf-8", "replace").replace("\r", "\n")
        return "\n".join([line for line in text.splitlines() if line.strip()][-lines:])

    def cancel(self) -> bool:
        """Stop the running job (SIGTERM to its process group); ``True`` if there was one."""
        status = self.status()
        if status is None or not status.running:
            return False
        job = _read_json(self.jobs_dir / status.job_id / "job.json") or {}
        try:
            os.killpg(int(job["pid"]), signal.SIGTERM)
        except ProcessLookupError:
            return False
        proc = _PROCESSES.get(status.job_id)
        if proc is not None:
            proc.wait(timeout=30)
        return True
