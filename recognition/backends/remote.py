"""The remote backend: a client of the recognition HTTP API (SPEC §2.5).

* one pooled `requests.Session` per backend (keep-alive connections to the service);
* a timeout on every attempt (OPTIONS["TIMEOUT"], cut to what is left of the deadline);
* retries with exponential backoff (1 s, 2 s, 4 s: BACKOFF_SECONDS x 2^n, at most MAX_RETRIES) on
  connection errors and 5xx only (tenacity). A 4xx is the caller's mistake and is never retried; a
  read timeout is not retried either: the service got the request and spent TIMEOUT seconds on it, so
  sending it again would double the load of a service that is already too slow (behind the load
  balancer, an instance that hangs answers 504 from HAProxy, which is retried on another instance);
* one deadline (OPTIONS["DEADLINE"], 45 s) bounds a call with its retries and backoff, below gunicorn's
  worker timeout (60 s): the caller gets a clear 503 and the breaker counts the failure, instead of the
  worker being killed mid-call (a 502 that the breaker never sees);
* a circuit breaker (pybreaker): after BREAKER_THRESHOLD (5) consecutive failed calls (a call fails
  when its retries are exhausted) it opens and calls fail at once with RecognitionUnavailable, without
  touching the network, until BREAKER_RESET_SECONDS (60) have passed; then a trial call goes through
  (half-open) and its success closes the breaker again. Its state lives in Django's configured cache,
  so with a shared cache (Redis) every gunicorn and Celery process sees the same breaker
  (`recognition.backends.breaker`).

The service's error codes come back as the same typed errors the local backend raises.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import requests
import tenacity
from requests.adapters import HTTPAdapter

from recognition import matching
from recognition.backends.base import RecognitionBackend
from recognition.backends.breaker import SharedBreaker
from recognition.errors import ErrorCode, FaceQualityError, InvalidImageError, RecognitionError, RecognitionUnavailable
from recognition.images import DecodedImage, image_to_jpeg
from recognition.results import (
    EMBEDDING_SIZE,
    Detection,
    EncodedFace,
    Face,
    FaceBox,
    FaceMatch,
    Health,
    ModelInfo,
    PosedFace,
)
from school import metrics
from school.middleware import current_request_id

logger = logging.getLogger(__name__)

# How long the service's model name and version are trusted before /health is asked again.
MODEL_INFO_TTL_SECONDS = 300.0
_FACE_CODES = {ErrorCode.NO_FACE_FOUND, ErrorCode.MULTIPLE_FACES, ErrorCode.FACE_TOO_SMALL}
_IMAGE_CODES = {ErrorCode.INVALID_IMAGE, ErrorCode.IMAGE_TOO_LARGE, ErrorCode.UNSUPPORTED_IMAGE_TYPE}
# Connecting to a healthy service on the local network takes milliseconds: fail over quickly.
_CONNECT_TIMEOUT = 3.05


class _Retryable(Exception):
    """A failed attempt; `retry` says whether trying again at once may help (connection error, 5xx)."""

    def __init__(self, error: RecognitionUnavailable, *, retry: bool = True) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry = retry


class HTTPBackend(RecognitionBackend):
    """OPTIONS: URL, API_KEY, TIMEOUT (s), DEADLINE (45 s), MAX_RETRIES (3), BACKOFF_SECONDS (1),
    BREAKER_THRESHOLD (5), BREAKER_RESET_SECONDS (60), CLASSROOM_JITTERS, ENROLMENT_JITTERS, POOL_SIZE (10)."""

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.url = str(options.get("URL", "http://127.0.0.1:8001")).rstrip("/")
        self.api_key = options.get("API_KEY", "")
        self.timeout = float(options.get("TIMEOUT", 30))
        self.deadline = float(options.get("DEADLINE", 45))
        self.max_retries = int(options.get("MAX_RETRIES", 3))
        self.backoff_seconds = float(options.get("BACKOFF_SECONDS", 1.0))
        self.enrolment_jitters = int(options.get("ENROLMENT_JITTERS", 5))
        self.classroom_jitters = int(options.get("CLASSROOM_JITTERS", 1))
        self.min_face_area_ratio = float(options.get("MIN_FACE_AREA_RATIO", 0.05))
        self.breaker = SharedBreaker(self.url, int(options.get("BREAKER_THRESHOLD", 5)),
                                     float(options.get("BREAKER_RESET_SECONDS", 60)))
        self.sleep: Callable[[float], None] = time.sleep  # replaceable in tests
        self.session = requests.Session()
        pool = int(options.get("POOL_SIZE", 10))
        adapter = HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self._model: ModelInfo | None = None

    # --- transport ----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["X-API-Key"] = self.api_key
        request_id = current_request_id()
        if request_id and request_id != "-":  # "-" means: not inside a request
            headers["X-Request-ID"] = request_id
        return headers

    def _attempt(self, method: str, path: str, payload: dict[str, Any] | None, *,
                 timeout: float | None = None) -> dict[str, Any]:
        timeout = self.timeout if timeout is None else timeout
        try:
            response = self.session.request(method, self.url + path, json=payload, headers=self._headers(),
                                            timeout=(min(_CONNECT_TIMEOUT, timeout), timeout))
        except requests.ConnectTimeout as exc:
            raise _Retryable(RecognitionUnavailable(
                f"The recognition service at {self.url} cannot be reached.")) from exc
        except requests.Timeout as exc:  # the service has the request: never resent blindly
            raise _Retryable(RecognitionUnavailable(
                f"The recognition service did not answer within {timeout:g} s.",
                error_code=ErrorCode.RECOGNITION_TIMEOUT), retry=False) from exc
        except requests.RequestException as exc:
            raise _Retryable(RecognitionUnavailable(
                f"The recognition service at {self.url} cannot be reached.")) from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        if response.status_code >= 500:
            retry_after = response.headers.get("Retry-After", "")
            raise _Retryable(RecognitionUnavailable(
                body.get("error") or f"The recognition service failed (HTTP {response.status_code}).",
                error_code=body.get("error_code") or ErrorCode.RECOGNITION_UNAVAILABLE,
                retry_after=int(retry_after) if retry_after.isdigit() else 30))
        if response.status_code >= 400 or not body.get("success", True):
            raise self._typed_error(response.status_code, body)
        return body

    @staticmethod
    def _typed_error(status: int, body: dict[str, Any]) -> RecognitionError:
        code = body.get("error_code") or ErrorCode.RECOGNITION_FAILED
        message = body.get("error") or f"The recognition service refused the request (HTTP {status})."
        details = body.get("details") or {}
        if code in _FACE_CODES or status == 422:
            return FaceQualityError(code, message, details=details)
        if code in _IMAGE_CODES:
            return InvalidImageError(code, message, details=details)
        if status == 401:
            return RecognitionError("RECOGNITION_UNAUTHORIZED",
                                    "The recognition service refused this server's API key (RECOGNITION_API_KEY).")
        return RecognitionError(code, message, details=details)

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        operation = path.rsplit("/", 1)[-1]
        started = time.perf_counter()
        try:
            return self.breaker.call(self._call_within_deadline, method, path, payload)
        except RecognitionError as exc:
            if exc.retryable:
                metrics.RECOGNITION_ERRORS.labels(operation=operation, error_code=exc.error_code).inc()
            raise
        finally:
            metrics.RECOGNITION_LATENCY.labels(operation=operation).observe(time.perf_counter() - started)

    def _call_within_deadline(self, method: str, path: str, payload: dict[str, Any] | None) -> dict[str, Any]:
        """The attempts of one call: retried on connection errors and 5xx with exponential backoff, at
        most MAX_RETRIES times, and never past the deadline (no attempt starts, no backoff sleeps, no
        read waits beyond it)."""
        deadline = time.monotonic() + self.deadline

        def past_deadline(state: tenacity.RetryCallState) -> bool:
            return time.monotonic() + (state.upcoming_sleep or 0) >= deadline - 0.1

        retrying = tenacity.Retrying(
            # tenacity combines any callable with `|` (stop_any); its annotations only name stop_base.
            stop=tenacity.stop_after_attempt(self.max_retries + 1) | past_deadline,  # type: ignore[operator]
            wait=tenacity.wait_exponential(multiplier=self.backoff_seconds, min=0),
            retry=tenacity.retry_if_exception(lambda exc: isinstance(exc, _Retryable) and exc.retry),
            sleep=self.sleep, reraise=True)
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, path, payload,
                                         timeout=max(0.1, min(self.timeout, deadline - time.monotonic())))
        except _Retryable as failed:
            raise failed.error from None
        raise AssertionError("unreachable")

    @staticmethod
    @contextmanager
    def _reading(path: str) -> Iterator[None]:
        """A 200 whose body is not the contract (a proxy's page, another version) is a clear error."""
        try:
            yield
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise RecognitionError(ErrorCode.RECOGNITION_FAILED,
                                   f"The recognition service gave an unexpected answer to {path}: {exc!r}") from exc

    # --- operations ---------------------------------------------------------------------------

    @staticmethod
    def _image_field(image: bytes | DecodedImage) -> str:
        # A photo decoded at a reduced size (a JPEG above the decode budget) is sent as decoded: the boxes
        # that come back are then in the pixels this side keeps, whatever the service's own budget.
        if isinstance(image, DecodedImage):
            data = image.source if image.source and image.scale == 1 else image_to_jpeg(image.pixels, quality=95)
        else:
            data = image
        return base64.b64encode(data).decode("ascii")

    @staticmethod
    def _vector(values: list[float]) -> np.ndarray:
        vector = np.asarray(values, dtype=np.float64)
        if vector.shape != (EMBEDDING_SIZE,):
            raise ValueError(f"an embedding of shape {vector.shape}")
        return vector

    @staticmethod
    def _box(location: dict[str, int]) -> FaceBox:
        return FaceBox(top=location["top"], right=location["right"], bottom=location["bottom"],
                       left=location["left"])

    def encode_face(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                    min_face_area_ratio: float | None = None, validate_single: bool = True) -> EncodedFace:
        body = self._call("POST", "/api/ml/encode-face", {
            "image_base64": self._image_field(image), "validate_single": validate_single,
            "min_face_area_ratio": self.min_face_area_ratio if min_face_area_ratio is None else min_face_area_ratio,
            "num_jitters": num_jitters or self.enrolment_jitters})
        with self._reading("/api/ml/encode-face"):
            size = body["metadata"]["image_dimensions"]
            return EncodedFace(embedding=self._vector(body["embedding"]), box=self._box(body["face_location"]),
                               face_area_ratio=float(body["metadata"]["face_area_ratio"]),
                               image_size=(int(size["width"]), int(size["height"])))

    def face_pose(self, image: bytes | DecodedImage, *, min_face_area_ratio: float | None = None) -> PosedFace:
        body = self._call("POST", "/api/ml/face-pose", {
            "image_base64": self._image_field(image),
            "min_face_area_ratio": self.min_face_area_ratio if min_face_area_ratio is None else min_face_area_ratio})
        with self._reading("/api/ml/face-pose"):
            size = body["metadata"]["image_dimensions"]
            landmarks = np.asarray(body["landmarks"], dtype=np.float64)
            if landmarks.shape != (68, 2):
                raise ValueError(f"landmarks of shape {landmarks.shape}")
            return PosedFace(embedding=self._vector(body["embedding"]), box=self._box(body["face_location"]),
                             face_area_ratio=float(body["metadata"]["face_area_ratio"]),
                             image_size=(int(size["width"]), int(size["height"])), yaw=float(body["yaw"]),
                             landmarks=landmarks)

    def detect_faces(self, image: bytes | DecodedImage, *, num_jitters: int | None = None,
                     min_face_area_ratio: float = 0.0, model: str | None = None) -> Detection:
        started = time.perf_counter()
        payload = {"image_base64": self._image_field(image), "min_face_area_ratio": min_face_area_ratio,
                   "num_jitters": num_jitters or self.classroom_jitters}
        if model:
            payload["model"] = model
        body = self._call("POST", "/api/ml/detect-faces", payload)
        with self._reading("/api/ml/detect-faces"):
            size = body["metadata"]["image_dimensions"]
            faces = [Face(embedding=self._vector(face["embedding"]), box=self._box(face["location"]),
                          face_area_ratio=float(face["face_area_ratio"])) for face in body["faces"]]
            return Detection(faces=faces, image_size=(int(size["width"]), int(size["height"])),
                             processing_time_ms=(time.perf_counter() - started) * 1000)

    def match_faces(self, embeddings: np.ndarray, candidates: Any, *, confident_threshold: float = 0.50,
                    uncertain_threshold: float = 0.60) -> list[FaceMatch]:
        if not isinstance(candidates, matching.CandidateSet):
            candidates = matching.CandidateSet.from_mapping(candidates)
        queries = matching.as_embeddings(embeddings)
        if not len(queries):
            return []
        # JSON object keys and values are strings or numbers: map each id to a string and back.
        by_key: dict[str, Hashable] = {str(sid): sid for sid in candidates.student_ids}
        body = self._call("POST", "/api/ml/batch-match", {
            "detected_faces": [{"embedding": [float(v) for v in q]} for q in queries],
            "candidate_embeddings": [{"student_id": key, "embeddings": [[float(v) for v in row] for row in rows]}
                                     for key, rows in zip(by_key, candidates.as_mapping().values(), strict=True)],
            "confident_threshold": confident_threshold, "uncertain_threshold": uncertain_threshold})
        with self._reading("/api/ml/batch-match"):
            return [FaceMatch(face_index=int(m["face_index"]),
                              student_id=None if m["student_id"] is None else by_key[str(m["student_id"])],
                              distance=m["distance"], status=m["status"]) for m in body["matches"]]

    def model_info(self) -> ModelInfo:
        # Read again after MODEL_INFO_TTL_SECONDS: the service may have been upgraded to another model.
        read_at = getattr(self, "_model_read_at", None)
        if self._model is None or read_at is None or time.monotonic() - read_at > MODEL_INFO_TTL_SECONDS:
            body = self._call("GET", "/health")
            self._model = ModelInfo(name=body.get("model", ""), version=body.get("version", ""),
                                    detector=body.get("detector", ""),
                                    enrolment_detector=body.get("enrolment_detector", ""))
            self._model_read_at = time.monotonic()
        return self._model

    def health(self) -> Health:
        try:
            body = self._attempt("GET", "/health", None, timeout=min(self.timeout, 5.0))
        except _Retryable as retryable:
            return Health(ok=False, backend="remote", model=None, models_loaded=False, uptime_seconds=0.0,
                          details={"url": self.url, "error_code": retryable.error.error_code,
                                   "message": retryable.error.message, "breaker": self.breaker.state})
        except RecognitionError as exc:
            return Health(ok=False, backend="remote", model=None, models_loaded=False, uptime_seconds=0.0,
                          details={"url": self.url, "error_code": exc.error_code, "message": exc.message})
        model = ModelInfo(name=body.get("model", ""), version=body.get("version", ""),
                          detector=body.get("detector", ""), enrolment_detector=body.get("enrolment_detector", ""))
        self._model = model
        return Health(ok=body.get("status") == "ok", backend="remote", model=model,
                      models_loaded=bool(body.get("models_loaded")),
                      uptime_seconds=float(body.get("uptime_seconds", 0.0)),
                      details={"url": self.url, "breaker": self.breaker.state})
