"""Handwriting photographed: pen strokes rendered as a phone photo of ink on paper.

A paper tint, an ink colour, one light condition (even, light falling off by 10%, 20% or 40%
across the page in a random direction, or a soft shadow), one paper (plain, ruled, squared),
one pen (a ballpoint, a thick marker, or soft blurred edges), a tilt (rotation up to 8
degrees and a little perspective), sensor noise, a little blur, and JPEG at quality 60-90.
Used by benchmarks/photo_accuracy.py (real pen strokes) and the tests (hand-made ones).
"""

from __future__ import annotations

import cv2
import numpy as np

HEIGHT, WIDTH = 480, 640
LIGHTS = ("even", "falloff 10%", "falloff 20%", "falloff 40%", "soft shadow")
PAPERS = ("plain", "ruled", "squared")
PENS = ("ballpoint", "thick marker", "blurred edges")


def conditions_for(index: int) -> dict:
    """The light, paper and pen of photo `index`: they cycle, each met equally often."""
    return {
        "light": LIGHTS[index % len(LIGHTS)],
        "paper": PAPERS[(index // len(LIGHTS)) % len(PAPERS)],
        "pen": PENS[(index // (len(LIGHTS) * len(PAPERS))) % len(PENS)],
    }


def photograph(strokes: list[np.ndarray], condition: dict, rng: np.random.Generator) -> bytes:
    """Strokes (any units, y down) written on paper and photographed: JPEG bytes."""
    paper = np.array([rng.uniform(225, 250), rng.uniform(220, 248), rng.uniform(205, 240)])
    image = np.ones((HEIGHT, WIDTH, 3)) * paper
    line_colour = np.array([rng.uniform(150, 200), rng.uniform(170, 210), rng.uniform(200, 235)])
    if condition["paper"] != "plain":
        step = int(rng.integers(28, 44))
        for y in range(int(rng.integers(0, step)), HEIGHT, step):
            cv2.line(image, (0, y), (WIDTH, y), line_colour.tolist(), 1, cv2.LINE_AA)
        if condition["paper"] == "squared":
            for x in range(int(rng.integers(0, step)), WIDTH, step):
                cv2.line(image, (x, 0), (x, HEIGHT), line_colour.tolist(), 1, cv2.LINE_AA)

    # The digit, 40-65% of the sheet high, somewhere near the middle.
    points = np.concatenate(strokes)
    low, span = points.min(0), np.maximum(np.ptp(points, 0), 1e-9)
    size = rng.uniform(0.4, 0.65) * HEIGHT
    scale = min(size / span[1], 0.8 * WIDTH / span[0])
    origin = np.array([WIDTH, HEIGHT]) / 2 - span * scale / 2 + rng.normal(0, 20, 2)
    pen = condition["pen"]
    brush = int(rng.integers(4, 9)) if pen == "ballpoint" else int(rng.integers(18, 30))
    if pen == "blurred edges":
        brush = int(rng.integers(10, 18))
    coverage = np.zeros((HEIGHT, WIDTH), np.uint8)
    for stroke in strokes:
        fixed = np.round(((stroke - low) * scale + origin) * 16).astype(np.int32)
        cv2.polylines(coverage, [fixed.reshape(-1, 1, 2)], False, 255, brush, cv2.LINE_AA, 4)
    coverage = coverage.astype(np.float64) / 255
    if pen == "blurred edges":
        coverage = cv2.GaussianBlur(coverage, (0, 0), rng.uniform(2.5, 4.0))
        coverage = np.clip(coverage * 1.3, 0, 1)
    ink = np.array([rng.uniform(10, 60), rng.uniform(10, 50), rng.uniform(20, 90)])
    image = image * (1 - coverage[..., None]) + ink * coverage[..., None]

    # Light: a fall-off across the page or a soft shadow, multiplied in.
    ys, xs = np.mgrid[0:HEIGHT, 0:WIDTH] / max(HEIGHT, WIDTH)
    light = np.ones((HEIGHT, WIDTH))
    if condition["light"].startswith("falloff"):
        drop = float(condition["light"].split()[1].rstrip("%")) / 100
        angle = rng.uniform(0, 2 * np.pi)
        ramp = np.cos(angle) * xs + np.sin(angle) * ys
        ramp = (ramp - ramp.min()) / np.ptp(ramp)
        light = 1 - drop * ramp
    elif condition["light"] == "soft shadow":
        centre = rng.uniform([0, 0], [WIDTH, HEIGHT])
        yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
        distance = np.hypot(xx - centre[0], yy - centre[1]) / (0.5 * WIDTH)
        light = 1 - rng.uniform(0.25, 0.4) * np.exp(-(distance**2))
    image = image * light[..., None]

    # The camera: tilt, a little blur, noise, JPEG.
    tilt = cv2.getRotationMatrix2D((WIDTH / 2, HEIGHT / 2), rng.uniform(-8, 8), 1.0)
    image = cv2.warpAffine(image, tilt, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT)
    corners = np.float32([[0, 0], [WIDTH, 0], [WIDTH, HEIGHT], [0, HEIGHT]])
    moved = corners + rng.normal(0, 8, corners.shape).astype(np.float32)
    warp = cv2.getPerspectiveTransform(corners, moved)
    image = cv2.warpPerspective(image, warp, (WIDTH, HEIGHT), borderMode=cv2.BORDER_REFLECT)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.3, 1.0))
    image = image + rng.normal(0, rng.uniform(2, 6), image.shape)
    bgr = np.clip(image, 0, 255).astype(np.uint8)[..., ::-1]
    ok, jpeg = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(60, 91))])
    assert ok
    return jpeg.tobytes()
