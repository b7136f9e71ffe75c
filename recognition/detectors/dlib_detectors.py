"""dlib's own detectors, through `face_recognition`: HOG (CPU, faces from ~80 px) and the CNN
(MMOD; finds small and turned faces, but took 19 s on a 1.6 MP photo on two cores)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from recognition.detectors.base import FaceDetector, Located, in_reading_order, resized, to_original
from recognition.dlib_model import DLIB_LOCK, load_face_recognition


class DlibDetector(FaceDetector):
    model = "hog"

    def locate(self, pixels: np.ndarray, *, smallest_face: float) -> list[Located]:
        api = load_face_recognition()
        height, width = pixels.shape[:2]
        # Small photos are enlarged (dlib's "upsample", expressed as the smallest face to find).
        scale = self.scan_scale(width, height, smallest_face, upscale_limit=4.0)
        copy, fx, fy = resized(pixels, scale)
        prepared = self.prepare(copy)
        with DLIB_LOCK:  # dlib's detectors are not safe to share between threads
            found = api.face_locations(prepared, number_of_times_to_upsample=0, model=self.model)
        return in_reading_order([Located(to_original(left, top, right, bottom, fx, fy, width, height))
                                 for top, right, bottom, left in found])

    def prepare(self, pixels: np.ndarray) -> np.ndarray:
        return pixels


class HOGDetector(DlibDetector):
    """dlib's HOG detector on a grey copy (35% faster than on colour, the same faces: it takes the
    strongest gradient of the three channels otherwise). Scan budget 3.2 MP: 0.14 s on
    groups/bald_guys.jpg."""

    name = model = "hog"
    smallest_detectable = 80.0

    def prepare(self, pixels: np.ndarray) -> np.ndarray:
        return np.asarray(Image.fromarray(pixels).convert("L"))


class CNNDetector(DlibDetector):
    """dlib's MMOD CNN: kept for comparison and for machines with time to spare (no GPU here)."""

    name = model = "cnn"
    smallest_detectable = 80.0
    default_max_pixels = 1_000_000
