"""The recognition engine's typed errors: domain errors (school.errors) with the engine's stable codes,
shared by the backends, the image decoder, the recognition HTTP API and the REST API."""

from __future__ import annotations

from typing import Any

from school.errors import DomainError, ErrorKind


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
    FACE_UNEVENLY_LIT = "FACE_UNEVENLY_LIT"
    FACE_LOW_RESOLUTION = "FACE_LOW_RESOLUTION"
    FACE_TURNED = "FACE_TURNED"
    FACE_TILTED = "FACE_TILTED"
    FACE_NOT_LEVEL = "FACE_NOT_LEVEL"
    INVALID_REQUEST = "INVALID_REQUEST"
    MODEL_UNAVAILABLE = "MODEL_UNAVAILABLE"
    RECOGNITION_UNAVAILABLE = "RECOGNITION_UNAVAILABLE"
    RECOGNITION_TIMEOUT = "RECOGNITION_TIMEOUT"
    RECOGNITION_FAILED = "RECOGNITION_FAILED"


_IMAGE_KINDS = {ErrorCode.IMAGE_TOO_LARGE: ErrorKind.TOO_LARGE,
                ErrorCode.UNSUPPORTED_IMAGE_TYPE: ErrorKind.UNSUPPORTED}


class RecognitionError(DomainError):
    """A recognition failure with a stable `error_code`.

    `retryable` says whether trying again later can help (the service is down, a timeout) or not
    (the photo has no face). A bad request is INVALID, anything else the model got wrong UPSTREAM.
    """

    def __init__(self, error_code: str, message: str, *, retryable: bool = False,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message, error_code=error_code, details=details or {}, kind=self._kind_of(error_code))
        self.retryable = retryable
        self.details: dict[str, Any] = details or {}

    @staticmethod
    def _kind_of(error_code: str) -> ErrorKind:
        return ErrorKind.INVALID if error_code == ErrorCode.INVALID_REQUEST else ErrorKind.UPSTREAM

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.error_code!r}, {self.message!r}, retryable={self.retryable})"


class InvalidImageError(RecognitionError):
    """The bytes are not a usable image (corrupt, wrong type, too large)."""

    @staticmethod
    def _kind_of(error_code: str) -> ErrorKind:
        return _IMAGE_KINDS.get(error_code, ErrorKind.INVALID)


class FaceQualityError(RecognitionError):
    """The image decodes but its faces do not meet the request (none, several, too small)."""

    @staticmethod
    def _kind_of(error_code: str) -> ErrorKind:
        return ErrorKind.UNPROCESSABLE


class RecognitionUnavailable(RecognitionError):
    """The model or the recognition service cannot answer now; retrying later can help."""

    def __init__(self, message: str, *, error_code: str = ErrorCode.RECOGNITION_UNAVAILABLE,
                 retry_after: int = 30, details: dict[str, Any] | None = None) -> None:
        super().__init__(error_code, message, retryable=True, details=details)
        self.retry_after: int = retry_after

    @staticmethod
    def _kind_of(error_code: str) -> ErrorKind:
        return ErrorKind.UNAVAILABLE
