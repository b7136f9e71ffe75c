"""Courses, rosters and enrolments through the API."""

from __future__ import annotations

import pytest

from classes.models import Enrollment
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory

pytestmark = pytest.mark.django_db


def test_enrol_students_then_list_roster(teacher_api, teacher):
    course = CourseFactory(teacher=teacher)
    students = [StudentFactory(created_by=teacher) for _ in range(3)]
    response = teacher_api.post(f"/api/v1/courses/{course.pk}/enrollments/",
                                {"student_ids": [s.pk for s in students]}, format="json")
    assert response.status_code == 201
    assert response.json()["enrolled"] == sorted(s.pk for s in students)
    again = teacher_api.post(f"/api/v1/courses/{course.pk}/enrollments/", {"student_ids": [students[0].pk]},
                             format="json")
    assert again.json() == {"enrolled": [], "already_enrolled": [students[0].pk]}
    assert Enrollment.objects.filter(course=course).count() == 3
    roster = teacher_api.get(f"/api/v1/courses/{course.pk}/students/").json()
    assert roster["count"] == 3
    detail = teacher_api.get(f"/api/v1/courses/{course.pk}/").json()
    assert detail["student_count"] == 3


def test_unenrol_student(teacher_api, teacher):
    enrollment = EnrollmentFactory(course=CourseFactory(teacher=teacher))
    url = f"/api/v1/courses/{enrollment.course_id}/enrollments/{enrollment.student_id}/"
    assert teacher_api.delete(url).status_code == 204
    second = teacher_api.delete(url)
    assert second.status_code == 404
    assert second.json()["error_code"] == "NOT_FOUND"


@pytest.mark.parametrize("body", [{}, {"student_ids": []}, {"student_ids": "1,2"}, {"student_ids": [-1]}])
def test_enrolment_request_is_validated(teacher_api, teacher, body):
    course = CourseFactory(teacher=teacher)
    response = teacher_api.post(f"/api/v1/courses/{course.pk}/enrollments/", body, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"


def test_course_filter_and_search(admin_api, teacher):
    CourseFactory(teacher=teacher, code="BIO-1", name="Biology")
    CourseFactory(code="CHEM-1", name="Chemistry")
    assert admin_api.get("/api/v1/courses/", {"teacher": teacher.pk}).json()["count"] == 1
    assert admin_api.get("/api/v1/courses/", {"search": "chem"}).json()["results"][0]["code"] == "CHEM-1"
