"""Authorisation holes found by the adversarial review (issue 9, items 2, 3, 4 and 9) and their siblings."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import Client

from accounts.models import Role, StudentProfile, User
from attendance.models import AttendanceRecord, AttendanceSession
from classes.models import Enrollment
from tests import factories
from tests.conftest import ClientFor, api_client_for

pytestmark = pytest.mark.django_db


# --- item 2: a roster's course_code names only the importer's own courses ---------------------------


def _import(client: Client, course_id: int, text: str) -> str:
    upload = SimpleUploadedFile("roster.csv", text.encode(), content_type="text/csv")
    return client.post(f"/courses/{course_id}/roster/", {"file": upload}, follow=True).content.decode()


def test_roster_cannot_enrol_into_another_teachers_course(teacher: Any, other_teacher: Any,
                                                          client_for: ClientFor) -> None:
    mine = factories.CourseFactory(teacher=teacher, code="MINE-1")
    theirs = factories.CourseFactory(teacher=other_teacher, code="THEIRS-1")
    page = _import(client_for(teacher), mine.pk,
                   "student_number,first_name,last_name,course_code,consent\n900,Eve,Intruder,THEIRS-1,yes\n")
    assert not Enrollment.objects.filter(course=theirs).exists()
    assert not StudentProfile.objects.filter(student_number="900").exists()
    assert "Line 2 not imported" in page


def test_roster_errors_do_not_reveal_which_course_codes_exist(teacher: Any, other_teacher: Any,
                                                              client_for: ClientFor) -> None:
    mine = factories.CourseFactory(teacher=teacher, code="MINE-1")
    factories.CourseFactory(teacher=other_teacher, code="THEIRS-1")
    existing = _import(client_for(teacher), mine.pk,
                       "student_number,first_name,last_name,course_code\n901,A,B,THEIRS-1\n")
    missing = _import(client_for(teacher), mine.pk,
                      "student_number,first_name,last_name,course_code\n901,A,B,NOPE-1\n")
    assert "no course with code &#x27;THEIRS-1&#x27; among the courses you may enrol into" in existing
    assert "no course with code &#x27;NOPE-1&#x27; among the courses you may enrol into" in missing


def test_roster_still_enrols_into_the_teachers_other_course(teacher: Any, client_for: ClientFor) -> None:
    mine = factories.CourseFactory(teacher=teacher, code="MINE-1")
    other_of_mine = factories.CourseFactory(teacher=teacher, code="MINE-2")
    _import(client_for(teacher), mine.pk, "student_number,first_name,last_name,course_code\n902,Ada,L,mine-2\n")
    assert Enrollment.objects.filter(course=other_of_mine, student__student_number="902").exists()


# --- item 3: a teacher's student page shows only the history the teacher may see ---------------------


def test_student_page_history_is_scoped_to_the_viewers_courses(teacher: Any, other_teacher: Any,
                                                               client_for: ClientFor) -> None:
    student = factories.StudentFactory(created_by=teacher)
    mine = factories.CourseFactory(teacher=teacher, code="MATH-1")
    theirs = factories.CourseFactory(teacher=other_teacher, code="SECRET-COUNSELLING")
    for course, day in ((mine, 3), (theirs, 4)):
        factories.EnrollmentFactory(course=course, student=student)
        session = AttendanceSession.objects.create(course=course, date=datetime.date(2026, 11, day))
        AttendanceRecord.objects.create(session=session, student=student, status="absent")
    mine_page = client_for(teacher).get(f"/students/{student.pk}/").content.decode()
    assert "MATH-1" in mine_page and "SECRET-COUNSELLING" not in mine_page
    theirs_page = client_for(other_teacher).get(f"/students/{student.pk}/").content.decode()
    assert "SECRET-COUNSELLING" in theirs_page and "MATH-1" not in theirs_page
    admin_page = client_for(factories.AdminFactory()).get(f"/students/{student.pk}/").content.decode()
    assert "SECRET-COUNSELLING" in admin_page and "MATH-1" in admin_page


# --- item 4: linking a login to a student ----------------------------------------------------------


def test_teacher_cannot_attach_a_login_to_a_student(teacher_api: Any, teacher: Any) -> None:
    student = factories.StudentFactory(created_by=teacher)
    login = factories.StudentUserFactory()
    response = teacher_api.patch(f"/api/v1/students/{student.pk}/", {"user": login.pk}, format="json")
    assert response.status_code == 403, response.content
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    student.refresh_from_db()
    assert student.user is None


def test_teacher_cannot_create_a_student_with_a_login(teacher_api: Any) -> None:
    login = factories.StudentUserFactory()
    response = teacher_api.post("/api/v1/students/", {"student_number": "N1", "first_name": "A", "last_name": "B",
                                                       "user": login.pk}, format="json")
    assert response.status_code == 403
    assert not StudentProfile.objects.filter(student_number="N1").exists()


def test_teacher_may_still_edit_a_linked_student_without_touching_the_login(teacher_api: Any, teacher: Any) -> None:
    login = factories.StudentUserFactory()
    student = factories.StudentFactory(created_by=teacher, user=login)
    response = teacher_api.put(f"/api/v1/students/{student.pk}/", {
        "student_number": student.student_number, "first_name": "New", "last_name": "Name", "user": login.pk},
        format="json")
    assert response.status_code == 200, response.content


def test_linking_a_taken_login_is_a_clear_400_not_a_500(admin_api: Any) -> None:
    login = factories.StudentUserFactory()
    factories.StudentFactory(user=login)
    other = factories.StudentFactory()
    response = admin_api.patch(f"/api/v1/students/{other.pk}/", {"user": login.pk}, format="json")
    assert response.status_code == 400, response.content
    assert "already linked" in str(response.json()["details"]["user"])


def test_admin_links_a_free_login(admin_api: Any) -> None:
    login = factories.StudentUserFactory()
    student = factories.StudentFactory()
    response = admin_api.patch(f"/api/v1/students/{student.pk}/", {"user": login.pk}, format="json")
    assert response.status_code == 200
    student.refresh_from_db()
    assert student.user == login


# --- item 9: the role decides the admin powers ------------------------------------------------------


def test_a_superuser_switched_to_teacher_loses_the_admin(admin_api: Any, client_for: ClientFor) -> None:
    boss = factories.AdminFactory(username="boss")
    response = admin_api.patch(f"/api/v1/users/{boss.pk}/", {"role": "teacher"}, format="json")
    assert response.status_code == 200
    boss.refresh_from_db()
    assert (boss.role, boss.is_staff, boss.is_superuser) == (Role.TEACHER, False, False)
    assert client_for(boss).get("/admin/").status_code == 302  # to the admin login: no admin power
    assert api_client_for(boss).get("/api/v1/users/").status_code == 403


def test_a_teacher_promoted_to_admin_gets_the_admin(admin_api: Any, teacher: Any, client_for: ClientFor) -> None:
    admin_api.patch(f"/api/v1/users/{teacher.pk}/", {"role": "admin"}, format="json")
    teacher.refresh_from_db()
    assert teacher.is_staff and teacher.is_superuser
    assert client_for(teacher).get("/admin/").status_code == 200


def test_the_database_refuses_a_superuser_whose_role_is_not_admin(teacher: Any) -> None:
    teacher.is_superuser = True
    with pytest.raises(IntegrityError), transaction.atomic():
        teacher.save()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="sneaky", role=Role.STUDENT, is_staff=True)


def test_changing_the_role_in_the_django_admin_drops_the_flags(admin_user: Any, client_for: ClientFor) -> None:
    boss = factories.AdminFactory(username="boss")
    client = client_for(admin_user)
    response = client.post(f"/admin/accounts/user/{boss.pk}/change/", {
        "username": "boss", "first_name": "", "last_name": "", "email": "", "role": "teacher", "is_active": "on",
        "is_staff": "on", "is_superuser": "on",  # ignored: derived from the role
        "student_profile-TOTAL_FORMS": "0", "student_profile-INITIAL_FORMS": "0",
        "teacher_settings-TOTAL_FORMS": "0", "teacher_settings-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    boss.refresh_from_db()
    assert (boss.role, boss.is_staff, boss.is_superuser) == ("teacher", False, False)


def test_is_school_admin_follows_the_role_only(admin_user: Any) -> None:
    assert admin_user.is_school_admin
    assert not factories.TeacherFactory().is_school_admin


def test_the_admin_cannot_link_a_teachers_login_to_a_student(admin_user: Any, teacher: Any,
                                                             client_for: ClientFor) -> None:
    student = factories.StudentFactory(student_number="T1")
    client_for(admin_user).post(f"/admin/accounts/studentprofile/{student.pk}/change/", {
        "student_number": "T1", "first_name": "A", "last_name": "B", "guardian_email": "", "user": teacher.pk,
        "consent_events-TOTAL_FORMS": "0", "consent_events-INITIAL_FORMS": "0",
        "erasure_receipts-TOTAL_FORMS": "0", "erasure_receipts-INITIAL_FORMS": "0"})
    student.refresh_from_db()
    assert student.user is None


def test_the_user_page_offers_a_student_profile_only_for_student_logins(admin_user: Any, teacher: Any,
                                                                         student_user: Any,
                                                                         client_for: ClientFor) -> None:
    client = client_for(admin_user)
    teacher_page = client.get(f"/admin/accounts/user/{teacher.pk}/change/").content.decode()
    student_page = client.get(f"/admin/accounts/user/{student_user.pk}/change/").content.decode()
    assert 'name="student_profile-TOTAL_FORMS"' in student_page
    assert 'id="student_profile-empty"' in student_page  # the blank form to add one
    assert 'id="student_profile-empty"' not in teacher_page


@pytest.mark.parametrize(("role", "powers"), [("admin", True), ("teacher", False)])
def test_a_user_added_in_the_django_admin_gets_the_flags_of_their_role(admin_user: Any, role: str,
                                                                       powers: bool, client_for: ClientFor) -> None:
    response = client_for(admin_user).post("/admin/accounts/user/add/", {
        "username": "newbie", "password1": "a-long-passphrase-77", "password2": "a-long-passphrase-77",
        "usable_password": "true", "role": role,
        "student_profile-TOTAL_FORMS": "0", "student_profile-INITIAL_FORMS": "0",
        "teacher_settings-TOTAL_FORMS": "0", "teacher_settings-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    newbie = User.objects.get(username="newbie")
    assert (newbie.is_staff, newbie.is_superuser) == (powers, powers)


def test_a_login_taken_at_the_same_moment_is_a_409_not_a_500(admin_user: Any) -> None:
    """The serializer's check passed for both requests; the unique constraint decides the second."""
    from accounts.services import student_update
    from school.errors import DomainError, ErrorKind

    login = factories.StudentUserFactory()
    factories.StudentFactory(user=login)
    other = factories.StudentFactory()
    with pytest.raises(DomainError) as refused:
        student_update(student=other, by=admin_user, data={"user": login})
    assert (refused.value.error_code, refused.value.kind) == ("LOGIN_ALREADY_LINKED", ErrorKind.CONFLICT)
    other.refresh_from_db()
    assert other.user is None


def test_a_login_without_a_client_address_works_on_every_database(teacher: Any, client_for: ClientFor) -> None:
    """force_login (and a server behind a unix socket) has no REMOTE_ADDR: django-axes must record
    no address rather than the word "unknown", which PostgreSQL refuses as an inet (a 500)."""
    from django.http import HttpRequest

    from school.api.throttling import axes_client_ip

    assert axes_client_ip(HttpRequest()) is None
    assert client_for(teacher).get("/").status_code == 200
