"""manage.py import_roster: documented columns, row-level errors, one transaction."""

from __future__ import annotations

from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import StudentProfile
from classes.models import Enrollment
from tests import factories

pytestmark = pytest.mark.django_db


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8-sig")
    return path


def test_valid_rows_are_imported_and_errors_reported(teacher: Any, tmp_path: Path) -> None:
    course = factories.CourseFactory(code="SCI-7A", teacher=teacher)
    # No guardian address yet: a teacher may give the first one (changing one is the office's).
    factories.StudentFactory(student_number="100", first_name="Old", last_name="Name", consent_given=False,
                             guardian_email="")
    path = write(tmp_path, "student_number,first_name,last_name,guardian_email,course_code,consent\n"
                           "100,Ada,Lovelace,ada@family.example,SCI-7A,yes\n"
                           "101,=cmd|' /C calc'!A0,Hopper,,SCI-7A,no\n"
                           "102,,Nobody,not-an-email,NOPE,maybe\n"
                           "101,Grace,Again,,,\n")
    out, err = StringIO(), StringIO()
    with pytest.raises(SystemExit) as exit_status:
        call_command("import_roster", str(path), "--by", teacher.username, stdout=out, stderr=err)
    assert exit_status.value.code == 1
    assert "1 created, 1 updated, 2 enrolments added, 2 rows with errors" in out.getvalue()
    errors = err.getvalue()
    assert "line 4: first_name is empty" in errors and "not an e-mail address" in errors
    assert "no course with code 'NOPE'" in errors and "consent must be yes or no" in errors
    assert "line 5: student_number 101 repeats line 3" in errors
    ada = StudentProfile.objects.get(student_number="100")
    assert ada.first_name == "Ada" and ada.consent_given and ada.consent_recorded_by == teacher
    assert StudentProfile.objects.get(student_number="101").first_name == "=cmd|' /C calc'!A0"  # text, as given
    assert Enrollment.objects.filter(course=course).count() == 2


def test_dry_run_writes_nothing(teacher: Any, tmp_path: Path) -> None:
    path = write(tmp_path, "student_number,first_name,last_name\n200,Alan,Turing\n")
    out = StringIO()
    call_command("import_roster", str(path), "--by", teacher.username, "--dry-run", stdout=out)
    assert "dry run, nothing written: 1 created" in out.getvalue()
    assert not StudentProfile.objects.exists()


def test_default_course_and_idempotence(teacher: Any, tmp_path: Path) -> None:
    factories.CourseFactory(code="HIST-8B", teacher=teacher)
    path = write(tmp_path, "last_name,first_name,student_number\nCurie,Marie,300\n")
    for _ in range(2):
        call_command("import_roster", str(path), "--by", teacher.username, "--course", "hist-8b", stdout=StringIO())
    assert StudentProfile.objects.count() == 1 and Enrollment.objects.count() == 1


def test_bad_files_are_refused_whole(teacher: Any, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="missing column"):
        call_command("import_roster", str(write(tmp_path, "number,name\n1,x\n")), "--by", teacher.username)
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_roster", str(tmp_path / "nope.csv"), "--by", teacher.username)
    binary = tmp_path / "photo.csv"
    binary.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\xff\xfe")
    with pytest.raises(CommandError):
        call_command("import_roster", str(binary), "--by", teacher.username)
    with pytest.raises(CommandError, match="no course"):
        call_command("import_roster", str(write(tmp_path, "student_number,first_name,last_name\n")),
                     "--by", teacher.username, "--course", "NOPE")
    with pytest.raises(CommandError, match="no user"):
        call_command("import_roster", str(tmp_path / "roster.csv"), "--by", "ghost")
    assert not StudentProfile.objects.exists()


def _rows(count: int) -> str:
    return "student_number,first_name,last_name\n" + "".join(f"R{i},Ann,Lee\n" for i in range(count))


def test_a_roster_with_too_many_rows_is_refused_whole(settings: Any, teacher: Any, tmp_path: Path) -> None:
    settings.ROSTER_MAX_ROWS = 3
    with pytest.raises(CommandError, match="more than 3 rows"):
        call_command("import_roster", str(write(tmp_path, _rows(4))), "--by", teacher.username, stdout=StringIO())
    assert not StudentProfile.objects.exists()
    call_command("import_roster", str(write(tmp_path, _rows(3))), "--by", teacher.username, stdout=StringIO())
    assert StudentProfile.objects.count() == 3


def test_a_roster_file_over_the_byte_cap_is_refused_before_it_is_read(settings: Any, teacher: Any,
                                                                      tmp_path: Path, client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.ROSTER_MAX_BYTES = 1024
    big = _rows(100)
    assert len(big) > 1024
    with pytest.raises(CommandError, match="a roster may be at most"):
        call_command("import_roster", str(write(tmp_path, big)), "--by", teacher.username, stdout=StringIO())
    course = factories.CourseFactory(teacher=teacher)
    client.force_login(teacher)
    page = client.post(f"/courses/{course.pk}/roster/", {"file": SimpleUploadedFile("r.csv", big.encode())},
                       follow=True)
    assert "a roster may be at most" in page.content.decode()
    assert not StudentProfile.objects.exists()


def test_roster_imports_on_the_course_page_are_rate_limited(settings: Any, teacher: Any, client: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                                                          "roster_import": "2/hour"}}
    course = factories.CourseFactory(teacher=teacher)
    client.force_login(teacher)

    def post() -> Any:
        return client.post(f"/courses/{course.pk}/roster/", {"file": SimpleUploadedFile("r.csv", _rows(2).encode())})

    assert [post().status_code for _ in range(2)] == [302, 302]
    refused = post()
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 60
    assert StudentProfile.objects.count() == 2
