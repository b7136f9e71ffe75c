"""Per-user rate limits on classroom photos and face enrolment: one budget for the API and the pages,
429 with Retry-After in the API's JSON shape or as a readable page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from attendance.models import AttendanceSession
from attendance.register import services
from tests import factories
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db

NOT_AN_IMAGE = b"\xff\xd8\xff\xe0" + b"\x00" * 200  # refused quickly: the limit counts attempts, not successes


def rates(settings: Any, **scopes: str) -> None:
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          **scopes}}


def upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("x.jpg", NOT_AN_IMAGE, content_type="image/jpeg")


@pytest.fixture
def session(teacher: Any) -> AttendanceSession:
    course = factories.CourseFactory(teacher=teacher)
    factories.EnrollmentFactory(course=course, student=factories.StudentFactory(created_by=teacher))
    return services.session_create(course=course, date="2026-11-20", by=teacher)


@pytest.fixture
def page(teacher: Any, client_for: ClientFor) -> Client:
    return client_for(teacher)


def test_photo_uploads_are_limited_per_teacher_across_api_and_page(settings: Any, teacher_api: Any, page: Client,
                                                                    session: AttendanceSession) -> None:
    rates(settings, photo_upload="3/min")
    url = f"/api/v1/sessions/{session.pk}/photos/"
    assert [teacher_api.post(url, {"image": upload()}, format="multipart").status_code for _ in range(2)] == [400, 400]
    # The page's upload draws on the same budget.
    assert page.post(f"/sessions/{session.pk}/photos/", {"image": upload()},
                     HTTP_ACCEPT="application/json").status_code == 400
    refused = teacher_api.post(url, {"image": upload()}, format="multipart")
    assert refused.status_code == 429
    assert refused.json()["error_code"] == "RATE_LIMITED" and int(refused["Retry-After"]) >= 1
    mark = teacher_api.post("/api/v1/attendance/mark/", {"course": str(session.course_id), "image": upload()},
                            format="multipart")
    assert mark.status_code == 429
    script = page.post(f"/sessions/{session.pk}/photos/", {"image": upload()}, HTTP_ACCEPT="application/json")
    assert script.status_code == 429 and script.json()["ok"] is False and "Retry-After" in script
    form = page.post(f"/sessions/{session.pk}/photos/", {"image": upload()})
    assert form.status_code == 429 and b"Too many requests" in form.content and "Retry-After" in form
    # Reading is never limited.
    assert teacher_api.get(f"/api/v1/sessions/{session.pk}/").status_code == 200


def test_one_teachers_uploads_do_not_use_another_teachers_budget(
        settings: Any, teacher_api: Any, other_teacher: Any, session: AttendanceSession) -> None:
    from tests.conftest import api_client_for

    rates(settings, photo_upload="1/min")
    url = f"/api/v1/sessions/{session.pk}/photos/"
    teacher_api.post(url, {"image": upload()}, format="multipart")
    assert teacher_api.post(url, {"image": upload()}, format="multipart").status_code == 429
    other_session = services.session_create(course=factories.CourseFactory(teacher=other_teacher), date="2026-11-20",
                                            by=other_teacher)
    other = api_client_for(other_teacher).post(f"/api/v1/sessions/{other_session.pk}/photos/", {"image": upload()},
                                               format="multipart")
    assert other.status_code == 400  # refused for the bad image, not for the rate


def test_face_enrolment_is_limited_per_user_across_api_and_page(settings: Any, teacher: Any, teacher_api: Any,
                                                                 page: Client) -> None:
    rates(settings, face_enrol="2/hour")
    student = factories.StudentFactory(created_by=teacher)
    url = f"/api/v1/students/{student.pk}/faces/"
    assert teacher_api.post(url, {"image": upload()}, format="multipart").status_code == 400
    assert page.post(f"/students/{student.pk}/faces/", {"image": upload()}).status_code == 302
    refused = teacher_api.post(url, {"image": upload()}, format="multipart")
    assert refused.status_code == 429 and refused.json()["error_code"] == "RATE_LIMITED"
    assert int(refused["Retry-After"]) > 60  # an hourly budget
    on_page = page.post(f"/students/{student.pk}/faces/", {"image": upload()})
    assert on_page.status_code == 429 and b"Too many requests" in on_page.content
    assert teacher_api.get(url).status_code == 200  # listing faces is not counted


def test_a_student_enrolling_their_own_face_is_limited(settings: Any, student_user: Any, student_api: Any) -> None:
    rates(settings, face_enrol="1/hour")
    factories.StudentFactory(user=student_user)
    assert student_api.post("/api/v1/students/me/faces/", {"image": upload()}, format="multipart").status_code == 400
    refused = student_api.post("/api/v1/students/me/faces/", {"image": upload()}, format="multipart")
    assert refused.status_code == 429 and refused.json()["error_code"] == "RATE_LIMITED"


def _unknown_face(session: AttendanceSession, teacher: Any, index: int) -> Any:
    from attendance.models import DetectedFace, SessionPhoto

    photo = SessionPhoto.objects.create(session=session, content_hash=f"h{index}", width=100, height=100,
                                        face_count=1, processing_time_ms=1, uploaded_by=teacher)
    return DetectedFace.objects.create(photo=photo, face_index=0, box_top=10, box_right=60, box_bottom=60,
                                       box_left=10, face_area_ratio=0.25, match=DetectedFace.Match.UNKNOWN)


def test_assigning_and_enrolling_a_face_counts_as_an_enrolment(settings: Any, teacher: Any, teacher_api: Any,
                                                                 page: Client, session: AttendanceSession) -> None:
    rates(settings, face_enrol="1/hour")
    student = session.course.students.get()
    url = f"/api/v1/sessions/{session.pk}/faces/{{}}/assign/"
    # Assigning without enrolling is a correction, not an enrolment: never limited by it.
    for index in range(3):
        face = _unknown_face(session, teacher, index)
        assert teacher_api.post(url.format(face.pk), {"student_id": student.pk}, format="json").status_code == 200
    teacher_api.post(f"/api/v1/students/{student.pk}/faces/", {"image": upload()}, format="multipart")  # spends it
    face = _unknown_face(session, teacher, 9)
    refused = teacher_api.post(url.format(face.pk), {"student_id": student.pk, "add_embedding": True}, format="json")
    assert refused.status_code == 429 and refused.json()["error_code"] == "RATE_LIMITED"
    on_page = page.post(f"/sessions/{session.pk}/faces/{face.pk}/assign/",
                        {"student": student.pk, "add_embedding": "on"})
    assert on_page.status_code == 429 and "Retry-After" in on_page
