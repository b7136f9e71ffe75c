"""The in-process backend: dlib through `face_recognition`.

Detection scheduling (measured on this 2-core machine, see benchmarks/recognition.py and the README):
HOG finds faces from about 80 px wide, and its cost grows with the number of pixels it scans
(`groups/bald_guys.jpg`, 3.1 MP: 0.22 s as is, 0.96 s with dlib's 2x upsample). So each photo is
scanned once, on a copy resized by one factor chosen from two limits:

* the smallest face that must be found: `MIN_FACE_PIXELS` (40 px) for classroom photos; for an
  enrolment photo the face must cover `min_face_area_ratio` of the image, which allows scanning a
  much smaller copy (obama.jpg: 1.0 MP scanned at 0.2 MP);
* `DETECT_MAX_PIXELS` (3.2 MP): small photos are enlarged (2x for a 500x375 photo, like dlib's
  upsample), large ones are scanned at or below this size.

HOG scans a grey copy (measured: 0.14 s instead of 0.22 s on bald_guys.jpg, the same faces).
Landmarks and embeddings are always computed on the full-resolution photo, and boxes are reported
in its pixels. When an enrolment photo's reduced scan finds nothing, a full scan decides between
NO_FACE_FOUND and FACE_TOO_SMALL.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from typing import Any

import numpy as np
from PIL import Image, ImageFile

from recognition import matching
from recognition.backends.base import (
    Detection,
    EncodedFace,
    ErrorCode,
    Face,
    FaceBox,
    FaceMatch,
    FaceQualityError,
    Health,
    ModelInfo,
    RecognitionBackend,
    RecognitionError,
    RecognitionUnavailable,
)
from recognition.images import DecodedImage, decode_image

MODEL_NAME = "dlib_face_recognition_resnet_model_v1"
HOG_WINDOW_PIXELS = 80  # dlib's frontal face detector scans an 80x80 window
SCALE_TOLERANCE = 0.1  # closer to 1 than this, the photo is scanned as it is (no resize)
_started = time.monotonic()
_import_lock = threading.Lock()
_api: Any = None


def load_face_recognition() -> Any:
    """`face_recognition.api`, imported on first use.

    face_recognition calls quit() when its model package is missing, which would end the whole
    web process: that SystemExit is turned into a clear MODEL_UNAVAILABLE error instead."""
    global _api
    if _api is None:
        with _import_lock:
            if _api is None:
                try:
                    with warnings.catch_warnings():
                        # face_recognition_models uses pkg_resources, which warns at every start.
                        warnings.simplefilter("ignore", UserWarning)
                        import face_recognition_models  # noqa: F401  (checked first for a clear message)
                except ImportError as exc:
                    raise RecognitionUnavailable(
                        "The face model package face_recognition_models is not installed.",
                        error_code=ErrorCode.MODEL_UNAVAILABLE,
                    ) from exc
                truncated = ImageFile.LOAD_TRUNCATED_IMAGES
                try:
                    from face_recognition import api
                except (ImportError, SystemExit, RuntimeError) as exc:
                    raise RecognitionUnavailable(
                        f"The face recognition library cannot be loaded: {exc!r}",
                        error_code=ErrorCode.MODEL_UNAVAILABLE,
                    ) from exc
                # face_recognition makes Pillow accept truncated files silently (grey filler) at
                # import; our decoder must refuse them, so the setting is put back.
                ImageFile.LOAD_TRUNCATED_IMAGES = truncated
                _api = api
    return _api


def dlib_version() -> str:
    try:
        import dlib
    except ImportError:
        return "unavailable"
    return dlib.__version__


class DlibBackend(RecognitionBackend):
    """Options (settings.RECOGNITION["OPTIONS"]): DETECTOR (hog|cnn), ENROLMENT_JITTERS,
    CLASSROOM_JITTERS, MIN_FACE_AREA_RATIO (enrolment, 0.05), MIN_FACE_PIXELS and DETECT_MAX_PIXELS
    (the detection scheduling above: dlib's "upsampling" is expressed as the smallest face to find)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.detector = options.get("DETECTOR", "hog")
        if self.detector not in ("hog", "cnn"):
            raise RecognitionError(ErrorCode.INVALID_REQUEST, f"Unknown detector {self.detector!r}")
        self.enrolment_jitters = int(options.get("ENROLMENT_JITTERS", 5))
        self.classroom_jitters = int(options.get("CLASSROOM_JITTERS", 1))
        self.min_face_pixels = int(options.get("MIN_FACE_PIXELS", 40))
        self.min_face_area_ratio = float(options.get("MIN_FACE_AREA_RATIO", 0.05))
        self.detect_max_pixels = int(options.get("DETECT_MAX_PIXELS", 3_200_000))

    # --- detection scheduling -----------------------------------------------------------------

    def detection_scale(self, width: int, height: int, min_face_pixels: float) -> float:
        """The resize factor of the copy that is scanned for faces (see the module docstring)."""
        wanted = HOG_WINDOW_PIXELS / max(min_face_pixels, 1.0)
        budget = math.sqrt(self.detect_max_pixels / (width * height))
        return min(wanted, budget, 4.0)

    def _locate(self, decoded: DecodedImage, scale: float, model: str) -> list[FaceBox]:
        api = load_face_recognition()
        pixels = decoded.pixels
        width, height = decoded.size
        copy = Image.fromarray(pixels)
        if abs(scale - 1.0) > SCALE_TOLERANCE:
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            copy = copy.resize(size, Image.BILINEAR)
        fx, fy = width / copy.size[0], height / copy.size[1]
        # HOG on grey pixels finds the same faces in 35% less time (it takes the strongest gradient
        # of the three channels otherwise); the CNN detector needs colour.
        scanned = np.asarray(copy.convert("L") if model == "hog" else copy)
        boxes = []
        for top, right, bottom, left in api.face_locations(scanned, number_of_times_to_upsample=0, model=model):
            boxes.append(FaceBox(
                top=max(0, round(top * fy)), right=min(width, round(right * fx)),
                bottom=min(height, round(bottom * fy)), left=max(0, round(left * fx)),
            ))
        # Left to right, then top to bottom: a stable order for the same photo.
        return sorted(boxes, key=lambda b: (b.left, b.top))

    def _encode(self, decoded: DecodedImage, boxes: list[FaceBox], num_jitters: int) -> list[np.ndarray]:
        if not boxes:
            return []
        api = load_face_recognition()
        locations = [(b.top, b.right, b.bottom, b.left) for b in boxes]

        if num_jitters <= 1:
            encodings = api.face_encodings(decoded.pixels, known_face_locations=locations, num_jitters=1)
            return [np.asarray(e, dtype=np.float64) for e in encodings]
        # Jittering draws from a random generator held by dlib's encoder object, so the shared
        # encoder gives a different embedding for the same photo on every call. A freshly loaded
        # encoder (44 ms) starts from the same seed: the same photo then always gives the same
        # embedding, in any process (the remote backend's results equal the local ones).
        import dlib
        import face_recognition_models

        encoder = dlib.face_recognition_model_v1(face_recognition_models.face_recognition_model_location())
        landmarks = api._raw_face_landmarks(decoded.pixels, locations, model="large")
        return [np.asarray(encoder.compute_face_descriptor(decoded.pixels, points, num_jitters), dtype=np.float64)
                for points in landmarks]

    # --- operations ---------------------------------------------------------------------------

    def encode_face(self, image: bytes, *, num_jitters: int | None = None,
                    min_face_area_ratio: float | None = None, validate_single: bool = True) -> EncodedFace:
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        if min_face_area_ratio is None:
            min_face_area_ratio = self.min_face_area_ratio
        width, height = decoded.size
        area = float(width * height)
        # The smallest acceptable face is sqrt(ratio * area) wide; scan for faces a bit smaller.
        smallest = max(self.min_face_pixels, 0.8 * math.sqrt(max(min_face_area_ratio, 0.0) * area))
        boxes = self._locate(decoded, self.detection_scale(width, height, smallest), self.detector)
        if not boxes:
            full = self._locate(decoded, self.detection_scale(width, height, self.min_face_pixels), self.detector)
            if not full:
                raise FaceQualityError(ErrorCode.NO_FACE_FOUND, "No face was found in the photo.")
            boxes = full
        if validate_single and len(boxes) > 1:
            raise FaceQualityError(
                ErrorCode.MULTIPLE_FACES,
                f"{len(boxes)} faces were found; an enrolment photo must show exactly one person.",
                details={"faces": len(boxes)},
            )
        box = max(boxes, key=lambda b: b.width * b.height)
        ratio = box.width * box.height / area
        if ratio < min_face_area_ratio:
            raise FaceQualityError(
                ErrorCode.FACE_TOO_SMALL,
                f"The face covers {ratio:.1%} of the photo; at least {min_face_area_ratio:.0%} is needed. "
                "Take the photo closer.",
                details={"face_area_ratio": round(ratio, 4), "min_face_area_ratio": min_face_area_ratio},
            )
        jitters = num_jitters or self.enrolment_jitters
        (embedding,) = self._encode(decoded, [box], jitters)
        return EncodedFace(embedding=embedding, box=box, face_area_ratio=ratio, image_size=(width, height))

    def detect_faces(self, image: bytes, *, num_jitters: int | None = None,
                     min_face_area_ratio: float = 0.0, model: str | None = None) -> Detection:
        started = time.perf_counter()
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        model = model or self.detector
        if model not in ("hog", "cnn"):
            raise RecognitionError(ErrorCode.INVALID_REQUEST, f"Unknown detector {model!r}; use hog or cnn.")
        width, height = decoded.size
        area = float(width * height)
        smallest = max(self.min_face_pixels, 0.8 * math.sqrt(max(min_face_area_ratio, 0.0) * area))
        boxes = [b for b in self._locate(decoded, self.detection_scale(width, height, smallest), model)
                 if b.width * b.height / area >= min_face_area_ratio]
        embeddings = self._encode(decoded, boxes, num_jitters or self.classroom_jitters)
        faces = [Face(embedding=e, box=b, face_area_ratio=b.width * b.height / area)
                 for e, b in zip(embeddings, boxes, strict=True)]
        return Detection(faces=faces, image_size=(width, height),
                         processing_time_ms=(time.perf_counter() - started) * 1000)

    def match_faces(self, embeddings: np.ndarray, candidates: Any, *, confident_threshold: float = 0.50,
                    uncertain_threshold: float = 0.60) -> list[FaceMatch]:
        return matching.match_faces(embeddings, candidates, confident_threshold=confident_threshold,
                                    uncertain_threshold=uncertain_threshold)

    def model_info(self) -> ModelInfo:
        return ModelInfo(name=MODEL_NAME, version=f"dlib-{dlib_version()}", detector=self.detector)

    def health(self) -> Health:
        try:
            load_face_recognition()
            loaded, details = True, {}
        except RecognitionError as exc:
            loaded, details = False, {"error_code": exc.error_code, "message": exc.message}
        return Health(ok=loaded, backend="local", model=self.model_info(), models_loaded=loaded,
                      uptime_seconds=time.monotonic() - _started, details=details)
