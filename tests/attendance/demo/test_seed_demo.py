"""seed_demo: a demo school, created once however often it runs."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import CommandError, call_command

from accounts.models import StudentProfile, User
from classes.models import Course, Enrollment, TimetableSlot

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (User.objects.count(), StudentProfile.objects.count(), Course.objects.count(),
            Enrollment.objects.count(), TimetableSlot.objects.count())


def test_seed_demo_twice_creates_nothing_twice(capsys):
    call_command("seed_demo", force=True)
    first = counts()
    assert first[0] == 3 and first[2] == 3 and first[1] >= 6
    call_command("seed_demo", force=True)
    assert counts() == first
    out = capsys.readouterr().out
    assert "teacher" in out and "demo-pass-2026" in out
    assert User.objects.get(username="teacher").check_password("demo-pass-2026")
    assert User.objects.get(username="admin").is_school_admin


def test_seed_demo_refuses_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo")


def test_seed_demo_refuses_a_missing_faces_folder(tmp_path):
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("seed_demo", force=True, faces=tmp_path / "nope")


def test_seed_demo_enrols_a_folder_per_person_and_recognition_works(faces):
    from io import StringIO

    from attendance.photos import services as photos
    from attendance.register import services
    from classes.models import Course
    from recognition.models import FaceEmbedding

    err = StringIO()
    call_command("seed_demo", force=True, faces=faces / "people", stdout=StringIO(), stderr=err)
    assert FaceEmbedding.objects.count() == 8  # john1.jpeg and obama3.jpg show the face too small
    assert "john1.jpeg: not enrolled (FACE_TOO_SMALL)" in err.getvalue()
    course = Course.objects.get(code="MATH-7A")
    session = services.session_get_or_create_today(course=course, by=course.teacher)
    result = photos.session_photo_process(session=session, image=(faces / "probes/obama_and_biden.jpg").read_bytes(),
                                            by=course.teacher)
    assert sorted(face.student.student_number for face in result.faces if face.student_id) == ["biden", "obama"]
    call_command("seed_demo", force=True, faces=faces / "people", stdout=StringIO(), stderr=StringIO())
    assert FaceEmbedding.objects.count() == 8  # idempotent


# A Wednesday in term, frozen: the history (four weeks back from today) and today's periods do not
# depend on the day the suite runs.
@pytest.mark.time_machine(datetime.datetime(2026, 11, 18, 10, 0, tzinfo=datetime.UTC), tick=False)
def test_seed_demo_builds_a_history_worth_looking_at(client, capsys, settings):
    import time

    from attendance.models import AttendanceRecord, AttendanceSession
    from attendance.register.day import periods_of_day
    from attendance.register.selectors import at_risk_for_user
    from school.clock import school_today
    from school.models import Closure, Term

    settings.TIME_ZONE = "UTC"
    started = time.perf_counter()  # time.perf_counter runs on: time-machine stops the wall clock only
    call_command("seed_demo", force=True)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"seed_demo took {elapsed:.1f} s"
    sessions = AttendanceSession.objects.filter(state="finalized")
    assert sessions.count() >= 30 and not sessions.filter(date__gte=school_today()).exists()
    assert Term.objects.exists() and Closure.objects.exists()
    closure = Closure.objects.get()
    assert not sessions.filter(date=closure.starts_on).exists()  # nothing on the training day
    statuses = set(AttendanceRecord.objects.values_list("status", flat=True))
    assert {"present", "late", "absent"} <= statuses
    assert AttendanceRecord.objects.filter(status="late", seen_at__isnull=False).exists()
    admin = User.objects.get(username="admin")
    assert at_risk_for_user(user=admin), "the demo has students at risk"
    assert all(s.slot_id and s.label.startswith("Period") for s in sessions)
    assert school_today().weekday() == 2  # a school day: its periods are on the dashboard
    assert periods_of_day(day=school_today(), user=User.objects.get(username="teacher"))
    # Again: no second history.
    before = AttendanceRecord.objects.count()
    call_command("seed_demo", force=True)
    assert AttendanceRecord.objects.count() == before
    client.force_login(admin)
    page = client.get("/office/report/")
    assert page.status_code == 200 and page.context["report"].at_risk
    assert page.context["report"].streaks, "the demo has a pupil absent several days in a row"
    assert client.get("/office/report/?format=pdf")["Content-Type"] == "application/pdf"
