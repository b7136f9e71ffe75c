"""Every route is classified for the access log (serves biometric data or a report, or not, and why), and
a read of each classified as serving them writes an entry, from the page and the API alike.

A new route fails `test_every_route_is_classified` until its app declares it (its `access_routes.py`);
a new biometric or report route fails `test_every_logged_route_is_requested_here` until a request to it
is added to READS below."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import StudentProfile
from attendance.models import AttendanceSession, CheckinAttempt, DetectedFace, SessionPhoto
from recognition.models import FaceEmbedding
from school.access_log import Kind, Logged, _routes, route_class, route_key
from school.models import AccessLogEntry
from tests.conftest import api_client_for
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory
from tests.people_data import finalised_session, jpeg_bytes, stored_face

# The web role's URLs, and the recognition API's, which the web role serves too when asked to.
URLCONFS = ["smart_attendance.urls", "recognition.urls"]


def walk(patterns: list[Any], prefix: str = "", namespaces: tuple[str, ...] = ()) -> Iterator[tuple[str, str | None,
                                                                                                  str]]:
    """(route, name, view name) of every URL pattern."""
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = (*namespaces, pattern.namespace) if pattern.namespace else namespaces
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.name, ":".join((*namespaces, pattern.name or "?"))


def route_keys() -> dict[str, str]:
    keys = {}
    for urlconf in URLCONFS:
        for route, name, view_name in walk(get_resolver(urlconf).url_patterns):
            # Unnamed: only inside a namespace classified as a whole (the admin's own redirects).
            assert name or ":" in view_name, f"the route {route!r} has no name: name it and classify it"
            keys[route_key(route=route, view_name=view_name, url_name=name)] = route
    return keys


def test_every_route_is_classified() -> None:
    unclassified = sorted(f"{key} ({route})" for key, route in route_keys().items() if route_class(key) is None)
    assert not unclassified, (
        "Routes not classified for the access log: declare each in its app's access_routes.py as Logged (it "
        f"serves biometric data or a report) or NotLogged (and why): {unclassified}")


def test_no_classification_names_a_route_that_does_not_exist() -> None:
    keys = route_keys()
    stale = sorted(key for key in _routes if not key.endswith(":*") and key not in keys)
    assert not stale, f"classified routes that no longer exist (renamed?): {stale}"


@dataclass
class World:
    teacher: Any
    admin: Any
    pupil: Any
    student: StudentProfile
    face: FaceEmbedding
    photo: SessionPhoto
    detected: DetectedFace
    attempt: CheckinAttempt


@pytest.fixture
def world(teacher: Any, admin_user: Any, student_user: Any) -> World:
    course = CourseFactory.create(teacher=teacher)
    student = StudentFactory.create(created_by=teacher, user=student_user)
    EnrollmentFactory.create(course=course, student=student)
    finalised_session(course, datetime.date(2026, 3, 2), {student: ("present", "manual", None)})
    session = AttendanceSession.objects.create(course=course, date=datetime.date(2026, 3, 3))
    photo = SessionPhoto(session=session, content_hash="abc", width=40, height=40, face_count=1,
                         processing_time_ms=5, uploaded_by=teacher)
    photo.image.save("class.jpg", ContentFile(jpeg_bytes()), save=False)
    photo.save()
    detected = DetectedFace.objects.create(photo=photo, face_index=0, box_top=5, box_right=35, box_bottom=35,
                                           box_left=5, face_area_ratio=0.5, match="unknown")
    attempt = CheckinAttempt(session=session, user=student_user, student=student, outcome="pending")
    attempt.selfie.save("selfie.jpg", ContentFile(jpeg_bytes()), save=False)
    attempt.save()
    return World(teacher=teacher, admin=admin_user, pupil=student_user, student=student, face=stored_face(student),
                 photo=photo, detected=detected, attempt=attempt)


# For each route that must log: who reads it and the URL's arguments (from the world).
READS: dict[str, tuple[str, Any]] = {
    "face-image": ("teacher", lambda w: {"face_id": w.face.pk}),
    "my-face-image": ("pupil", lambda w: {"face_id": w.face.pk}),
    "enrolment-face-crop": ("teacher", lambda w: {"face_id": w.face.pk}),
    "session-photo-image": ("teacher", lambda w: {"photo_id": w.photo.pk}),
    "api:face-crop": ("teacher", lambda w: {"session_id": w.photo.session_id, "face_id": w.detected.pk}),
    "checkin-selfie": ("teacher", lambda w: {"attempt_id": w.attempt.pk}),
    "my-checkin-selfie": ("pupil", lambda w: {"attempt_id": w.attempt.pk}),
    "course-report-page": ("teacher", lambda w: {"course_id": w.photo.session.course_id}),
    "course-report-csv": ("teacher", lambda w: {"course_id": w.photo.session.course_id}),
    "course-report-pdf": ("teacher", lambda w: {"course_id": w.photo.session.course_id}),
    "student-report": ("teacher", lambda w: {"student_id": w.student.pk}),
    "office-report": ("admin", lambda w: {}),
    "api:course-report": ("teacher", lambda w: {"course_id": w.photo.session.course_id}),
    "api:course-register": ("teacher", lambda w: {"course_id": w.photo.session.course_id}),
    "api:school-report": ("admin", lambda w: {}),
    "api:student-report-api": ("teacher", lambda w: {"student_id": w.student.pk}),
}


def logged_keys() -> list[str]:
    return sorted(key for key in route_keys() if isinstance(route_class(key), Logged))


def test_every_logged_route_is_requested_here() -> None:
    assert sorted(READS) == logged_keys()


def _get(world: World, key: str, query: str = "") -> tuple[Any, Logged, dict[str, Any]]:
    who, arguments = READS[key]
    user = getattr(world, who)
    kwargs = arguments(world)
    api = key.startswith("api:")
    url = reverse(key.removeprefix("api:"), kwargs=kwargs) + query
    if api:
        response = api_client_for(user).get(url)
    else:
        client = Client()
        client.force_login(user)
        response = client.get(url)
    rule = route_class(key)
    assert isinstance(rule, Logged)
    return response, rule, kwargs


@pytest.mark.django_db
@pytest.mark.parametrize("key", sorted(READS))
def test_a_read_of_each_biometric_or_report_route_is_logged(world: World, key: str) -> None:
    response, rule, kwargs = _get(world, key)
    assert response.status_code == 200, response.content[:300]
    entry = AccessLogEntry.objects.get()
    downloaded = "attachment" in response.get("Content-Disposition", "")
    assert entry.kind == (rule.download_kind if downloaded and rule.download_kind else rule.kind)
    assert entry.how == ("api" if key.startswith("api:") else "page")
    assert entry.user == getattr(world, READS[key][0]) and entry.object_type == rule.object_type
    assert entry.object_id == (str(kwargs[rule.object_kwarg]) if rule.object_kwarg else "")


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["student-report", "office-report", "api:student-report-api", "api:school-report",
                                 "api:course-register"])
def test_a_report_downloaded_as_csv_is_logged_as_an_export(world: World, key: str) -> None:
    response, _, _ = _get(world, key, "?format=csv")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    assert AccessLogEntry.objects.get().kind == Kind.REPORT_EXPORT


@pytest.mark.django_db
def test_a_refused_read_writes_nothing(world: World, other_teacher: Any) -> None:
    client = Client()
    client.force_login(other_teacher)
    assert client.get(reverse("checkin-selfie", kwargs={"attempt_id": world.attempt.pk})).status_code == 404
    assert api_client_for(other_teacher).get(
        reverse("student-report-api", kwargs={"student_id": world.student.pk})).status_code == 404
    assert not AccessLogEntry.objects.exists()
