"""Pictures for people: the 28x28 input enlarged with visible pixels, saliency overlays,
preprocessing steps. Pure numpy/OpenCV; every function returns a uint8 RGB image."""

from __future__ import annotations

import cv2
import numpy as np

from model.preprocessing import Preprocessed

GRID = (90, 90, 90)  # pixel-grid lines: visible on light and dark pages alike
SUPPORT = np.array([255, 140, 0], np.float32)  # ink that supports the answer: orange
AGAINST = np.array([30, 144, 255], np.float32)  # ink that argues against it: blue


def enlarge(digit_28x28: np.ndarray, scale: int = 8, grid: bool = True) -> np.ndarray:
    """Show each pixel as a scale x scale square, with thin lines between pixels.

    Args:
        digit_28x28: (28, 28) float32 in [0, 1] (or uint8 0..255), ink bright.
    Returns:
        (28*scale, 28*scale, 3) uint8 RGB.
    """
    gray = _as_uint8(digit_28x28)
    big = np.repeat(np.repeat(gray, scale, axis=0), scale, axis=1)
    rgb = np.repeat(big[:, :, None], 3, axis=2)
    if grid and scale >= 4:
        rgb[::scale, :] = GRID
        rgb[:, ::scale] = GRID
    return rgb


def saliency_overlay(digit_28x28: np.ndarray, saliency: np.ndarray, scale: int = 8) -> np.ndarray:
    """The input in grey, with ink coloured by how much it drove the answer.

    Args:
        digit_28x28: (28, 28) float32 in [0, 1].
        saliency: (28, 28) float32 in [-1, 1] (`explain.occlusion_saliency`).
    Returns:
        (28*scale, 28*scale, 3) uint8 RGB: orange where ink supports the answer, blue where
        it argues against it, strength by colour intensity.
    """
    base = enlarge(digit_28x28, scale, grid=False).astype(np.float32) * 0.35
    strength = np.clip(np.abs(saliency), 0, 1) ** 0.7  # lift weak but real evidence
    colour = np.where((saliency >= 0)[:, :, None], SUPPORT, AGAINST)
    colour = colour * strength[:, :, None]
    colour = np.repeat(np.repeat(colour, scale, axis=0), scale, axis=1)
    rgb = np.clip(base + colour, 0, 255).astype(np.uint8)
    if scale >= 4:
        rgb[::scale, :] = GRID
        rgb[:, ::scale] = GRID
    return rgb


def preprocessing_steps(steps: Preprocessed, size: int = 160) -> list[tuple[np.ndarray, str]]:
    """The stages from drawing to model input, each as a size x size RGB tile + caption."""
    mask = _fit(steps.mask.astype(np.uint8) * 255, size)
    x, y, w, h = steps.bbox
    crop = _fit(steps.ink[y : y + h, x : x + w], size)
    glyph = np.zeros((28, 28), np.float32)
    gh, gw = steps.glyph.shape
    glyph[(28 - gh) // 2 : (28 - gh) // 2 + gh, (28 - gw) // 2 : (28 - gw) // 2 + gw] = steps.glyph
    return [
        (mask, f"1. ink ({steps.marks} mark{'s' if steps.marks != 1 else ''})"),
        (crop, f"2. cropped to the ink ({w}x{h} px)"),
        (_fit_nearest(glyph, size), f"3. pen width set, {gw}x{gh} px (20 px box)"),
        (_fit_nearest(steps.digit_28x28, size), "4. centre of mass at (14, 14)"),
    ]


def _as_uint8(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    return (np.clip(image, 0, 1) * 255 + 0.5).astype(np.uint8)


def _fit(gray: np.ndarray, size: int) -> np.ndarray:
    """Letterbox a grey image into size x size (anti-aliased), as RGB."""
    height, width = gray.shape
    scale = size / max(height, width)
    new = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = cv2.resize(gray, new, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    tile = np.zeros((size, size), np.uint8)
    top, left = (size - new[1]) // 2, (size - new[0]) // 2
    tile[top : top + new[1], left : left + new[0]] = resized
    return np.repeat(tile[:, :, None], 3, axis=2)


def _fit_nearest(digit: np.ndarray, size: int) -> np.ndarray:
    return enlarge(digit, max(1, size // digit.shape[0]), grid=False)
