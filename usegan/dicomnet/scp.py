"""The DICOM receiver: a C-STORE / C-ECHO SCP (pynetdicom) that spools each received object atomically.

What a scanner sees:
- the listener binds ``127.0.0.1`` unless told otherwise (``USEGAN_DICOM_HOST``);
- an association calling another AE title than ours is rejected (``require_called_ae``), as is one from a calling
  AE title not in ``allowed_aes`` (when the list is non-empty: a name check, not authentication), and one past
  ``max_associations``;
- an object larger than ``max_object_bytes`` is refused: its association is aborted while the data arrives;
- with ``tls_cert`` / ``tls_key`` set the listener speaks DICOM over TLS only (plain TCP callers fail the handshake);
  with ``tls_ca`` too, a caller must present a certificate signed by that CA (mutual TLS: real authentication);
- C-ECHO answers success;
- a C-STORE answers success only *after* the object is complete on disk in the spool folder
  (:func:`usegan.dicomnet.spool.write_atomic`); a spool that cannot be written answers 0xA700 "out of
  resources" so the scanner keeps the image and retries; a malformed object answers 0xA900 / 0xC000 with a
  reason and a log line, and nothing is written.
pynetdicom hands the handler a dataset only once all its fragments have arrived, so an association dropped
mid-transfer never reaches the spool.

>>> listener = StoreListener(ListenerConfig(inbox_dir=tmp, port=0)).start()  # doctest: +SKIP
>>> listener.port  # doctest: +SKIP
40123
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydicom.dataset import Dataset
from pynetdicom import AE, evt

from usegan.dicomnet import contexts
from usegan.dicomnet.spool import spool_name, write_atomic

log = logging.getLogger("usegan.dicomnet.scp")


def check_ae_title(title: str, what: str = "AE title") -> str:
    """Return ``title`` stripped; ``ValueError`` unless it is 1-16 printable ASCII chars without ``\\``."""
    value = str(title).strip()
    if not 1 <= len(value) <= 16 or "\\" in value or not value.isascii() or not value.isprintable():
        raise ValueError(f"{what} must be 1-16 printable ASCII characters without '\\', got {title!r}")
    return value


@dataclass(frozen=True)
class ListenerConfig:
    inbox_dir: Path  # spool folder the received objects are written into (settings.inbox_dir)
    ae_title: str = "USEGAN"  # our AE title, the one scanners call
    host: str = "127.0.0.1"  # address to bind: local senders only by default; "0.0.0.0" for the network
    port: int = 11112  # TCP port; 0 picks a free one (tests)
    # calling AE titles accepted; empty accepts any. A *name check*, not authentication: any peer can claim any
    # title. Limit who can connect by bind address and firewall; for encryption see docs/dicom.md (TLS).
    allowed_aes: tuple[str, ...] = ()
    require_called_ae: bool = True  # refuse associations that call another AE title than ours
    max_pdu: int = 0  # largest PDU we accept, bytes; 0 = unlimited (fewer, larger reads)
    network_timeout_s: float = 60.0  # drop a silent peer after this long
    max_associations: int = 8  # concurrent associations (scanners) served; more are rejected
    max_object_bytes: int = 64 * 1024 * 1024  # an object larger than this is refused and its association aborted
    tls_cert: Path | None = None  # PEM certificate (chain) of the listener: set with tls_key to serve DICOM over TLS
    tls_key: Path | None = None  # PEM private key of tls_cert
    tls_ca: Path | None = None  # PEM CA bundle: when set, callers must present a certificate it signed (mutual TLS)

    def __post_init__(self) -> None:
        check_ae_title(self.ae_title)
        for title in self.allowed_aes:
            check_ae_title(title, "allowed calling AE title")
        if not 0 <= int(self.port) <= 65535:
            raise ValueError(f"port must be 0-65535, got {self.port!r}")
        if self.max_associations < 1:
            raise ValueError(f"max_associations must be >= 1, got {self.max_associations!r}")
        if self.max_object_bytes < 1024:
            raise ValueError(f"max_object_bytes must be >= 1024, got {self.max_object_bytes!r}")
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("TLS needs both a certificate and its key (dicom_tls_cert and dicom_tls_key)")
        if self.tls_ca is not None and self.tls_cert is None:
            raise ValueError("dicom_tls_ca (client certificates) needs TLS on: set dicom_tls_cert and dicom_tls_key")
        for name in ("tls_cert", "tls_key", "tls_ca"):
            path = getattr(self, name)
            if path is not None and not Path(path).is_file():
                raise ValueError(f"dicom_{name}: no such file {path}")

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context (TLS 1.2 or later; client certificates required when ``tls_ca`` is set), or
        ``None`` for plain TCP. ``ssl.SSLError`` names an unreadable certificate or key."""
        if self.tls_cert is None:
            return None
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(str(self.tls_cert), str(self.tls_key))
        if self.tls_ca is not None:
            context.load_verify_locations(cafile=str(self.tls_ca))
            context.verify_mode = ssl.CERT_REQUIRED
        return context

    @classmethod
    def from_settings(cls, settings, **overrides) -> ListenerConfig:
        """Build from :class:`usegan.settings.Settings` (AE, port, allowed AEs, inbox); overrides win."""
        base = cls(
            inbox_dir=Path(settings.inbox_dir),
            ae_title=settings.dicom_ae_title,
            host=settings.dicom_host,
            port=settings.dicom_port,
            allowed_aes=tuple(settings.dicom_allowed_aes),
            require_called_ae=settings.dicom_require_called_ae,
            max_associations=settings.dicom_max_associations,
            max_object_bytes=int(settings.dicom_max_object_mb) * 1024 * 1024,
            tls_cert=_path(settings.dicom_tls_cert),
            tls_key=_path(settings.dicom_tls_key),
            tls_ca=_path(settings.dicom_tls_ca),
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def _path(text: str) -> Path | None:
    return Path(text).expanduser() if str(text or "").strip() else None


@dataclass
class ListenerStats:
    received: int = 0  # objects spooled and acknowledged
    refused: int = 0  # C-STOREs answered with a failure status
    echoes: int = 0  # C-ECHO requests answered
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def bump(self, name: str) -> None:
        with self.lock:
            setattr(self, name, getattr(self, name) + 1)


def _failure(status: int, comment: str) -> Dataset:
    rsp = Dataset()
    rsp.Status = status
    rsp.ErrorComment = comment[:64]  # LO: 64 characters at most
    return rsp


class StoreListener:
    """A running (after :meth:`start`) C-STORE / C-ECHO SCP writing into ``config.inbox_dir``; thread-safe."""

    def __init__(self, config: ListenerConfig):
        self.config = config
        self.stats = ListenerStats()
        self._server = None
        self._received: dict[int, int] = {}  # id(association) -> bytes received since its last complete object
        self._received_lock = threading.Lock()

    # --- event handlers (called on pynetdicom's association threads) ---
    def _on_echo(self, event) -> int:
        self.stats.bump("echoes")
        return contexts.STATUS_SUCCESS

    def _on_data(self, event) -> None:
        """Count the bytes of the object being received; abort the association once past the size limit.

        pynetdicom assembles a dataset in memory from its fragments, so the limit must act while they arrive (a
        300 MB object once took the listener to 1.4 GB), not after the whole object is there."""
        key = id(event.assoc)
        with self._received_lock:
            total = self._received.get(key, 0) + len(event.data)
            self._received[key] = total
        if total > self.config.max_object_bytes + 65536 and not getattr(event.assoc, "_usegan_aborted", False):
            event.assoc._usegan_aborted = True
            self.stats.bump("refused")
            requestor = event.assoc.requestor
            log.warning(
                "association from %s@%s aborted: object larger than the %d MB limit (USEGAN_DICOM_MAX_OBJECT_MB)",
                requestor.ae_title, requestor.address, self.config.max_object_bytes // (1024 * 1024),
            )  # fmt: skip
            event.assoc.abort(block=False)

    def _on_released(self, event) -> None:
        with self._received_lock:
            self._received.pop(id(event.assoc), None)

    def _on_store(self, event) -> int | Dataset:
        with self._received_lock:
            self._received[id(event.assoc)] = 0  # the next object starts counting from zero
        req = event.request
        peer = f"{event.assoc.requestor.ae_title}@{event.assoc.requestor.address}"
        sop_uid = str(req.AffectedSOPInstanceUID or "")
        try:
            ds = event.dataset
            problem = contexts.check_received(
                ds, str(req.AffectedSOPClassUID), sop_uid, str(event.context.transfer_syntax)
            )
        except Exception as exc:  # pydicom raises many types on corrupt bytes; any of them means "malformed"
            problem = f"cannot decode dataset: {type(exc).__name__}: {exc}"
        if problem is None:
            try:
                name = spool_name(sop_uid)
                encoded = event.encoded_dataset(include_meta=True)
                if len(encoded) > self.config.max_object_bytes:
                    limit_mb = self.config.max_object_bytes // (1024 * 1024)
                    raise ValueError(f"object of {len(encoded)} bytes exceeds the {limit_mb} MB limit")
            except ValueError as exc:
                problem = str(exc)
        if problem is not None:
            self.stats.bump("refused")
            log.warning("refused C-STORE %s from %s: %s", sop_uid, peer, problem)
            status = (
                contexts.STATUS_DATASET_DOES_NOT_MATCH_SOP_CLASS
                if problem.startswith("SOPClassUID")
                else contexts.STATUS_CANNOT_UNDERSTAND
            )
            return _failure(status, problem)
        try:
            path = write_atomic(self.config.inbox_dir, name, encoded)
        except OSError as exc:
            self.stats.bump("refused")
            log.error("cannot spool %s from %s into %s: %s", sop_uid, peer, self.config.inbox_dir, exc)
            return _failure(contexts.STATUS_OUT_OF_RESOURCES, f"spool not writable: {exc.strerror or exc}")
        self.stats.bump("received")
        log.info("received %s from %s -> %s", sop_uid, peer, path.name)
        return contexts.STATUS_SUCCESS

    def _on_rejected(self, event) -> None:
        requestor = event.assoc.requestor
        log.warning("association from %s@%s rejected", requestor.ae_title, requestor.address)

    # --- lifecycle ---
    def _build_ae(self) -> AE:
        cfg = self.config
        ae = AE(ae_title=cfg.ae_title)
        ae.maximum_pdu_size = cfg.max_pdu
        ae.network_timeout = cfg.network_timeout_s
        ae.maximum_associations = cfg.max_associations
        ae.require_calling_aet = list(cfg.allowed_aes)
        ae.require_called_aet = cfg.require_called_ae
        ae.add_supported_context(contexts.VERIFICATION)
        for sop_class in contexts.ACCEPTED_SOP_CLASSES:
            ae.add_supported_context(sop_class, list(contexts.ACCEPTED_TRANSFER_SYNTAXES))
        return ae

    def start(self) -> StoreListener:
        """Bind and serve in background threads; returns ``self``. Raises ``OSError`` if the port is taken,
        ``ValueError`` for an unusable TLS certificate or key."""
        if self._server is not None:
            raise RuntimeError(f"listener already running on port {self.port}")
        Path(self.config.inbox_dir).mkdir(parents=True, exist_ok=True)
        handlers = [
            (evt.EVT_C_ECHO, self._on_echo),
            (evt.EVT_C_STORE, self._on_store),
            (evt.EVT_REJECTED, self._on_rejected),
            (evt.EVT_DATA_RECV, self._on_data),
            (evt.EVT_RELEASED, self._on_released),
            (evt.EVT_ABORTED, self._on_released),
        ]
        ae = self._build_ae()
        try:
            tls = self.config.ssl_context()
        except ssl.SSLError as exc:  # an OSError, but not the port's fault
            raise ValueError(f"the DICOM TLS certificate or key cannot be used: {exc}") from exc
        address = (self.config.host, int(self.config.port))
        self._server = ae.start_server(address, block=False, evt_handlers=handlers, ssl_context=tls)
        log.info(
            "DICOM listener %s on %s:%d (%s), spool %s, calling AEs %s",
            self.config.ae_title,
            self.config.host,
            self.port,
            "plain TCP" if tls is None else ("TLS, client certificates required" if self.config.tls_ca else "TLS"),
            self.config.inbox_dir,
            ",".join(self.config.allowed_aes) or "any",
        )
        return self

    @property
    def port(self) -> int:
        """The bound TCP port (the real one when the config asked for 0)."""
        if self._server is None:
            raise RuntimeError("listener not started")
        return int(self._server.server_address[1])

    @property
    def active_associations(self) -> int:
        """Associations being served right now (0 when stopped)."""
        return 0 if self._server is None else len(self._server.active_associations)

    def stop(self) -> None:
        """Stop serving; associations in flight are aborted (their objects were not acknowledged)."""
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> StoreListener:
        return self.start() if self._server is None else self

    def __exit__(self, *exc_info) -> None:
        self.stop()
