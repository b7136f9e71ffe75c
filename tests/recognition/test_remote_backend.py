"""The remote backend against real HTTP servers on loopback (SPEC §2.5)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from recognition.backends.remote import HTTPBackend
from recognition.errors import ErrorCode, FaceQualityError, InvalidImageError, RecognitionError, RecognitionUnavailable
from school.middleware import request_id_bound
from tests.recognition.servers import Script, django_server, free_port_url, stub_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def service() -> Iterator[str]:
    with django_server() as url:
        yield url


@pytest.fixture(autouse=True)
def _recognition_role_on_loopback(settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.ROOT_URLCONF = "smart_attendance.urls_recognition"


def remote(url: str, **options: Any) -> HTTPBackend:
    backend = HTTPBackend(URL=url, **{"TIMEOUT": 30, "MAX_RETRIES": 3, "BACKOFF_SECONDS": 0.01, **options})
    backend.slept = []
    backend.sleep = backend.slept.append
    return backend


def error(status: int, code: str) -> tuple[int, bytes]:
    return status, json.dumps({"success": False, "error": "scripted", "error_code": code}).encode()


def test_remote_embeddings_and_matches_equal_the_local_ones(service: str, dlib_backend: Any, read: Any) -> None:
    backend = remote(service)
    for photo in ("people/obama/obama.jpg", "people/biden/biden.jpg"):
        here, there = dlib_backend.encode_face(read(photo)), backend.encode_face(read(photo))
        assert np.abs(here.embedding - there.embedding).max() <= 1e-6
        assert here.box == there.box and here.image_size == there.image_size
        assert here.face_area_ratio == pytest.approx(there.face_area_ratio)
    local_detection = dlib_backend.detect_faces(read("probes/obama_and_biden.jpg"))
    remote_detection = backend.detect_faces(read("probes/obama_and_biden.jpg"))
    assert [f.box for f in local_detection.faces] == [f.box for f in remote_detection.faces]
    for mine, theirs in zip(local_detection.faces, remote_detection.faces, strict=True):
        assert np.abs(mine.embedding - theirs.embedding).max() <= 1e-6
    # A photo decoded once by the caller travels as its original bytes, not a re-encoded copy.
    from recognition.images import decode_image

    decoded = backend.detect_faces(decode_image(read("probes/obama_and_biden.jpg")))
    for mine, theirs in zip(local_detection.faces, decoded.faces, strict=True):
        assert np.abs(mine.embedding - theirs.embedding).max() <= 1e-6
    candidates = {7: [dlib_backend.encode_face(read("people/obama/obama.jpg")).embedding],
                  "biden": [dlib_backend.encode_face(read("people/biden/biden.jpg")).embedding]}
    queries = np.array([f.embedding for f in local_detection.faces])
    assert backend.match_faces(queries, candidates) == dlib_backend.match_faces(queries, candidates)
    assert backend.model_info() == dlib_backend.model_info()


def test_remote_errors_come_back_typed(service: str, read: Any) -> None:
    backend = remote(service)
    with pytest.raises(FaceQualityError) as no_face:
        backend.encode_face(read("edge/no_face_dogs.jpg"))
    assert no_face.value.error_code == ErrorCode.NO_FACE_FOUND
    with pytest.raises(InvalidImageError) as bad:
        backend.detect_faces(b"\xff\xd8\xff" + b"\x00" * 40)
    assert bad.value.error_code == ErrorCode.INVALID_IMAGE
    assert backend.slept == []  # a refusal is an answer: never retried
    assert backend.health().ok is True


def test_connection_errors_and_5xx_are_retried_with_exponential_backoff(service: str, read: Any) -> None:
    script = Script([error(500, "RECOGNITION_FAILED"), error(503, "RECOGNITION_UNAVAILABLE")], upstream=service)
    with stub_server(script) as url:
        backend = remote(url, BACKOFF_SECONDS=0.05)
        encoded = backend.encode_face(read("people/obama/obama.jpg"))
    assert encoded.embedding.shape == (128,)
    assert backend.slept == [0.05, 0.1]  # 1 s, 2 s, 4 s in production (BACKOFF_SECONDS=1)
    assert len(script.hits) == 3


def test_retries_stop_after_max_retries(read: Any) -> None:
    script = Script([error(500, "RECOGNITION_FAILED")] * 10)
    with stub_server(script) as url:
        backend = remote(url, MAX_RETRIES=3)
        with pytest.raises(RecognitionUnavailable):
            backend.encode_face(read("people/obama/obama.jpg"))
    assert backend.slept == [0.01, 0.02, 0.04] and len(script.hits) == 4


def test_4xx_is_not_retried(read: Any) -> None:
    script = Script([error(400, "INVALID_IMAGE")])
    with stub_server(script) as url:
        backend = remote(url)
        with pytest.raises(InvalidImageError):
            backend.encode_face(read("people/obama/obama.jpg"))
    assert len(script.hits) == 1 and backend.slept == []


def test_the_breaker_opens_fails_fast_and_half_opens(service: str, read: Any) -> None:
    script = Script([error(500, "RECOGNITION_FAILED")] * 5, upstream=service)
    with stub_server(script) as url:
        backend = remote(url, MAX_RETRIES=0, BREAKER_THRESHOLD=5, BREAKER_RESET_SECONDS=0.5)
        for _ in range(5):
            with pytest.raises(RecognitionUnavailable):
                backend.health_check = backend.encode_face(read("people/obama/obama.jpg"))
        assert backend.breaker.state == "open" and len(script.hits) == 5
        started = time.perf_counter()
        with pytest.raises(RecognitionUnavailable) as fast:
            backend.encode_face(read("people/obama/obama.jpg"))
        assert time.perf_counter() - started < 0.05
        assert fast.value.details == {"breaker": "open"} and fast.value.retry_after >= 1
        assert len(script.hits) == 5  # the open breaker did not touch the network
        time.sleep(0.6)
        assert backend.breaker.state == "half-open"
        assert backend.encode_face(read("people/obama/obama.jpg")).embedding.shape == (128,)  # the trial
        assert backend.breaker.state == "closed" and len(script.hits) == 6


def test_a_failed_trial_reopens_the_breaker(read: Any) -> None:
    backend = remote(free_port_url(), MAX_RETRIES=0, BREAKER_THRESHOLD=2, BREAKER_RESET_SECONDS=0.2)
    for _ in range(2):
        with pytest.raises(RecognitionUnavailable):
            backend.encode_face(read("people/obama/obama.jpg"))
    time.sleep(0.25)
    with pytest.raises(RecognitionUnavailable) as trial:
        backend.encode_face(read("people/obama/obama.jpg"))
    assert trial.value.details == {}  # the trial really went out (connection refused)
    assert backend.breaker.state == "open"


def test_a_slow_service_times_out(read: Any) -> None:
    script = Script([2.0])
    with stub_server(script) as url:
        backend = remote(url, TIMEOUT=0.3, MAX_RETRIES=0)
        started = time.perf_counter()
        with pytest.raises(RecognitionUnavailable) as caught:
            backend.encode_face(read("people/obama/obama.jpg"))
    assert caught.value.error_code == ErrorCode.RECOGNITION_TIMEOUT
    assert time.perf_counter() - started < 1.5


def test_a_closed_port_is_unavailable_and_unhealthy(read: Any) -> None:
    backend = remote(free_port_url(), MAX_RETRIES=1)
    with pytest.raises(RecognitionUnavailable) as caught:
        backend.detect_faces(read("probes/obama1.jpg"))
    assert caught.value.error_code == ErrorCode.RECOGNITION_UNAVAILABLE and caught.value.retryable
    assert backend.slept == [0.01]
    assert backend.health().ok is False


def test_the_api_key_and_request_id_are_sent(service: str, settings: Any, read: Any) -> None:
    settings.RECOGNITION_API_KEY = "k3y"
    script = Script(upstream=service)
    with request_id_bound("req-42"), stub_server(script) as url:
        assert remote(url, API_KEY="k3y").encode_face(read("people/obama/obama.jpg")).embedding.shape == (128,)
        with pytest.raises(RecognitionError) as refused:
            remote(url, API_KEY="wrong").encode_face(read("people/obama/obama.jpg"))
    assert refused.value.error_code == "RECOGNITION_UNAUTHORIZED" and not refused.value.retryable
    headers = script.hits[0][2]
    assert headers["X-API-Key"] == "k3y" and headers["X-Request-ID"] == "req-42"


def test_an_answer_outside_the_contract_is_a_clear_error(read: Any) -> None:
    # A field of the wrong type, a proxy's HTML page, JSON that is not an object (issue 9, item 22).
    script = Script([(200, b'{"success": true, "faces": "nope"}'), (200, b"<html>proxy</html>"),
                     (200, b"[1, 2, 3]"), (200, b'"a string"')])
    with stub_server(script) as url:
        backend = remote(url)
        for _ in range(4):
            with pytest.raises(RecognitionError) as caught:
                backend.detect_faces(read("probes/obama1.jpg"))
            assert caught.value.error_code == ErrorCode.RECOGNITION_FAILED
    assert backend.slept == []


def test_one_deadline_bounds_a_call_with_its_retries(read: Any) -> None:
    # Without the deadline: 11 attempts and 0.3 + 0.6 + 1.2 + ... s of backoff (minutes).
    script = Script([error(503, "RECOGNITION_UNAVAILABLE")] * 20)
    with stub_server(script) as url:
        backend = remote(url, MAX_RETRIES=10, BACKOFF_SECONDS=0.3, DEADLINE=1.0)
        backend.sleep = time.sleep
        started = time.perf_counter()
        with pytest.raises(RecognitionUnavailable):
            backend.encode_face(read("people/obama/obama.jpg"))
        elapsed = time.perf_counter() - started
    assert elapsed < 1.2
    assert 2 <= len(script.hits) <= 3  # 0 s, 0.3 s, 0.9 s; the next backoff would end past the deadline


def test_a_hanging_service_is_cut_at_the_deadline(read: Any) -> None:
    script = Script([3.0])
    with stub_server(script) as url:
        backend = remote(url, TIMEOUT=30, MAX_RETRIES=3, DEADLINE=0.5)
        started = time.perf_counter()
        with pytest.raises(RecognitionUnavailable) as caught:
            backend.encode_face(read("people/obama/obama.jpg"))
    assert time.perf_counter() - started < 1.5  # cut at 0.5 s, not after the 3 s hang (margin: a busy machine)
    assert caught.value.error_code == ErrorCode.RECOGNITION_TIMEOUT


def test_a_read_timeout_is_not_retried(read: Any) -> None:
    script = Script([1.0, 1.0, 1.0, 1.0])
    with stub_server(script) as url:
        backend = remote(url, TIMEOUT=0.3, MAX_RETRIES=3)
        with pytest.raises(RecognitionUnavailable) as caught:
            backend.encode_face(read("people/obama/obama.jpg"))
    assert caught.value.error_code == ErrorCode.RECOGNITION_TIMEOUT
    assert len(script.hits) == 1 and backend.slept == []


def test_the_default_deadline_is_below_gunicorns_worker_timeout() -> None:
    from django.conf import settings

    options = settings.RECOGNITION["OPTIONS"]
    assert options["DEADLINE"] < 60  # gunicorn --timeout 60 (README, scripts/stack)
    assert HTTPBackend(**options).deadline == options["DEADLINE"]


def test_the_remote_pose_equals_the_local_one(service: str, dlib_backend: Any, read: Any) -> None:
    """The liveness step's landmarks and yaw come back from the service as the local backend computes them."""
    backend = remote(service)
    here, there = dlib_backend.face_pose(read("probes/obama1.jpg")), backend.face_pose(read("probes/obama1.jpg"))
    assert np.abs(here.embedding - there.embedding).max() <= 1e-6
    assert here.box == there.box and here.yaw == pytest.approx(there.yaw) and here.yaw > 15
    assert np.array_equal(here.landmarks, there.landmarks)
    with pytest.raises(FaceQualityError) as refused:
        backend.face_pose(read("edge/no_face_dogs.jpg"))
    assert refused.value.error_code == ErrorCode.NO_FACE_FOUND
