"""seed_demo: a demo school, created once however often it runs."""

from __future__ import annotations

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

    from attendance import services
    from classes.models import Course
    from recognition.models import FaceEmbedding

    err = StringIO()
    call_command("seed_demo", force=True, faces=faces / "people", stdout=StringIO(), stderr=err)
    assert FaceEmbedding.objects.count() == 8  # john1.jpeg and obama3.jpg show the face too small
    assert "john1.jpeg: not enrolled (FACE_TOO_SMALL)" in err.getvalue()
    course = Course.objects.get(code="MATH-7A")
    session = services.session_get_or_create_today(course=course, by=course.teacher)
    result = services.session_photo_process(session=session, image=(faces / "probes/obama_and_biden.jpg").read_bytes(),
                                            by=course.teacher)
    assert sorted(face.student.student_number for face in result.faces if face.student_id) == ["biden", "obama"]
    call_command("seed_demo", force=True, faces=faces / "people", stdout=StringIO(), stderr=StringIO())
    assert FaceEmbedding.objects.count() == 8  # idempotent
