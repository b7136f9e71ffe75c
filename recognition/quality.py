"""The enrolment quality gate: is this face good enough to recognise the student later?

Calibrated on ../shared/faces (see tests/recognition/test_quality.py): on the accepted enrolment
photos the sharpness score (variance of the Laplacian of the face scaled to 160x160 grey pixels)
ranges 134-1066 and drops to 2-4 once the photo is blurred by 1/40 of the face width; the mean face
brightness ranges 111-147 and falls to 16-22 when the exposure is cut to 15%.
The limits sit well inside those gaps. Exposure is checked before sharpness: a dark face also has
little contrast, and "too dark" is the advice that helps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

from recognition.errors import ErrorCode, FaceQualityError
from recognition.results import FaceBox

MIN_FACE_PIXELS = 80  # dlib's detector window: smaller faces give unreliable embeddings
MIN_SHARPNESS = 40.0
MIN_BRIGHTNESS = 45.0
MAX_BRIGHTNESS = 220.0
_SAMPLE_SIZE = (160, 160)


@dataclass(frozen=True)
class FaceQuality:
    width: int
    sharpness: float
    brightness: float


def face_quality(pixels: np.ndarray, box: FaceBox) -> FaceQuality:
    crop = pixels[box.top:box.bottom, box.left:box.right]
    grey = np.asarray(Image.fromarray(crop).convert("L").resize(_SAMPLE_SIZE, Image.Resampling.BILINEAR),
                      dtype=np.float64)
    laplacian = (4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:])
    return FaceQuality(width=box.width, sharpness=float(laplacian.var()), brightness=float(grey.mean()))


def check_face_quality(pixels: np.ndarray, box: FaceBox) -> FaceQuality:
    """The face's quality, or FaceQualityError with a message a teacher can act on."""
    quality = face_quality(pixels, box)
    details = {"face_width": quality.width, "sharpness": round(quality.sharpness, 1),
               "brightness": round(quality.brightness, 1)}
    if quality.width < MIN_FACE_PIXELS:
        raise FaceQualityError(
            ErrorCode.FACE_TOO_SMALL,
            f"The face is {quality.width} pixels wide; at least {MIN_FACE_PIXELS} are needed. "
            "Use a larger photo or come closer.", details=details)
    if quality.brightness < MIN_BRIGHTNESS:
        raise FaceQualityError(
            ErrorCode.FACE_TOO_DARK, "The face is too dark. Take the photo facing a window or a light.",
            details=details)
    if quality.brightness > MAX_BRIGHTNESS:
        raise FaceQualityError(
            ErrorCode.FACE_TOO_BRIGHT, "The face is overexposed. Avoid direct light or the flash.",
            details=details)
    if quality.sharpness < MIN_SHARPNESS:
        raise FaceQualityError(
            ErrorCode.FACE_BLURRY, "The face is blurred. Hold the camera still and make sure it is in focus.",
            details=details)
    return quality
