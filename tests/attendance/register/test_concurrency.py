"""Races between requests, with real threads and real database connections (SQLite file or PostgreSQL).

Each thread has its own connection (Django's are per thread), so these tests see what two gunicorn
workers would: locks, waits and "database is locked" errors."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession
from attendance.register import notices as notifications
from attendance.register import services
from tests import factories
from tests.classroom import EnrolledClass
from tests.conftest import api_client_for

pytestmark = pytest.mark.django_db(transaction=True)


def run_in_threads(*targets: Callable[[], Any], timeout: float = 120) -> list[Any]:
    """Runs each target in its own thread (own connection) and returns what each returned or raised."""
    results: list[Any] = [None] * len(targets)
    start = threading.Barrier(len(targets))

    def runner(index: int, target: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[index] = target()
        except BaseException as exc:  # reported to the test, not swallowed
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, t)) for i, t in enumerate(targets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread is still running: deadlock?"
    return results


def test_a_correction_made_while_finalising_survives(monkeypatch: pytest.MonkeyPatch) -> None:
    teacher = factories.TeacherFactory()
    course = factories.CourseFactory(teacher=teacher)
    student = factories.EnrollmentFactory(course=course).student
    session = services.session_create(course=course, date="2026-11-20", by=teacher)
    finalize_has_read, corrected = threading.Event(), threading.Event()
    rates = notifications.attendance_rates

    def rates_then_wait(**kwargs: Any) -> Any:
        # Called by session_finalize after it read the records and before it writes the absences:
        # the correction gets its chance to commit here (it must wait for the finalise instead).
        result = rates(**kwargs)
        finalize_has_read.set()
        corrected.wait(timeout=1.5)
        return result

    monkeypatch.setattr(notifications, "attendance_rates", rates_then_wait)

    def finalize() -> Any:
        return services.session_finalize(session=session, by=teacher)

    def correct() -> Any:
        assert finalize_has_read.wait(timeout=30)
        record = AttendanceRecord.objects.get(session=session, student=student)
        try:
            return services.record_correct(record=record, status="present", by=teacher, note="was there")
        finally:
            corrected.set()

    finalized, correction = run_in_threads(finalize, correct)

    assert isinstance(finalized, services.FinalizeResult), finalized
    assert isinstance(correction, AttendanceRecord), correction
    record = AttendanceRecord.objects.get(session=session, student=student)
    audit = list(AttendanceCorrection.objects.filter(record=record).order_by("changed_at", "pk"))
    # The correction came after the finalise: unseen → absent, then the teacher's present.
    assert record.status == "present"
    assert [(a.old_status, a.new_status) for a in audit] == [("absent", "present")]
    assert AttendanceSession.objects.get(pk=session.pk).state == "finalized"


def test_concurrent_finalises_all_succeed() -> None:
    teacher = factories.TeacherFactory()
    sessions = []
    for _ in range(4):
        course = factories.CourseFactory(teacher=teacher)
        for _ in range(3):
            factories.EnrollmentFactory(course=course)
        sessions.append(services.session_create(course=course, date="2026-11-20", by=teacher))

    def finalize(session_id: int) -> Callable[[], int]:
        return lambda: api_client_for(teacher).post(f"/api/v1/sessions/{session_id}/finalize/", {},
                                                    format="json").status_code

    codes = run_in_threads(*(finalize(s.pk) for s in sessions))

    assert codes == [200] * 4
    assert AttendanceRecord.objects.filter(status="absent").count() == 12


@pytest.mark.slow
def test_concurrent_photo_uploads_all_succeed(enrolled_class: EnrolledClass, teacher: Any) -> None:
    photos = ["probes/obama_and_biden.jpg", "people/obama/obama2.jpg", "people/biden/biden2.jpg",
              "people/rose_leslie/img2.jpg"]
    sessions = [services.session_create(course=enrolled_class.course, date=f"2026-11-2{i}", by=teacher)
                for i in range(len(photos))]

    def upload(session_id: int, photo: str) -> Callable[[], Any]:
        def post() -> Any:
            response = api_client_for(teacher).post(f"/api/v1/sessions/{session_id}/photos/",
                                                    {"image": enrolled_class.photo(photo)}, format="multipart")
            return response.status_code, response.content[:300]
        return post

    results = run_in_threads(*(upload(s.pk, p) for s, p in zip(sessions, photos, strict=True)))

    assert [code for code, _ in results] == [201] * 4, results
    assert all(s.photos.count() == 1 for s in sessions)
