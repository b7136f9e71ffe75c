"""The recognition HTTP API (SPEC §2.4): the local dlib backend behind JSON, for other processes.

This process *is* the recognition service, so these views always use an in-process DlibBackend,
never `get_backend()` (which may be the remote backend pointing here). Errors keep the reference
contract: `{"success": false, "error": ..., "error_code": ...}`.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from recognition import matching
from recognition.backends.local import DlibBackend
from recognition.errors import ErrorCode, FaceQualityError, InvalidImageError, RecognitionError, RecognitionUnavailable
from recognition.results import EMBEDDING_SIZE
from school.api.throttling import RecognitionAPIThrottle

SERVICE_NAME = "smart-attendance-recognition"
_started = time.monotonic()
_backend_lock = threading.Lock()
_backend: DlibBackend | None = None


def service_backend() -> DlibBackend:
    global _backend
    if _backend is None:
        with _backend_lock:
            if _backend is None:
                _backend = DlibBackend(**settings.RECOGNITION.get("OPTIONS", {}))
    return _backend


class BadRequest(RecognitionError):
    def __init__(self, message: str) -> None:
        super().__init__(ErrorCode.INVALID_REQUEST, message)


class TooLarge(RecognitionError):
    """A request over one of the cost caps (RECOGNITION_API_LIMITS): 413."""

    def __init__(self, message: str, *, limit: int, got: int) -> None:
        super().__init__("REQUEST_TOO_LARGE", message, details={"limit": limit, "got": got})


def _limit(name: str) -> Any:
    return settings.RECOGNITION_API_LIMITS[name]


def _error(exc: RecognitionError) -> JsonResponse:
    if isinstance(exc, RecognitionUnavailable):
        status = 503
    elif isinstance(exc, FaceQualityError):
        status = 422
    elif isinstance(exc, TooLarge) or exc.error_code == ErrorCode.IMAGE_TOO_LARGE:
        status = 413
    elif isinstance(exc, InvalidImageError | BadRequest) or exc.error_code == ErrorCode.INVALID_REQUEST:
        status = 400
    else:
        status = 500
    body = {"success": False, "error": exc.message, "error_code": exc.error_code}
    if exc.details:
        body["details"] = exc.details
    response = JsonResponse(body, status=status)
    if isinstance(exc, RecognitionUnavailable):
        response["Retry-After"] = str(exc.retry_after)
    return response


def ml_endpoint(view: Callable[[dict[str, Any]], dict[str, Any]]) -> Callable[[HttpRequest], JsonResponse]:
    """JSON in, JSON out, the API key checked, typed errors mapped to the contract's shape."""

    @csrf_exempt
    @require_POST
    def wrapper(request: HttpRequest) -> JsonResponse:
        expected = settings.RECOGNITION_API_KEY
        if expected and not hmac.compare_digest(request.headers.get("X-API-Key", "").encode(), expected.encode()):
            return JsonResponse({"success": False, "error": "A valid X-API-Key header is required.",
                                 "error_code": "UNAUTHORIZED"}, status=401)
        throttle = RecognitionAPIThrottle()
        if not throttle.allow_request(request, None):
            response = JsonResponse({"success": False, "error": "Too many requests to the recognition service.",
                                     "error_code": "RATE_LIMITED"}, status=429)
            response["Retry-After"] = str(throttle.retry_after())
            return response
        try:
            try:
                body = request.body
            except RequestDataTooBig:
                raise InvalidImageError(ErrorCode.IMAGE_TOO_LARGE, "The request body is too large.") from None
            try:
                payload = json.loads(body or b"null")
            except (ValueError, UnicodeDecodeError):
                raise BadRequest("The body must be JSON.") from None
            if not isinstance(payload, dict):
                raise BadRequest("The body must be a JSON object.")
            return JsonResponse({"success": True, **view(payload)})
        except RecognitionError as exc:
            return _error(exc)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


# --- request field helpers --------------------------------------------------------------------


def _image(payload: dict[str, Any]) -> bytes:
    value = payload.get("image_base64")
    if not isinstance(value, str) or not value:
        raise BadRequest("image_base64 is required: the image as a base64 string.")
    if value.startswith("data:"):
        value = value.partition(",")[2]  # a data URL from a browser
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("image_base64 is not valid base64.") from None


def _number(payload: dict[str, Any], name: str, default: float, *, low: float, high: float) -> float:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise BadRequest(f"{name} must be a number between {low} and {high}.")
    return float(value)


