"""The queued photo path without a worker process: the services a Celery task calls, run here."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from attendance.models import AttendanceRecord, DetectedFace, SessionPhoto
from attendance.photos import processing
from attendance.register import services
from tests.recognition.servers import free_port_url

pytestmark = pytest.mark.django_db

DOWN = {"BACKEND": "recognition.backends.remote.HTTPBackend",
        "OPTIONS": {"MAX_RETRIES": 0, "BREAKER_THRESHOLD": 1000}}


@pytest.fixture
def queue(settings: Any, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    settings.PHOTO_PROCESSING = "queue"
    sent: list[int] = []
    monkeypatch.setattr(processing, "photo_enqueue", lambda *, photo_id, countdown=None: sent.append(photo_id) or True)
    return sent


@pytest.fixture
def session(enrolled_class: Any, teacher: Any) -> Any:
    return services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 23), by=teacher)


def test_without_a_broker_the_photo_is_processed_in_the_request(teacher_api: Any, session: Any,
                                                                  enrolled_class: Any) -> None:
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart")
    assert response.status_code == 201
    assert response.json()["photo"]["state"] == "done" and response.json()["faces_detected"] == 3


def test_with_a_queue_the_upload_is_stored_and_answered_at_once(
        teacher_api: Any, session: Any, enrolled_class: Any, queue: list[int],
        django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                    {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart")
    assert response.status_code == 202
    body = response.json()
    assert body["photo"]["state"] == "queued" and body["matches"] == [] and queue == [body["photo"]["id"]]
    assert not DetectedFace.objects.exists()
    status = teacher_api.get(body["photo"]["status_url"])
    assert status.status_code == 200 and status.json()["state_label"] == "Queued"
    again = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                             {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart")
    assert again.status_code == 200 and again.json()["duplicate"] is True

    outcome = processing.photo_process_stored(photo_id=body["photo"]["id"])
    assert outcome.result is not None and len(outcome.result.faces) == 3
    assert teacher_api.get(body["photo"]["status_url"]).json()["state"] == "done"


def test_someone_elses_photo_status_is_a_404(other_teacher_api: Any, session: Any, enrolled_class: Any,
                                            queue: list[int]) -> None:
    result = processing.session_photo_submit(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                             by=None)
    assert other_teacher_api.get(f"/api/v1/photos/{result.photo.pk}/").status_code == 404


def test_an_unusable_file_is_refused_at_upload_and_nothing_is_stored(teacher_api: Any, session: Any,
                                                                     queue: list[int]) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                {"image": SimpleUploadedFile("x.jpg", b"\xff\xd8\xff" + b"\0" * 50)},
                                format="multipart")
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_IMAGE"
    assert not SessionPhoto.objects.exists() and queue == []


def test_processing_twice_applies_once(session: Any, enrolled_class: Any, queue: list[int]) -> None:
    result = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama_and_biden.jpg"),
                                            by=None)
    first = processing.photo_process_stored(photo_id=result.photo.pk)
    second = processing.photo_process_stored(photo_id=result.photo.pk)
    assert first.result is not None and second.result is None and second.retry_in is None
    assert DetectedFace.objects.filter(photo=result.photo).count() == 3
    assert SessionPhoto.objects.get(pk=result.photo.pk).attempts == 1


def test_recognition_down_the_photo_waits_then_fails_at_the_deadline_keeping_the_upload(
        settings: Any, session: Any, enrolled_class: Any, queue: list[int],
        django_capture_on_commit_callbacks: Any) -> None:
    image = enrolled_class.bytes("probes/obama1.jpg")
    photo = processing.session_photo_store(session=session, image=image, by=None).photo
    local = settings.RECOGNITION
    settings.RECOGNITION = {**DOWN, "OPTIONS": {**DOWN["OPTIONS"], "URL": free_port_url()}}
    outcome = processing.photo_process_stored(photo_id=photo.pk)
    photo.refresh_from_db()
    assert outcome.retry_in is not None and 0 < outcome.retry_in <= settings.PHOTO_RETRY_MAX_SECONDS * 1.2
    assert photo.state == "waiting_for_recognition" and photo.error_code == "RECOGNITION_UNAVAILABLE"
    assert photo.upload and photo.next_attempt_at is not None

    SessionPhoto.objects.filter(pk=photo.pk).update(uploaded_at=timezone.now() - datetime.timedelta(hours=7))
    outcome = processing.photo_process_stored(photo_id=photo.pk)
    photo.refresh_from_db()
    assert outcome.retry_in is None and photo.state == "failed" and photo.upload  # kept: nothing lost
    assert "upload the photo again" in photo.error

    # Uploading it again queues it again; with recognition back it completes.
    settings.RECOGNITION = local
    with django_capture_on_commit_callbacks(execute=True):
        again = processing.session_photo_store(session=session, image=image, by=None)
    assert again.photo.pk == photo.pk and again.photo.state == "queued" and queue[-1] == photo.pk
    assert processing.photo_process_stored(photo_id=photo.pk).result is not None
    assert AttendanceRecord.objects.get(session=session, student=enrolled_class.students["obama"]).status == "present"


def test_finalising_is_refused_while_photos_are_processing(teacher_api: Any, session: Any, enrolled_class: Any,
                                                         queue: list[int]) -> None:
    photo = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                           by=None).photo
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/finalize/", {}, format="json")
    assert response.status_code == 409
    assert response.json()["error_code"] == "PHOTOS_PROCESSING"
    processing.photo_process_stored(photo_id=photo.pk)
    assert teacher_api.post(f"/api/v1/sessions/{session.pk}/finalize/", {}, format="json").status_code == 200


def test_the_sweep_requeues_photos_nothing_works_on(session: Any, enrolled_class: Any, queue: list[int]) -> None:
    fresh = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"), by=None)
    lost = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/kit_with_rose.jpg"),
                                          by=None)
    SessionPhoto.objects.filter(pk=lost.photo.pk).update(
        state="processing", updated_at=timezone.now() - datetime.timedelta(minutes=30))
    assert processing.photos_resume() == 1 and queue == [lost.photo.pk]
    assert fresh.photo.pk not in queue


def test_the_session_page_lists_photos_in_progress(client: Any, teacher: Any, session: Any, enrolled_class: Any,
                                                   queue: list[int]) -> None:
    photo = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                           by=None).photo
    client.force_login(teacher)
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert f'data-photo-status="/api/v1/photos/{photo.pk}/"' in page and "Queued" in page


def test_with_a_queue_the_outbox_is_sent_by_a_task_not_the_request(settings: Any, teacher: Any, session: Any,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    django_capture_on_commit_callbacks: Any) -> None:
    from celery import current_app
    from django.core import mail

    from school import outbox, tasks
    from school.models import OutboxMessage

    settings.PHOTO_PROCESSING = "queue"
    AttendanceRecord.objects.filter(session=session).update(status="unmarked")
    queued: list[Any] = []
    def send_task(name: str, args: list[Any]) -> None:  # what the broker would receive
        assert name == outbox.OUTBOX_SEND_TASK == tasks.outbox_send.name
        queued.append(args[0])

    monkeypatch.setattr(current_app, "send_task", send_task)
    with django_capture_on_commit_callbacks(execute=True):
        services.session_finalize(session=session, by=teacher)
    messages = list(OutboxMessage.objects.values_list("pk", flat=True))
    assert messages and sorted(pk for ids in queued for pk in ids) == sorted(messages)
    assert mail.outbox == []  # nothing sent inside the request
    assert tasks.outbox_send(messages)["sent"] == len(messages)  # what the worker runs
    assert len(mail.outbox) == len(messages)


def test_the_page_upload_answers_202_with_the_status_url(client: Any, teacher: Any, session: Any,
                                                         enrolled_class: Any, queue: list[int]) -> None:
    client.force_login(teacher)
    response = client.post(f"/sessions/{session.pk}/photos/", {"image": enrolled_class.photo("probes/obama1.jpg")},
                           HTTP_ACCEPT="application/json")
    photo = SessionPhoto.objects.get()
    assert response.status_code == 202
    assert response.json()["status_url"] == f"/api/v1/photos/{photo.pk}/" and response.json()["state"] == "queued"


def test_mark_attendance_queues_with_a_broker_and_waits_for_the_workers(enrolled_class: Any, queue: list[int],
                                                                        faces: Any) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("mark_attendance", str(faces / "probes/obama1.jpg"), course="MATH-7A", wait=0.1, stdout=out)
    photo = SessionPhoto.objects.get()
    assert f"queued as photo #{photo.pk}" in out.getvalue() and photo.state == "queued"
    assert "Queued" in out.getvalue()  # --wait reports what the workers have not finished


def test_a_photo_whose_processing_keeps_crashing_stops_after_the_attempts_cap(session: Any, enrolled_class: Any,
                                                                            queue: list[int]) -> None:
    photo = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                           by=None).photo
    SessionPhoto.objects.filter(pk=photo.pk).update(state="processing", attempts=processing.MAX_ATTEMPTS)
    assert processing.photo_process_stored(photo_id=photo.pk).result is None
    photo.refresh_from_db()
    assert photo.state == "failed" and "attempts" in photo.error and photo.upload  # kept: upload it again


def test_a_queued_photo_is_seen_at_its_upload_not_when_the_worker_gets_to_it(session: Any, enrolled_class: Any,
                                                                            queue: list[int]) -> None:
    photo = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                           by=None).photo
    assert photo.taken_at is not None
    uploaded = timezone.now() - datetime.timedelta(minutes=20)  # the queue was long that morning
    SessionPhoto.objects.filter(pk=photo.pk).update(taken_at=uploaded)
    processing.photo_process_stored(photo_id=photo.pk)
    record = AttendanceRecord.objects.get(session=session, student=enrolled_class.students["obama"])
    assert record.seen_at == uploaded and record.seen_at_source == photo.taken_at_source


def test_the_sweep_releases_a_dead_workers_claim_and_never_a_live_one(session: Any, enrolled_class: Any,
                                                                       queue: list[int]) -> None:
    dead = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"), by=None)
    live = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/kit_with_rose.jpg"),
                                          by=None)
    now = timezone.now()
    # Both claimed; one worker was killed (its claim not refreshed past CLAIM_STALE), the other refreshes it.
    SessionPhoto.objects.filter(pk=dead.photo.pk).update(
        state="processing", updated_at=now - processing.CLAIM_STALE - datetime.timedelta(seconds=1))
    SessionPhoto.objects.filter(pk=live.photo.pk).update(
        state="processing", updated_at=now - datetime.timedelta(seconds=processing.CLAIM_HEARTBEAT_SECONDS))
    assert processing.photos_resume() == 1 and queue == [dead.photo.pk]
    assert SessionPhoto.objects.get(pk=dead.photo.pk).state == "queued"  # the claim is released
    assert SessionPhoto.objects.get(pk=live.photo.pk).state == "processing"
    assert processing.photos_resume() == 0 and queue == [dead.photo.pk]  # once, not on every sweep


def test_a_photo_the_broker_did_not_take_is_queued_by_the_next_sweep(session: Any, enrolled_class: Any,
                                                                     settings: Any, monkeypatch: pytest.MonkeyPatch,
                                                                     django_capture_on_commit_callbacks: Any) -> None:
    from celery import current_app

    settings.PHOTO_PROCESSING = "queue"
    calls: list[int] = []

    def send_task(name: str, args: list[int], **kwargs: Any) -> None:
        calls.append(args[0])
        if len(calls) == 1:
            raise ConnectionError("Redis is down")  # at the upload

    monkeypatch.setattr(current_app, "send_task", send_task)
    with django_capture_on_commit_callbacks(execute=True):
        stored = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                                by=None)
    assert calls == [stored.photo.pk] and SessionPhoto.objects.get(pk=stored.photo.pk).state == "queued"
    # Redis is back: the next sweep queues it, not one a minute after the upload.
    assert processing.photos_resume() == 1 and calls == [stored.photo.pk, stored.photo.pk]


@pytest.mark.django_db(transaction=True)
def test_a_worker_refreshes_its_claim_while_it_processes(session: Any, enrolled_class: Any, queue: list[int],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    photo = processing.session_photo_store(session=session, image=enrolled_class.bytes("probes/obama1.jpg"),
                                           by=None).photo
    monkeypatch.setattr(processing, "CLAIM_HEARTBEAT_SECONDS", 0.05)
    analyse = processing.photo_analyse
    refreshed: list[bool] = []

    def slow_analyse(**kwargs: Any) -> Any:
        claimed = SessionPhoto.objects.get(pk=photo.pk)
        assert claimed.state == "processing"
        deadline = time.monotonic() + 20  # a bound, not a speed claim
        while time.monotonic() < deadline and not refreshed:
            if SessionPhoto.objects.get(pk=photo.pk).updated_at > claimed.updated_at:
                refreshed.append(True)
            time.sleep(0.05)
        return analyse(**kwargs)

    monkeypatch.setattr(processing, "photo_analyse", slow_analyse)
    assert processing.photo_process_stored(photo_id=photo.pk).result is not None
    assert refreshed == [True]
    assert SessionPhoto.objects.get(pk=photo.pk).state == "done"
