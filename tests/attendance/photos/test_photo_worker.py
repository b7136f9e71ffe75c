"""The queued path end to end: a real redis-server, a real Celery worker process, the remote backend
against a recognition server on loopback with the real dlib model (SPEC §7)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from attendance.models import AttendanceRecord, DetectedFace, SessionPhoto
from attendance.photos import processing
from smart_attendance.celery import app as celery_app
from tests.recognition.servers import Script, django_server, stub_server
from tests.stack import celery_worker, database_url, kill_group, use_broker, wait_for

pytestmark = [pytest.mark.stack, pytest.mark.django_db(transaction=True)]

API_KEY = "stack-test-key"
DOWN = (503, json.dumps({"success": False, "error": "The model is reloading.",
                         "error_code": "RECOGNITION_UNAVAILABLE"}).encode())


@pytest.fixture
def stack(settings: Any, redis_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Queue mode here; a worker process with the remote backend behind a switchable outage."""
    settings.PHOTO_PROCESSING = "queue"
    settings.CELERY_BROKER_URL = f"{redis_url}/0"
    settings.RECOGNITION_API_KEY = API_KEY  # the web role then serves /api/ml/* (the recognition server)
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    settings.ROOT_URLCONF = "tests.stack_urls"
    settings.MEDIA_ROOT.mkdir(parents=True, exist_ok=True)
    previous_broker = celery_app.conf.broker_url
    use_broker(settings.CELERY_BROKER_URL)
    script = Script()
    with django_server() as service:
        script.upstream = service
        with stub_server(script) as recognition_url:
            env = {
                "DATABASE_URL": database_url(), "MEDIA_ROOT": str(settings.MEDIA_ROOT),
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "SECRET_KEY": "test-only", "DEBUG": "false",
                "RECOGNITION_BACKEND": "remote", "RECOGNITION_URL": recognition_url, "RECOGNITION_API_KEY": API_KEY,
                "RECOGNITION_MAX_RETRIES": "0", "RECOGNITION_BREAKER_THRESHOLD": "1000",
                "PHOTO_RETRY_BASE_SECONDS": "0.5", "PHOTO_RETRY_MAX_SECONDS": "1",
                "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                "EMAIL_FILE_PATH": str(tmp_path / "mail"),
            }
            with celery_worker(env, tmp_path / "worker.log") as worker:
                yield {"script": script, "worker": worker, "mail": tmp_path / "mail", "log": tmp_path / "worker.log",
                       "env": env}
    use_broker(previous_broker)


def photo_state(photo_id: int) -> str:
    return SessionPhoto.objects.get(pk=photo_id).state


