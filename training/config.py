"""Every training default in one place: the commands' --help shows these values."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MODEL_DIR = Path(__file__).resolve().parents[1] / "model"  # what the app serves
SAMPLES_PER_CLASS = 30  # MNIST test images per digit in samples.npz, the app's gallery
DRY_RUN_IMAGES = 512  # --dry-run: training images (and half as many test images), 1 epoch


@dataclass(frozen=True)
class Augment:
    """Random distortions of each training image, drawn anew every epoch.

    Drawn digits vary in slant, proportions and pen width more than MNIST does, even after
    preprocessing: these teach the network to ignore that.
    """

    rotation: float = 10.0  # degrees, either way
    scale: float = 0.10  # zoom in or out by up to 10%
    aspect: float = 0.06  # stretch x against y by up to 6%
    shear: float = 0.15  # horizontal shear factor (~8.5 degrees of slant)
    shift: float = 2.0  # pixels, each axis
    thickness: float = 0.5  # blend towards a 3x3 dilation (thicker) or erosion (thinner)


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters of one training run on MNIST."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 2e-3  # peak, after one epoch of linear warm-up; cosine decay after
    weight_decay: float = 1e-4
    # Share of training images replaced, each time they are drawn, by the same MNIST digit
    # passed through the serving preprocessing (pen width set to MNIST's median, re-cropped,
    # re-centred): the network learns MNIST as it is and exactly what the app will show it.
    served_share: float = 0.0
    # Of those served versions, the share of 0s, 1s and 7s written in another convention:
    # slashed zero, footed one, crossed seven (training/augment.py: with_convention).
    convention_share: float = 0.0
    augment: Augment = field(default_factory=Augment)


CONFIGS = {
    "cnn": TrainConfig(epochs=30, served_share=0.5, convention_share=0.4),
    # The dense baseline underfits heavy distortion: milder augmentation, more epochs.
    "ann": TrainConfig(
        epochs=40,
        learning_rate=1e-3,
        augment=Augment(rotation=8.0, scale=0.08, aspect=0.04, shear=0.1, shift=1.5, thickness=0.3),
    ),
}


@dataclass(frozen=True)
class FineTuneConfig:
    """A short fine-tune of the served CNN on users' corrections, with MNIST replay."""

    epochs: int = 8
    batch_size: int = 128
    learning_rate: float = 2e-4  # Adam; a tenth of training's peak: adjust, do not relearn
    # Per epoch: every correction this many times (each time distorted anew), and this many
    # MNIST training digits drawn afresh, half of them as the app serves them.
    repeats: int = 4
    replay: int = 15_000
    gate_share: float = 0.2  # of the sessions (never of the samples), held out for the gate
    mnist_floor: float = 0.996  # served MNIST test accuracy the new model must keep
    augment: Augment = field(default_factory=Augment)  # as in training
