"""Deployment settings: one place, read from ``USEGAN_*`` environment variables or a TOML file.

Precedence: environment variable > TOML file (``USEGAN_CONFIG``, else ``<data_dir>/usegan.toml``) > default.
Defaults work on a fresh clone: everything lives under the repository's ``data/`` folder.

>>> from usegan.settings import get_settings
>>> get_settings().db_path  # doctest: +SKIP
PosixPath('.../data/usegan.duckdb')
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from usegan.configs import parse_bool

REPO_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
BUNDLED_MODEL_DIR = REPO_DATA_DIR / "models"
BUNDLED_SAMPLES_DIR = REPO_DATA_DIR / "samples"


PRECISIONS = ("auto", "fp32", "bf16")  # generator precision at inference (usegan.inference.resolve_precision)
# settings that take one of a few words: the words
CHOICES = {"inference_precision": PRECISIONS, "report_language": ("en", "zh")}


@dataclass(frozen=True)
class Settings:
    data_dir: Path = REPO_DATA_DIR  # database, images, spool, runs, jobs (USEGAN_DATA_DIR)
    model_dir: Path = BUNDLED_MODEL_DIR  # bundled / registered checkpoints (USEGAN_MODEL_DIR)
    samples_dir: Path = BUNDLED_SAMPLES_DIR  # bundled sample cases (USEGAN_SAMPLES_DIR)
    host: str = "localhost"  # address `usegan serve` (make run) binds the web app to (USEGAN_HOST)
    port: int = 8501  # web app port of `usegan serve` (USEGAN_PORT)
    max_image_pixels: int = 40_000_000  # larger images are refused (decompression bombs) (USEGAN_MAX_IMAGE_PIXELS)
    max_upload_mb: int = 200  # largest accepted upload in MB (USEGAN_MAX_UPLOAD_MB)
    # "auto" (bf16 where the CPU has AMX, else fp32), "fp32" or "bf16" (USEGAN_INFERENCE_PRECISION)
    inference_precision: str = "auto"
    # run the fp32 generator through torch.compile: 1.5-1.8x faster without AMX, 20-45 s to compile per model at
    # start-up, needs a C++ compiler (USEGAN_INFERENCE_COMPILE)
    inference_compile: bool = False
    department: str = "Ultrasound Department"  # report header (USEGAN_DEPARTMENT)
    report_language: str = "en"  # "en" or "zh" (USEGAN_REPORT_LANGUAGE)
    store_patient_names: bool = False  # names are off by default: pseudonymous ids only (USEGAN_STORE_PATIENT_NAMES)
    store_patient_ids: bool = False  # keep the scanner's raw Patient ID beside its pseudonym (USEGAN_STORE_PATIENT_IDS)
    worker_interval_s: int = 10  # the app's background worker: spool import + job collection (USEGAN_WORKER_INTERVAL_S)
    dicom_ae_title: str = "USEGAN"  # our AE title (USEGAN_DICOM_AE_TITLE)
    dicom_port: int = 11112  # C-STORE SCP port (USEGAN_DICOM_PORT)
    dicom_host: str = "127.0.0.1"  # address the receiver binds; 0.0.0.0 for scanners on the network (USEGAN_DICOM_HOST)
    # calling AE titles accepted; empty = any. A name check, not authentication: any peer can claim a title
    # (USEGAN_DICOM_ALLOWED_AES); restrict by network (bind address, firewall) and see docs/dicom.md for TLS
    dicom_allowed_aes: tuple[str, ...] = ()
    dicom_require_called_ae: bool = True  # refuse calls to another AE title (USEGAN_DICOM_REQUIRE_CALLED_AE)
    dicom_max_object_mb: int = 64  # larger received objects are refused (USEGAN_DICOM_MAX_OBJECT_MB)
    dicom_max_associations: int = 8  # concurrent associations served (USEGAN_DICOM_MAX_ASSOCIATIONS)
    dicom_tls_cert: str = ""  # PEM certificate: the receiver speaks DICOM over TLS only (USEGAN_DICOM_TLS_CERT)
    dicom_tls_key: str = ""  # PEM private key of dicom_tls_cert (USEGAN_DICOM_TLS_KEY)
    dicom_tls_ca: str = ""  # PEM CA bundle: callers must present a certificate it signed (USEGAN_DICOM_TLS_CA)
    dicom_destination: str = ""  # HOST:PORT:AE for send-back; empty = off (USEGAN_DICOM_DESTINATION)
    login_free_failures: int = 5  # failed sign-ins per account name before back-off (USEGAN_LOGIN_FREE_FAILURES)
    login_client_free_failures: int = 20  # failed sign-ins per client address before back-off
    login_backoff_s: int = 30  # first back-off in seconds, doubling per further failure (USEGAN_LOGIN_BACKOFF_S)
    login_backoff_max_s: int = 900  # longest back-off (USEGAN_LOGIN_BACKOFF_MAX_S)
    session_idle_s: int = 1800  # a browser session unused this long signs out (USEGAN_SESSION_IDLE_S)
    session_max_s: int = 43_200  # a browser session ends this long after sign-in (USEGAN_SESSION_MAX_S)
    checkpoint_every_s: int = 300  # the app folds the database's write-ahead log this often (USEGAN_CHECKPOINT_EVERY_S)
    secure_cookies: bool = False  # mark cookies Secure (set when a TLS proxy fronts the app) (USEGAN_SECURE_COOKIES)

    # Derived locations under the data directory.
    @property
    def db_path(self) -> Path:
        return self.data_dir / "usegan.duckdb"

    @property
    def images_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def inbox_dir(self) -> Path:
        return self.data_dir / "inbox"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "archive"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"

    @property
    def runs_dir(self) -> Path:
        return self.data_dir / "runs"

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir / "jobs"


def _coerce(name: str, kind: type | str, raw: object) -> object:
    """``raw`` (TOML value or environment text) as the field's type; ``ValueError`` naming the setting otherwise."""
    kind = str(kind)
    try:
        if "Path" in kind:
            return Path(str(raw)).expanduser()
        if kind.startswith("int"):
            if isinstance(raw, bool) or (isinstance(raw, float) and not raw.is_integer()):
                raise ValueError(f"not an integer: {raw!r}")
            return int(str(raw).strip()) if isinstance(raw, str) else int(raw)  # type: ignore[call-overload]
        if kind.startswith("bool"):
            return raw if isinstance(raw, bool) else parse_bool(str(raw))
        if kind.startswith("tuple"):
            items = raw if isinstance(raw, list | tuple) else str(raw).split(",")
            return tuple(str(i).strip() for i in items if str(i).strip())
    except ValueError as exc:
        raise ValueError(f"setting {name!r}: cannot read {raw!r} as {kind} ({exc})") from None
    if not isinstance(raw, str):
        raise ValueError(f"setting {name!r}: expected text, got {raw!r}")
    return raw


