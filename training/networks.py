"""The two networks: a CNN for the app and the classic fully connected baseline.

Both take (N, 28, 28, 1) float32 in [0, 1] (`preprocessing.scale_pixels`) and return (N, 10)
softmax probabilities.
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import layers

from model.preprocessing import IMAGE_SIZE

NUM_CLASSES = 10
INPUT_SHAPE = (IMAGE_SIZE, IMAGE_SIZE, 1)


def _conv_bn_relu(x, filters: int, kernel: int, strides: int = 1, padding: str = "valid"):
    # No conv bias: batch norm's shift replaces it.
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_cnn(dropout: float = 0.4) -> keras.Model:
    """A compact all-convolutional network (about 330k parameters, 13M multiply-adds).

    Two stages of two 3x3 convolutions and a learnt 5x5 stride-2 downsampling (in place of
    max pooling), batch norm after every convolution, dropout between stages.
    """
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = _conv_bn_relu(inputs, 32, 3)  # (26, 26, 32)
    x = _conv_bn_relu(x, 32, 3)  # (24, 24, 32)
    x = _conv_bn_relu(x, 32, 5, strides=2, padding="same")  # (12, 12, 32)
    x = layers.Dropout(dropout)(x)
    x = _conv_bn_relu(x, 64, 3)  # (10, 10, 64)
    x = _conv_bn_relu(x, 64, 3)  # (8, 8, 64)
    x = _conv_bn_relu(x, 64, 5, strides=2, padding="same")  # (4, 4, 64)
    x = layers.Dropout(dropout)(x)
    x = _conv_bn_relu(x, 128, 4)  # (1, 1, 128): one 4x4 kernel sees the whole map
    x = layers.Flatten()(x)  # (128,)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn")


def build_ann(dropout: float = 0.2) -> keras.Model:
    """The classic baseline: 784 pixels -> Dense 300 -> 200 -> 100 -> 10, ReLU, softmax."""
    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = layers.Flatten()(inputs)  # (784,)
    for units in (300, 200, 100):
        x = layers.Dense(units, activation="relu")(x)
        x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="ann")


def build_small(classes: int, name: str, dropout: float = 0.3) -> keras.Model:
    """A small CNN for the questions asked beside the digit reader ("not a digit", how many
    digits): (N, 28, 28, 1) float32 in [0, 1] -> (N, classes) softmax."""

    def conv(x, filters):
        x = layers.Conv2D(filters, 3, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        return layers.ReLU()(x)

    inputs = keras.Input(shape=INPUT_SHAPE, name="digit")
    x = layers.MaxPooling2D()(conv(inputs, 32))  # (13, 13, 32)
    x = layers.MaxPooling2D()(conv(x, 64))  # (5, 5, 64)
    x = conv(x, 128)  # (3, 3, 128)
    x = layers.Flatten()(x)  # (1152,)
    x = layers.Dropout(dropout)(x)
    x = layers.Dense(128, activation="relu")(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(classes, activation="softmax", name=name)(x)
    return keras.Model(inputs, outputs, name=name)


BUILDERS = {"cnn": build_cnn, "ann": build_ann}


class UnsafeModelError(ValueError):
    """A .keras file that is not a plain saved model: it would run code when loaded."""


def load_keras_model(path) -> keras.Model:
    """Load a saved .keras model with Keras' safe mode on: a file holding code (a Lambda layer,
    a custom object) is refused, never run.

    Raises:
        OSError: the file is missing. UnsafeModelError: it holds code or is not a model.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path} not found: train it first (python train_model.py)")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except (ValueError, TypeError) as error:
        raise UnsafeModelError(f"refusing to load {path}: {error}") from None
