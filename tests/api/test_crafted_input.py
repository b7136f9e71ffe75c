"""Crafted input found by fuzzing: each answered a 500; now a clear 4xx, and any 500 left is JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError
from django.test import Client

from attendance.models import AttendanceSession
from attendance.register import selectors, services
from classes.models import Course
from school.api.validators import VisibleUniqueValidator
from tests import factories
from tests.conftest import ClientFor, api_client_for

pytestmark = pytest.mark.django_db


def test_student_ids_beyond_64_bits_are_a_validation_error(teacher: Any, teacher_api: Any) -> None:
    course = factories.CourseFactory(teacher=teacher)
    response = teacher_api.post(f"/api/v1/courses/{course.pk}/enrollments/", {"student_ids": [2**63, 1]},
                                format="json")
    assert response.status_code == 400, response.content
    assert "student_ids" in response.json()["details"]


def test_a_face_assigned_to_a_huge_student_id_is_a_validation_error(teacher: Any, teacher_api: Any) -> None:
    course = factories.CourseFactory(teacher=teacher)
    session = services.session_create(course=course, date="2026-11-20", by=teacher)
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/faces/1/assign/", {"student_id": 2**64},
                                format="json")
    assert response.status_code in (400, 404)


@pytest.mark.parametrize("reference", ["¹", "٣", "99999999999999999999999"])
def test_a_course_reference_of_unusual_digits_is_not_found(teacher: Any, teacher_api: Any, faces: Path,
                                                           reference: str) -> None:
    factories.CourseFactory(teacher=teacher)
    photo = SimpleUploadedFile("a.jpg", (faces / "probes/obama1.jpg").read_bytes(), content_type="image/jpeg")
    response = teacher_api.post("/api/v1/attendance/mark/", {"course": reference, "image": photo},
                                format="multipart")
    assert response.status_code == 404, response.content


def test_the_history_page_ignores_a_course_filter_of_unusual_digits(teacher: Any, client_for: ClientFor) -> None:
    client = client_for(teacher)
    for reference in ("¹", "99999999999999999999999", "abc"):
        assert client.get("/sessions/", {"course": reference}).status_code == 200


def test_course_codes_are_unique_whatever_their_case(teacher_api: Any, teacher: Any) -> None:
    assert teacher_api.post("/api/v1/courses/", {"name": "X", "code": "dup-x"}, format="json").status_code == 201
    response = teacher_api.post("/api/v1/courses/", {"name": "Y", "code": "DUP-X"}, format="json")
    assert response.status_code == 409 and response.json()["error_code"] == "ALREADY_EXISTS"
    assert "code" in response.json()["details"]
    # Renaming a course to its own code in another case is fine.
    course = Course.objects.get(code="dup-x")
    assert teacher_api.patch(f"/api/v1/courses/{course.pk}/", {"code": "Dup-X"}, format="json").status_code == 200
    with pytest.raises(IntegrityError):
        Course.objects.create(name="Z", code="DUP-x", teacher=teacher)


def test_a_model_validation_error_in_a_service_is_a_400(teacher_api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Without the serializer's check, the database constraint is met by the service's full_clean().
    monkeypatch.setattr(VisibleUniqueValidator, "__call__", lambda self, value, field: None)
    assert teacher_api.post("/api/v1/courses/", {"name": "X", "code": "dup-y"}, format="json").status_code == 201
    response = teacher_api.post("/api/v1/courses/", {"name": "Y", "code": "DUP-Y"}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_a_student_login_linked_elsewhere_cannot_be_linked_again(admin_api: Any) -> None:
    login = factories.StudentUserFactory()
    factories.StudentFactory(user=login)
    other = factories.StudentFactory()
    response = admin_api.patch(f"/api/v1/students/{other.pk}/", {"user": login.pk}, format="json")
    assert response.status_code == 400, response.content
    assert "user" in response.json()["details"]


def test_an_unhandled_error_under_the_api_is_json_with_the_request_id(teacher: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(selectors, "session_list_visible", broken)
    client = api_client_for(teacher)
    client.raise_request_exception = False

    response = client.get("/api/v1/sessions/", HTTP_X_REQUEST_ID="req-12345")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["error_code"] == "SERVER_ERROR" and body["details"] == {"request_id": "req-12345"}
    assert "req-12345" in body["message"] and response["X-Request-ID"] == "req-12345"


def test_a_page_error_stays_a_page(teacher: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "session_list_visible", lambda **kwargs: 1 / 0)
    client = Client(raise_request_exception=False)
    client.force_login(teacher)
    response = client.get("/sessions/")
    assert response.status_code == 500 and response["Content-Type"].startswith("text/html")


def test_a_double_submitted_open_session_form_opens_one_session(teacher: Any,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                client_for: ClientFor) -> None:
    course = factories.CourseFactory(teacher=teacher)
    create = services.session_create

    def created_meanwhile(**kwargs: Any) -> AttendanceSession:
        create(**kwargs)  # the first of the two submissions wins the race
        return create(**kwargs)

    monkeypatch.setattr(services, "session_create", created_meanwhile)
    client = client_for(teacher)

    response = client.post(f"/courses/{course.pk}/take/", {"date": "2026-11-20", "label": ""})

    assert response.status_code == 302, response.content
    (session,) = AttendanceSession.objects.filter(course=course)
    assert response["Location"].endswith(f"/sessions/{session.pk}/")


def test_a_closure_without_its_optional_kind_is_a_holiday(admin_api: Any) -> None:
    response = admin_api.post("/api/v1/calendar/closures/", {"name": "Half term", "starts_on": "2026-10-26",
                                                             "ends_on": "2026-10-30"}, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "holiday"


def test_a_login_without_a_client_address_is_logged_without_one(admin_user: Any, client_for: ClientFor) -> None:
    # gunicorn on a unix socket (and Django's force_login) gives no REMOTE_ADDR: django-axes stores
    # the address in an IP column, where PostgreSQL refused the placeholder "unknown" with a 500.
    from django.test import RequestFactory

    from school.api.throttling import axes_client_ip

    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert axes_client_ip(request) is None
    assert axes_client_ip(RequestFactory().get("/", REMOTE_ADDR="203.0.113.7")) == "203.0.113.7"
    client = client_for(admin_user)
    assert client.get("/admin/").status_code == 200


# --- The schema's own lies and the last HTML answers under /api/ ----------------------------------

def _components() -> dict[str, Any]:
    from tests.api.test_schema_fuzz import _schema

    return _schema()["components"]["schemas"]


def _conforms(property_schema: dict[str, Any], value: Any) -> bool:
    """`value` is valid for one property's schema, formats checked (as schemathesis checks responses)."""
    import jsonschema_rs

    if value is None:
        return bool(property_schema.get("nullable"))
    return jsonschema_rs.validator_for(property_schema, validate_formats=True).is_valid(value)


