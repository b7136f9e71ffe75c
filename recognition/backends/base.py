"""The recognition backend interface (its result types are in recognition.results, its errors in
recognition.errors).

Like Django's e-mail backends: a base class here, sibling implementations (`local`, `remote`),
and a cached factory (`recognition.backends.get_backend`) that builds the one configured in
`settings.RECOGNITION`. Every caller talks to this interface only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from recognition.results import Detection, EncodedFace, FaceBox, FaceMatch, Health, ModelInfo, PosedFace

if TYPE_CHECKING:
    from recognition.images import DecodedImage


class RecognitionBackend:
    """Base class of recognition backends. Subclasses implement the operations."""

    def __init__(self, **options: Any) -> None:
        self.options = options

    def encode_face(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                    min_face_area_ratio: float | None = None, validate_single: bool = True) -> EncodedFace:
        """Enrolment: the one face of `image`. Raises InvalidImageError or FaceQualityError
        (NO_FACE_FOUND, MULTIPLE_FACES, FACE_TOO_SMALL). `min_face_area_ratio` defaults to the
        backend's MIN_FACE_AREA_RATIO option (0.05)."""
        raise NotImplementedError

    def face_pose(self, image: bytes | DecodedImage, *, min_face_area_ratio: float | None = None) -> PosedFace:
        """Liveness: the one face of a selfie frame with its embedding (one jitter), dlib's 68 landmarks
        and the yaw estimated from them (`recognition.pose`). Raises like `encode_face`."""
        raise NotImplementedError

    def detect_faces(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                     min_face_area_ratio: float = 0.0, model: str | None = None) -> Detection:
        """Classroom photo: every face with its embedding. Raises InvalidImageError."""
        raise NotImplementedError

    # Whether `locate_faces` and `encode_faces` do half of `detect_faces` each (live mode then encodes
    # only the faces it cannot follow from the previous frame); else callers use `detect_faces`.
    encodes_separately = False

    def locate_faces(self, image: bytes | DecodedImage, *, model: str | None = None) -> list[FaceBox]:
        """The boxes `detect_faces` would return for `image`, without encoding them."""
        raise NotImplementedError

    def encode_faces(self, image: bytes | DecodedImage, boxes: list[FaceBox], *,
                     num_jitters: int | None = None) -> list[np.ndarray]:
        """The embeddings of the faces in `boxes` (as `detect_faces` encodes them), one per box."""
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
