"""Fine-tune the active model on the store's pairs; evaluate candidate vs base; register the candidate.

Three steps, so the training itself never needs the database (the app owns it while it runs):

1. :func:`prepare_plan` (needs the store): sync the pairs, pick the base model, export a pairs snapshot and write
   ``plan.json`` into a new run folder ``settings.runs_dir/finetune/<version>/``;
2. :func:`execute_plan` (files only; every ``torchrun`` rank runs it): train from the base weights on the train
   pairs (+ optional phantom replay against forgetting), then, on rank 0, evaluate candidate *and* base on the
   validation pairs and on the fixed phantom test set, and write ``result.json``;
3. :func:`register_result` (needs the store): register the candidate with its metrics and provenance.

The validation pairs are never seen by training, not even for choosing a checkpoint: the candidate is the final
weights (``last.pt``).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from usegan.configs import option
from usegan.fileutil import file_sha256, utc_now, write_json_atomic
from usegan.provenance import CAVEATS, from_training, of_data
from usegan.vocab import Mode, values

DEFAULT_PHANTOM_TEST = Path("bundled") / "phantom-test"  # under settings.runs_dir (usegan phantom --seed 9000)


@dataclass(frozen=True)
class FinetuneConfig:
    mode: str = option(Mode.STRAIN, '"strain" or "swe": which model is fine-tuned')
    base: str = option("", "registry version to start from; empty = the active model (else the bundled one)")
    steps: int = option(200, "optimisation steps")
    batch_size: int = option(4, "images per step (capped at the number of training images)")
    lr_g: float = option(5e-5, "generator learning rate (lower than from scratch: small steps from the base)")
    lr_d: float = option(5e-5, "discriminator learning rate (the discriminator starts fresh)")
    w_gan: float = option(1.0, "adversarial loss weight")
    w_l1: float = option(100.0, "L1 loss weight")
    w_color: float = option(10.0, "Color loss weight")
    w_vgg: float = option(5.0, "VGG19 perceptual loss weight")
    vgg_weights: str = option("", "optional local torchvision vgg19 state dict")
    replay: str = option("", "phantom folder mixed in to avoid forgetting; empty = none")
    replay_fraction: float = option(0.5, "share of training images drawn from the replay folder")
    phantom_test: str = option(
        "", 'fixed phantom test folder; empty = runs/bundled/phantom-test if present; "none" = skip'
    )
    phantom_test_limit: int = option(50, "phantom test cases evaluated (0 = all)")
    augment: bool = option(True, "paired flips / gain / small rotations on training images")
    seed: int = option(0, "data order, augmentation, discriminator initialisation")
    bf16: bool = option(False, "bfloat16 autocast")
    device: str = option("", '"cpu", "cuda"; empty = cuda if available (per rank under torchrun) else cpu')
    threads: int = option(0, "torch CPU threads; 0 = default")

    def __post_init__(self) -> None:
        if self.mode not in values(Mode):
            raise ValueError(f"mode must be 'strain' or 'swe', got {self.mode!r}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps and batch_size must be >= 1, got {self.steps}, {self.batch_size}")
        if not 0.0 <= self.replay_fraction < 1.0:
            raise ValueError(f"replay_fraction must be in [0, 1), got {self.replay_fraction!r}")


@dataclass(frozen=True)
class FinetunePlan:
    config: dict  # FinetuneConfig fields
    snapshot: str  # pairs snapshot folder (usegan.finetune.pairs.export_snapshot)
    base_path: str  # base checkpoint file
    base_version: str  # its registry version
    base_sha256: str  # its sha256
    version: str  # the candidate's version
    out: str  # run folder: plan.json, snapshot/, last.pt, log.jsonl, result.json
    phantom_test: str  # resolved phantom test folder, "" = none
    command: str  # the command line that asked for it
    created_by: str  # user who started it
    created_at: str  # ISO time

    @property
    def finetune_config(self) -> FinetuneConfig:
        return FinetuneConfig(**self.config)

    def save(self, path: str | Path) -> Path:
        write_json_atomic(path, asdict(self))
        return Path(path)

    @classmethod
    def load(cls, path: str | Path) -> FinetunePlan:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(**{f.name: data[f.name] for f in fields(cls)})


def resolve_base(store, mode: str, version: str = "", *, by: str) -> tuple[str, str, str]:
    """``(path, version, sha256)`` of the model to start from: ``version`` if given, else the active one, else the
    bundled one, which is then registered and made active (it *is* the model in use), so rollback can return to it."""
    from usegan.active_model import bundled
    from usegan.checkpoint import read_checkpoint

    registry = store.registry
    record = registry.get(version) if version else registry.active(mode)
    if record is not None:
        if record.mode != mode:
            raise ValueError(f"base {record.version!r} is a {record.mode} model, not {mode}")
        if not Path(record.path).is_file():
            raise ValueError(f"the checkpoint of {record.version!r} is missing: {record.path}")
        return record.path, record.version, record.sha256
    path = bundled(mode)
    if path is None:
        raise ValueError(f"no {mode} model to fine-tune: no active version and no bundled checkpoint")
    name = str(read_checkpoint(path)["version"])
    if name not in {r.version for r in registry.list()}:
        provenance = from_training(read_checkpoint(path).get("training"))
        card = {"trained_on": CAVEATS[provenance], "origin": "bundled", "provenance": provenance.value}
        registry.register(name, mode, path, created_by=by, card=card)
        registry.set_active(name, by=by, note={"reason": "bundled model in use, registered as the fine-tune base"})
    return str(path), name, file_sha256(path)


def prepare_plan(store, config: FinetuneConfig, *, by: str, command: str = "", runs_dir: str | Path | None = None):
    """Sync pairs, choose the base, export the snapshot and write ``plan.json``; returns the :class:`FinetunePlan`.

    Raises ``ValueError`` when there is no training pair for the mode."""
    from usegan.finetune.pairs import export_snapshot, list_pairs, sync_pairs
    from usegan.settings import REPO_DATA_DIR, get_settings

    settings = get_settings()
    sync_pairs(store, by=by, mode=config.mode)
    n_train = len(list_pairs(store, config.mode, "train"))
    if not n_train:  # checked before anything is registered or written
        n_val = len(list_pairs(store, config.mode, "validation"))
        raise ValueError(
            f"no {config.mode} training pairs: sign cases that have a real {config.mode} elastogram attached "
            f"(validation pairs: {n_val})"
        )
    base_path, base_version, base_sha = resolve_base(store, config.mode, config.base, by=by)
    now = utc_now()
    version = f"usegan-{config.mode}-ft-{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"
    out = Path(runs_dir or settings.runs_dir) / "finetune" / version
    export_snapshot(store, config.mode, out / "snapshot")
    phantom_test = config.phantom_test
    if not phantom_test:
        for root in (settings.runs_dir, REPO_DATA_DIR / "runs"):
            if (root / DEFAULT_PHANTOM_TEST).is_dir():
                phantom_test = str(root / DEFAULT_PHANTOM_TEST)
                break
    plan = FinetunePlan(
        asdict(config), str(out / "snapshot"), str(base_path), base_version, base_sha, version, str(out),
        "" if phantom_test == "none" else phantom_test, command, by, now.isoformat(timespec="seconds"),
    )  # fmt: skip
    plan.save(out / "plan.json")
    return plan


def _train_config(plan: FinetunePlan, base_config, architecture: str, batch_size: int, crop_to_box: bool):
    from usegan.training.config import TrainConfig

    cfg = plan.finetune_config
    extra = {} if architecture == "unet" else {"n_res_blocks": base_config.n_res_blocks}
    if architecture != "unet":
        extra["use_attention"] = base_config.use_attention
    shared = {f.name: getattr(cfg, f.name) for f in fields(cfg) if f.name in {g.name for g in fields(TrainConfig)}}
    # TrainConfig's defaults, the fine-tune's own values for every field both share (mode, steps, lr_g, w_l1 ...),
    # then what only the plan and the base model know.
    config = replace(
        TrainConfig(**shared),
        data=plan.snapshot, out=plan.out, architecture=architecture, image_size=base_config.image_size,
        base_channels=base_config.base_channels, batch_size=batch_size, val_every=cfg.steps, sample_every=cfg.steps,
        log_every=max(1, cfg.steps // 20), version=plan.version, crop_to_box=crop_to_box, **extra,
    )  # fmt: skip
    if config.generator_config.to_dict() != base_config.to_dict():
        raise ValueError(f"{plan.base_path}: its generator config cannot be rebuilt by the trainer ({base_config})")
    return config


def _train_set(plan: FinetunePlan, size: int, crop_to_box: bool):
    import torch
    from torch.utils.data import ConcatDataset, Subset

    from usegan.datasets import AugmentConfig, PhantomDataset
    from usegan.finetune.pairs import StorePairsDataset
    from usegan.training.data import BoxCropDataset

    cfg = plan.finetune_config
    augment = AugmentConfig() if cfg.augment else None
    pairs = StorePairsDataset(plan.snapshot, "train", size, augment, crop_to_box=crop_to_box)
    if not cfg.replay or cfg.replay_fraction == 0:
        return pairs, 0
    replay = PhantomDataset(cfg.replay, mode=cfg.mode, size=None if crop_to_box else size, augment=augment)
    replay = BoxCropDataset(replay, size) if crop_to_box else replay
    n_replay = min(len(replay), round(len(pairs) * cfg.replay_fraction / (1 - cfg.replay_fraction)))
    order = torch.randperm(len(replay), generator=torch.Generator().manual_seed(cfg.seed)).tolist()
    return ConcatDataset([pairs, Subset(replay, sorted(order[:n_replay]))]), n_replay


def execute_plan(plan: FinetunePlan, progress_path: str | Path | None = None, quiet: bool = True) -> dict | None:
    """Train and evaluate (see the module docstring); returns the result dict on rank 0, ``None`` on other ranks."""
    from usegan.checkpoint import load_generator
    from usegan.finetune.loop import FinetuneTrainer
    from usegan.finetune.validate import crops_to_box, evaluate_on_pairs, evaluate_on_phantoms
    from usegan.training import distributed

    def progress(**fields) -> None:
        if progress_path:
            write_json_atomic(progress_path, {"version": plan.version, "updated_at": utc_now().isoformat(), **fields})

    cfg = plan.finetune_config
    base, info = load_generator(plan.base_path)
    crop_to_box = crops_to_box(info)  # learn what the base learnt: the box crop (default) or the whole image
    train_set, n_replay = _train_set(plan, info.generator_config.image_size, crop_to_box)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    batch_size = min(cfg.batch_size, len(train_set) // world)
    config = _train_config(plan, info.generator_config, info.architecture, batch_size, crop_to_box)
    n_pairs = len(train_set) - n_replay
    provenance = {
        "data": plan.snapshot, "base_version": plan.base_version, "base_sha256": plan.base_sha256,
        "store_train_pairs": n_pairs, "replay_cases": n_replay, "simulated_data_only": False,
        "provenance": of_data(n_pairs, n_replay).value,
    }  # fmt: skip
    trainer = FinetuneTrainer(config, train_set, base.state_dict(), provenance, progress)
    started = utc_now()
    fit = trainer.fit(progress=not quiet)
    if not trainer.dist.is_main:
        distributed.teardown(trainer.dist)
        return None
    progress(state="evaluating", step=cfg.steps, steps=cfg.steps, message="evaluating candidate and base")
    candidate = str(Path(plan.out) / "last.pt")
    metrics = {
        "validation_pairs": evaluate_on_pairs(candidate, plan.snapshot),
        "base_on_validation_pairs": evaluate_on_pairs(plan.base_path, plan.snapshot),
        "compared_with": plan.base_version,
        "phantom_test": None,
        "base_on_phantom_test": None,
        "train_losses": next(
            ({k: v for k, v in r.items() if k.startswith("loss_")} for r in reversed(trainer.history)
             if r.get("event") == "train"), {}),
    }  # fmt: skip
    if plan.phantom_test:
        metrics["phantom_test"] = evaluate_on_phantoms(candidate, plan.phantom_test, cfg.phantom_test_limit)
        metrics["base_on_phantom_test"] = evaluate_on_phantoms(
            plan.base_path, plan.phantom_test, cfg.phantom_test_limit
        )
    from usegan.finetune.pairs import read_manifest

    manifest = read_manifest(plan.snapshot)
    card = {
        "trained_on": "department pairs from the case store" + (" + simulated phantom replay" if n_replay else ""),
        "provenance": of_data(n_pairs, n_replay).value,
        "intended_use": "candidate: compare with the active model before promoting",
        "base_version": plan.base_version, "base_sha256": plan.base_sha256,
        "pairs": {s: [p["case_id"] for p in manifest["pairs"] if p["split"] == s] for s in ("train", "validation")},
        "replay": {"folder": cfg.replay, "fraction": cfg.replay_fraction, "cases": n_replay} if n_replay else None,
        "phantom_test": plan.phantom_test or None, "command": plan.command, "created_by": plan.created_by,
        "started_at": started.isoformat(timespec="seconds"), "finished_at": utc_now().isoformat(timespec="seconds"),
        "wall_time_s": round(fit["wall_time_s"], 1), "world_size": trainer.dist.world_size, "config": plan.config,
    }  # fmt: skip
    result = {"version": plan.version, "mode": cfg.mode, "checkpoint": candidate, "sha256": file_sha256(candidate),
              "base_version": plan.base_version, "metrics": metrics, "card": card}  # fmt: skip
    write_json_atomic(Path(plan.out) / "result.json", result)
    progress(state="done", step=cfg.steps, steps=cfg.steps, message=f"candidate {plan.version} ready")
    distributed.teardown(trainer.dist)
    return result


def register_result(store, result: dict, *, by: str):
    """Register a finished run's candidate (idempotent: an already registered version is returned as is)."""
    from usegan.store import NotFoundError

    try:
        return store.registry.get(result["version"])
    except NotFoundError:
        pass
    return store.registry.register(
        result["version"], result["mode"], result["checkpoint"], created_by=by, sha256=result["sha256"],
        metrics=result["metrics"], card=result["card"],
    )  # fmt: skip
