"""Weight interpolation between a model and its fine-tune (WiSE-FT; Wortsman et al., "Robust fine-tuning of
zero-shot models", CVPR 2022).

``theta(a) = (1 - a) * theta_start + a * theta_finetuned`` for every floating-point tensor. Both checkpoints must be
the same architecture, generator config, mode and colour scale, and the fine-tune must have been started from the
other (a fine-tune shares its start's loss basin; two unrelated models do not average into a working one). The
result is an ordinary checkpoint: inference costs what either model costs.

    python scripts/interpolate_weights.py --start data/models/usegan-strain-v4.pt \\
        --finetuned strain-v6.pt --alpha 0.5 --version usegan-strain-v6w50 --out strain-v6w50.pt
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from usegan import provenance
from usegan.checkpoint import CheckpointError, load_generator, save_checkpoint


def interpolate(start: Path, finetuned: Path, alpha: float):
    """The generator at ``alpha`` in [0, 1] between ``start`` (0) and ``finetuned`` (1), and both models' infos."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    model_a, info_a = load_generator(start)
    model_b, info_b = load_generator(finetuned)
    for name in ("architecture", "mode", "colour_scale", "generator_config"):
        if getattr(info_a, name) != getattr(info_b, name):
            raise CheckpointError(
                f"{finetuned}: {name} {getattr(info_b, name)!r} differs from {start}'s {getattr(info_a, name)!r}"
            )
    state_b = model_b.state_dict()
    mixed = {
        key: torch.lerp(value, state_b[key], alpha) if value.is_floating_point() else value
        for key, value in model_a.state_dict().items()
    }
    model_a.load_state_dict(mixed)
    return model_a, info_a, info_b


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--start", type=Path, required=True, help="checkpoint the fine-tune started from (alpha 0)")
    parser.add_argument("--finetuned", type=Path, required=True, help="the fine-tuned checkpoint (alpha 1)")
    parser.add_argument("--alpha", type=float, required=True, help="weight of the fine-tune, 0-1")
    parser.add_argument("--version", required=True, help="version name of the result, e.g. usegan-strain-v6w50")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    model, start, tuned = interpolate(args.start, args.finetuned, args.alpha)
    kinds = {provenance.from_training(start.training), provenance.from_training(tuned.training)}
    mixed = kinds.pop() if len(kinds) == 1 else provenance.Provenance.MIXED  # two sources make a mixed model
    training = {
        "interpolation": {
            "method": "WiSE-FT weight interpolation",
            "alpha": args.alpha,
            "start": {"version": start.version, "sha256": start.sha256},
            "finetuned": {"version": tuned.version, "sha256": tuned.sha256},
        },
        "start_training": start.training,
        "finetuned_training": tuned.training,
        "provenance": mixed.value,
        "simulated_data_only": mixed is provenance.Provenance.PHANTOM,
    }
    sha = save_checkpoint(args.out, model, mode=start.mode, version=args.version, colour_scale=start.colour_scale,
                          training=training, half=True)  # fmt: skip
    print(f"{args.out}: {args.version}, alpha {args.alpha}, sha256 {sha}")


if __name__ == "__main__":
    main()
