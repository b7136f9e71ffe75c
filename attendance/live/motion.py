"""Whether a student's face moved between two sightings of live mode: a still picture held up to the
webcam (or sent again, re-encoded or rescaled) is one piece of evidence, however many frames show it.

A sighting keeps the region around the face (the box and a quarter of its size on each side, in
fractions of the frame, so a rescaled frame gives the same region) and a signature of it: the region
in grey, 24x24. The next sighting crops the *same* region from its frame and compares the two by
normalised cross-correlation: a face that moved by a few pixels, turned or changed its expression
changes that region; a re-encoded or rescaled still does not (measured on the live frames of the tests,
1280x720 with faces of 56 and 72 px: re-encoded at JPEG 60-95 or rescaled by 0.8-1.03, 1 - correlation
stays below 0.0005; a face moved by 2 px makes it 0.02 or more, by 3 px 0.045 or more).

Not a perceptual hash of the whole frame (imagehash's pHash, dHash): one student moving in a still class
barely changes the frame's hash, and those hashes are made to ignore small shifts, the movement this must
see. The signature is a blurred grey thumbnail of the region, not an embedding.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from recognition.results import FaceBox

Region = tuple[float, float, float, float]  # left, top, right, bottom, fractions of the frame

SIGNATURE_SIDE = 24
_MARGIN = 0.25
# 1 - correlation above this: the region changed, the face moved (see the module's docstring).
_MOVED_ABOVE = 0.01


def face_region(box: FaceBox, size: tuple[int, int]) -> Region:
    """The region of a sighting: the face box and a margin, in fractions of the frame (width, height)."""
    width, height = size
    margin_x, margin_y = _MARGIN * box.width, _MARGIN * box.height
    return (max(0.0, (box.left - margin_x) / width), max(0.0, (box.top - margin_y) / height),
            min(1.0, (box.right + margin_x) / width), min(1.0, (box.bottom + margin_y) / height))


def region_signature(pixels: np.ndarray, region: Region) -> bytes:
    """The region of an RGB frame in grey, SIGNATURE_SIDE pixels square (bytes, row by row)."""
    height, width = pixels.shape[:2]
    left, top = region[0] * width, region[1] * height
    right, bottom = max(left + 1.0, region[2] * width), max(top + 1.0, region[3] * height)
    # Cut a pixel wider, then resample the exact (fractional) region: rounding it to whole pixels would
    # shift a rescaled frame's region by up to half a pixel, which looks like movement.
    crop_left, crop_top = max(0, math.floor(left) - 1), max(0, math.floor(top) - 1)
    crop_right, crop_bottom = min(width, math.ceil(right) + 1), min(height, math.ceil(bottom) + 1)
    crop = Image.fromarray(np.ascontiguousarray(pixels[crop_top:crop_bottom, crop_left:crop_right])).convert("L")
    box = (left - crop_left, top - crop_top, min(right, crop_right) - crop_left, min(bottom, crop_bottom) - crop_top)
    return crop.resize((SIGNATURE_SIDE, SIGNATURE_SIDE), Image.Resampling.BILINEAR, box=box,
                       reducing_gap=None).tobytes()


def has_moved(pixels: np.ndarray, region: Region, signature: bytes) -> bool:
    """Whether the frame's content in `region` differs from the earlier sighting's `signature`."""
    return 1.0 - _correlation(region_signature(pixels, region), signature) > _MOVED_ABOVE


def signature_change(first: bytes, second: bytes) -> float:
    """1 - the correlation of two signatures: 0 for the same content, about 1 for unrelated content."""
    return 1.0 - _correlation(first, second)


def _correlation(first: bytes, second: bytes) -> float:
    a = np.frombuffer(first, dtype=np.uint8).astype(np.float64)
    b = np.frombuffer(second, dtype=np.uint8).astype(np.float64)
    if a.shape != b.shape:
        return 0.0
    a, b = a - a.mean(), b - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    if norm == 0.0:  # a flat region: equal only if both are flat at the same level
        return 1.0 if np.array_equal(first, second) else 0.0
    return float((a * b).sum() / norm)
