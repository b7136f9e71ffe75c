"""The recognition backend interface, its result types and its typed errors.

Like Django's e-mail backends: a base class here, sibling implementations (`local`, `remote`),
and a cached factory (`recognition.backends.get_backend`) that builds the one configured in
`settings.RECOGNITION`. Every caller talks to this interface only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from recognition.images import DecodedImage

EMBEDDING_SIZE = 128


class ErrorCode:
    """Stable error codes shared by the backends, the recognition HTTP API and the REST API."""

    INVALID_IMAGE = "INVALID_IMAGE"
    UNSUPPORTED_IMAGE_TYPE = "UNSUPPORTED_IMAGE_TYPE"
    IMAGE_TOO_LARGE = "IMAGE_TOO_LARGE"
    NO_FACE_FOUND = "NO_FACE_FOUND"
    MULTIPLE_FACES = "MULTIPLE_FACES"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    FACE_BLURRY = "FACE_BLURRY"
    FACE_TOO_DARK = "FACE_TOO_DARK"
    FACE_TOO_BRIGHT = "FACE_TOO_BRIGHT"
    INVALID_REQUEST = "INVALID_REQUEST"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    RECOGNITION_UNAVAILABLE = "RECOGNITION_UNAVAILABLE"
    RECOGNITION_TIMEOUT = "RECOGNITION_TIMEOUT"
    RECOGNITION_FAILED = "RECOGNITION_FAILED"


class RecognitionError(Exception):
    """A recognition failure with a stable `error_code`.

    `retryable` says whether trying again later can help (the service is down, a timeout) or not
    (the photo has no face). Callers map non-retryable errors to 4xx and retryable ones to 503.
    """

    def __init__(self, error_code: str, message: str, *, retryable: bool = False,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message
        self.retryable = retryable
        self.details = details or {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.error_code!r}, {self.message!r}, retryable={self.retryable})"


class InvalidImageError(RecognitionError):
    """The bytes are not a usable image (corrupt, wrong type, too large)."""


class FaceQualityError(RecognitionError):
    """The image decodes but its faces do not meet the request (none, several, too small)."""


class RecognitionUnavailable(RecognitionError):
    """The model or the recognition service cannot answer now; retrying later can help."""

    def __init__(self, message: str, *, error_code: str = ErrorCode.RECOGNITION_UNAVAILABLE,
                 retry_after: int = 30, details: dict[str, Any] | None = None) -> None:
        super().__init__(error_code, message, retryable=True, details=details)
        self.retry_after = retry_after


@dataclass(frozen=True)
class FaceBox:
    """A face's box in pixels of the original (EXIF-rotated) image, dlib's (top, right, bottom, left)."""

    top: int
    right: int
    bottom: int
    left: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    def as_dict(self) -> dict[str, int]:
        return {"top": self.top, "right": self.right, "bottom": self.bottom, "left": self.left}


@dataclass(frozen=True)
class Face:
    """One face found in an image: its 128-d embedding, box and share of the image's area."""

    embedding: np.ndarray  # shape (128,), float64
    box: FaceBox
    face_area_ratio: float


@dataclass(frozen=True)
class EncodedFace(Face):
    """The single face of an enrolment photo, with the image's size (width, height)."""

    image_size: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Detection:
    """Every face of a classroom photo."""

    faces: list[Face]
    image_size: tuple[int, int]  # (width, height)
    processing_time_ms: float


class MatchStatus:
    CONFIDENT = "confident"
    UNCERTAIN = "uncertain"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class FaceMatch:
    """The outcome for one query face: the assigned student (or None), the distance and a status."""

    face_index: int
    student_id: Any | None
    distance: float | None
    status: str


@dataclass(frozen=True)
class ModelInfo:
    """The embedding model, and the detectors that find classroom faces and enrolment faces."""

    name: str
    version: str
    detector: str
    enrolment_detector: str = ""


@dataclass
class Health:
    ok: bool
    backend: str
    model: ModelInfo | None
    models_loaded: bool
    uptime_seconds: float
    details: dict[str, Any] = field(default_factory=dict)


class RecognitionBackend:
    """Base class of recognition backends. Subclasses implement the four operations."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def encode_face(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                    min_face_area_ratio: float | None = None, validate_single: bool = True) -> EncodedFace:
        """Enrolment: the one face of `image`. Raises InvalidImageError or FaceQualityError
        (NO_FACE_FOUND, MULTIPLE_FACES, FACE_TOO_SMALL). `min_face_area_ratio` defaults to the
        backend's MIN_FACE_AREA_RATIO option (0.05)."""
        raise NotImplementedError

    def detect_faces(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                     min_face_area_ratio: float = 0.0, model: str | None = None) -> Detection:
        """Classroom photo: every face with its embedding. Raises InvalidImageError."""
        raise NotImplementedError

    def match_faces(self, embeddings: np.ndarray, candidates: Any, *, confident_threshold: float = 0.50,
                    uncertain_threshold: float = 0.60) -> list[FaceMatch]:
        """One-to-one assignment of query embeddings (n, 128) to candidate students.

        `candidates` is a `recognition.matching.CandidateSet` (or a mapping student id →
        array (k, 128)). A face gets at most one student and a student at most one face."""
        raise NotImplementedError

    def model_info(self) -> ModelInfo:
        raise NotImplementedError

    def health(self) -> Health:
        raise NotImplementedError
