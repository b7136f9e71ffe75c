"""What the recognition engine returns: boxes, faces with their embeddings, detections, matches, the
model's description and health. Plain values shared by the backends, the detectors, matching and the
recognition HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
class PosedFace(EncodedFace):
    """The single face of a picture with its pose: dlib's 68 landmarks (x, y) and the yaw in degrees
    estimated from them (`recognition.pose`)."""

    yaw: float = 0.0
    landmarks: np.ndarray = field(default_factory=lambda: np.zeros((68, 2)))


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
    TOO_SMALL = "too_small"  # found, but too few pixels for the encoder: never matched


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
