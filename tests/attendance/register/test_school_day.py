"""The school day: periods from the timetable, the calendar (holidays not counted), registers not taken."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from time_machine import TimeMachineFixture

from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register import periods, selectors, services
from attendance.register.day import periods_of_day, registers_not_taken
from school.calendar import is_school_day
from school.models import Closure, SchoolSettings, Term
from tests.attendance.school_day import DAY, freeze, held, in_london, school_time, timetabled_course  # noqa: F401
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_london")]


# --- the calendar -------------------------------------------------------------------------------


def test_holidays_and_days_outside_terms_are_not_school_days() -> None:
    assert is_school_day(DAY)  # no calendar yet: every day counts
    Term.objects.create(name="Autumn", starts_on=datetime.date(2026, 9, 1), ends_on=datetime.date(2026, 12, 18))
    Closure.objects.create(name="Staff training", kind="closure", starts_on=DAY, ends_on=DAY)
    assert not is_school_day(DAY)
    assert is_school_day(DAY - datetime.timedelta(days=1))
    assert not is_school_day(datetime.date(2026, 12, 21))  # after the term


def test_sessions_held_on_a_holiday_are_not_counted_in_rates_or_at_risk(teacher: Any, teacher_api: Any) -> None:
    school = timetabled_course(teacher=teacher, students=1)
    pupil = school.students[0]
    for offset in range(3):
        held(school.course, DAY - datetime.timedelta(days=offset + 1), ["present"], teacher)
    holiday = DAY - datetime.timedelta(days=7)
    for offset in range(2):  # two sessions on the holiday, the pupil absent (a trip nobody expected)
        held(school.course, holiday, ["absent"], teacher, label=f"extra {offset}")
    assert selectors.course_report(course=school.course).students[0].rate == 60.0
    assert [a.student for a in selectors.at_risk_for_user(user=teacher)] == [pupil]

    Closure.objects.create(name="Half term", kind="holiday", starts_on=holiday, ends_on=holiday)

    report = selectors.course_report(course=school.course)
    row = report.students[0]
    assert (row.sessions, row.present, row.absent, row.rate) == (3, 3, 0, 100.0)
    assert len(report.sessions) == 3
    assert selectors.at_risk_for_user(user=teacher) == []
    body = teacher_api.get(f"/api/v1/courses/{school.course.pk}/report/").json()
    assert body["students"][0]["rate"] == 100.0


# --- periods and their sessions --------------------------------------------------------------


def test_a_slot_opens_its_session_once_with_its_label_and_start(teacher: Any) -> None:
    school = timetabled_course(teacher=teacher)
    slot = school.slots[0]
    slot.label = "Period 2"
    slot.save()
    session = periods.session_for_slot(slot=slot, date=DAY, by=teacher)
    assert (session.label, session.starts_at, session.slot) == ("Period 2", datetime.time(9), slot)
    assert session.records.count() == 3
    assert periods.session_for_slot(slot=slot, date=DAY, by=teacher) == session
    # A session opened by hand with the period's label is adopted, not duplicated.
    other = timetabled_course(teacher=teacher, code="GEO-1", periods=((11, 12),)).slots[0]
    by_hand = services.session_create(course=other.course, date=DAY, label=other.session_label, by=teacher)
    adopted = periods.session_for_slot(slot=other, date=DAY, by=teacher)
    assert adopted.pk == by_hand.pk and adopted.slot == other and adopted.starts_at == datetime.time(11)


def test_taking_the_register_of_a_period_from_the_dashboard(teacher: Any, other_teacher: Any,
                                                            time_machine: TimeMachineFixture,
                                                            client_for: ClientFor) -> None:
    freeze(time_machine, DAY, 9, 5)
    school = timetabled_course(teacher=teacher)
    client = client_for(teacher)
    response = client.post(f"/periods/{school.slots[0].pk}/take/")
    session = AttendanceSession.objects.get()
    assert response.status_code == 302 and response.url == f"/sessions/{session.pk}/"
    assert session.label == "Period 09:00" and session.date == DAY
    assert client.post(f"/periods/{school.slots[0].pk}/take/").url == f"/sessions/{session.pk}/"
    assert AttendanceSession.objects.count() == 1
    assert client_for(other_teacher).post(f"/periods/{school.slots[0].pk}/take/").status_code == 404
    assert client.get(f"/periods/{school.slots[0].pk}/take/").status_code == 405
    # On a holiday there is no register to take.
    Closure.objects.create(name="Snow day", kind="closure", starts_on=DAY, ends_on=DAY)
    session.delete()
    response = client.post(f"/periods/{school.slots[0].pk}/take/", follow=True)
    assert not AttendanceSession.objects.exists() and b"no Period 09:00 today" in response.content


def test_the_take_page_offers_the_running_period(teacher: Any, time_machine: TimeMachineFixture,
                                                 client_for: ClientFor) -> None:
    school = timetabled_course(teacher=teacher)
    freeze(time_machine, DAY, 8, 50)  # pupils coming in, ten minutes before the start
    page = client_for(teacher).get(f"/courses/{school.course.pk}/take/")
    assert b"Take the register for Period 09:00" in page.content
    freeze(time_machine, DAY, 10, 5)  # the period is over
    page = client_for(teacher).get(f"/courses/{school.course.pk}/take/")
    assert b"Take the register for" not in page.content


@pytest.mark.time_machine(school_time(DAY, 9, 25), tick=False)  # before teacher_api's token is issued
def test_the_one_shot_photo_during_a_period_goes_to_that_periods_session(
        teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    from classes.models import TimetableSlot

    slot = TimetableSlot.objects.create(course=enrolled_class.course, weekday=DAY.weekday(),
                                        start_time=datetime.time(9), end_time=datetime.time(10), label="Maths 1")
    photo = enrolled_class.photo("probes/obama_and_biden.jpg")
    response = teacher_api.post("/api/v1/attendance/mark/", {"course": enrolled_class.course.code, "image": photo},
                                format="multipart")
    assert response.status_code == 201, response.content
    session = AttendanceSession.objects.get()
    assert (session.slot, session.label, session.starts_at) == (slot, "Maths 1", datetime.time(9))
    # Uploaded at 09:25 without EXIF: 25 minutes after the start, past the 10-minute grace.
    record = AttendanceRecord.objects.get(session=session, student=enrolled_class.students["obama"])
    assert record.status == "late" and record.seen_at_source == "upload"


def test_the_dashboard_lists_todays_periods_in_order_with_their_state(teacher: Any,
                                                                      time_machine: TimeMachineFixture,
                                                                      client_for: ClientFor) -> None:
    freeze(time_machine, DAY, 11, 0)
    school = timetabled_course(teacher=teacher, periods=((13, 14), (8, 9), (10, 11)))
    _, first, second = school.slots
    finalised = periods.session_for_slot(slot=first, date=DAY, by=teacher)
    services.session_finalize(session=finalised, by=teacher)
    pending = periods.session_for_slot(slot=second, date=DAY, by=teacher)
    AttendanceRecord.objects.filter(session=pending).update(status="pending")
    listed = periods_of_day(day=DAY, user=teacher)
    assert [(p.slot.start_time.hour, p.state) for p in listed] == [
        (8, "finalised"), (10, "pending_review"), (13, "not_taken")]

    page = client_for(teacher).get("/").content.decode()
    assert page.index("08:00") < page.index("10:00") < page.index("13:00")
    for label in ("Finalised", "Pending review", "Not taken"):
        assert label in page
    assert "Europe/London" in page  # the school's time zone is shown


def test_registers_not_taken_after_the_cutoff(teacher: Any, other_teacher: Any, admin_user: Any,
                                              time_machine: TimeMachineFixture,
                                              django_capture_on_commit_callbacks: Any, client_for: ClientFor) -> None:
    SchoolSettings.objects.create(register_cutoff_minutes=30)
    mine = timetabled_course(teacher=teacher, periods=((8, 9), (9, 10)))
    theirs = timetabled_course(teacher=other_teacher, code="ART-2", periods=((8, 9),))
    services.session_finalize(session=periods.session_for_slot(slot=mine.slots[1], date=DAY, by=teacher),
                              by=teacher)
    opened = periods.session_for_slot(slot=theirs.slots[0], date=DAY, by=other_teacher)

    before = freeze(time_machine, DAY, 9, 29)
    assert registers_not_taken(day=DAY, now=before) == []
    after = freeze(time_machine, DAY, 9, 31)
    missing = registers_not_taken(day=DAY, now=after)
    assert {(p.course.code, p.state) for p in missing} == {("HIST-8B", "not_taken"), ("ART-2", "open")}
    assert [p.course.code for p in registers_not_taken(day=DAY, user=teacher, now=after)] == ["HIST-8B"]
    assert b"Registers not taken" in client_for(teacher).get("/").content
    assert opened.is_open

    with django_capture_on_commit_callbacks(execute=True):
        call_command("remind_registers", "--date", DAY.isoformat())
        call_command("remind_registers", "--date", DAY.isoformat())  # cron twice: one e-mail each
    reminders = [m for m in mail.outbox if m.subject.startswith("Registers not taken")]
    assert sorted(m.to[0] for m in reminders) == sorted([teacher.email, other_teacher.email])
    assert "HIST-8B" in next(m.body for m in reminders if m.to == [teacher.email])

    Closure.objects.create(name="Holiday", starts_on=DAY, ends_on=DAY)
    assert registers_not_taken(day=DAY, now=after) == []


def test_the_late_grace_is_a_teacher_setting(teacher: Any, teacher_api: Any, client_for: ClientFor) -> None:
    from accounts.models import TeacherSettings

    client = client_for(teacher)
    data = {"confident_threshold": "0.50", "uncertain_threshold": "0.60", "low_attendance_percent": "75",
            "late_grace_minutes": "15"}
    client.post("/settings/", data)
    assert TeacherSettings.objects.get(user=teacher).late_grace_minutes == 15
    refused = client.post("/settings/", {**data, "late_grace_minutes": "500"}).content.decode()
    assert 'class="error"' in refused and TeacherSettings.objects.get(user=teacher).late_grace_minutes == 15
    assert teacher_api.get("/api/v1/me/settings/").json()["late_grace_minutes"] == 15


def test_mark_attendance_during_a_period_uses_its_session(enrolled_class: EnrolledClass, faces: Any,
                                                          time_machine: TimeMachineFixture) -> None:
    from io import StringIO

    from classes.models import TimetableSlot

    TimetableSlot.objects.create(course=enrolled_class.course, weekday=DAY.weekday(), start_time=datetime.time(14),
                                 end_time=datetime.time(15), label="Period 6")
    freeze(time_machine, DAY, 14, 3)
    call_command("mark_attendance", "--course", "MATH-7A", str(faces / "probes/obama_and_biden.jpg"),
                 stdout=StringIO(), stderr=StringIO())
    session = AttendanceSession.objects.get()
    assert (session.date, session.label, session.starts_at) == (DAY, "Period 6", datetime.time(14))
    assert session.records.filter(status="present").count() == 2  # three minutes in: on time


def test_a_session_opened_by_hand_can_have_a_start_time(teacher: Any, client_for: ClientFor) -> None:
    school = timetabled_course(teacher=teacher)
    client = client_for(teacher)
    client.post(f"/courses/{school.course.pk}/take/", {"date": "2026-11-18", "label": "Catch-up",
                                                       "starts_at": "15:30"})
    session = AttendanceSession.objects.get(label="Catch-up")
    assert session.starts_at == datetime.time(15, 30) and session.slot is None
    refused = client.post(f"/courses/{school.course.pk}/take/", {"date": "2026-11-18", "label": "X",
                                                                 "starts_at": "half past"})
    assert refused.status_code == 200 and not AttendanceSession.objects.filter(label="X").exists()


def test_a_photo_with_broken_exif_uses_the_upload_time() -> None:
    import io

    from PIL import Image

    from attendance.register.capture_time import UPLOAD, photo_capture_time

    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "white").save(buffer, format="JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff")
    assert photo_capture_time(buffer.getvalue(), session_date=DAY).source == UPLOAD
