"""The MNIST training pipeline, written once for every model trained here: random distortions
of each batch (`augment_batch`), MNIST digits as the app serves them (`served_versions`),
0s, 1s and 7s written in other conventions (`with_convention`), and the batches that mix
them (`make_dataset`)."""

from __future__ import annotations

import cv2
import numpy as np

from model.preprocessing import IMAGE_SIZE, STROKE_WIDTH, preprocess_steps
from training.config import Augment, TrainConfig

CONVENTION_CLASSES = (0, 1, 7)  # digits that have a common slashed, footed or crossed form


def augment_batch(images, augment: Augment, seed: int):
    """Random affine distortion and pen-width change of a batch.

    Args:
        images: (B, 28, 28, 1) float32 tf.Tensor in [0, 1].
    Returns:
        (B, 28, 28, 1) float32 tf.Tensor in [0, 1].
    """
    import tensorflow as tf

    batch = tf.shape(images)[0]
    rng = tf.random.Generator.from_seed(seed) if isinstance(seed, int) else seed

    def uniform(limit):
        return rng.uniform([batch], -limit, limit)

    angle = uniform(np.deg2rad(augment.rotation))
    zoom = 1.0 + uniform(augment.scale)
    stretch = 1.0 + uniform(augment.aspect)
    sx, sy = zoom * stretch, zoom / stretch
    shear = uniform(augment.shear)
    tx, ty = uniform(augment.shift), uniform(augment.shift)
    # The forward map is output = A @ input about the image centre, A = R @ Shear @ diag(sx, sy).
    # ImageProjectiveTransformV3 wants the inverse map (output pixel -> input pixel).
    cos, sin = tf.cos(angle), tf.sin(angle)
    a00, a01 = cos * sx, (cos * shear - sin) * sy
    a10, a11 = sin * sx, (sin * shear + cos) * sy
    det = a00 * a11 - a01 * a10
    i00, i01, i10, i11 = a11 / det, -a01 / det, -a10 / det, a00 / det
    c = (IMAGE_SIZE - 1) / 2.0
    ox, oy = c + tx, c + ty  # where the centre goes
    b0 = c - (i00 * ox + i01 * oy)
    b1 = c - (i10 * ox + i11 * oy)
    zeros = tf.zeros_like(angle)
    transforms = tf.stack([i00, i01, b0, i10, i11, b1, zeros, zeros], axis=1)
    images = tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=[IMAGE_SIZE, IMAGE_SIZE],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="CONSTANT",
    )
    # Pen width: blend each image part-way towards its grey dilation or erosion.
    thicker = tf.nn.max_pool2d(images, 3, 1, "SAME")
    thinner = -tf.nn.max_pool2d(-images, 3, 1, "SAME")
    amount = tf.reshape(uniform(augment.thickness), [-1, 1, 1, 1])
    target = tf.where(amount > 0, thicker, thinner)
    images = images + tf.abs(amount) * (target - images)
    return tf.clip_by_value(images, 0.0, 1.0)


def served_versions(images: np.ndarray) -> np.ndarray:
    """MNIST digits as the app would serve them: each (28, 28) uint8 image through
    `preprocess_steps`, returned as (N, 28, 28) uint8 (a blank image stays as it is)."""
    served = images.copy()
    for i, image in enumerate(images):
        steps = preprocess_steps(image)
        if steps is not None:
            served[i] = steps.digit_uint8
    return served


