"""Enrolment age and the re-enrolment prompt (issue 18): a young student's faces are renewed each term,
an older student's each year; the age comes from the date of birth or the year group, which the office
forms, the API and the roster import set."""

from __future__ import annotations

import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.urls import reverse
from time_machine import TimeMachineFixture

from accounts.models import StudentProfile
from recognition.reenrolment import enrolment_age, student_age_years
from recognition.services import face_enrol
from tests import factories
from tests.recognition.conftest import ReadPhoto

pytestmark = pytest.mark.django_db
ENROLLED = datetime.datetime(2026, 1, 12, 10, 0, tzinfo=datetime.UTC)


def test_the_age_comes_from_the_birth_date_else_the_year_group(settings: Any) -> None:
    today = datetime.date(2026, 3, 1)
    assert student_age_years(StudentProfile(date_of_birth=datetime.date(2018, 3, 2), year_group="Year 9"),
                             today=today) == 7  # the birth date wins; the birthday is tomorrow
    assert student_age_years(StudentProfile(year_group="Year 3"), today=today) == 3 + settings.YEAR_GROUP_AGE_OFFSET
    assert student_age_years(StudentProfile(year_group="Reception"), today=today) is None


@pytest.mark.slow
def test_a_young_students_old_enrolment_is_prompted_on_the_roster_and_their_page(
        settings: Any, teacher: Any, client_for: Any, read: ReadPhoto, time_machine: TimeMachineFixture) -> None:
    settings.REENROL_YOUNG_AGE, settings.REENROL_YOUNG_DAYS, settings.REENROL_DAYS = 10, 120, 365
    course = factories.CourseFactory(teacher=teacher)
    young = factories.StudentFactory(created_by=teacher, year_group="Year 3")
    older = factories.StudentFactory(created_by=teacher, date_of_birth=datetime.date(2010, 5, 1))
    for student, photo in ((young, "people/obama/obama.jpg"), (older, "people/biden/biden.jpg")):
        factories.EnrollmentFactory(course=course, student=student)
        time_machine.move_to(ENROLLED, tick=False)
        face_enrol(student=student, image=read(photo), by=teacher)

    time_machine.move_to(ENROLLED + datetime.timedelta(days=60), tick=False)
    assert not enrolment_age(young).due
    roster = client_for(teacher).get(reverse("course-page", args=[course.pk])).content.decode()
    assert "60 days" in roster and "enrol new photos" not in roster

    time_machine.move_to(ENROLLED + datetime.timedelta(days=130), tick=False)
    young_age, older_age = enrolment_age(young), enrolment_age(older)
    assert (young_age.days, young_age.interval_days, young_age.due) == (130, 120, True)
    assert (older_age.days, older_age.interval_days, older_age.due) == (130, 365, False)
    client = client_for(teacher)
    roster = client.get(reverse("course-page", args=[course.pk])).content.decode()
    assert roster.count(">enrol new photos</span>") == 1
    page = client.get(reverse("student-page", args=[young.pk])).content.decode()
    assert 'id="reenrol"' in page and "130 days old" in page
    assert "1 approved face enrolled" in page  # the enrol form counts the faces and asks for several
    assert 'id="reenrol"' not in client.get(reverse("student-page", args=[older.pk])).content.decode()
    young.user = factories.StudentUserFactory()
    young.save(update_fields=["user"])
    own = client_for(young.user).get(reverse("my-page")).content.decode()
    assert 'id="reenrol"' in own and "130 days old" in own

    time_machine.move_to(ENROLLED + datetime.timedelta(days=370), tick=False)
    assert enrolment_age(older).due
    assert 'id="reenrol"' in client_for(teacher).get(reverse("student-page", args=[older.pk])).content.decode()


def test_year_group_and_birth_date_are_set_by_the_api_and_the_office_form(
        admin_user: Any, admin_api: Any, client_for: Any) -> None:
    student = factories.StudentFactory()
    answer = admin_api.patch(f"/api/v1/students/{student.pk}/",
                             {"year_group": "Grade 4", "date_of_birth": "2017-09-01"}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json()["year_group"] == "Grade 4" and answer.json()["date_of_birth"] == "2017-09-01"
    future = admin_api.patch(f"/api/v1/students/{student.pk}/", {"date_of_birth": "2090-01-01"},
                             format="json")
    assert future.status_code == 400 and future.json()["error_code"] == "BIRTH_DATE_IN_FUTURE"
    assert admin_api.patch(f"/api/v1/students/{student.pk}/", {"date_of_birth": "1850-01-01"},
                           format="json").status_code == 400
    client_for(admin_user).post(reverse("office-student-edit", args=[student.pk]), {
        "student_number": student.student_number, "first_name": student.first_name, "last_name": student.last_name,
        "guardian_email": student.guardian_email, "year_group": "Year 2", "date_of_birth": "2019-02-03"})
    student.refresh_from_db()
    assert (student.year_group, student.date_of_birth) == ("Year 2", datetime.date(2019, 2, 3))


def test_the_roster_import_reads_the_optional_columns(teacher: Any, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("student_number,first_name,last_name,year_group,date_of_birth\n"
                    "200,Ada,Lovelace,Year 3,2018-04-05\n"
                    "201,Grace,Hopper,Grade 6,\n"
                    "202,Alan,Turing,,05/04/2018\n", encoding="utf-8")
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit):
        call_command("import_roster", str(path), "--by", teacher.username, stdout=out, stderr=err)
    ada, grace = StudentProfile.objects.get(student_number="200"), StudentProfile.objects.get(student_number="201")
    assert (ada.year_group, ada.date_of_birth) == ("Year 3", datetime.date(2018, 4, 5))
    assert (grace.year_group, grace.date_of_birth) == ("Grade 6", None)
    assert "date_of_birth '05/04/2018' is not a date" in err.getvalue()
    assert not StudentProfile.objects.filter(student_number="202").exists()
