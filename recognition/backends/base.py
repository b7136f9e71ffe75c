"""The recognition backend interface, its result types and its typed errors.

Like Django's e-mail backends: a base class here, sibling implementations (`local`, `remote`),
and a cached factory (`recognition.backends.get_backend`) that builds the one configured in
`settings.RECOGNITION`. Every caller talks to this interface only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

# The interface's errors live in recognition.errors (the image decoder raises them too); callers import
# them from either place.
from recognition.errors import (  # noqa: F401
    ErrorCode,
    FaceQualityError,
    InvalidImageError,
    RecognitionError,
    RecognitionUnavailable,
)

if TYPE_CHECKING:
    from recognition.images import DecodedImage

EMBEDDING_SIZE = 128


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
