"""Fault tests of the production topology (SPEC §7): the product under gunicorn with Redis as its cache
and broker (REDIS_URL, CELERY_BROKER_URL, as the README advises), real Celery workers, the remote
backend against a recognition server on loopback. Redis and workers are killed with `kill -9`; every
request is answered (never 500) and every uploaded photo ends done."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from PIL import Image

from attendance.models import AttendanceRecord, DetectedFace, SessionPhoto
from tests.attendance.live_frames import frame_jpeg
from tests.factories import PASSWORD
from tests.recognition.servers import Script, django_server, stub_server
from tests.stack import ROOT, Redis, celery_worker, database_url, kill_group, wait_for, web_server

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

API_KEY = "stack-test-key"


class Web:
    """Requests to the product over HTTP, each status counted (the figures of the lead's note)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.statuses: Counter[str] = Counter()
        self.requests = 0

    def _count(self, what: str, response: requests.Response) -> requests.Response:
        self.requests += 1
        self.statuses[f"{what} {response.status_code}"] += 1
        # A dead dependency is a 503 (readiness), never another 5xx.
        assert response.status_code < 500 or response.status_code == 503, f"{what}: {response.text[:300]}"
        return response

    def login_page(self, username: str) -> requests.Session:
        browser = requests.Session()
        self._count("login page GET", browser.get(f"{self.url}/accounts/login/", timeout=30))
        answer = self._count("login page POST", browser.post(
            f"{self.url}/accounts/login/", allow_redirects=False, timeout=30,
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]}))
        assert answer.status_code == 302, answer.text[:300]  # logged in
        return browser

    def token(self, username: str) -> dict[str, str]:
        answer = self._count("API token", requests.post(f"{self.url}/api/v1/auth/token/", timeout=30,
                                                        json={"username": username, "password": PASSWORD}))
        assert answer.status_code == 200, answer.text[:300]
        return {"Authorization": f"Bearer {answer.json()['access']}"}

    def upload_api(self, headers: dict[str, str], session_id: int, image: bytes) -> int:
        answer = self._count("upload API", requests.post(
            f"{self.url}/api/v1/sessions/{session_id}/photos/", headers=headers, timeout=30,
            files={"image": ("photo.jpg", image, "image/jpeg")}))
        assert answer.status_code == 202, answer.text[:300]  # stored and queued
        return int(answer.json()["photo"]["id"])

    def upload_page(self, browser: requests.Session, session_id: int, image: bytes) -> int:
        answer = self._count("upload page", browser.post(
            f"{self.url}/sessions/{session_id}/photos/", timeout=30,
            files={"image": ("photo.jpg", image, "image/jpeg")},
            headers={"Accept": "application/json", "X-CSRFToken": browser.cookies["csrftoken"]}))
        assert answer.status_code == 202, answer.text[:300]
        return int(answer.json()["status_url"].rstrip("/").rsplit("/", 1)[1])  # /api/v1/photos/<id>/

    def session(self, headers: dict[str, str], course_id: int, label: str) -> int:
        answer = self._count("session create", requests.post(
            f"{self.url}/api/v1/courses/{course_id}/sessions/", headers=headers, timeout=30,
            json={"date": "2026-11-23", "label": label}))
        assert answer.status_code == 201, answer.text[:300]
        return int(answer.json()["id"])


def variant(photo: Path, number: int) -> bytes:
    """The photo re-encoded: the same faces, another file (a new upload, not a duplicate)."""
    buffer = io.BytesIO()
    Image.open(photo).convert("RGB").save(buffer, format="JPEG", quality=95 - number)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """collectstatic once: gunicorn runs with DEBUG off, as in production (WhiteNoise's manifest)."""
    root = tmp_path_factory.mktemp("static")
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, check=True,
                   env={**os.environ, "DEBUG": "false", "STATIC_ROOT": str(root)}, timeout=300)
    return root


