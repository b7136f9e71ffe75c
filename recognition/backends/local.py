"""The in-process backend: a face detector (`recognition.detectors`) finds the faces, dlib's 5-point
landmarks and 128-d ResNet encoder (through `face_recognition`) make every embedding.

The detector scans a copy of the photo scaled for the smallest face to find (`MIN_FACE_PIXELS` for
a classroom photo; for an enrolment photo, whose face must cover `min_face_area_ratio` of it, a
much smaller copy) within its own pixel budget: see each detector's docstring and the README's
"Detection scheduling". Landmarks and embeddings are always computed on the full-resolution photo,
and boxes are reported in its pixels. When an enrolment photo's reduced scan finds nothing, a full
scan decides between NO_FACE_FOUND and FACE_TOO_SMALL. The photo is decoded once: callers may pass a
`DecodedImage` instead of bytes.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from django.core.exceptions import ImproperlyConfigured

from recognition import detectors, matching, pose
from recognition.backends.base import RecognitionBackend
from recognition.dlib_model import DLIB_LOCK, load_face_recognition
from recognition.errors import ErrorCode, FaceQualityError, RecognitionError
from recognition.images import DecodedImage, decode_image
from recognition.results import Detection, EncodedFace, Face, FaceBox, FaceMatch, Health, ModelInfo, PosedFace

MODEL_NAME = "dlib_face_recognition_resnet_model_v1"
_started = time.monotonic()
def dlib_version() -> str:
    try:
        import dlib
    except ImportError:
        return "unavailable"
    return dlib.__version__


class DlibBackend(RecognitionBackend):
    """Options (settings.RECOGNITION["OPTIONS"]): DETECTOR (yunet|hog|cnn|auto) for classroom photos,
    ENROLMENT_DETECTOR (hog: enrolment photos are close-up portraits, where HOG is fast and reliable,
    and its boxes define the 5% face-area rule and every embedding stored so far), ENROLMENT_JITTERS,
    CLASSROOM_JITTERS, MIN_FACE_AREA_RATIO (enrolment, 0.05), MIN_FACE_PIXELS (the smallest face a
    classroom scan must find), DETECT_MAX_PIXELS (the largest copy scanned; 0 = the detector's own
    budget) and MIN_DETECTION_CONFIDENCE (YuNet boxes below it are nobody)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        try:
            self.detector = detectors.resolve(options.get("DETECTOR", "auto"))
            self.enrolment_detector = detectors.resolve(options.get("ENROLMENT_DETECTOR", "hog"))
        except ImproperlyConfigured as exc:
            raise RecognitionError(ErrorCode.INVALID_REQUEST, str(exc)) from exc
        self.enrolment_jitters = int(options.get("ENROLMENT_JITTERS", 5))
        self.classroom_jitters = int(options.get("CLASSROOM_JITTERS", 1))
        self.min_face_pixels = int(options.get("MIN_FACE_PIXELS", 0) or 0)  # 0: the detector's own
        self.min_face_area_ratio = float(options.get("MIN_FACE_AREA_RATIO", 0.05))
        self.detect_max_pixels = int(options.get("DETECT_MAX_PIXELS", 0) or 0)
        self.min_detection_confidence = float(options.get("MIN_DETECTION_CONFIDENCE", 55.0))

    # --- detection ----------------------------------------------------------------------------

    def face_detector(self, name: str | None = None) -> detectors.FaceDetector:
        """The detector called `name` (default: the configured one), with this backend's budget."""
        name = detectors.resolve(name or self.detector)
        options: dict[str, Any] = {"max_pixels": self.detect_max_pixels or None}
        if name == "yunet":
            options["min_confidence"] = self.min_detection_confidence
        return detectors.get_detector(name, **options)

    def smallest_face(self, name: str | None = None) -> float:
        """The smallest face (px) a scan looks for: MIN_FACE_PIXELS, or the detector's own floor."""
        return float(self.min_face_pixels or self.face_detector(name).default_smallest_face)

    def _locate(self, decoded: DecodedImage, smallest_face: float, model: str | None = None) -> list[FaceBox]:
        located = self.face_detector(model).locate(decoded.pixels, smallest_face=smallest_face)
        return [found.box for found in located if found.box.width > 1 and found.box.height > 1]

    def _encode(self, decoded: DecodedImage, boxes: list[FaceBox], num_jitters: int) -> list[np.ndarray]:
        if not boxes:
            return []
        api = load_face_recognition()
        locations = [(b.top, b.right, b.bottom, b.left) for b in boxes]
        with DLIB_LOCK:
            return self._encode_locked(api, decoded, locations, num_jitters)

    def _encode_locked(self, api: Any, decoded: DecodedImage, locations: list[tuple[int, int, int, int]],
                       num_jitters: int) -> list[np.ndarray]:
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

    def encode_face(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                    min_face_area_ratio: float | None = None, validate_single: bool = True) -> EncodedFace:
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        if min_face_area_ratio is None:
            min_face_area_ratio = self.min_face_area_ratio
        width, height = decoded.size
        area = float(width * height)
        # The smallest acceptable face is sqrt(ratio * area) wide; scan for faces a bit smaller.
        floor = self.smallest_face(self.enrolment_detector)
        smallest = max(floor, 0.8 * math.sqrt(max(min_face_area_ratio, 0.0) * area))
        boxes = self._locate(decoded, smallest, self.enrolment_detector)
        if not boxes:
            full = self._locate(decoded, floor, self.enrolment_detector)
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

    def face_pose(self, image: bytes | DecodedImage, *, min_face_area_ratio: float | None = None) -> PosedFace:
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        encoded = self.encode_face(decoded, num_jitters=1, min_face_area_ratio=min_face_area_ratio)
        box = encoded.box
        api = load_face_recognition()
        with DLIB_LOCK:
            (shape,) = api._raw_face_landmarks(decoded.pixels, [(box.top, box.right, box.bottom, box.left)],
                                               model="large")
            landmarks = np.array([(point.x, point.y) for point in shape.parts()], dtype=np.float64)
        return PosedFace(embedding=encoded.embedding, box=box, face_area_ratio=encoded.face_area_ratio,
                         image_size=encoded.image_size, yaw=pose.yaw_degrees(landmarks), landmarks=landmarks)

    encodes_separately = True

    def locate_faces(self, image: bytes | DecodedImage, *, model: str | None = None) -> list[FaceBox]:
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        if model is not None and model not in detectors.NAMES:
            raise RecognitionError(ErrorCode.INVALID_REQUEST,
                                   f"Unknown detector {model!r}; use one of {', '.join(detectors.NAMES)}.")
        return self._locate(decoded, self.smallest_face(model), model)

    def encode_faces(self, image: bytes | DecodedImage, boxes: list[FaceBox], *,
                     num_jitters: int | None = None) -> list[np.ndarray]:
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        return self._encode(decoded, list(boxes), num_jitters or self.classroom_jitters)

    def detect_faces(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                     min_face_area_ratio: float = 0.0, model: str | None = None) -> Detection:
        started = time.perf_counter()
        decoded = image if isinstance(image, DecodedImage) else decode_image(image)
        if model is not None and model not in detectors.NAMES:
            raise RecognitionError(ErrorCode.INVALID_REQUEST,
                                   f"Unknown detector {model!r}; use one of {', '.join(detectors.NAMES)}.")
        width, height = decoded.size
        area = float(width * height)
        smallest = max(self.smallest_face(model), 0.8 * math.sqrt(max(min_face_area_ratio, 0.0) * area))
        boxes = [b for b in self._locate(decoded, smallest, model) if b.width * b.height / area >= min_face_area_ratio]
        embeddings = self.encode_faces(decoded, boxes, num_jitters=num_jitters)
        faces = [Face(embedding=e, box=b, face_area_ratio=b.width * b.height / area)
                 for e, b in zip(embeddings, boxes, strict=True)]
        return Detection(faces=faces, image_size=(width, height),
                         processing_time_ms=(time.perf_counter() - started) * 1000)

    def match_faces(self, embeddings: np.ndarray, candidates: Any, *, confident_threshold: float = 0.50,
                    uncertain_threshold: float = 0.60) -> list[FaceMatch]:
        return matching.match_faces(embeddings, candidates, confident_threshold=confident_threshold,
                                    uncertain_threshold=uncertain_threshold)

    def model_info(self) -> ModelInfo:
        return ModelInfo(name=MODEL_NAME, version=f"dlib-{dlib_version()}", detector=self.detector,
                         enrolment_detector=self.enrolment_detector)

    def health(self) -> Health:
        try:
            load_face_recognition()
            loaded, details = True, {}
        except RecognitionError as exc:
            loaded, details = False, {"error_code": exc.error_code, "message": exc.message}
        return Health(ok=loaded, backend="local", model=self.model_info(), models_loaded=loaded,
                      uptime_seconds=time.monotonic() - _started, details=details)
