"""Where a model's training data came from, as one typed value: the only answer to "was this model
trained on phantoms?" that the review page, the PDF report and the teaching lab read.

* :attr:`Provenance.PHANTOM` - simulated phantom elastograms only (the bundled models; unlabelled real B-mode
  scans may have lent their appearance, as for strain v6, but no real elastogram taught it): a demonstration until
  fine-tuned on a department's own paired data (DOMAIN.md section 5).
* :attr:`Provenance.DEPARTMENT` - the department's own B-mode / elastogram pairs only.
* :attr:`Provenance.MIXED` - department pairs with simulated phantom replay (a fine-tune that keeps phantoms in).

It is decided from the training data when the checkpoint is written (``training["provenance"]``), copied into the
registry's model card (``card["provenance"]``), and read back by :func:`provenance_for_model`. Checkpoints written
before the field existed are read from their ``simulated_data_only`` flag (and ``replay_cases`` for fine-tunes).
"""

from __future__ import annotations

import functools
from enum import StrEnum
from pathlib import Path


class Provenance(StrEnum):
    PHANTOM = "phantom"  # simulated phantoms only
    DEPARTMENT = "department"  # department pairs only
    MIXED = "mixed"  # department pairs + simulated phantom replay


CAVEATS = {
    Provenance.PHANTOM: "trained on simulated phantom elastograms only (no real elastogram): a demonstration, not "
    "for clinical use before fine-tuning on local paired data",
    Provenance.MIXED: "fine-tuned on department pairs with simulated phantom replay",
    Provenance.DEPARTMENT: "trained on department pairs",
    None: "training data not recorded for this model: treat as a demonstration",
}
CAVEATS_ZH = {
    Provenance.PHANTOM: "仅用模拟体模弹性图训练（无真实弹性图）：仅供演示，须用本科室配对数据微调后方可用于临床",
    Provenance.MIXED: "用本科室配对数据（含模拟体模回放）微调",
    Provenance.DEPARTMENT: "用本科室配对数据训练",
    None: "未记录该模型的训练数据：仅作演示",
}


def of_data(department_pairs: int, phantom_cases: int) -> Provenance:
    """The provenance of a training set of ``department_pairs`` real pairs and ``phantom_cases`` simulated ones."""
    if department_pairs < 0 or phantom_cases < 0 or department_pairs + phantom_cases == 0:
        raise ValueError(f"a training set needs cases, got {department_pairs} pairs and {phantom_cases} phantoms")
    if department_pairs == 0:
        return Provenance.PHANTOM
    return Provenance.MIXED if phantom_cases else Provenance.DEPARTMENT


def of_training_folder(root: str | Path) -> Provenance:
    """The provenance of a training folder: the phantom layout (``index.csv`` from ``usegan phantom``) is simulated;
    a pairs layout (``bmode/`` + ``elasto/``) holds real pairs unless its ``manifest.json`` names a provenance."""
    import json

    root = Path(root)
    if (root / "index.csv").is_file():
        return Provenance.PHANTOM
    manifest = root / "manifest.json"
    if manifest.is_file():
        try:
            named = json.loads(manifest.read_text()).get("provenance")
        except (OSError, ValueError, AttributeError):
            named = None
        if named:
            return Provenance(named)
    return Provenance.DEPARTMENT


def training_fields(data: str | Path) -> dict:
    """The checkpoint ``training`` entries that record provenance for a run on folder ``data``: the typed value
    and the older ``simulated_data_only`` flag (still read by code written before the typed value)."""
    found = of_training_folder(data)
    return {"provenance": found.value, "simulated_data_only": found is Provenance.PHANTOM}


def from_training(training: dict | None) -> Provenance:
    """A checkpoint's provenance from its ``training`` summary (old checkpoints: ``simulated_data_only``)."""
    training = training or {}
    if training.get("provenance"):
        return Provenance(training["provenance"])
    if training.get("simulated_data_only", True):
        return Provenance.PHANTOM
    return Provenance.MIXED if int(training.get("replay_cases") or 0) > 0 else Provenance.DEPARTMENT


def from_card(card: dict | None) -> Provenance | None:
    """A model card's provenance; cards written before the field existed are read from their ``training``
    summary, else their ``trained_on`` wording; None when the card says nothing."""
    card = card or {}
    if card.get("provenance"):
        return Provenance(card["provenance"])
    if isinstance(card.get("training"), dict) and card["training"]:
        return from_training(card["training"])
    words = str(card.get("trained_on", "")).lower()
    if "department" in words:
        return Provenance.MIXED if "phantom" in words else Provenance.DEPARTMENT
    return Provenance.PHANTOM if "phantom" in words else None


def provenance_for_model(store, version: str, checkpoint_sha256: str | None = None,
                         model_dir: str | Path | None = None) -> Provenance | None:  # fmt: skip
    """The provenance of model ``version``: its registry card, else its checkpoint file (registered path, or a
    bundled checkpoint of that version in ``model_dir``, default ``settings.model_dir``); None when unknown.

    A bundled model is not in the registry on a fresh install: its checkpoint still says it is phantom-trained.
    """
    from usegan.store import NotFoundError

    path = None
    if store is not None:
        try:
            record = store.registry.get(version)
        except (NotFoundError, KeyError):
            record = None
        if record is not None:
            if (found := from_card(record.card)) is not None:
                return found
            path = record.path
    if path is None:
        path = _bundled_path(version, checkpoint_sha256, model_dir)
    if path is None or not Path(path).is_file():
        return None
    header = _header(str(path), *_signature(path))
    return None if header is None else from_training(header[1])


def _signature(path) -> tuple[int, int]:
    stat = Path(path).stat()
    return stat.st_mtime_ns, stat.st_size


@functools.lru_cache(maxsize=32)
def _header(path: str, mtime_ns: int, size: int) -> tuple[str, dict] | None:
    """``(version, training summary)`` of a checkpoint file, cached until the file changes (loading a checkpoint
    reads the whole file: far too slow for every page run)."""
    from usegan.checkpoint import CheckpointError, read_checkpoint

    try:
        payload = read_checkpoint(path)
    except CheckpointError:
        return None
    return str(payload.get("version")), dict(payload.get("training") or {})


def _bundled_path(version: str, checkpoint_sha256: str | None, model_dir) -> Path | None:
    from usegan.checkpoint import bundled_checkpoints

    if model_dir is None:
        from usegan.settings import get_settings

        model_dir = get_settings().model_dir
    for path in bundled_checkpoints(model_dir).values():
        header = _header(str(path), *_signature(path))
        if header is not None and header[0] == str(version):
            return path
    return None


def model_caveat(info) -> str:
    """``"<version>: <caveat of its provenance>"`` for a loaded model (a ``usegan.checkpoint.ModelInfo``), from its
    checkpoint's ``training`` summary: what the teaching lab prints beside a virtual elastogram."""
    return f"{info.version}: {CAVEATS[from_training(info.training)]}"
