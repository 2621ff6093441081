"""Training and evaluation of USE-GAN (and the pix2pix baseline): configs, the trainer, metrics, evaluation."""