def get_settings(environ: dict[str, str] | None = None) -> Settings:
    """Resolve settings from the environment (``os.environ`` by default) and the optional TOML file."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    data_dir = Path(env.get("USEGAN_DATA_DIR", REPO_DATA_DIR)).expanduser()
    toml_path = Path(env.get("USEGAN_CONFIG", data_dir / "usegan.toml"))
    known = {f.name: f for f in fields(Settings)}
    if toml_path.is_file():
        try:
            table = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ValueError(f"config file {toml_path}: {exc}") from exc
        unknown = sorted(set(table) - set(known))
        if unknown:
            raise ValueError(f"config file {toml_path}: unknown setting(s) {', '.join(map(repr, unknown))}")
        for key, raw in table.items():
            values[key] = _coerce(key, known[key].type, raw)
    for name, f in known.items():
        raw = env.get(f"USEGAN_{name.upper()}")
        if raw is not None and raw != "":
            values[name] = _coerce(name, f.type, raw)
    values.setdefault("data_dir", data_dir)
    for name, allowed in CHOICES.items():
        if name in values and values[name] not in allowed:
            raise ValueError(
                f"setting {name!r} (USEGAN_{name.upper()}): must be one of {', '.join(allowed)}, got {values[name]!r}"
            )
    return Settings(**values)  # type: ignore[arg-type]  # each value was coerced to its field's type above