def with_convention(image: np.ndarray, label: int, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit rewritten in a common convention its American writers rarely used: a
    slashed zero, a one with a foot (and sometimes a flag), a crossed seven.

    Args:
        image: (28, 28) uint8 MNIST digit of class 0, 1 or 7.
    Returns:
        (28, 28) uint8, the digit with the extra stroke, framed as MNIST frames digits.
    """
    scale = 4  # draw at 4x so the added stroke is anti-aliased like the rest
    big = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
    rows, cols = np.flatnonzero((big > 96).any(1)), np.flatnonzero((big > 96).any(0))
    if rows.size == 0:
        return image
    x0, x1, y0, y1 = cols[0], cols[-1], rows[0], rows[-1]
    height = y1 - y0
    pen = int(round(STROKE_WIDTH * scale * rng.uniform(0.8, 1.2)))

    def line(a, b):
        points = np.round(np.array([a, b]) * 16).astype(np.int32)
        cv2.line(big, tuple(points[0]), tuple(points[1]), 255, pen, cv2.LINE_AA, shift=4)

    if label == 0:  # a slash through the oval, a little beyond it: / mostly, sometimes \
        over = rng.uniform(0.05, 0.2) * height
        if rng.uniform() < 0.8:
            line((x0 - over / 2, y1 + over), (x1 + over / 2, y0 - over))
        else:
            line((x0 - over / 2, y0 - over), (x1 + over / 2, y1 + over))
    elif label == 1:  # a foot, centred under the stem; sometimes also a flag at the top
        # Where the stem is at its top and bottom rows (x of the brightest pixel).
        top = float(np.argmax(big[min(y0 + 2, y1)]))
        bottom = float(np.argmax(big[max(y1 - 2, y0)]))
        half = rng.uniform(0.2, 0.35) * height
        line((bottom - half, y1), (bottom + half, y1))
        if rng.uniform() < 0.5:
            line((top, y0), (top - rng.uniform(0.2, 0.35) * height, y0 + 0.25 * height))
    elif label == 7:  # a bar across the stem at mid-height
        mid = int((y0 + y1) / 2)
        stem = np.flatnonzero(big[mid] > 96)
        centre = stem.mean() if stem.size else (x0 + x1) / 2
        half = rng.uniform(0.15, 0.25) * height
        line((centre - half, mid), (centre + half, mid))
    steps = preprocess_steps(big)
    return image if steps is None else steps.digit_uint8


def filling_the_picture(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """An MNIST digit as a scan of a form box or a tight crop shows it: written with a pen
    up to twice MNIST's, 48-112 px, cropped to the ink (0-2 px left around it), dark on
    paper whose light changes across the picture half the time.

    Args:
        image: (28, 28) uint8 MNIST digit, bright on dark.
    Returns:
        (H, W) uint8 picture, dark ink on light paper, at most 116 px a side.
    """
    side = int(rng.integers(48, 113))
    big = cv2.resize(image, (side, side), interpolation=cv2.INTER_LINEAR)
    pen = max(1, int(round(side / IMAGE_SIZE * rng.uniform(0.3, 1.8))))
    big = cv2.dilate(big, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))
    x, y, w, h = cv2.boundingRect((big > 100).view(np.uint8))
    margin = int(rng.integers(0, 3))
    if w and h:
        big = big[max(y - margin, 0) : y + h + margin, max(x - margin, 0) : x + w + margin]
    paper = np.full(big.shape, rng.uniform(190, 255), np.float32)
    if rng.uniform() < 0.5:  # light falling off across the picture
        ramp = np.linspace(0, 1, big.shape[1])[None, :] * rng.uniform(40, 90)
        paper -= ramp if rng.uniform() < 0.5 else ramp[:, ::-1]
    ink = rng.uniform(0, 60)
    picture = paper - (paper - ink) * big.astype(np.float32) / 255
    return np.clip(picture, 0, 255).astype(np.uint8)


def served_filling_the_picture(images: np.ndarray, seed: int) -> np.ndarray:
    """Each (28, 28) uint8 MNIST digit `filling_the_picture`, as the app serves it: (N, 28,
    28) uint8 (a digit whose picture shows no ink stays as it is)."""
    rng = np.random.default_rng(seed)
    served = images.copy()
    for i, image in enumerate(images):
        steps = preprocess_steps(filling_the_picture(image, rng))
        if steps is not None:
            served[i] = steps.digit_uint8
    return served


def alternative_versions(
    images: np.ndarray, labels: np.ndarray, convention_share: float, seed: int
) -> np.ndarray:
    """Every MNIST digit as the app would serve it (`served_versions`); a `convention_share`
    of the 0s, 1s and 7s rewritten `with_convention` instead. (N, 28, 28) uint8."""
    alternatives = served_versions(images)
    rng = np.random.default_rng(seed)
    for i in np.flatnonzero(np.isin(labels, CONVENTION_CLASSES)):
        if rng.uniform() < convention_share:
            alternatives[i] = with_convention(images[i], int(labels[i]), rng)
    return alternatives


def make_dataset(x, x_served, y, config: TrainConfig, seed: int):
    """Shuffled, augmented batches of (B, 28, 28, 1) float32 images and their labels.

    Each image is drawn from `x` or, with probability `config.served_share`, from `x_served`.
    """
    import tensorflow as tf

    rng = tf.random.Generator.from_seed(seed)

    def pick(raw, served, labels):
        chosen = rng.uniform([tf.shape(raw)[0], 1, 1, 1]) < config.served_share
        return augment_batch(tf.where(chosen, served, raw), config.augment, rng), labels

    return (
        tf.data.Dataset.from_tensor_slices((x, x_served, y))
        .shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        .batch(config.batch_size)
        .map(pick)
        .prefetch(tf.data.AUTOTUNE)
    )
