"""``usegan train``: train USE-GAN (or the unet baseline / ablations) on a phantom or pairs folder.

Every field of :class:`usegan.training.config.TrainConfig` is an option (``--batch-size``, ``--w-color`` ...).
Under ``torchrun --nproc-per-node N -m usegan train ...`` it trains with DistributedDataParallel.
"""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    from usegan.configs import add_config_arguments
    from usegan.training.config import TrainConfig

    p = subparsers.add_parser("train", help="train a generator (GAN + L1 + Color + VGG19)")
    p.add_argument("--config", help="JSON file of TrainConfig fields; options override it")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(p, TrainConfig)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from usegan.commands import CommandError
    from usegan.configs import config_from_args, read_config_file
    from usegan.datasets import AugmentConfig
    from usegan.training.config import TrainConfig
    from usegan.training.data import train_val_split
    from usegan.training.trainer import Trainer

    try:
        base = read_config_file(args.config) if args.config else {}
        config = config_from_args(args, TrainConfig, base)
        if not config.data:
            raise ValueError("--data is required (a folder from `usegan phantom` or a bmode/ + elasto/ pairs folder)")
        train_set, val_set = train_val_split(
            config.data,
            config.mode,
            config.image_size,
            AugmentConfig(depth_gain=config.depth_gain, style_dir=config.style_dir, style_beta=config.style_beta)
            if config.augment
            else False,
            config.val_fraction,
            config.seed,
            config.val_data or None,
            config.crop_to_box,
            config.patch_size or None,
            config.scale_jitter,
            config.lesion_focus,
            config.lesion_top,
        )
        trainer = Trainer(config, train_set, val_set)
    except (ValueError, FileNotFoundError) as exc:
        raise CommandError(str(exc)) from exc
    result = trainer.fit(progress=not args.quiet)
    if trainer.dist.is_main:
        print(json.dumps({"out": config.out, **result}, default=float))
    from usegan.training.distributed import teardown

    teardown(trainer.dist)
    return 0