@pytest.fixture
def product(settings: Any, tmp_path: Path, static_root: Path) -> Iterator[dict[str, Any]]:
    """Redis (killable), a recognition server, the product under gunicorn; workers are the test's."""
    settings.RECOGNITION_API_KEY = API_KEY  # this process serves /api/ml/* (the recognition server)
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.ROOT_URLCONF = "tests.stack_urls"
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    (tmp_path / "redis").mkdir()
    redis = Redis(tmp_path / "redis")
    redis.start()
    script = Script()
    try:
        with django_server() as service:
            script.upstream = service
            with stub_server(script) as recognition_url:
                env = {
                    "DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT), "SECRET_KEY": "test-only",
                    "DEBUG": "false", "ALLOWED_HOSTS": "127.0.0.1", "STATIC_ROOT": str(static_root),
                    "REDIS_URL": f"{redis.url}/1", "CELERY_BROKER_URL": f"{redis.url}/0",
                    "RECOGNITION_BACKEND": "remote", "RECOGNITION_URL": recognition_url,
                    "RECOGNITION_API_KEY": API_KEY, "RECOGNITION_MAX_RETRIES": "0",
                    "RECOGNITION_BREAKER_THRESHOLD": "1000",
                    "PHOTO_RETRY_BASE_SECONDS": "0.5", "PHOTO_RETRY_MAX_SECONDS": "1",
                    "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                    "EMAIL_FILE_PATH": str(tmp_path / "mail"),
                }
                with web_server(env, tmp_path / "web.log") as url:
                    yield {"redis": redis, "env": env, "web": Web(url), "script": script, "tmp": tmp_path}
    finally:
        redis.stop()


