"""mark_attendance, purge_biometrics, enroll_faces and reencode_faces on good and bad input (real model)."""

from __future__ import annotations

import datetime
import shutil
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.utils import timezone

from accounts.models import ErasureReceipt
from attendance.models import AttendanceRecord, AttendanceSession, SessionPhoto
from recognition.models import FaceEmbedding
from tests import factories
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_mark_attendance_recognises_the_class(enrolled_class: EnrolledClass, faces: Path) -> None:
    out = run("mark_attendance", "--course", "math-7a", "--date", "2026-11-20",
              str(faces / "probes/obama_and_biden.jpg"), str(faces / "probes/obama_and_biden.jpg"))
    assert "3 faces, 2 recognised, 1 unknown" in out
    assert "Barack Obama: confident" in out and "Joe Biden: confident" in out
    assert "already processed" in out
    session = AttendanceSession.objects.get(date=datetime.date(2026, 11, 20))
    assert session.records.filter(status="present").count() == 2
    assert "records: 2 present, 3 unmarked" in out


def test_mark_attendance_finalises_on_request(enrolled_class: EnrolledClass, faces: Path) -> None:
    out = run("mark_attendance", "--course", "MATH-7A", "--finalize", str(faces / "probes/kit_with_rose.jpg"))
    assert "session finalised" in out and "3 absent" in out
    assert AttendanceSession.objects.get().state == "finalized"


def test_mark_attendance_bad_input(enrolled_class: EnrolledClass, faces: Path, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="no course"):
        run("mark_attendance", "--course", "NOPE", str(faces / "probes/obama1.jpg"))
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    with pytest.raises(CommandError, match="no photo could be processed"):
        run("mark_attendance", "--course", "MATH-7A", str(text), str(tmp_path / "missing.jpg"))
    assert not SessionPhoto.objects.exists()
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("mark_attendance", "--course", "MATH-7A", str(text), stdout=out, stderr=StringIO())
    assert "UNSUPPORTED_IMAGE_TYPE" in out.getvalue()


def test_enroll_faces_reports_each_photo(teacher: Any, faces: Path, tmp_path: Path) -> None:
    kit = factories.StudentFactory(student_number="S-KIT")
    rose = factories.StudentFactory(student_number="S-ROSE", consent_given=False)
    for number, person in (("S-KIT", "kit_harington"), ("S-ROSE", "rose_leslie"), ("S-NOBODY", "obama")):
        shutil.copytree(faces / "people" / person, tmp_path / number)
    (tmp_path / "S-KIT" / "readme.txt").write_text("hello")
    out = StringIO()
    err = StringIO()
    call_command("enroll_faces", str(tmp_path), "--by", teacher.username, stdout=out, stderr=err)
    text = out.getvalue()
    assert "S-KIT/john2.jpeg: enrolled for" in text
    assert "S-KIT/john1.jpeg: FACE_TOO_SMALL" in text
    assert "S-KIT/readme.txt: UNSUPPORTED_IMAGE_TYPE" in text
    assert "S-ROSE/img1.jpg: CONSENT_REQUIRED" in text
    assert "S-NOBODY/: no student with this student number" in err.getvalue()
    assert "1 of 5 photos enrolled." in text
    assert kit.face_embeddings.count() == 1 and not rose.face_embeddings.exists()


def test_enroll_faces_bad_input(tmp_path: Path, faces: Path) -> None:
    with pytest.raises(CommandError, match="not a directory"):
        run("enroll_faces", str(tmp_path / "missing"))
    with pytest.raises(CommandError, match="no sub-folders"):
        run("enroll_faces", str(tmp_path))
    factories.StudentFactory(student_number="S1")
    (tmp_path / "S1").mkdir()
    shutil.copy(faces / "edge/no_face_dogs.jpg", tmp_path / "S1")
    with pytest.raises(CommandError, match="no photo could be enrolled"):
        run("enroll_faces", str(tmp_path))


def test_reencode_faces_recomputes_outdated_embeddings(enrolled_class: EnrolledClass) -> None:
    face = FaceEmbedding.objects.get(student=enrolled_class.students["obama"])
    original = face.embedding
    FaceEmbedding.objects.filter(pk=face.pk).update(model_version="dlib-0.0-old", vector=b"\x00" * 512)
    out = run("reencode_faces", "--only-outdated")
    assert "1 faces to re-encode" in out and "1 re-encoded, 0 could not be." in out
    face.refresh_from_db()
    # Re-computed from the kept photo (a re-compressed JPEG without metadata): the same face.
    assert face.model_version.startswith("dlib-20") and np.linalg.norm(face.embedding - original) < 0.05


def test_reencode_faces_reports_faces_without_photo(enrolled_class: EnrolledClass) -> None:
    FaceEmbedding.objects.update(source_image="")
    with pytest.raises(CommandError, match="no face could be re-encoded"):
        run("reencode_faces")
    with pytest.raises(CommandError, match="no enrolled face"):
        run("reencode_faces", "--student", "NOPE")


def test_purge_biometrics_applies_retention_and_consent(
        enrolled_class: EnrolledClass, teacher: Any, django_capture_on_commit_callbacks: Any) -> None:
    from attendance.photos import services as photos
    from attendance.register import services

    session = services.session_create(course=enrolled_class.course, date="2026-10-01", by=teacher)
    photos.session_photo_process(session=session, image=enrolled_class.bytes("probes/obama1.jpg"), by=teacher)
    recent = services.session_create(course=enrolled_class.course, date="2026-11-20", by=teacher)
    photos.session_photo_process(session=recent, image=enrolled_class.bytes("probes/obama1.jpg"), by=teacher)
    old = SessionPhoto.objects.get(session=session)
    SessionPhoto.objects.filter(pk=old.pk).update(uploaded_at=timezone.now() - datetime.timedelta(days=45))
    rose = enrolled_class.students["rose_leslie"]
    rose_files = [f.source_image.name for f in rose.face_embeddings.all()]
    type(rose).objects.filter(pk=rose.pk).update(consent_given=False)  # e.g. changed outside the services

    assert "would delete 1" in run("purge_biometrics", "--dry-run")
    assert default_storage.exists(old.image.name)
    with django_capture_on_commit_callbacks(execute=True):
        out = run("purge_biometrics")

    assert "older than 30 days: deleted 1" in out and "without consent: deleted 1" in out
    old.refresh_from_db()
    assert old.image.name == "" and old.image_purged_at is not None and old.faces.count() == 1
    assert not default_storage.exists(SessionPhoto.objects.get(pk=old.pk).image.name or "x")
    assert SessionPhoto.objects.get(session=recent).image.name != ""
    assert AttendanceRecord.objects.filter(session=session, status="present").count() == 1
    assert not rose.face_embeddings.exists() and not any(default_storage.exists(n) for n in rose_files)
    receipt = ErasureReceipt.objects.get(student=rose)  # the erasure is proven, by which rule
    assert (receipt.rule, receipt.embeddings_deleted, receipt.photos_deleted, receipt.by) == ("no_consent", 1, 1,
                                                                                               None)
    with pytest.raises(CommandError):
        run("purge_biometrics", "--days", "0")
