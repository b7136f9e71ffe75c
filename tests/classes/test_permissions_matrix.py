"""Who may do what on every object endpoint: teacher A (owner), teacher B, a student, anonymous, admin."""

from __future__ import annotations

import pytest

from tests.conftest import api_client_for
from tests.factories import CourseFactory, EnrollmentFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(teacher, other_teacher, student_user, admin_user):
    """Teacher A's course with two students, one of whom (`me`) has a student login."""
    course = CourseFactory(teacher=teacher, code="MATH-A")
    me = StudentFactory(user=student_user, created_by=teacher)
    classmate = StudentFactory(created_by=teacher)
    EnrollmentFactory(course=course, student=me)
    EnrollmentFactory(course=course, student=classmate)
    outsider = StudentFactory(created_by=teacher)  # created by A, not enrolled anywhere
    return {
        "course": course, "me": me, "classmate": classmate, "outsider": outsider,
        "clients": {
            "owner": api_client_for(teacher), "other": api_client_for(other_teacher),
            "student": api_client_for(student_user), "anonymous": api_client_for(None),
            "admin": api_client_for(admin_user),
        },
    }


# (who, method, url template, body, expected status)
COURSE_CASES = [
    ("owner", "get", "/api/v1/courses/{course}/", None, 200),
    ("other", "get", "/api/v1/courses/{course}/", None, 404),
    ("student", "get", "/api/v1/courses/{course}/", None, 200),
    ("anonymous", "get", "/api/v1/courses/{course}/", None, 401),
    ("admin", "get", "/api/v1/courses/{course}/", None, 200),
    ("owner", "patch", "/api/v1/courses/{course}/", {"name": "Algebra"}, 200),
    ("other", "patch", "/api/v1/courses/{course}/", {"name": "Mine now"}, 404),
    ("student", "patch", "/api/v1/courses/{course}/", {"name": "Mine now"}, 403),
    ("anonymous", "patch", "/api/v1/courses/{course}/", {"name": "Mine now"}, 401),
    ("other", "delete", "/api/v1/courses/{course}/", None, 404),
    ("student", "delete", "/api/v1/courses/{course}/", None, 403),
    ("anonymous", "delete", "/api/v1/courses/{course}/", None, 401),
    ("owner", "get", "/api/v1/courses/{course}/students/", None, 200),
    ("student", "get", "/api/v1/courses/{course}/students/", None, 200),  # themself only: see below
    ("other", "get", "/api/v1/courses/{course}/students/", None, 404),
    ("anonymous", "get", "/api/v1/courses/{course}/students/", None, 401),
    ("other", "post", "/api/v1/courses/{course}/enrollments/", {"student_ids": [0]}, 404),
    ("student", "post", "/api/v1/courses/{course}/enrollments/", {"student_ids": [0]}, 403),
    ("anonymous", "post", "/api/v1/courses/{course}/enrollments/", {"student_ids": [0]}, 401),
    ("other", "delete", "/api/v1/courses/{course}/enrollments/{classmate}/", None, 404),
    ("student", "delete", "/api/v1/courses/{course}/enrollments/{classmate}/", None, 403),
    ("anonymous", "delete", "/api/v1/courses/{course}/enrollments/{classmate}/", None, 401),
]

STUDENT_CASES = [
    ("owner", "get", "/api/v1/students/{classmate}/", None, 200),
    ("owner", "get", "/api/v1/students/{outsider}/", None, 200),
    ("other", "get", "/api/v1/students/{classmate}/", None, 404),
    ("student", "get", "/api/v1/students/{me}/", None, 200),
    ("student", "get", "/api/v1/students/{classmate}/", None, 404),
    ("anonymous", "get", "/api/v1/students/{classmate}/", None, 401),
    ("admin", "get", "/api/v1/students/{classmate}/", None, 200),
    ("owner", "patch", "/api/v1/students/{classmate}/", {"first_name": "Ada"}, 200),
    ("other", "patch", "/api/v1/students/{classmate}/", {"first_name": "Ada"}, 404),
    ("student", "patch", "/api/v1/students/{me}/", {"first_name": "Ada"}, 403),
    ("other", "delete", "/api/v1/students/{classmate}/", None, 404),
    ("student", "delete", "/api/v1/students/{me}/", None, 403),
    ("anonymous", "delete", "/api/v1/students/{classmate}/", None, 401),
]

# The student role on everything else it can reach (SPEC §4: a student sees only themself).
STUDENT_ROLE_CASES = [
    ("student", "get", "/api/v1/students/{me}/faces/", None, 200),
    ("student", "get", "/api/v1/students/{classmate}/faces/", None, 404),
    ("student", "post", "/api/v1/students/{classmate}/faces/", {}, 404),
    ("student", "get", "/api/v1/students/{me}/consent/", None, 200),
    ("student", "get", "/api/v1/students/{classmate}/consent/", None, 404),
    ("student", "post", "/api/v1/students/{me}/consent/", {"consent_given": False}, 403),
    ("student", "post", "/api/v1/students/{me}/faces/1/approve/", None, 403),
    ("student", "post", "/api/v1/students/{me}/faces/1/reject/", None, 403),
    ("student", "get", "/api/v1/courses/{course}/sessions/", None, 403),
    ("student", "get", "/api/v1/courses/{course}/report/", None, 403),
    ("student", "get", "/api/v1/sessions/", None, 403),
    ("student", "get", "/api/v1/me/settings/", None, 403),
    ("other", "get", "/api/v1/students/{classmate}/consent/", None, 404),
    ("other", "post", "/api/v1/students/{classmate}/consent/", {"consent_given": False}, 404),
    ("owner", "get", "/api/v1/students/{classmate}/consent/", None, 200),
    ("admin", "get", "/api/v1/students/{classmate}/consent/", None, 200),
    ("anonymous", "get", "/api/v1/students/{classmate}/consent/", None, 401),
]