def _integer(payload: dict[str, Any], name: str, default: int, *, low: int, high: int) -> int:
    value = payload.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise BadRequest(f"{name} must be an integer between {low} and {high}.")
    return value


def _flag(payload: dict[str, Any], name: str, default: bool) -> bool:
    value = payload.get(name, default)
    if not isinstance(value, bool):
        raise BadRequest(f"{name} must be true or false.")
    return value


def _embedding(value: Any, name: str) -> list[float]:
    if (not isinstance(value, list) or len(value) != EMBEDDING_SIZE
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)):
        raise BadRequest(f"{name} must be a list of {EMBEDDING_SIZE} numbers.")
    return value


def _jitters(payload: dict[str, Any], default: int) -> int:
    return _integer(payload, "num_jitters", default, low=1, high=_limit("MAX_JITTERS"))


def _at_most(value: list, name: str, limit: int) -> None:
    """Counts are checked before any element is read: the cost of a call is known up front."""
    if len(value) > limit:
        raise TooLarge(f"{name} has {len(value)} items; the limit is {limit}.", limit=limit, got=len(value))


def _candidates(payload: dict[str, Any]) -> matching.CandidateSet:
    value = payload.get("candidate_embeddings")
    if not isinstance(value, list):
        raise BadRequest("candidate_embeddings must be a list of {student_id, embeddings}.")
    _at_most(value, "candidate_embeddings", _limit("MAX_CANDIDATES"))
    per_candidate = _limit("MAX_EMBEDDINGS_PER_CANDIDATE")
    mapping: dict[Any, list[list[float]]] = {}
    for index, candidate in enumerate(value):
        if not isinstance(candidate, dict) or "student_id" not in candidate:
            raise BadRequest(f"candidate_embeddings[{index}] needs student_id and embeddings.")
        student_id = candidate["student_id"]
        if not isinstance(student_id, str | int) or isinstance(student_id, bool):
            raise BadRequest(f"candidate_embeddings[{index}].student_id must be a string or an integer.")
        embeddings = candidate.get("embeddings")
        if not isinstance(embeddings, list):
            raise BadRequest(f"candidate_embeddings[{index}].embeddings must be a list of embeddings.")
        rows = mapping.setdefault(student_id, [])
        # Counted per student, so repeating a student_id does not get round the cap.
        _at_most(rows + embeddings, f"candidate_embeddings[{index}].embeddings", per_candidate)
        rows.extend(_embedding(e, f"candidate_embeddings[{index}].embeddings[{k}]") for k, e in enumerate(embeddings))
    return matching.CandidateSet.from_mapping(mapping)


def _thresholds(payload: dict[str, Any], confident: float, uncertain: float) -> tuple[float, float]:
    confident = _number(payload, "confident_threshold", confident, low=0.01, high=2.0)
    uncertain = _number(payload, "uncertain_threshold", uncertain, low=0.01, high=2.0)
    if confident > uncertain:
        raise BadRequest("confident_threshold must not exceed uncertain_threshold.")
    return confident, uncertain


def _floats(vector: np.ndarray) -> list[float]:
    # Python floats of the float64 values: JSON carries them exactly (shortest round-trip repr).
    return [float(v) for v in vector]


# --- endpoints --------------------------------------------------------------------------------


@ml_endpoint
def encode_face(payload: dict[str, Any]) -> dict[str, Any]:
    """POST /api/ml/encode-face: the one face of an enrolment photo."""
    image = _image(payload)
    encoded = service_backend().encode_face(
        image, validate_single=_flag(payload, "validate_single", True),
        min_face_area_ratio=_number(payload, "min_face_area_ratio", 0.05, low=0.0, high=1.0),
        num_jitters=_jitters(payload, 5))
    return {"embedding": _floats(encoded.embedding), "face_location": encoded.box.as_dict(),
            "metadata": {"face_area_ratio": encoded.face_area_ratio,
                         "image_dimensions": {"width": encoded.image_size[0], "height": encoded.image_size[1]}}}


@ml_endpoint
def face_pose(payload: dict[str, Any]) -> dict[str, Any]:
    """POST /api/ml/face-pose: the one face of a selfie frame with dlib's 68 landmarks and its yaw
    (self check-in's liveness step)."""
    posed = service_backend().face_pose(
        _image(payload), min_face_area_ratio=_number(payload, "min_face_area_ratio", 0.05, low=0.0, high=1.0))
    return {"embedding": _floats(posed.embedding), "face_location": posed.box.as_dict(), "yaw": posed.yaw,
            "landmarks": [[float(x), float(y)] for x, y in posed.landmarks],
            "metadata": {"face_area_ratio": posed.face_area_ratio,
                         "image_dimensions": {"width": posed.image_size[0], "height": posed.image_size[1]}}}


