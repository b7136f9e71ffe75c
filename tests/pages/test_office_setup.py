"""The office sets a school up without the Django admin: teachers (invite, deactivate), courses (create,
assign, archive), students (create, edit, invite a login, roster import) and timetable slots."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import StudentProfile, User
from classes.models import Course, TimetableSlot
from tests.factories import CourseFactory, StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def office(client, admin_user):
    client.force_login(admin_user)
    return client


OFFICE_PAGES = ["/office/teachers/", "/office/courses/", "/office/students/", "/office/access-log/"]


@pytest.mark.parametrize("url", OFFICE_PAGES)
def test_office_pages_are_for_the_office_only(client, teacher, student_user, admin_user, url):
    assert client.get(url).status_code == 302
    client.force_login(teacher)
    assert client.get(url).status_code == 403
    client.force_login(student_user)
    assert client.get(url).status_code == 403
    client.force_login(admin_user)
    page = client.get(url)
    assert page.status_code == 200 and f'href="{url}"'.encode() in page.content  # in the office menu


def test_office_invites_a_teacher_who_sets_a_password(office, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post("/office/teachers/", {"username": "ms.new", "first_name": "Nora", "last_name": "New",
                                                     "email": "nora@school.example", "role": "teacher"})
    assert response.status_code == 302
    teacher = User.objects.get(username="ms.new")
    assert teacher.role == "teacher" and not teacher.has_usable_password()
    assert mail.outbox[0].to == ["nora@school.example"]
    assert re.search(r"/accounts/reset/[^/]+/[^/]+/", mail.outbox[0].body)
    assert b"invited" in office.get("/office/teachers/").content


def test_invitation_form_errors_are_shown_and_nothing_is_created(office):
    response = office.post("/office/teachers/", {"username": "x", "email": "", "role": "teacher"})
    assert response.status_code == 400 and b"This field is required" in response.content
    assert not User.objects.filter(username="x").exists() and mail.outbox == []


def test_office_deactivates_and_reactivates_a_teacher(office, teacher, admin_user):
    office.post(f"/office/teachers/{teacher.pk}/active/", {"active": "no"})
    teacher.refresh_from_db()
    assert not teacher.is_active
    office.post(f"/office/teachers/{teacher.pk}/active/", {"active": "yes"})
    teacher.refresh_from_db()
    assert teacher.is_active
    refused = office.post(f"/office/teachers/{admin_user.pk}/active/", {"active": "no"}, follow=True)
    assert b"your own account" in refused.content
    admin_user.refresh_from_db()
    assert admin_user.is_active


def test_office_creates_a_course_for_a_teacher_and_reassigns_it(office, teacher, other_teacher):
    response = office.post("/office/courses/", {"name": "Physics", "code": "PHY-1", "description": "",
                                                "teacher": teacher.pk})
    assert response.status_code == 302
    course = Course.objects.get(code="PHY-1")
    assert course.teacher == teacher
    office.post(f"/office/courses/{course.pk}/teacher/", {"teacher": other_teacher.pk})
    course.refresh_from_db()
    assert course.teacher == other_teacher
    duplicate = office.post("/office/courses/", {"name": "Again", "code": "PHY-1", "teacher": teacher.pk})
    assert duplicate.status_code == 400 and Course.objects.filter(code="PHY-1").count() == 1


def test_archived_course_leaves_the_teachers_list_but_keeps_its_page(office, client, teacher):
    course = CourseFactory(teacher=teacher, code="OLD-1")
    office.post(f"/office/courses/{course.pk}/archive/", {"archived": "yes"}, follow=True)  # reads the message
    course.refresh_from_db()
    assert course.archived
    client.force_login(teacher)
    assert b"OLD-1" not in client.get("/courses/").content
    assert client.get(f"/courses/{course.pk}/").status_code == 200  # history stays reachable
    client.force_login(User.objects.get(role="admin"))
    client.post(f"/office/courses/{course.pk}/archive/", {"archived": "no"}, follow=True)
    client.force_login(teacher)
    assert b"OLD-1" in client.get("/courses/").content


def test_office_adds_and_removes_timetable_slots(office, teacher):
    course = CourseFactory(teacher=teacher)
    url = f"/office/courses/{course.pk}/timetable/"
    assert office.post(url, {"weekday": 0, "start_time": "09:00", "end_time": "09:50", "room": "B2",
                             "label": "Period 1"}).status_code == 302
    slot = TimetableSlot.objects.get(course=course)
    assert (slot.weekday, slot.room, f"{slot.start_time:%H:%M}") == (0, "B2", "09:00")
    backwards = office.post(url, {"weekday": 1, "start_time": "10:00", "end_time": "09:00"})
    assert backwards.status_code == 400 and b"must end after it starts" in backwards.content
    office.post(f"{url}{slot.pk}/delete/")
    assert not TimetableSlot.objects.filter(course=course).exists()


def test_office_adds_a_student_with_an_invited_login(office, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = office.post("/office/students/", {
            "student_number": "N-100", "first_name": "Ida", "last_name": "Lee", "guardian_email": "",
            "username": "ida.lee", "email": "ida@pupils.example"})
    assert response.status_code == 302
    student = StudentProfile.objects.get(student_number="N-100")
    assert student.user.username == "ida.lee" and student.user.role == "student"
    assert mail.outbox[0].to == ["ida@pupils.example"]


def test_student_form_errors_keep_everything(office):
    StudentFactory(student_number="DUP-1")
    response = office.post("/office/students/", {"student_number": "DUP-1", "first_name": "A", "last_name": "B",
                                                 "username": "someone"})
    assert response.status_code == 400
    assert b"already exists" in response.content and b"e-mail address" in response.content
    assert StudentProfile.objects.filter(student_number="DUP-1").count() == 1
    assert not User.objects.filter(username="someone").exists()


def test_office_edits_a_student(office, teacher):
    student = StudentFactory(created_by=teacher, first_name="Old")
    response = office.post(f"/office/students/{student.pk}/", {
        "student_number": student.student_number, "first_name": "New", "last_name": student.last_name,
        "guardian_email": "parent@family.example", "username": "", "email": ""})
    assert response.status_code == 302
    student.refresh_from_db()
    assert (student.first_name, student.guardian_email) == ("New", "parent@family.example")


def test_office_imports_a_roster(office, teacher):
    CourseFactory(teacher=teacher, code="ART-1")
    csv = ("student_number,first_name,last_name,guardian_email,course_code\n"
           "R-1,Ann,Able,ann.parent@family.example,ART-1\nR-2,Ben,Bold,not-an-email,ART-1\n")
    response = office.post("/office/students/import/",
                           {"file": SimpleUploadedFile("roster.csv", csv.encode(), "text/csv")}, follow=True)
    html = response.content.decode()
    assert "1 new" in html and "Line 3 not imported" in html
    assert StudentProfile.objects.get(student_number="R-1").courses.get().code == "ART-1"
    assert not StudentProfile.objects.filter(student_number="R-2").exists()


def test_archived_course_has_no_periods_and_leaves_the_dashboard(office, client, teacher, time_machine):
    import datetime

    from attendance.register.day import periods_of_day
    from tests.attendance.school_day import freeze

    day = datetime.date(2026, 3, 2)  # a Monday
    freeze(time_machine, day, 8)  # the dashboard shows today's periods: today is that Monday
    kept, archived = CourseFactory(teacher=teacher, code="KEEP-1"), CourseFactory(teacher=teacher, code="GONE-1")
    for course in (kept, archived):
        office.post(f"/office/courses/{course.pk}/timetable/", {"weekday": 0, "start_time": "09:00",
                                                                 "end_time": "09:50"})
    office.post(f"/office/courses/{archived.pk}/archive/", {"archived": "yes"}, follow=True)
    assert [p.course.code for p in periods_of_day(day=day, user=teacher)] == ["KEEP-1"]
    assert [p.course.code for p in periods_of_day(day=day)] == ["KEEP-1"]
    client.force_login(teacher)
    dashboard = client.get("/").content
    assert b"KEEP-1" in dashboard and b"GONE-1" not in dashboard


def test_a_new_school_is_set_up_and_used_without_the_django_admin(
        client, admin_user, time_machine, django_capture_on_commit_callbacks):
    """Office: invite a teacher, create their course with a Monday period, import the roster; the
    teacher chooses a password from the invitation, logs in and finds the period on the dashboard."""
    import datetime

    from tests.attendance.school_day import freeze

    freeze(time_machine, datetime.date(2026, 3, 2), 8)  # a Monday morning
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/office/teachers/", {"username": "mr.first", "first_name": "Finn", "last_name": "First",
                                          "email": "finn@school.example", "role": "teacher"})
    teacher = User.objects.get(username="mr.first")
    client.post("/office/courses/", {"name": "Music", "code": "MUS-1", "teacher": teacher.pk})
    course = Course.objects.get(code="MUS-1")
    client.post(f"/office/courses/{course.pk}/timetable/", {"weekday": 0, "start_time": "09:00",
                                                            "end_time": "09:50", "label": "Period 1"})
    client.post("/office/students/import/", {"file": SimpleUploadedFile(
        "roster.csv", b"student_number,first_name,last_name,course_code\nM-1,Mo,Mann,MUS-1\n", "text/csv")})
    assert course.students.count() == 1
    client.logout()
    link = re.search(r"/accounts/reset/[^/]+/[^/]+/", mail.outbox[0].body).group(0)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": "finn-plays-the-piano-7",
                                             "new_password2": "finn-plays-the-piano-7"})
    login = client.post("/accounts/login/", {"username": "mr.first", "password": "finn-plays-the-piano-7"})
    assert login.status_code == 302 and login["Location"] == "/"
    dashboard = client.get("/").content.decode()
    assert "MUS-1" in dashboard and "Period 1" in dashboard


@pytest.mark.parametrize("code", ["PHY\t1", "PHY\n1", "PHY\x001", "PHY\x851"])
def test_the_pages_refuse_a_course_code_with_control_characters_as_the_api_does(office, teacher, code):
    response = office.post("/office/courses/", {"name": "Physics", "code": code, "description": "",
                                                "teacher": teacher.pk})
    # NUL has Django's own message ("Null characters are not allowed"); the others the API's.
    assert response.status_code == 400 and (b"no control characters" in response.content or "\x00" in code)
    assert not Course.objects.filter(name="Physics").exists()


@pytest.mark.parametrize("day", ["0359-11-20", "1999-12-31", "3026-11-20"])
def test_the_pages_refuse_dates_outside_the_schools_range_as_the_api_does(office, client, teacher, day):
    from attendance.models import AttendanceSession
    from school.models import Closure, Term

    term = office.post("/office/calendar/", {"term-name": "T", "term-starts_on": day, "term-ends_on": "2099-01-01"})
    closure = office.post("/office/calendar/", {"closure-name": "C", "closure-kind": "holiday",
                                                "closure-starts_on": day, "closure-ends_on": "2099-01-01"})
    assert b"Give a date between 2000-01-01 and 2099-12-31" in term.content + closure.content
    assert not Term.objects.exists() and not Closure.objects.exists()
    course = CourseFactory(teacher=teacher)
    client.force_login(teacher)
    session = client.post(f"/courses/{course.pk}/take/", {"date": day, "label": ""})
    assert b"Give a date between 2000-01-01 and 2099-12-31" in session.content
    assert not AttendanceSession.objects.exists()