def test_a_session_s_start_time_conforms_to_the_schema(teacher: Any, teacher_api: Any) -> None:
    course = factories.CourseFactory(teacher=teacher)
    created = teacher_api.post(f"/api/v1/courses/{course.pk}/sessions/", {"date": "2026-11-20", "starts_at": "09:00"},
                               format="json")
    assert created.status_code == 201, created.content
    starts_at = teacher_api.get(f"/api/v1/sessions/{created.json()['id']}/").json()["starts_at"]
    assert starts_at == "09:00:00"
    components = _components()
    # It said `format: time`, RFC 3339's time with a UTC offset, which a wall-clock time never has.
    for name, field in [("SessionDetail", "starts_at"), ("Session", "starts_at"), ("TimetableSlot", "start_time"),
                        ("SessionCreateRequest", "starts_at"), ("TimetableSlotRequest", "end_time")]:
        assert _conforms(components[name]["properties"][field], "09:00:00"), (name, field)


def test_a_frame_kept_as_no_photo_is_documented_as_null() -> None:
    from attendance.live.serializers import FrameResultSerializer

    evidence = FrameResultSerializer().fields["evidence_photo"]
    assert evidence.get_attribute({"photo": None}) is None  # a frame not kept answers null
    assert _conforms(_components()["FrameResult"]["properties"]["evidence_photo"], None)


def test_too_many_fields_under_the_api_answer_the_json_error_shape(teacher: Any, teacher_api: Any,
                                                                   settings: Any) -> None:
    # Forms are read only where a file is uploaded (JSON elsewhere): the face enrolment here.
    student = factories.StudentFactory(created_by=teacher)
    fields = "".join(f'--B\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n'
                     for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)) + "--B--\r\n"
    response = teacher_api.post(f"/api/v1/students/{student.pk}/faces/", fields,
                                content_type="multipart/form-data; boundary=B")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["error_code"] == "MALFORMED_REQUEST"
    # A form where JSON is expected is refused as such.
    form = teacher_api.post("/api/v1/courses/", "name=X&code=Y", content_type="application/x-www-form-urlencoded")
    assert form.status_code == 415 and form.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"


@pytest.mark.parametrize("day", ["0359-11-20", "1899-01-01", "3026-11-20"])
def test_a_session_dated_outside_the_school_s_years_is_refused(teacher: Any, teacher_api: Any, day: str) -> None:
    course = factories.CourseFactory(teacher=teacher)
    response = teacher_api.post(f"/api/v1/courses/{course.pk}/sessions/", {"date": day}, format="json")
    assert response.status_code == 400, response.content
    assert "between 2000-01-01 and 2099-12-31" in response.json()["details"]["date"][0]
    assert not AttendanceSession.objects.filter(course=course).exists()


def test_a_term_dated_outside_the_school_s_years_is_refused(admin_api: Any) -> None:
    response = admin_api.post("/api/v1/calendar/terms/", {"name": "T", "starts_on": "0359-09-01",
                                                          "ends_on": "2026-12-20"}, format="json")
    assert response.status_code == 400 and "starts_on" in response.json()["details"]


@pytest.mark.parametrize("code", ["MATH\x01", "A\x1b[31mB", "X\x7fY", "X\x85Y"])
def test_a_course_code_with_control_characters_is_refused(teacher_api: Any, code: str) -> None:
    response = teacher_api.post("/api/v1/courses/", {"name": "Maths", "code": code}, format="json")
    assert response.status_code == 400, response.content
    assert "control characters" in response.json()["details"]["code"][0]
    assert not Course.objects.filter(name="Maths").exists()


@pytest.mark.parametrize("size", ["null", "0", "-3", "201", "1.5"])
def test_a_page_size_that_is_not_1_to_200_is_refused(teacher_api: Any, size: str) -> None:
    response = teacher_api.get("/api/v1/courses/", {"page_size": size})
    assert response.status_code == 400, response.content
    assert "page_size" in response.json()["details"]


def test_a_page_size_within_bounds_is_used(teacher: Any, teacher_api: Any) -> None:
    for _ in range(3):
        factories.CourseFactory(teacher=teacher)
    assert len(teacher_api.get("/api/v1/courses/", {"page_size": "2"}).json()["results"]) == 2
