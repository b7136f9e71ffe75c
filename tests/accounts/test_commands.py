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
