"""import_legacy_mongo: a mongoexport of the reference system becomes students, faces, courses, records."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from accounts.models import GuardianContactChange, StudentProfile
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.photos import services as photos
from attendance.register import services
from classes.models import Course
from recognition.backends import get_backend
from recognition.models import FaceEmbedding
from school.models import OutboxMessage

pytestmark = pytest.mark.django_db


def write_export(directory: Path, faces: Path) -> None:
    obama = get_backend().encode_face((faces / "people/obama/obama.jpg").read_bytes()).embedding
    biden = get_backend().encode_face((faces / "people/biden/biden.jpg").read_bytes()).embedding
    students = [
        {"_id": {"$oid": "65a000000000000000000001"}, "roll_number": "L-001", "name": "Barack Obama",
         "email": "guardian.obama@family.example", "consent_given": True,
         "face_embeddings": [[{"$numberDouble": repr(float(v))} for v in obama]]},
        {"_id": {"$oid": "65a000000000000000000002"}, "roll_number": "L-002", "name": "Joe Biden",
         "face_embeddings": [list(biden)]},  # no consent in the export
        {"_id": {"$oid": "65a000000000000000000003"}, "roll_number": "L-003", "name": "Broken Vector",
         "consent_given": True, "face_embeddings": [[0.1, 0.2]]},
        {"_id": {"$oid": "65a000000000000000000004"}},
    ]
    (directory / "students.json").write_text("\n".join(json.dumps(s) for s in students))  # JSON lines
    (directory / "subjects.json").write_text(json.dumps([  # a JSON array
        {"_id": {"$oid": "65b000000000000000000001"}, "subject_code": "CIV-9", "subject_name": "Civics",
         "teacher": "teacher_a", "students": [{"$oid": "65a000000000000000000001"}, "L-002", "L-404"]}]))
    (directory / "attendance.json").write_text("\n".join(json.dumps(r) for r in [
        {"student": {"$oid": "65a000000000000000000001"}, "subject": {"$oid": "65b000000000000000000001"},
         "date": {"$date": "2025-03-10T08:30:00Z"}, "status": "present"},
        {"student": "L-002", "subject": "CIV-9", "date": "2025-03-10", "present": False},
        {"student": "L-002", "subject": "CIV-9", "date": "not a date", "status": "present"},
    ]))


def test_the_export_is_imported_and_its_faces_are_recognised(teacher: Any, faces: Path, tmp_path: Path) -> None:
    write_export(tmp_path, faces)
    out, err = StringIO(), StringIO()
    call_command("import_legacy_mongo", str(tmp_path), "--by", teacher.username, stdout=out, stderr=err)

    assert ("3 students, 1 embeddings (1 left out: no consent), 1 new courses, 2 enrolments, 1 sessions, "
            "2 records, 4 documents skipped") in out.getvalue()
    assert "an embedding of L-003 is not 128 numbers" in err.getvalue() and "unknown student L-404" in err.getvalue()
    obama = StudentProfile.objects.get(student_number="L-001")
    assert (obama.first_name, obama.last_name, obama.consent_recorded_by) == ("Barack", "Obama", teacher)
    assert not FaceEmbedding.objects.filter(student__student_number="L-002").exists()
    course = Course.objects.get(code="CIV-9")
    session = AttendanceSession.objects.get(course=course, label="legacy")
    assert session.state == "finalized" and str(session.date) == "2025-03-10"
    assert dict(session.records.values_list("student__student_number", "status")) == {
        "L-001": "present", "L-002": "absent"}
    # The imported embedding works with this system's matching.
    today = services.session_create(course=course, date="2026-11-23", by=teacher)
    result = photos.session_photo_process(session=today, image=(faces / "probes/obama1.jpg").read_bytes(),
                                            by=teacher)
    assert [face.student_id for face in result.faces] == [obama.pk]
    call_command("import_legacy_mongo", str(tmp_path), "--by", teacher.username, stdout=StringIO(),
                 stderr=StringIO())
    assert FaceEmbedding.objects.count() == 1 and AttendanceRecord.objects.filter(session=session).count() == 2


def test_consent_recorded_by_the_operator_imports_every_embedding(teacher: Any, faces: Path, tmp_path: Path) -> None:
    write_export(tmp_path, faces)
    call_command("import_legacy_mongo", str(tmp_path), "--by", teacher.username, "--consent-recorded",
                 stdout=StringIO(), stderr=StringIO())
    assert FaceEmbedding.objects.filter(student__student_number="L-002").count() == 1
    assert StudentProfile.objects.get(student_number="L-002").consent_given


def test_dry_run_and_bad_input(teacher: Any, faces: Path, tmp_path: Path) -> None:
    write_export(tmp_path, faces)
    out = StringIO()
    call_command("import_legacy_mongo", str(tmp_path), "--by", teacher.username, "--dry-run", stdout=out,
                 stderr=StringIO())
    assert out.getvalue().startswith("dry run, nothing written: 3 students")
    assert not StudentProfile.objects.exists() and not Course.objects.exists()
    with pytest.raises(CommandError, match="not a directory"):
        call_command("import_legacy_mongo", str(tmp_path / "nope"), "--by", teacher.username)
    with pytest.raises(CommandError, match="no user"):
        call_command("import_legacy_mongo", str(tmp_path), "--by", "ghost")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CommandError, match=r"holds no students\.json"):
        call_command("import_legacy_mongo", str(empty), "--by", teacher.username)
    (empty / "students.json").write_text("{not json")
    with pytest.raises(CommandError, match="not a mongoexport JSON file"):
        call_command("import_legacy_mongo", str(empty), "--by", teacher.username)


def test_a_known_students_guardian_address_changes_only_the_audited_way(teacher: Any, admin_user: Any,
                                                                       faces: Path, tmp_path: Path) -> None:
    write_export(tmp_path, faces)
    call_command("import_legacy_mongo", str(tmp_path), "--by", teacher.username, stdout=StringIO(), stderr=StringIO())
    obama = StudentProfile.objects.get(student_number="L-001")
    assert obama.guardian_email == "guardian.obama@family.example"  # a new student gets the export's address

    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("subjects.json", "attendance.json"):
        (moved / name).write_text((tmp_path / name).read_text())
    (moved / "students.json").write_text("\n".join(json.dumps(s) for s in [
        {"roll_number": "L-001", "name": "Barack Obama", "email": "someone.else@elsewhere.example"},
        {"roll_number": "L-002", "name": "Joe Biden"}]))
    err = StringIO()
    call_command("import_legacy_mongo", str(moved), "--by", teacher.username, stdout=StringIO(), stderr=err)
    # A teacher cannot redirect a guardian's mail by import; the row says why and the address stays.
    assert "only the school office" in err.getvalue().lower()
    assert StudentProfile.objects.get(pk=obama.pk).guardian_email == "guardian.obama@family.example"
    assert not GuardianContactChange.objects.exists()

    call_command("import_legacy_mongo", str(moved), "--by", admin_user.username, stdout=StringIO(), stderr=StringIO())
    change = GuardianContactChange.objects.get(student=obama)
    assert (change.old_email, change.new_email, change.channel, change.changed_by) == (
        "guardian.obama@family.example", "someone.else@elsewhere.example", "import", admin_user)
    assert OutboxMessage.objects.filter(to="guardian.obama@family.example", kind="guardian_contact").exists()
    # An export without an address keeps the one the school has.
    StudentProfile.objects.filter(student_number="L-002").update(guardian_email="biden.family@family.example")
    call_command("import_legacy_mongo", str(moved), "--by", admin_user.username, stdout=StringIO(), stderr=StringIO())
    assert StudentProfile.objects.get(student_number="L-002").guardian_email == "biden.family@family.example"
    assert GuardianContactChange.objects.count() == 1
