"""The training loop of :mod:`usegan.training.trainer`, started from a base model's weights, reporting progress."""

from __future__ import annotations

from collections.abc import Callable

import torch

from usegan.training.config import TrainConfig
from usegan.training.trainer import Trainer


class FinetuneTrainer(Trainer):
    """A :class:`Trainer` whose generator starts from ``base_state`` (a fresh discriminator and optimisers).

    ``provenance`` is merged into the checkpoint's training summary (base version, pair counts, and
    ``simulated_data_only: False``); ``progress(state=, step=, steps=, message=)`` is called on rank 0 as steps
    complete (at most ~100 times per run).
    """

    def __init__(
        self,
        config: TrainConfig,
        train_set,
        base_state: dict[str, torch.Tensor],
        provenance: dict,
        progress: Callable[..., None] | None = None,
    ) -> None:
        super().__init__(config, train_set, None)
        # Every rank loads the same weights, so DDP replicas stay identical (DDP shares these parameter tensors).
        self.generator.load_state_dict(base_state)
        self.provenance = provenance
        self.progress = progress
        self._report_every = max(1, config.steps // 100)

    def train_step(self, batch: dict) -> dict[str, float]:
        losses = super().train_step(batch)
        done = self.step + 1  # the loop counts the step after this returns
        if self.progress is not None and self.dist.is_main and (done % self._report_every == 0 or done == 1):
            self.progress(
                state="training",
                step=done,
                steps=self.config.steps,
                message=f"step {done}/{self.config.steps}, L1 {losses.get('loss_g_l1', float('nan')):.4f}",
            )
        return losses

    def training_summary(self, wall_s: float) -> dict:
        return {**super().training_summary(wall_s), **self.provenance}
