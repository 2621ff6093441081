"""The list of checkpoints the Models page shows (which one is in use comes from :mod:`usegan.active_model`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from usegan.active_model import find
from usegan.checkpoint import CheckpointError, file_sha256, read_checkpoint
from usegan.provenance import Provenance, from_training
from usegan.vocab import Mode


@dataclass(frozen=True)
class ModelEntry:
    """One checkpoint as the Models page lists it."""

    mode: str  # "strain" or "swe"
    version: str  # the checkpoint's version string
    path: str  # checkpoint file
    origin: str  # "registry" or "bundled"
    status: str  # registry status (candidate / active / retired) or "bundled"
    in_use: bool  # True when the app generates this mode with it
    metrics: dict = field(default_factory=dict)  # evaluation figures
    card: dict = field(default_factory=dict)  # model card (registry) or training summary (bundled)
    sha256: str = ""  # of the file, when known


def _default_model_dir() -> Path:
    from usegan.settings import get_settings

    return get_settings().model_dir


def list_models(store=None, model_dir: str | Path | None = None) -> list[ModelEntry]:
    """Registered versions (with status) and bundled checkpoints not registered yet, per mode."""
    in_use = {m: find(m, store, model_dir) for m in Mode}
    entries: list[ModelEntry] = []
    registered_paths: set[str] = set()
    if store is not None:
        for record in store.registry.list():
            registered_paths.add(str(Path(record.path).resolve()))
            entries.append(
                ModelEntry(
                    record.mode,
                    record.version,
                    record.path,
                    "registry",
                    record.status,
                    in_use[record.mode] is not None and Path(record.path) == in_use[record.mode],
                    record.metrics,
                    record.card,
                    record.sha256,
                )
            )
    directory = Path(model_dir) if model_dir is not None else _default_model_dir()
    for path in sorted(directory.glob("*.pt")) if directory.is_dir() else []:
        if str(path.resolve()) in registered_paths:
            continue
        try:
            payload = read_checkpoint(path)
        except CheckpointError:
            continue
        mode = payload["mode"]
        entries.append(
            ModelEntry(
                mode,
                str(payload["version"]),
                str(path),
                "bundled",
                "bundled",
                in_use[mode] is not None and path == in_use[mode],
                dict(payload.get("metrics") or {}),
                dict(payload.get("training") or {}),
            )
        )
    return entries


def register_and_activate(store, entry: ModelEntry, by: str):
    """Register a bundled checkpoint (if it is not yet) and make it the active version of its mode."""
    if entry.origin == "bundled":
        provenance = from_training(entry.card) if entry.card else None  # entry.card: the checkpoint's training
        card = {
            "training": entry.card,
            "trained_on": "simulated phantoms" if provenance is Provenance.PHANTOM else str(provenance or "unknown"),
            "provenance": provenance.value if provenance else None,
        }
        store.registry.register(
            entry.version, entry.mode, entry.path, created_by=by, sha256=file_sha256(entry.path),
            metrics=entry.metrics, card=card,
        )  # fmt: skip
    return store.registry.set_active(entry.version, by=by)


def validation_summary(entry: ModelEntry) -> str | None:
    """One line comparing a fine-tuned model with its base on the validation pairs, or None without such figures."""
    val, base = entry.metrics.get("validation_pairs"), entry.metrics.get("base_on_validation_pairs")
    if not (val and base and val.get("n")):
        return None
    return (
        f"Validation pairs ({val['n']}): L1 {val['l1']:.4f} vs base {base['l1']:.4f} "
        f"({entry.metrics.get('compared_with')}) · SSIM {val.get('ssim_box') or float('nan'):.3f}"
    )


def pairs_summary(counts: dict) -> str:
    """``"strain: 3 train / 1 validation, swe: ..."`` from :func:`usegan.finetune.pairs.pair_counts`."""
    return ", ".join(f"{m}: {c['train']} train / {c['validation']} validation" for m, c in counts.items())
