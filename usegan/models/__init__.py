"""Neural networks: the USE-GAN generator, discriminators, VGG19 features, losses and the pix2pix baseline."""

from usegan.models.generator import GeneratorConfig, USEGANGenerator

__all__ = ["GeneratorConfig", "USEGANGenerator"]
