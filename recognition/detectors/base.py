"""The face detector interface: image pixels in, face boxes out.

Detectors are a family like the recognition backends (`recognition.backends`): a base class here,
siblings (`hog`, `cnn`, `yunet`), and a cached factory (`recognition.detectors.get_detector`) that
builds one by name. The local backend asks its detector where the faces are; dlib's landmarks and
128-d encoder then make the embeddings, whatever the detector, so stored faces, thresholds and the
remote contract do not depend on it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from recognition.results import FaceBox


@dataclass(frozen=True)
class Located:
    """A face box in the original image's pixels and the detector's confidence (0-100; 100 when
    the detector gives none)."""

    box: FaceBox
    confidence: float = 100.0


class FaceDetector:
    """Base class of face detectors.

    `locate(pixels, smallest_face=..)` returns every face at least `smallest_face` pixels wide (in
    the original image) that the detector can find, in a stable order, with boxes clipped to the
    image. Subclasses choose how to scan (which copy of the image, at which scale) within their
    own cost budget and document why."""

    name = "base"
    # Below this width (pixels of the scanned copy) the detector does not find faces reliably.
    smallest_detectable = 80.0
    # The smallest face (pixels of the photo) a classroom scan looks for, unless MIN_FACE_PIXELS says.
    default_smallest_face = 40.0

    def __init__(self, *, max_pixels: int | None = None, **options: Any) -> None:
        self.max_pixels = max_pixels or self.default_max_pixels
        self.options = options

    default_max_pixels = 3_200_000

    def locate(self, pixels: np.ndarray, *, smallest_face: float) -> list[Located]:
        raise NotImplementedError

    # --- helpers for subclasses ---------------------------------------------------------------

    def scan_scale(self, width: int, height: int, smallest_face: float, *, upscale_limit: float = 1.0) -> float:
        """The factor of the copy to scan: large enough that `smallest_face` becomes detectable,
        never beyond the pixel budget, never enlarged more than `upscale_limit`."""
        wanted = self.smallest_detectable / max(smallest_face, 1.0)
        budget = math.sqrt(self.max_pixels / float(width * height))
        return min(wanted, budget, upscale_limit)


def resized(pixels: np.ndarray, scale: float, *, tolerance: float = 0.1, fast: bool = False
            ) -> tuple[np.ndarray, float, float]:
    """A copy of `pixels` scaled by `scale` (the original when the factor is within `tolerance` of 1),
    and the factors that map its coordinates back to the original's.

    With `fast`, reductions go through Pillow's integer `reduce` (a box filter, several times cheaper
    than an antialiased resize of a 12 MP photo) and a scale within `tolerance` of 1/k is snapped to
    it: a 12 MP photo is scanned at exactly half size. HOG keeps the plain resize, on which its
    enrolment boxes (and the 5% face-area rule) were measured."""
    height, width = pixels.shape[:2]
    if abs(scale - 1.0) <= tolerance:
        return pixels, 1.0, 1.0
    image = Image.fromarray(pixels)
    if fast and scale < 1.0:
        factor = max(1, int(1.0 / scale))
        if abs(1.0 / round(1.0 / scale) - scale) <= tolerance * scale:
            factor = round(1.0 / scale)
        if factor > 1:
            image = image.reduce(factor)
            scale *= factor  # what remains to do after the reduction
    if abs(scale - 1.0) > tolerance:
        image = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))),
                             Image.Resampling.BILINEAR)
    return np.asarray(image), width / image.width, height / image.height


def to_original(left: float, top: float, right: float, bottom: float, fx: float, fy: float,
                width: int, height: int) -> FaceBox:
    """A box of a scaled copy in the original image's pixels, clipped to it."""
    return FaceBox(top=max(0, round(top * fy)), right=min(width, round(right * fx)),
                   bottom=min(height, round(bottom * fy)), left=max(0, round(left * fx)))


def in_reading_order(found: list[Located]) -> list[Located]:
    """Left to right, then top to bottom: the same photo always lists its faces in the same order."""
    return sorted(found, key=lambda f: (f.box.left, f.box.top))