USER_CASES = [
    ("admin", "get", "/api/v1/users/{owner_user}/", None, 200),
    ("owner", "get", "/api/v1/users/{owner_user}/", None, 403),
    ("student", "get", "/api/v1/users/{owner_user}/", None, 403),
    ("anonymous", "get", "/api/v1/users/{owner_user}/", None, 401),
    ("owner", "patch", "/api/v1/users/{owner_user}/", {"role": "admin"}, 403),
    ("owner", "get", "/api/v1/users/", None, 403),
]


def _call(world, teacher, who, method, template, body):
    ids = {name: world[name].pk for name in ("course", "me", "classmate", "outsider")}
    ids["owner_user"] = teacher.pk
    url = template.format(**ids)
    client = world["clients"][who]
    return getattr(client, method)(url, body, format="json") if body is not None else getattr(client, method)(url)


ALL_CASES = COURSE_CASES + STUDENT_CASES + STUDENT_ROLE_CASES + USER_CASES


@pytest.mark.parametrize(("who", "method", "template", "body", "expected"), ALL_CASES)
def test_permission_matrix(world, teacher, who, method, template, body, expected):
    response = _call(world, teacher, who, method, template, body)
    assert response.status_code == expected, response.content
    if expected >= 400:
        assert "error_code" in response.json()


def test_teacher_b_gets_404_for_teacher_a_course_and_list_hides_it(world):
    other = world["clients"]["other"]
    assert other.get(f"/api/v1/courses/{world['course'].pk}/").status_code == 404
    assert other.get("/api/v1/courses/").json()["count"] == 0
    assert other.get("/api/v1/students/").json()["count"] == 0


def test_student_sees_only_themself_in_a_course_roster(world):
    body = world["clients"]["student"].get(f"/api/v1/courses/{world['course'].pk}/students/").json()
    assert [row["id"] for row in body["results"]] == [world["me"].pk]
    assert world["classmate"].guardian_email not in str(body)
    assert world["classmate"].student_number not in str(body)


def test_teacher_still_sees_the_whole_roster(world):
    body = world["clients"]["owner"].get(f"/api/v1/courses/{world['course'].pk}/students/").json()
    assert {row["id"] for row in body["results"]} == {world["me"].pk, world["classmate"].pk}


def test_student_gets_403_on_every_staff_page(world, student_user, client_for):
    client = client_for(student_user)
    home = client.get("/")  # the staff home sends a student to their own page
    assert home.status_code == 302 and home["Location"] == "/me/"
    for url in [f"/students/{world['me'].pk}/", f"/courses/{world['course'].pk}/", "/students/",
                f"/students/{world['me'].pk}/consent/", "/faces/1/image", "/photos/1/image", "/sessions/"]:
        response = client.get(url)
        assert response.status_code in (403, 405), (url, response.status_code)


def test_student_lists_only_themself(world):
    body = world["clients"]["student"].get("/api/v1/students/").json()
    assert [row["id"] for row in body["results"]] == [world["me"].pk]


def test_teacher_lists_own_students_only(world, other_teacher):
    StudentFactory(created_by=other_teacher)
    body = world["clients"]["owner"].get("/api/v1/students/").json()
    assert {row["id"] for row in body["results"]} == {world["me"].pk, world["classmate"].pk, world["outsider"].pk}


def test_owner_deletes_own_course(world):
    response = world["clients"]["owner"].delete(f"/api/v1/courses/{world['course'].pk}/")
    assert response.status_code == 204


def test_teacher_cannot_enrol_another_teachers_student(world, other_teacher):
    foreign = StudentFactory(created_by=other_teacher)
    response = world["clients"]["owner"].post(
        f"/api/v1/courses/{world['course'].pk}/enrollments/", {"student_ids": [foreign.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["error_code"] == "VALIDATION_ERROR"
    assert "student_ids" in response.json()["details"]


# A student's own endpoints (/api/v1/me/…): only a student login, and only their own data.
ME_CASES = [(who, url, expected) for url in ("/api/v1/me/attendance/", "/api/v1/me/export/")
            for who, expected in (("student", 200), ("owner", 403), ("admin", 403), ("anonymous", 401))]


@pytest.mark.parametrize(("who", "url", "expected"), ME_CASES)
def test_own_data_matrix(world, who, url, expected):
    response = world["clients"][who].get(url)
    assert response.status_code == expected, response.content
    if expected == 200:
        assert world["classmate"].student_number.encode() not in response.content