@ml_endpoint
def detect_faces(payload: dict[str, Any]) -> dict[str, Any]:
    """POST /api/ml/detect-faces: every face of a classroom photo with its embedding."""
    image = _image(payload)
    model = payload.get("model", service_backend().detector)
    allowed = _limit("MODELS")
    if model not in allowed:
        raise BadRequest(f"model must be one of: {', '.join(allowed)} (this service's detectors).")
    # 0 by default, unlike the reference system's 0.04: in a classroom photo every face covers far
    # less than 4% of the picture, so 0.04 would drop them all (README, "Recognition API").
    detection = service_backend().detect_faces(
        image, min_face_area_ratio=_number(payload, "min_face_area_ratio", 0.0, low=0.0, high=1.0),
        num_jitters=_jitters(payload, 3), model=model)
    return {"faces": [{"embedding": _floats(face.embedding), "location": face.box.as_dict(),
                       "face_area_ratio": face.face_area_ratio} for face in detection.faces],
            "count": len(detection.faces),
            "metadata": {"image_dimensions": {"width": detection.image_size[0], "height": detection.image_size[1]},
                         "processing_time_ms": round(detection.processing_time_ms, 1)}}


@ml_endpoint
def match_faces(payload: dict[str, Any]) -> dict[str, Any]:
    """POST /api/ml/match-faces: the best candidate for one embedding.

    `confidence` is 1 - distance / threshold, clipped to [0, 1]: 1 for an identical face, 0 at the
    threshold and beyond."""
    query = _embedding(payload.get("query_embedding"), "query_embedding")
    candidates = _candidates(payload)
    threshold = _number(payload, "threshold", 0.6, low=0.01, high=2.0)
    confident = min(matching.DEFAULT_CONFIDENT_THRESHOLD, threshold)
    distances = candidates.distances(np.asarray([query]))[0]
    body: dict[str, Any] = {"match": None}
    if len(candidates):
        best = int(np.argmin(distances))
        distance = float(distances[best])
        status = matching.status_for(distance, confident, threshold)
        body["match"] = {
            "student_id": candidates.student_ids[best] if status != "unknown" else None,
            "distance": distance, "confidence": float(np.clip(1.0 - distance / threshold, 0.0, 1.0)),
            "status": "no_match" if status == "unknown" else status}
    if _flag(payload, "return_all_distances", False):
        body["all_distances"] = [{"student_id": sid, "distance": float(d)}
                                 for sid, d in zip(candidates.student_ids, distances, strict=True)]
    return body


@ml_endpoint
def batch_match(payload: dict[str, Any]) -> dict[str, Any]:
    """POST /api/ml/batch-match: one-to-one assignment of a photo's faces to candidates."""
    faces = payload.get("detected_faces")
    if not isinstance(faces, list):
        raise BadRequest("detected_faces must be a list of {embedding}.")
    _at_most(faces, "detected_faces", _limit("MAX_FACES"))
    queries = [_embedding(face.get("embedding") if isinstance(face, dict) else None,
                          f"detected_faces[{index}].embedding") for index, face in enumerate(faces)]
    confident, uncertain = _thresholds(payload, matching.DEFAULT_CONFIDENT_THRESHOLD,
                                       matching.DEFAULT_UNCERTAIN_THRESHOLD)
    matches = matching.match_faces(np.asarray(queries).reshape(-1, EMBEDDING_SIZE), _candidates(payload),
                                   confident_threshold=confident, uncertain_threshold=uncertain)
    return {"matches": [{"face_index": m.face_index, "student_id": m.student_id, "distance": m.distance,
                         "status": m.status} for m in matches]}


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """GET /health: open to load balancers (no API key)."""
    status = service_backend().health()
    info = status.model
    return JsonResponse({
        "status": "ok" if status.ok else "unavailable", "service": SERVICE_NAME,
        "version": info.version if info else "", "model": info.name if info else "",
        "detector": info.detector if info else "",
        "enrolment_detector": info.enrolment_detector if info else "", "models_loaded": status.models_loaded,
        "uptime_seconds": round(time.monotonic() - _started, 1),
    }, status=200 if status.ok else 503)