@pytest.fixture
def teacher(teacher: Any, settings: Any) -> Any:
    """The teacher, with a password hash gunicorn's settings verify (the tests' MD5 is not among them)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    teacher.set_password(PASSWORD)
    teacher.save(update_fields=["password"])
    return teacher


def photo_states(ids: list[int]) -> Counter[str]:
    return Counter(SessionPhoto.objects.filter(pk__in=ids).values_list("state", flat=True))


def test_with_redis_dead_logins_uploads_and_live_mode_answer_and_the_photos_are_done_later(
        product: dict[str, Any], teacher: Any, enrolled_class: Any, faces: Path) -> None:
    web: Web = product["web"]
    headers = web.token(teacher.username)
    photos_session = web.session(headers, enrolled_class.course.pk, "P1")
    live_session = web.session(headers, enrolled_class.course.pk, "P2")

    product["redis"].kill()  # the cache and the broker

    browser = web.login_page(teacher.username)
    headers = web.token(teacher.username)
    uploaded = [web.upload_api(headers, photos_session, enrolled_class.bytes("probes/obama_and_biden.jpg")),
                web.upload_page(browser, photos_session, enrolled_class.bytes("probes/obama1.jpg"))]
    assert photo_states(uploaded) == {"queued": 2}  # stored, with their raw uploads
    assert all(photo.upload for photo in SessionPhoto.objects.filter(pk__in=uploaded))
    # Live mode: its one-frame-at-a-time guard is in the cache.
    started = web._count("live start", requests.post(f"{web.url}/api/v1/sessions/{live_session}/live/",
                                                     headers=headers, timeout=30))
    assert started.status_code == 201, started.text[:300]
    frame = web._count("live frame", requests.post(
        f"{web.url}/api/v1/sessions/{live_session}/live/frames/", headers=headers, timeout=60,
        files={"image": ("frame.jpg", frame_jpeg(faces, ("obama", "biden"), 1), "image/jpeg")}))
    assert frame.status_code == 200, frame.text[:300]
    ready = web._count("readyz", requests.get(f"{web.url}/readyz", timeout=30))
    assert ready.status_code == 503 and {"cache", "broker"} <= set(ready.json()["failing"])
    assert "uses its local cache" in (product["tmp"] / "web.log").read_text()  # logged

    product["redis"].start()  # Redis is back (empty: nothing was persisted), and a worker with its beat
    back = time.monotonic()
    with celery_worker(product["env"], product["tmp"] / "worker.log", beat_schedule=product["tmp"] / "beat"):
        wait_for(lambda: photo_states(uploaded) == {"done": 2}, 120, "the photos stored during the outage")
    print(f"\nRedis outage: {web.requests} requests, statuses {dict(web.statuses)}; photos done "
          f"{time.monotonic() - back:.1f} s after Redis and a worker were back")
    assert DetectedFace.objects.filter(photo_id=uploaded[0]).count() == 3
    present = set(AttendanceRecord.objects.filter(session_id=photos_session, status="present")
                  .values_list("student_id", flat=True))
    assert present == {enrolled_class.students["obama"].pk, enrolled_class.students["biden"].pk}
    assert web._count("readyz", requests.get(f"{web.url}/readyz", timeout=30)).status_code == 200


def test_a_burst_of_uploads_and_logins_survives_redis_then_the_worker_being_killed(
        product: dict[str, Any], teacher: Any, enrolled_class: Any, faces: Path) -> None:
    web: Web = product["web"]
    redis: Redis = product["redis"]
    script: Script = product["script"]
    headers = web.token(teacher.username)
    session_id = web.session(headers, enrolled_class.course.pk, "P1")
    uploaded: list[int] = []
    photo = faces / "probes/obama1.jpg"

    def burst_round(number: int) -> None:
        browser = web.login_page(teacher.username)
        token = web.token(teacher.username)
        uploaded.append(web.upload_api(token, session_id, variant(photo, 2 * number)))
        uploaded.append(web.upload_page(browser, session_id, variant(photo, 2 * number + 1)))

    timeline: list[str] = []
    worker_log = product["tmp"] / "worker.log"
    with celery_worker(product["env"], worker_log, beat_schedule=product["tmp"] / "beat") as worker:
        for number in range(2):
            burst_round(number)
        timeline.append(f"{len(uploaded)} uploads with everything up")
        redis.kill()
        for number in range(2, 4):
            burst_round(number)
        timeline.append(f"{len(uploaded)} after Redis was killed")
        redis.start()
        with script.lock:
            script.responses = [25.0]  # the next recognition call is slow: the worker dies inside it
        for number in range(4, 5):
            burst_round(number)
        wait_for(lambda: photo_states(uploaded)["processing"] and script.hits, 90, "the worker to be on a photo")
        kill_group(worker)
        killed = time.monotonic()
        timeline.append(f"{len(uploaded)} when the worker was killed mid-processing")
        for number in range(5, 6):
            burst_round(number)
    timeline.append(f"{len(uploaded)} uploads in all")
    assert photo_states(uploaded)["done"] < len(uploaded)
    with celery_worker(product["env"], product["tmp"] / "worker2.log", beat_schedule=product["tmp"] / "beat2"):
        wait_for(lambda: photo_states(uploaded) == {"done": len(uploaded)}, 180, "every uploaded photo to be done")
        recovered = time.monotonic() - killed
    figures = {"requests": web.requests, "statuses": dict(web.statuses), "timeline": timeline,
               "all done after the worker kill (s)": round(recovered, 1)}
    print("\nburst under faults: " + json.dumps(figures))
    (product["tmp"] / "figures.json").write_text(json.dumps(figures))
    assert not any(status.endswith(" 500") for status in web.statuses)
    # Each photo applied once: its faces once (the same face on every variant), one present record.
    counts = Counter(DetectedFace.objects.filter(photo_id__in=uploaded).values_list("photo_id", flat=True))
    assert set(counts) == set(uploaded) and set(counts.values()) == {1}
    assert list(AttendanceRecord.objects.filter(session_id=session_id, status="present")
                .values_list("student_id", flat=True)) == [enrolled_class.students["obama"].pk]