def test_a_queued_photo_survives_a_recognition_outage_and_is_applied_once(
        teacher_api: Any, enrolled_class: Any, stack: dict[str, Any]) -> None:
    script: Script = stack["script"]
    with script.lock:
        script.responses = [DOWN] * 1000  # recognition is down
    session = teacher_api.post(f"/api/v1/courses/{enrolled_class.course.pk}/sessions/",
                               {"date": "2026-11-23"}, format="json").json()
    started = time.perf_counter()
    response = teacher_api.post(f"/api/v1/sessions/{session['id']}/photos/",
                                {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart",
                                HTTP_X_REQUEST_ID="upload-4711")
    answered = time.perf_counter() - started
    assert response.status_code == 202, response.content
    photo = response.json()["photo"]
    assert photo["state"] == "queued" and photo["status_url"] == f"/api/v1/photos/{photo['id']}/"
    assert answered < 2.0  # stored and answered, no recognition in the request
    stored = SessionPhoto.objects.get(pk=photo["id"])
    assert stored.upload and Path(stored.upload.path).read_bytes() == enrolled_class.bytes(
        "probes/obama_and_biden.jpg")  # the raw upload is kept until processed

    # A duplicate delivery of the same task (a redelivery after a lost worker, a sweep).
    processing.photo_enqueue(photo_id=photo["id"])

    wait_for(lambda: teacher_api.get(photo["status_url"]).json()["state"] == "waiting_for_recognition", 20,
             "the photo to wait for recognition")
    status = teacher_api.get(photo["status_url"]).json()
    assert status["error_code"] == "RECOGNITION_UNAVAILABLE" and status["matches"] == []
    finalise = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")
    assert finalise.status_code == 409 and finalise.json()["error_code"] == "PHOTOS_PROCESSING"
    assert AttendanceRecord.objects.filter(session_id=session["id"], status="present").count() == 0

    with script.lock:
        script.responses = []  # recognition is back
    wait_for(lambda: photo_state(photo["id"]) == "done", 25, "the photo to be processed")
    status = teacher_api.get(photo["status_url"]).json()
    assert status["face_count"] == 3 and len(status["matches"]) == 3
    present = set(AttendanceRecord.objects.filter(session_id=session["id"], status="present")
                  .values_list("student_id", flat=True))
    assert present == {enrolled_class.students["obama"].pk, enrolled_class.students["biden"].pk}
    stored.refresh_from_db()
    assert not stored.upload and stored.image  # the upload went, the EXIF-free copy stays
    assert "[upload-4711]" in stack["log"].read_text()  # the worker logs under the upload's request id

    # The second delivery and any later run change nothing: the faces were applied exactly once.
    processing.photo_enqueue(photo_id=photo["id"])
    wait_for(lambda: b"nothing to do" in stack["log"].read_bytes(), 15, "the repeated task to run")
    assert DetectedFace.objects.filter(photo_id=photo["id"]).count() == 3
    assert processing.photo_process_stored(photo_id=photo["id"]).result is None

    # Finalising now works, and the absence e-mails are sent by the worker.
    finalise = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")
    assert finalise.status_code == 200, finalise.content
    mails = wait_for(lambda: list(stack["mail"].glob("*.log")), 15, "the worker's e-mails")
    assert "Absence" in "".join(path.read_text() for path in mails)


def test_a_photo_whose_worker_is_killed_mid_processing_is_done_by_the_next_worker_once(
        teacher_api: Any, enrolled_class: Any, stack: dict[str, Any], tmp_path: Path) -> None:
    script: Script = stack["script"]
    with script.lock:
        script.responses = [25.0]  # the first recognition call is slow: the worker is killed inside it
    session = teacher_api.post(f"/api/v1/courses/{enrolled_class.course.pk}/sessions/",
                               {"date": "2026-11-23"}, format="json").json()
    response = teacher_api.post(f"/api/v1/sessions/{session['id']}/photos/",
                                {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart")
    assert response.status_code == 202, response.content
    photo_id = response.json()["photo"]["id"]
    wait_for(lambda: photo_state(photo_id) == "processing" and script.hits, 30, "the worker to be on the photo")

    kill_group(stack["worker"])  # kill -9 of the whole worker: no clean-up, no message given back
    killed = time.monotonic()
    assert photo_state(photo_id) == "processing"  # stranded
    finalise = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")
    assert finalise.status_code == 409 and finalise.json()["error_code"] == "PHOTOS_PROCESSING"

    # A new worker with its beat: the sweep releases the dead claim and the worker processes the photo.
    with celery_worker(stack["env"], tmp_path / "worker2.log", beat_schedule=tmp_path / "beat"):
        wait_for(lambda: photo_state(photo_id) == "done", 120, "the photo to be processed after the kill")
        recovered = time.monotonic() - killed
    print(f"\nworker killed mid-processing: photo done {recovered:.1f} s after the kill")

    photo = SessionPhoto.objects.get(pk=photo_id)
    assert photo.attempts == 2  # the killed run and the one that finished
    assert DetectedFace.objects.filter(photo_id=photo_id).count() == 3  # one set of faces
    status = teacher_api.get(f"/api/v1/photos/{photo_id}/").json()
    assert status["face_count"] == 3 and len(status["matches"]) == 3
    present = set(AttendanceRecord.objects.filter(session_id=session["id"], status="present")
                  .values_list("student_id", flat=True))
    assert present == {enrolled_class.students["obama"].pk, enrolled_class.students["biden"].pk}
    assert "queued again" in (tmp_path / "worker2.log").read_text()  # the sweep released the claim
    finalise = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")
    assert finalise.status_code == 200, finalise.content
