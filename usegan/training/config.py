"""The training configuration: one frozen dataclass; the CLI builds its options from these fields
(:func:`usegan.configs.add_config_arguments`, help text from each field's ``option(..., help)``)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from usegan.configs import config_from_dict, option

if TYPE_CHECKING:  # the model configs live next to their (torch) modules; imported when used, so the CLI stays light
    from usegan.models.discriminator import DiscriminatorConfig
    from usegan.models.generator import GeneratorConfig
    from usegan.models.losses import LossWeights
    from usegan.models.unet import UNetConfig

ARCHITECTURES = ("usegan", "unet")
# metrics.lesion_contrast at or above this: the B-mode shows the lesion. On the phantom's training patches 0.8
# leaves 93 % of the iso-echoic stiff lesions out and keeps 83-100 % of carcinomas and cysts (docs/fidelity.md).
VISIBLE_LESION_CONTRAST = 0.8


@dataclass(frozen=True)
class TrainConfig:
    data: str = option("", "training folder: phantom layout (case folders) or pairs layout (bmode/, elasto/)")
    val_data: str = option("", "validation folder; empty = hold out val_fraction of --data")
    out: str = option("runs/train", "run folder: checkpoints, log.jsonl, samples, config.json")
    mode: str = option("strain", '"strain" or "swe": which elastogram the model learns')
    architecture: str = option("usegan", '"usegan" or "unet" (pix2pix U-Net baseline, unet_256 shape at 256)')
    image_size: int = option(256, "square size the model runs at; boxes are scaled so their longer side is this")
    patch_size: int = option(
        0, "train on random patches of this side at image_size scale (0 = whole letterboxed boxes)"
    )
    scale_jitter: float = option(0.25, "training scale drawn log-uniformly in [1/(1+j), 1+j] (field of view variety)")
    lesion_focus: float = option(0.0, "probability a training patch is placed to hold a lesion pixel (patch_size > 0)")
    lesion_top: float = option(
        0.0, "probability a training box is cut to start just above its lesion (lesion at the top of the frame)"
    )
    output: str = option(
        "colormap", 'generator head: "colormap" (scalar + uncertainty through the LUT) or "rgb" (ablation)'
    )
    base_channels: int = option(16, "generator width (unet: its ngf)")
    n_res_blocks: int = option(6, "USE-GAN residual blocks")
    use_attention: bool = option(True, "False = ablation without spatial/channel attention")
    local_discriminator: bool = option(False, "add the lesion-crop discriminator (Yao et al. 2023)")
    d_base_channels: int = option(32, "discriminator width (ndf)")
    batch_size: int = option(8, "images per step (per process under torchrun)")
    steps: int = option(2000, "optimisation steps (at most, with time_budget_s)")
    time_budget_s: float = option(
        0.0,
        "wall-clock budget of the loop in seconds (0 = none): after a few timed steps the run is shortened to fit"
        " (the learning-rate decay rescaled to the new length); training stops at the budget at the latest, then"
        " validates and saves its checkpoints; --resume keeps the fitted length and starts a fresh budget",
    )
    lr_g: float = option(2e-4, "generator Adam learning rate")
    lr_d: float = option(2e-4, "discriminator Adam learning rate")
    beta1: float = option(0.5, "Adam beta1 (pix2pix)")
    beta2: float = option(0.999, "Adam beta2")
    decay_start: float = option(0.5, "fraction of steps after which both learning rates decay linearly to 0")
    w_gan: float = option(1.0, "adversarial loss weight")
    w_l1: float = option(100.0, "L1 loss weight")
    w_color: float = option(10.0, "Color loss weight")
    w_vgg: float = option(5.0, "VGG19 perceptual loss weight")
    w_scalar: float = option(20.0, "L1 on the predicted colour-map position (colormap head only)")
    w_lesion: float = option(
        0.0, "extra weight of lesion pixels (mask dilated by lesion_margin_px) in the L1 and scalar losses"
    )
    lesion_margin_px: int = option(6, "how far around the lesion mask w_lesion reaches (Tsukuba 5: surroundings)")
    lesion_min_contrast: float = option(
        VISIBLE_LESION_CONTRAST,
        "w_lesion only for lesions the B-mode shows: metrics.lesion_contrast at least this (0 = all lesions)",
    )
    scalar_loss: str = option(
        "l1",
        '"l1" or "bce" (soft-target binary cross-entropy of the position: its gradient at the logit is position -'
        " target, which does not vanish where the sigmoid saturates)",
    )
    w_nll: float = option(1.0, "Laplace negative log-likelihood that trains the uncertainty map (colormap head only)")
    gan_mode: str = option("lsgan", '"lsgan" or "vanilla"')
    vgg_weights: str = option("", "optional local torchvision vgg19 state dict; empty = fixed random VGG19")
    vgg_input_size: int = option(128, "images are resized to this for the VGG term (bounds CPU cost); 0 = as is")
    vgg_layers: str = option("relu1_1,relu2_1,relu3_1,relu4_1,relu5_1", "VGG19 layers compared")
    bf16: bool = option(False, "bfloat16 autocast for forward passes (CPU with AMX, or GPU)")
    seed: int = option(0, "seeds data order, augmentation and initialisation")
    val_every: int = option(250, "validate (and maybe save best) every N steps")
    sample_every: int = option(250, "write a sample grid every N steps")
    log_every: int = option(25, "log running losses every N steps")
    val_fraction: float = option(0.1, "held-out fraction when no --val-data")
    max_val_cases: int = option(64, "cap on validation cases per validation")
    num_workers: int = option(0, "DataLoader worker processes")
    augment: bool = option(True, "paired flips / gain / small rotations")
    depth_gain: float = option(
        0.0, "with augment: TGC-error jitter, a grey-level ramp over depth reaching +/- this at the bottom (0 = off)"
    )
    style_dir: str = option(
        "",
        "with augment: a folder of unlabelled target-domain B-mode scans whose appearance is mixed into training "
        "B-modes (Fourier amplitude mixing; never their labels: they have none)",
    )
    style_beta: float = option(
        0.0, "with style_dir: half-width of the low-frequency band mixed, as a fraction of the shorter side (0 = off)"
    )
    domain_dir: str = option(
        "",
        "a folder of unlabelled target-domain B-mode scans for feature-level domain adaptation (DANN at the "
        "generator's bottleneck; they supervise nothing else: they have no elastogram)",
    )
    domain_weight: float = option(
        0.0, "with domain_dir: weight of the reversed domain gradient, ramped up over the run (0 = off)"
    )
    crop_to_box: bool = option(True, "learn the elastogram inside the elastography box (crop each pair to its box)")
    resume: str = option("", "training state file (state.pt) to resume from")
    init_from: str = option("", "checkpoint whose matching generator weights initialise a new run (any format)")
    init_invert_position: bool = option(
        False, "with init_from: negate the source's position logits (a strain model's hard end is SWE's stiff end)"
    )
    mask_fill: bool = option(True, "exclude fill (padding, rotated-in corners, gray outside the box) from every loss")
    snapshot_steps: str = option("", "comma-separated steps at which to also save step_<N>.pt (equal-budget runs)")
    version: str = option("", "model version string written into checkpoints; empty = derived from out")
    threads: int = option(0, "torch CPU threads; 0 = torch default")
    half_checkpoint: bool = option(True, "store weights as fp16 in model checkpoints")
    device: str = option("", '"cpu", "cuda", "cuda:1"; empty = cuda if available (per-rank under torchrun) else cpu')

    def __post_init__(self) -> None:
        if self.mode not in ("strain", "swe"):
            raise ValueError(f"mode must be 'strain' or 'swe', got {self.mode!r}")
        if self.architecture not in ARCHITECTURES:
            raise ValueError(f"architecture must be one of {ARCHITECTURES}, got {self.architecture!r}")
        if self.image_size % 8:
            raise ValueError(f"image_size must be a multiple of 8, got {self.image_size}")
        if self.architecture == "unet" and (self.image_size < 32 or self.image_size & (self.image_size - 1)):
            raise ValueError(f"the unet baseline needs a power-of-two image_size >= 32, got {self.image_size}")
        if self.steps < 1 or self.batch_size < 1:
            raise ValueError(f"steps and batch_size must be >= 1, got {self.steps}, {self.batch_size}")
        if self.patch_size and (self.patch_size % 8 or not 8 <= self.patch_size <= self.image_size):
            raise ValueError(f"patch_size must be 0 or a multiple of 8 in [8, image_size], got {self.patch_size}")
        if not self.mask_fill and self.output != "rgb":
            raise ValueError("mask_fill=false is an ablation of the free-RGB head only (output='rgb')")
        if self.scalar_loss not in ("l1", "bce"):
            raise ValueError(f"scalar_loss must be 'l1' or 'bce', got {self.scalar_loss!r}")
        for name in ("lesion_focus", "lesion_top"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} is a probability in [0, 1], got {getattr(self, name)}")
        if self.w_lesion < 0 or self.lesion_margin_px < 0:
            raise ValueError(
                f"w_lesion and lesion_margin_px must be >= 0, got {self.w_lesion}, {self.lesion_margin_px}"
            )
        if self.time_budget_s < 0:
            raise ValueError(f"time_budget_s must be >= 0, got {self.time_budget_s}")
        if not 0.0 <= self.decay_start <= 1.0:
            raise ValueError(f"decay_start must be in [0, 1], got {self.decay_start}")
        if self.domain_weight < 0:
            raise ValueError(f"domain_weight must be >= 0, got {self.domain_weight!r}")
        if self.domain_weight > 0 and not self.domain_dir:
            raise ValueError("domain_weight > 0 needs domain_dir (a folder of target-domain B-mode scans)")
        if self.domain_weight > 0 and self.architecture != "usegan":
            raise ValueError(f"domain adaptation needs the usegan generator's bottleneck, got {self.architecture!r}")

    @property
    def loss_weights(self) -> LossWeights:
        from usegan.models.losses import LossWeights

        return LossWeights(self.w_gan, self.w_l1, self.w_color, self.w_vgg, self.gan_mode)

    @property
    def generator_config(self) -> GeneratorConfig | UNetConfig:
        from usegan.models.generator import GeneratorConfig
        from usegan.models.unet import UNetConfig

        if self.architecture == "unet":
            # pix2pix's unet_256 has 8 down-samplings at 256 (1x1 bottleneck); unet_128 has 7 at 128
            n_down = (self.patch_size or self.image_size).bit_length() - 1
            return UNetConfig(
                base_channels=self.base_channels, n_down=n_down, image_size=self.image_size, output=self.output
            )
        return GeneratorConfig(
            base_channels=self.base_channels,
            n_res_blocks=self.n_res_blocks,
            use_attention=self.use_attention,
            image_size=self.image_size,
            output=self.output,
        )

    @property
    def discriminator_config(self) -> DiscriminatorConfig:
        from usegan.models.discriminator import DiscriminatorConfig

        return DiscriminatorConfig(base_channels=self.d_base_channels, local=self.local_discriminator)

    @property
    def model_version(self) -> str:
        return self.version or f"usegan-{self.mode}-{Path(self.out).name}"

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=2) + "\n")

    @classmethod
    def from_dict(cls, data: dict) -> TrainConfig:
        return config_from_dict(cls, data, "training")
