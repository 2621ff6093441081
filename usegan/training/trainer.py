"""The USE-GAN trainer: GAN + L1 + Color + VGG19, Adam with linear decay, validation, best checkpoint, logs.

One :class:`Trainer` runs in every process; under ``torchrun`` the generator and discriminator are wrapped in
DistributedDataParallel and each rank reads its shard of the data; only rank 0 validates, logs and saves.

Run folder layout (``config.out``)::

    config.json     the resolved TrainConfig
    log.jsonl       one JSON object per log / validation event
    samples/        step_<N>.png grids: B-mode | generated | true
    best.pt, last.pt  self-describing model checkpoints (usegan.checkpoint)
    state.pt        full training state for --resume
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler

from usegan import provenance
from usegan.checkpoint import default_colour_scale, save_checkpoint
from usegan.colormaps import lut_positions
from usegan.datasets import target_crops, target_scans
from usegan.inference import tensor_to_rgb
from usegan.models.discriminator import USEGANDiscriminator, mask_to_boxes
from usegan.models.domain import DomainClassifier, dann_ramp, domain_loss, valid_locations
from usegan.models.generator import USEGANGenerator
from usegan.models.losses import ColorLoss, GANLoss, VGGPerceptualLoss
from usegan.models.unet import UNetGenerator
from usegan.training import distributed
from usegan.training.config import TrainConfig
from usegan.training.metrics import lesion_contrast, ssim_rgb


def build_generator(config: TrainConfig) -> torch.nn.Module:
    gen_config = config.generator_config
    return UNetGenerator(gen_config) if config.architecture == "unet" else USEGANGenerator(gen_config)


class Trainer:
    """Trains one generator on ``train_set`` (items: dicts with ``bmode (1,H,W)``, ``elasto (3,H,W)`` in [-1, 1],
    ``mask (1,H,W)`` in {0, 1}, ``box (4,)`` x, y, w, h of the elastography box) and validates on ``val_set``."""

    def __init__(self, config: TrainConfig, train_set: Dataset, val_set: Dataset | None = None) -> None:
        self.config = config
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if config.time_budget_s and world > 1:
            raise ValueError(
                f"time_budget_s={config.time_budget_s:g} needs a single process (ranks would fit different step "
                f"counts), got WORLD_SIZE={world}"
            )
        self.dist = distributed.setup(config.device)
        if config.threads:
            torch.set_num_threads(config.threads)
        torch.manual_seed(config.seed)
        np.random.seed(config.seed)
        self.device = self.dist.device
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed input sizes: let cuDNN pick its fastest kernels once
        self.out = Path(config.out)
        self.train_set, self.val_set = train_set, val_set
        weights = config.loss_weights

        self.generator = build_generator(config).to(self.device)
        if config.init_from and not config.resume:
            self.init_generator_from(config.init_from)
        self.discriminator = (
            USEGANDiscriminator(config.discriminator_config).to(self.device) if weights.gan > 0 else None
        )
        self.domain_classifier, self.domain_scans, self.opt_domain = None, (), None
        if config.domain_weight > 0:
            if self.dist.enabled:
                raise ValueError("domain adaptation (domain_weight > 0) runs in a single process, not under torchrun")
            gen = self.generator.config
            self.domain_scans = target_scans(config.domain_dir)
            self.domain_classifier = DomainClassifier(gen.base_channels * 2**gen.n_down).to(self.device)
            self.opt_domain = torch.optim.Adam(
                self.domain_classifier.parameters(), config.lr_d, betas=(config.beta1, config.beta2)
            )
            self.domain_rng = np.random.default_rng([config.seed, 0xDA])
        self.gan_loss = GANLoss(weights.gan_mode)
        self.color_loss = ColorLoss().to(self.device) if weights.color > 0 else None
        self.vgg_loss = (
            VGGPerceptualLoss(
                weights_path=config.vgg_weights or None,
                layers=tuple(s.strip() for s in config.vgg_layers.split(",") if s.strip()),
                input_size=config.vgg_input_size or None,
            ).to(self.device)
            if weights.vgg > 0
            else None
        )
        self.opt_g = torch.optim.Adam(self.generator.parameters(), config.lr_g, betas=(config.beta1, config.beta2))
        self.opt_d = (
            torch.optim.Adam(self.discriminator.parameters(), config.lr_d, betas=(config.beta1, config.beta2))
            if self.discriminator is not None
            else None
        )
        self.total_steps = config.steps  # may shrink to fit time_budget_s (fit)
        decay = self._lr_lambda
        self.sched_g = torch.optim.lr_scheduler.LambdaLR(self.opt_g, decay)
        self.sched_d = torch.optim.lr_scheduler.LambdaLR(self.opt_d, decay) if self.opt_d else None
        self.g_train, self.d_train = self.generator, self.discriminator
        if self.dist.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.g_train = DistributedDataParallel(self.generator, device_ids=ids)
            if self.discriminator is not None:
                self.d_train = DistributedDataParallel(self.discriminator, device_ids=ids)
        self._snapshots = {int(v) for v in config.snapshot_steps.split(",") if v.strip()}
        self.step = 0
        self.best_metric = math.inf
        self.best_step = -1
        self.history: list[dict] = []
        if config.resume:
            self.load_state(config.resume)

    # ----------------------------------------------------------------- schedule, data
    def _lr_lambda(self, step: int) -> float:
        start = int(self.config.decay_start * self.total_steps)
        if step < start:
            return 1.0
        return max(0.0, 1.0 - (step - start) / max(1, self.total_steps - start))

    def fit_to_budget(self, per_step_s: float, elapsed_s: float) -> int:
        """Set ``total_steps`` so the run ends within ``time_budget_s``: ``elapsed_s`` spent so far, ``per_step_s``
        per step from here on (validations included), 5 % kept for the final validation and saving. Never below
        the current step + 1, never above ``config.steps``; the learning-rate decay follows (``_lr_lambda``)."""
        left = 0.95 * self.config.time_budget_s - elapsed_s
        fits = self.step + max(1, int(left / max(per_step_s, 1e-9)))
        self.total_steps = max(self.step + 1, min(self.config.steps, fits))
        return self.total_steps

    def _batches(self) -> Iterator[dict]:
        if self.dist.enabled:
            sampler = DistributedSampler(self.train_set, self.dist.world_size, self.dist.rank, seed=self.config.seed)
        else:
            sampler = RandomSampler(self.train_set, generator=torch.Generator().manual_seed(self.config.seed))
        loader = DataLoader(
            self.train_set,
            batch_size=self.config.batch_size,
            sampler=sampler,
            drop_last=True,
            num_workers=self.config.num_workers,
            persistent_workers=self.config.num_workers > 0,
        )
        if len(loader) == 0:
            raise ValueError(
                f"training set has {len(self.train_set)} cases, fewer than one batch of "
                f"{self.config.batch_size} per process"
            )
        epoch = 0
        while True:
            if isinstance(sampler, DistributedSampler):
                sampler.set_epoch(epoch)
            yield from loader
            epoch += 1

    # ----------------------------------------------------------------- one step
    def train_step(self, batch: dict) -> dict[str, float]:
        """1. generate (RGB rendered through the colour map, plus position and uncertainty); 2. put the real
        elastogram into the fake's fill pixels, so no loss and no discriminator can learn from fill; 3. update D on
        (real, fake.detach()); 4. update G on GAN + L1 + Color + VGG (on RGB) + scalar L1 + uncertainty NLL."""
        weights = self.config.loss_weights
        real_b = batch["bmode"].to(self.device, non_blocking=True)
        real_e = batch["elasto"].to(self.device, non_blocking=True)
        target = batch["position"].to(self.device, non_blocking=True)
        valid = torch.isfinite(target) if self.config.mask_fill else torch.ones_like(target, dtype=torch.bool)
        n_valid = valid.float().sum().clamp_min(1.0)
        target = torch.nan_to_num(target, nan=0.0)
        weight = self.pixel_weights(batch["mask"].to(self.device), real_b) * valid  # (B, 1, H, W), 0 on fill
        n_weight = weight.sum().clamp_min(1.0)
        boxes = None
        if self.config.local_discriminator:
            boxes = mask_to_boxes(batch["mask"].to(self.device))
        autocast = torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.config.bf16)
        with autocast:
            if self.domain_classifier is None:
                fake_e, position, log_scale = self.g_train(real_b, with_scalar=True)
            else:
                features = self.generator.encode(real_b)
                fake_e, position, log_scale = self.generator.decode(features, with_scalar=True)
        fake_e = torch.where(valid, fake_e.float(), real_e)
        losses: dict[str, float] = {}
        if self.d_train is not None:
            # one D forward over [fake; real] so DDP sees one forward per backward
            with autocast:
                both = self.d_train(
                    torch.cat([real_b, real_b]),
                    torch.cat([fake_e.detach(), real_e]),
                    None if boxes is None else torch.cat([boxes, boxes]),
                )
            n = real_b.shape[0]
            loss_d = 0.5 * (
                self.gan_loss([p[:n].float() for p in both], False) + self.gan_loss([p[n:].float() for p in both], True)
            )
            self.opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            self.opt_d.step()
            losses["loss_d"] = loss_d.item()
        total = real_b.new_zeros(())
        if self.d_train is not None:
            with autocast:
                pred = self.d_train(real_b, fake_e, boxes)
            loss_g_gan = self.gan_loss([p.float() for p in pred], True)
            total = total + weights.gan * loss_g_gan
            losses["loss_g_gan"] = loss_g_gan.item()
        loss_g_l1 = ((fake_e - real_e).abs() * weight).sum() / (3.0 * n_weight)
        total = total + weights.l1 * loss_g_l1
        losses["loss_g_l1"] = loss_g_l1.item()
        if self.color_loss is not None:
            loss_g_color = self.color_loss(fake_e, real_e)
            total = total + weights.color * loss_g_color
            losses["loss_g_color"] = loss_g_color.item()
        if self.vgg_loss is not None:
            with autocast:
                loss_g_vgg = self.vgg_loss(fake_e, real_e).float()
            total = total + weights.vgg * loss_g_vgg
            losses["loss_g_vgg"] = loss_g_vgg.item()
        if position is not None:
            error = (position.float() - target).abs()
            if self.config.scalar_loss == "bce":
                # a region pushed to one end of the map (sigmoid saturated) still gets a gradient: p - t at the logit
                per_pixel = torch.nn.functional.binary_cross_entropy(
                    position.float(), target.clamp(0.0, 1.0), reduction="none"
                )
            else:
                per_pixel = error
            loss_g_scalar = (per_pixel * weight).sum() / n_weight
            # Laplace negative log-likelihood of the (detached) error: trains the uncertainty, not the mean
            nll = error.detach() * torch.exp(-log_scale) + log_scale
            loss_g_nll = (nll * valid).sum() / n_valid
            total = total + self.config.w_scalar * loss_g_scalar + self.config.w_nll * loss_g_nll
            losses["loss_g_scalar"] = loss_g_scalar.item()
            losses["loss_g_nll"] = loss_g_nll.item()
        if self.domain_classifier is not None:
            loss_domain, accuracy = self.domain_term(features, valid, autocast)
            total = total + loss_domain
            losses["loss_domain"], losses["domain_accuracy"] = loss_domain.item(), accuracy
            self.opt_domain.zero_grad(set_to_none=True)
        self.opt_g.zero_grad(set_to_none=True)
        total.backward()
        self.opt_g.step()
        if self.opt_domain is not None:
            self.opt_domain.step()
        self.sched_g.step()
        if self.sched_d:
            self.sched_d.step()
        losses["loss_g"] = total.item()
        return losses

    def domain_term(self, features: torch.Tensor, valid: torch.Tensor, autocast) -> tuple[torch.Tensor, float]:
        """The DANN term (:mod:`usegan.models.domain`) for a batch whose bottleneck ``features`` came from training
        B-modes with content mask ``valid`` ``(B, 1, H, W)``: as many random views of the target-domain scans
        (:func:`usegan.datasets.target_crops`) are encoded, and the classifier tells the two apart through a
        gradient reversal of ``domain_weight`` times :func:`usegan.models.domain.dann_ramp` of the run's progress.
        ``autocast`` is the step's precision context. Returns ``(loss, accuracy)``."""
        n, shape = features.shape[0], tuple(valid.shape[-2:])
        target_b = target_crops(self.domain_scans, n, shape, self.domain_rng).to(self.device)
        weight = self.config.domain_weight * dann_ramp(self.step / max(1, self.total_steps))
        with autocast:
            target_features = self.generator.encode(target_b)
            return domain_loss(
                self.domain_classifier, features, target_features, weight, valid_locations(valid, features)
            )

    def pixel_weights(self, mask: torch.Tensor, bmode: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, 1, H, W)`` lesion mask in {0, 1} (and the B-mode in [-1, 1]) -> per-pixel weights of the L1 and
        scalar losses: 1, plus ``w_lesion`` within ``lesion_margin_px`` of a lesion that the B-mode shows.

        A lesion covers a few percent of a box; unweighted, the losses are met by painting the background and a
        carcinoma comes out as soft as the fat around it. Only lesions with a B-mode sign are weighted
        (:func:`lesion_contrast` >= ``lesion_min_contrast``): a stiff lesion the B-mode cannot show (iso-echoic)
        cannot be predicted, and weighting it would teach stiff patches in normal-looking tissue (false hard)."""
        if self.config.w_lesion == 0:
            return torch.ones_like(mask)
        r = self.config.lesion_margin_px
        near = torch.nn.functional.max_pool2d(mask.float(), 2 * r + 1, stride=1, padding=r) if r else mask.float()
        if bmode is not None and self.config.lesion_min_contrast > 0:
            b, m = bmode[:, 0].detach().float().cpu().numpy(), mask[:, 0].cpu().numpy() > 0.5
            shown = [
                lesion_contrast(b[i], m[i], valid=b[i] > -1.0) >= self.config.lesion_min_contrast for i in range(len(b))
            ]
            near = near * torch.tensor(shown, dtype=near.dtype, device=near.device)[:, None, None, None]
        return 1.0 + self.config.w_lesion * near

    # ----------------------------------------------------------------- validation
    @torch.inference_mode()
    def validate(self) -> dict[str, float]:
        """Over up to ``max_val_cases`` cases: mean L1 of the RGB (in [0, 2] units) and mean absolute error of the
        colour-map position (RGB head: from its colours), both over the non-fill pixels; SSIM inside the box."""
        if self.val_set is None or len(self.val_set) == 0:
            return {}
        self.generator.eval()
        l1s, ssims, maes = [], [], []
        for i in range(min(len(self.val_set), self.config.max_val_cases)):
            item = self.val_set[i]
            fake, position, _ = self.generator(item["bmode"][None].to(self.device), with_scalar=True)
            fake = fake.float().cpu()
            valid = torch.isfinite(item["position"])
            if not valid.any():
                continue
            l1s.append((fake[0] - item["elasto"]).abs().mean(0, keepdim=True)[valid].mean().item())
            if position is None:
                position = torch.from_numpy(lut_positions(tensor_to_rgb(fake)[0]))[None, None]
            err = (position[0].float().cpu() - torch.nan_to_num(item["position"], nan=0.0)).abs()[valid]
            maes.append(float(torch.nan_to_num(err, nan=1.0).mean()))
            x, y, w, h = (int(v) for v in item["box"])
            f_rgb = tensor_to_rgb(fake)[0][y : y + h, x : x + w]
            r_rgb = tensor_to_rgb(item["elasto"][None])[0][y : y + h, x : x + w]
            ssims.append(ssim_rgb(f_rgb, r_rgb))
        self.generator.train()
        if not l1s:
            return {}
        return {
            "val_l1": float(np.mean(l1s)),
            "val_ssim": float(np.mean(ssims)),
            "val_position_mae": float(np.mean(maes)),
        }

    @torch.inference_mode()
    def write_samples(self, n: int = 4) -> Path | None:
        """A PNG grid, one row per validation case: B-mode | generated | true."""
        from PIL import Image

        source = self.val_set if self.val_set is not None and len(self.val_set) else self.train_set
        self.generator.eval()
        rows = []
        for i in range(min(n, len(source))):
            item = source[i]
            fake = self.generator(item["bmode"][None].to(self.device)).float().cpu()
            bmode = tensor_to_rgb(item["bmode"][None].repeat(1, 3, 1, 1))[0]
            rows.append(np.concatenate([bmode, tensor_to_rgb(fake)[0], tensor_to_rgb(item["elasto"][None])[0]], 1))
        self.generator.train()
        if not rows:
            return None
        path = self.out / "samples" / f"step_{self.step:06d}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(rows, 0)).save(path)
        return path

    # ----------------------------------------------------------------- saving
    def training_summary(self, wall_s: float) -> dict:
        return {
            "data": self.config.data,
            "train_cases": len(self.train_set),
            "val_cases": 0 if self.val_set is None else len(self.val_set),
            "steps": self.step,
            "batch_size": self.config.batch_size,
            "world_size": self.dist.world_size,
            "wall_time_s": round(wall_s, 1),
            "hardware": f"{platform.processor() or platform.machine()} "
            f"({torch.get_num_threads()} threads, {self.device})",
            "config": self.config.to_dict(),
            **provenance.training_fields(self.config.data),  # issue 13: typed provenance, from the data folder
        }

    def save_model(self, name: str, metrics: dict, wall_s: float) -> str:
        return save_checkpoint(
            self.out / name,
            self.generator,
            mode=self.config.mode,
            version=self.config.model_version,
            colour_scale=default_colour_scale(self.config.mode),
            training=self.training_summary(wall_s),
            metrics=metrics,
            half=self.config.half_checkpoint,
        )

    def init_generator_from(self, path: str | Path) -> int:
        """Start from another checkpoint's generator weights (any format): every tensor whose name and shape
        match is copied (e.g. the body of a free-RGB model under a new colour-map head). Returns how many."""
        payload = torch.load(path, map_location="cpu", weights_only=True)
        own = self.generator.state_dict()
        matched = {
            k: v.float() for k, v in payload.get("state_dict", {}).items() if k in own and own[k].shape == v.shape
        }
        if not matched:
            raise ValueError(f"{path}: no generator weights match this configuration")
        if self.config.init_invert_position:
            # position = sigmoid(logit): negating channel 0 of the last conv maps p -> 1 - p, so the strain model's
            # "hard" (blue, low strain) becomes the SWE model's "stiff" (red, high kPa); the uncertainty is kept
            keys = [k for k in ("head.1.weight", "head.1.bias") if k in matched]
            if len(keys) != 2:
                raise ValueError(f"{path}: init_invert_position needs a USE-GAN colour-map head (head.1.*)")
            for k in keys:
                matched[k] = matched[k].clone()
                matched[k][0] = -matched[k][0]
        self.generator.load_state_dict(matched, strict=False)
        return len(matched)

    def save_state(self) -> None:
        state = {
            "step": self.step,
            "best_metric": self.best_metric,
            "best_step": self.best_step,
            "generator": self.generator.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "sched_g": self.sched_g.state_dict(),
            "config": self.config.to_dict(),
            "total_steps": self.total_steps,  # a budget-fitted length, kept for --resume
        }
        if self.discriminator is not None:
            state.update(
                discriminator=self.discriminator.state_dict(),
                opt_d=self.opt_d.state_dict(),
                sched_d=self.sched_d.state_dict(),
            )
        if self.domain_classifier is not None:
            state.update(
                domain_classifier=self.domain_classifier.state_dict(),
                opt_domain=self.opt_domain.state_dict(),
                domain_rng=self.domain_rng.bit_generator.state,  # a resumed run draws new real views, not the first
            )
        tmp = self.out / ".state.pt.tmp"
        torch.save(state, tmp)
        tmp.replace(self.out / "state.pt")

    def load_state(self, path: str | Path) -> None:
        state = torch.load(path, map_location=self.device, weights_only=True)
        self.generator.load_state_dict(state["generator"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.sched_g.load_state_dict(state["sched_g"])
        if self.discriminator is not None and "discriminator" in state:
            self.discriminator.load_state_dict(state["discriminator"])
            self.opt_d.load_state_dict(state["opt_d"])
            self.sched_d.load_state_dict(state["sched_d"])
        if self.domain_classifier is not None and "domain_classifier" in state:
            self.domain_classifier.load_state_dict(state["domain_classifier"])
            self.opt_domain.load_state_dict(state["opt_domain"])
            if "domain_rng" in state:  # a state.pt saved before the views' stream was kept starts it afresh
                self.domain_rng.bit_generator.state = state["domain_rng"]
        self.step = int(state["step"])
        self.best_metric = float(state["best_metric"])
        self.best_step = int(state["best_step"])
        if self.config.time_budget_s and "total_steps" in state:  # a budgeted run resumes its fitted schedule
            self.total_steps = max(self.step, min(self.config.steps, int(state["total_steps"])))

    def _log(self, record: dict) -> None:
        self.history.append(record)
        with open(self.out / "log.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")

    # ----------------------------------------------------------------- the loop
    def fit(self, progress: bool = True) -> dict:
        """Train to ``config.steps`` (or fewer, to fit ``time_budget_s``: timed over the steps after the first 10,
        re-fitted at every validation); returns ``{"steps", "best_step", "best_metric", "last_metrics", "images_per_s",
        "wall_time_s"}``."""
        from tqdm import tqdm

        main = self.dist.is_main
        if main:
            self.out.mkdir(parents=True, exist_ok=True)
            self.config.save(self.out / "config.json")
        self.generator.train()
        if self.discriminator is not None:
            self.discriminator.train()
        batches = self._batches()
        t0 = time.perf_counter()
        running: dict[str, float] = {}
        start_step = self.step
        metrics: dict = {}
        bar = tqdm(
            total=self.total_steps, initial=self.step, disable=not (progress and main), unit="step", dynamic_ncols=True
        )
        budget = self.config.time_budget_s
        warm_step, warm_t = start_step + 10, t0  # the budget's step time is measured from step 10 on
        while self.step < self.total_steps:
            losses = self.train_step(next(batches))
            self.step += 1
            if budget:
                now = time.perf_counter()
                if self.step == warm_step:
                    warm_t = now
                elif self.step > warm_step and (self.step == warm_step + 20 or self.step % self.config.val_every == 1):
                    before = self.total_steps
                    self.fit_to_budget((now - warm_t) / (self.step - warm_step), now - t0)
                    if main and self.total_steps != before:
                        bar.total = self.total_steps
                        self._log({"event": "budget", "step": self.step, "total_steps": self.total_steps})
                if now - t0 > budget:  # over budget however the estimate went: stop here, saving as at the end
                    self.total_steps = self.step
            for k, v in losses.items():
                running[k] = 0.9 * running.get(k, v) + 0.1 * v
            bar.update(1)
            bar.set_postfix({k.replace("loss_", ""): f"{v:.3f}" for k, v in running.items()})
            elapsed = time.perf_counter() - t0
            ips = (self.step - start_step) * self.config.batch_size * self.dist.world_size / max(elapsed, 1e-9)
            last = self.step == self.total_steps
            if main and (self.step % self.config.log_every == 0 or last):
                self._log(
                    {
                        "event": "train",
                        "step": self.step,
                        **{k: round(v, 5) for k, v in running.items()},
                        "lr_g": self.sched_g.get_last_lr()[0],
                        "images_per_s": round(ips, 2),
                        "elapsed_s": round(elapsed, 1),
                    }
                )
            if main and self.step in self._snapshots:
                self.save_model(f"step_{self.step}.pt", {"step": self.step}, elapsed)
            if main and (self.step % self.config.sample_every == 0 or last):
                self.write_samples()
            if self.step % self.config.val_every == 0 or last:
                if main:
                    metrics = self.validate()
                    self._log({"event": "val", "step": self.step, **metrics})
                    # higher SSIM is better; the position error alone would favour a bland, uniform output
                    score = -metrics["val_ssim"] if "val_ssim" in metrics else running.get("loss_g_l1", math.inf)
                    if score < self.best_metric:
                        self.best_metric, self.best_step = score, self.step
                        self.save_model("best.pt", {**metrics, "step": self.step}, elapsed)
                    self.save_model("last.pt", {**metrics, "step": self.step}, elapsed)
                    self.save_state()
                distributed.barrier(self.dist)
        bar.close()
        elapsed = time.perf_counter() - t0
        result = {
            "steps": self.step,
            "best_step": self.best_step,
            "best_metric": self.best_metric,
            "last_metrics": metrics,
            "images_per_s": (self.step - start_step)
            * self.config.batch_size
            * self.dist.world_size
            / max(elapsed, 1e-9),
            "wall_time_s": elapsed,
        }
        if main:
            self._log({"event": "done", **{k: v for k, v in result.items() if k != "last_metrics"}})
        return result
