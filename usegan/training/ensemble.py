"""Weight-space ensembles of two checkpoints of one generator (WiSE-FT: Wortsman et al., "Robust fine-tuning of
zero-shot models", CVPR 2022): ``theta = (1 - alpha) * theta_a + alpha * theta_b``, usually ``a`` an earlier
stage and ``b`` the model fine-tuned from it. The generator uses instance normalisation (no running statistics),
so every floating-point tensor is interpolated. docs/fidelity.md reports what it did to the bundled models.
"""

from __future__ import annotations

from pathlib import Path

import torch

from usegan.checkpoint import CheckpointError, load_generator, save_checkpoint


def interpolate(a: str | Path, b: str | Path, alpha: float, out: str | Path, version: str) -> str:
    """Write the checkpoint ``(1 - alpha) * a + alpha * b`` to ``out`` (fp16 weights, mode and colour scale of
    ``b``, its training summary with ``weight_ensemble`` added) as ``version``; returns its sha256.

    ``alpha`` in [0, 1]. Raises :class:`~usegan.checkpoint.CheckpointError` when the two differ in architecture,
    configuration, mode or colour scale, ``ValueError`` for an ``alpha`` outside [0, 1]."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    gen_a, info_a = load_generator(a)
    gen_b, info_b = load_generator(b)
    for field in ("architecture", "generator_config", "mode", "colour_scale"):
        if getattr(info_a, field) != getattr(info_b, field):
            raise CheckpointError(
                f"cannot interpolate {a} and {b}: {field} differs ({getattr(info_a, field)!r} vs "
                f"{getattr(info_b, field)!r})"
            )
    state_a = gen_a.state_dict()
    with torch.no_grad():
        for name, tensor in gen_b.state_dict().items():
            if tensor.is_floating_point():
                tensor.mul_(alpha).add_(state_a[name], alpha=1.0 - alpha)
    training = {**info_b.training, "weight_ensemble": {"a": info_a.version, "b": info_b.version, "alpha": alpha}}
    return save_checkpoint(
        out, gen_b, mode=info_b.mode, version=version, colour_scale=info_b.colour_scale, training=training, half=True
    )
