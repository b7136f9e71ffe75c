"""The API reads values as its schema says (school/api/strict.py, school/api/filters.py): a value of the wrong
JSON type is refused, never coerced; ids that name nothing are a 404 in a body and an empty list in a filter."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.models import TeacherSettings
from classes.models import Course
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("body", "field"), [
    ({"name": 0, "code": "C-1"}, "name"),
    ({"name": "Physics", "code": 12}, "code"),
    ({"name": ["Physics"], "code": "C-1"}, "name"),
    ({"name": "Physics", "code": "C-1", "teacher": "1"}, "teacher"),
    ({"name": "Physics", "code": "C-1", "teacher": True}, "teacher"),
])
def test_a_value_of_the_wrong_json_type_is_refused_not_coerced(admin_api: Any, teacher: Any, body: dict,
                                                               field: str) -> None:
    response = admin_api.post("/api/v1/courses/", body, format="json")
    assert response.status_code == 400 and response.json()["error_code"] == "VALIDATION_ERROR", response.content
    assert list(response.json()["details"]) == [field]
    assert not Course.objects.exists()


@pytest.mark.parametrize(("change", "field"), [
    ({"notify_low_attendance": 0}, "notify_low_attendance"),
    ({"notify_low_attendance": "yes"}, "notify_low_attendance"),
    ({"confident_threshold": 0.4}, "confident_threshold"),
    ({"confident_threshold": ".40"}, "confident_threshold"),
    ({"confident_threshold": " 0.40"}, "confident_threshold"),
    ({"low_attendance_percent": "80"}, "low_attendance_percent"),
    ({"late_grace_minutes": 5.0}, "late_grace_minutes"),
])
def test_settings_take_booleans_numbers_and_decimals_as_written_in_the_schema(teacher_api: Any, teacher: Any,
                                                                             change: dict, field: str) -> None:
    response = teacher_api.patch("/api/v1/me/settings/", change, format="json")
    assert response.status_code == 400 and list(response.json()["details"]) == [field], response.content
    assert not TeacherSettings.objects.filter(user=teacher, confident_threshold=0.4).exists()
    good = teacher_api.patch("/api/v1/me/settings/", {"confident_threshold": "0.40", "notify_low_attendance": False,
                                                      "low_attendance_percent": 80}, format="json")
    assert good.status_code == 200 and good.json()["confident_threshold"] == "0.40"


def test_thresholds_in_the_wrong_order_are_a_named_rule(teacher_api: Any) -> None:
    response = teacher_api.patch("/api/v1/me/settings/", {"confident_threshold": "0.60",
                                                          "uncertain_threshold": "0.40"}, format="json")
    assert response.status_code == 400 and response.json()["error_code"] == "THRESHOLDS_OUT_OF_ORDER"


def test_query_values_are_read_strictly(admin_api: Any, teacher: Any) -> None:
    for query in ("is_active=null", "is_active=yes", "is_active=1", "is_active="):
        response = admin_api.get(f"/api/v1/users/?{query}")
        assert response.status_code == 400 and "is_active" in response.json()["details"], query
    assert admin_api.get("/api/v1/users/?is_active=true").status_code == 200
    assert admin_api.get("/api/v1/reports/school/?date=").status_code == 400
    assert admin_api.get("/api/v1/reports/school/?format=xml").status_code == 400
    assert admin_api.get("/api/v1/reports/school/?format=json").status_code == 200


def test_an_id_that_names_nothing_is_a_404_in_a_body_and_an_empty_list_in_a_filter(
        teacher: Any, other_teacher: Any, teacher_api: Any, admin_api: Any) -> None:
    mine = factories.CourseFactory(teacher=teacher)
    theirs = factories.CourseFactory(teacher=other_teacher)
    factories.EnrollmentFactory(course=mine, student=factories.StudentFactory(created_by=teacher))
    missing = admin_api.post("/api/v1/courses/", {"name": "X", "code": "X-1", "teacher": 999999}, format="json")
    assert missing.status_code == 404 and missing.json()["error_code"] == "NOT_FOUND"
    assert "teacher" in missing.json()["details"]
    # Another teacher's course and no course at all look the same: nothing to list.
    for course_id in (theirs.pk, 999999):
        listed = teacher_api.get(f"/api/v1/students/?enrollments__course={course_id}")
        assert listed.status_code == 200 and listed.json()["count"] == 0
    assert teacher_api.get(f"/api/v1/students/?enrollments__course={mine.pk}").json()["count"] == 1
    assert teacher_api.get("/api/v1/students/?enrollments__course=abc").status_code == 400
