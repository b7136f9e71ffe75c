"""Consent as a history, erasure receipts, and every way consent changes going through one service
(issue 9 item 6, issue 11 "consent with a history")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.consent import CONSENT_TEXT, CONSENT_TEXT_VERSION, consent_record
from accounts.models import ConsentEvent, ErasureReceipt, StudentProfile
from accounts.services import student_delete
from attendance.legacy.services import legacy_import
from recognition.models import FaceEmbedding
from recognition.services import face_enrol
from school.errors import DomainError
from tests import factories
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db

OBAMA = "people/obama/obama.jpg"


def enrolled(faces: Path, teacher: Any, **student: Any) -> tuple[StudentProfile, FaceEmbedding]:
    pupil = factories.StudentFactory(created_by=teacher, **student)
    return pupil, face_enrol(student=pupil, image=(faces / OBAMA).read_bytes(), by=teacher)


def test_each_grant_and_withdrawal_is_a_record_with_who_when_how_and_the_text(teacher: Any) -> None:
    student = factories.StudentFactory(consent_given=False)
    consent_record(student=student, given=True, by=teacher, channel="page", given_by="guardian",
                   given_by_name="Mrs Lovelace", note="signed form in the office")
    consent_record(student=student, given=False, by=teacher, channel="api", given_by="student")
    withdrawal, grant = ConsentEvent.objects.filter(student=student)  # newest first
    assert (grant.action, grant.given_by, grant.given_by_name, grant.channel, grant.recorded_by) == (
        "grant", "guardian", "Mrs Lovelace", "page", teacher)
    assert (grant.text, grant.text_version) == (CONSENT_TEXT, CONSENT_TEXT_VERSION)
    assert (withdrawal.action, withdrawal.given_by, withdrawal.channel) == ("withdraw", "student", "api")
    student.refresh_from_db()
    assert student.consent_given is False and student.consent_given_at is None


def test_a_grant_of_a_new_text_version_is_recorded_only_when_explicit(teacher: Any, teacher_api: Any) -> None:
    student = factories.StudentFactory(created_by=teacher)  # granted text version "test"
    url = f"/api/v1/students/{student.pk}/"
    teacher_api.patch(url, {"consent_given": True, "first_name": "Same"}, format="json")  # a form re-sent
    assert ConsentEvent.objects.filter(student=student).count() == 1
    renewed = teacher_api.post(f"{url}consent/", {"consent_given": True, "given_by": "guardian"}, format="json")
    assert renewed.status_code == 201
    assert [e["text_version"] for e in renewed.json()["events"]] == [CONSENT_TEXT_VERSION, "test"]


def test_a_repeated_grant_of_the_same_text_records_nothing(teacher: Any) -> None:
    student = factories.StudentFactory(consent_given=False)
    assert consent_record(student=student, given=True, by=teacher, channel="page") is not None
    assert consent_record(student=student, given=True, by=teacher, channel="page") is None
    assert consent_record(student=factories.StudentFactory(consent_given=False), given=False, by=teacher,
                          channel="page") is None
    assert ConsentEvent.objects.filter(student=student).count() == 1


def test_withdrawal_deletes_faces_and_files_and_writes_a_receipt(teacher: Any, faces: Path,
                                                                 django_capture_on_commit_callbacks: Any) -> None:
    student, face = enrolled(faces, teacher)
    with django_capture_on_commit_callbacks(execute=True):
        event = consent_record(student=student, given=False, by=teacher, channel="page", given_by="guardian")
    assert not FaceEmbedding.objects.filter(student=student).exists()
    assert not default_storage.exists(face.source_image.name)
    receipt = ErasureReceipt.objects.get(student=student)
    assert (receipt.rule, receipt.embeddings_deleted, receipt.photos_deleted, receipt.consent_event, receipt.by) == (
        "consent_withdrawn", 1, 1, event, teacher)


def test_receipts_and_history_survive_the_deletion_of_the_student(teacher: Any, faces: Path) -> None:
    student, _ = enrolled(faces, teacher, student_number="S-GONE", first_name="Ada", last_name="Gone")
    consent_record(student=student, given=False, by=teacher, channel="page")
    student_delete(student=student, by=teacher)
    receipts = ErasureReceipt.objects.filter(student_number="S-GONE").order_by("created_at", "id")
    assert [(r.rule, r.student_name, r.student_id) for r in receipts] == [
        ("consent_withdrawn", "Ada Gone", None), ("student_deleted", "Ada Gone", None)]
    assert ConsentEvent.objects.filter(student_number="S-GONE", student=None).count() == 2


def test_a_receipt_holds_no_biometric_data(teacher: Any, faces: Path) -> None:
    student, face = enrolled(faces, teacher)
    consent_record(student=student, given=False, by=teacher, channel="page")
    receipt = ErasureReceipt.objects.get(student=student)
    stored = json.dumps({f.name: str(getattr(receipt, f.attname)) for f in ErasureReceipt._meta.concrete_fields})
    assert face.source_image.name not in stored and face.content_hash not in stored
    assert f"{face.embedding[0]:.4f}"[:6] not in stored


def test_enrolment_racing_a_withdrawal_leaves_no_embedding(teacher: Any, faces: Path) -> None:
    """The enrolment read the student (consent given) before the withdrawal committed; the face is
    saved after. Consent is re-read under the row lock when saving, so it is refused."""
    student = factories.StudentFactory(created_by=teacher)
    stale = StudentProfile.objects.get(pk=student.pk)
    consent_record(student=student, given=False, by=teacher, channel="page")
    assert stale.consent_given  # what the slow enrolment still believes
    with pytest.raises(DomainError) as refused:
        face_enrol(student=stale, image=(faces / OBAMA).read_bytes(), by=teacher)
    assert refused.value.error_code == "CONSENT_REQUIRED"
    assert not FaceEmbedding.objects.filter(student=student).exists()
    assert not list(Path(default_storage.location).rglob("*.jpg"))  # no orphan photo either


def test_admin_cannot_edit_consent_directly(admin_user: Any, client_for: ClientFor) -> None:
    student = factories.StudentFactory(consent_given=False, student_number="A1")
    client = client_for(admin_user)
    page = client.get(f"/admin/accounts/studentprofile/{student.pk}/change/").content.decode()
    assert 'name="consent_given"' not in page
    client.post(f"/admin/accounts/studentprofile/{student.pk}/change/", {
        "student_number": "A1", "first_name": "A", "last_name": "B", "guardian_email": "", "consent_given": "on",
        "consent_events-TOTAL_FORMS": "0", "consent_events-INITIAL_FORMS": "0",
        "erasure_receipts-TOTAL_FORMS": "0", "erasure_receipts-INITIAL_FORMS": "0"})
    student.refresh_from_db()
    assert student.consent_given is False and not ConsentEvent.objects.filter(student=student).exists()


def test_admin_actions_go_through_the_consent_history(admin_user: Any, faces: Path,
                                                     django_capture_on_commit_callbacks: Any,
                                                     client_for: ClientFor) -> None:
    student, face = enrolled(faces, admin_user)
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/admin/accounts/studentprofile/", {"action": "withdraw_consent", "_selected_action": [student.pk]})
    assert not FaceEmbedding.objects.filter(student=student).exists()
    assert not default_storage.exists(face.source_image.name)
    event = ConsentEvent.objects.filter(student=student).first()
    assert (event.action, event.channel, event.recorded_by) == ("withdraw", "admin", admin_user)
    client.post("/admin/accounts/studentprofile/", {"action": "record_consent", "_selected_action": [student.pk]})
    student.refresh_from_db()
    assert student.consent_given and student.consent_recorded_by == admin_user


def test_admin_shows_history_and_receipts_read_only(admin_user: Any, teacher: Any, faces: Path,
                                                    client_for: ClientFor) -> None:
    student, _ = enrolled(faces, teacher)
    consent_record(student=student, given=False, by=teacher, channel="page", given_by_name="Mr Guardian")
    client = client_for(admin_user)
    page = client.get(f"/admin/accounts/studentprofile/{student.pk}/change/").content.decode()
    assert "Consent withdrawn" in page and "consent_withdrawn" not in page.split("<select")[0][-10:]
    receipt = ErasureReceipt.objects.get(student=student)
    assert client.get(f"/admin/accounts/erasurereceipt/{receipt.pk}/change/").status_code == 200  # view only
    assert client.post(f"/admin/accounts/erasurereceipt/{receipt.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/accounts/consentevent/add/").status_code == 403
    assert ErasureReceipt.objects.filter(pk=receipt.pk).exists()


@pytest.mark.parametrize(("value", "consented"), [
    ("false", False), ("no", False), ("0", False), ("False", False), (False, False), (0, False), ("maybe", False),
    ("true", True), ("yes", True), (True, True), (1, True),
])
def test_legacy_import_reads_consent_strings_as_they_mean(tmp_path: Path, admin_user: Any, value: Any,
                                                          consented: bool) -> None:
    (tmp_path / "students.json").write_text(json.dumps(
        {"_id": "x1", "student_number": "L1", "name": "Ada Lovelace", "consent_given": value,
         "face_embeddings": [[0.01] * 128]}))
    result = legacy_import(directory=tmp_path, by=admin_user)
    student = StudentProfile.objects.get(student_number="L1")
    assert student.consent_given is consented
    assert result.embeddings == (1 if consented else 0)
    events = ConsentEvent.objects.filter(student=student)
    assert [(e.action, e.channel) for e in events] == ([("grant", "import")] if consented else [])


def test_roster_import_records_consent_in_the_history(teacher: Any, client_for: ClientFor) -> None:
    course = factories.CourseFactory(teacher=teacher)
    upload = SimpleUploadedFile("r.csv", b"student_number,first_name,last_name,consent\nR1,Ada,L,yes\n")
    client_for(teacher).post(f"/courses/{course.pk}/roster/", {"file": upload})
    event = ConsentEvent.objects.get(student__student_number="R1")
    assert (event.action, event.channel, event.recorded_by) == ("grant", "import", teacher)


def test_api_patch_of_consent_is_recorded_and_a_withdrawal_erases(teacher_api: Any, teacher: Any, faces: Path) -> None:
    student, _ = enrolled(faces, teacher)
    response = teacher_api.patch(f"/api/v1/students/{student.pk}/", {"consent_given": False}, format="json")
    assert response.status_code == 200 and response.json()["face_count"] == 0
    assert ConsentEvent.objects.filter(student=student, action="withdraw", channel="api").exists()
    assert ErasureReceipt.objects.filter(student=student, rule="consent_withdrawn").exists()


def test_consent_api_gives_history_and_records_who_gave_it(teacher_api: Any, teacher: Any) -> None:
    student = factories.StudentFactory(created_by=teacher, consent_given=False)
    url = f"/api/v1/students/{student.pk}/consent/"
    created = teacher_api.post(url, {"consent_given": True, "given_by": "guardian", "given_by_name": "Mum"},
                               format="json")
    assert created.status_code == 201, created.content
    again = teacher_api.post(url, {"consent_given": True, "given_by": "guardian"}, format="json")
    assert again.status_code == 200
    withdrawn = teacher_api.post(url, {"consent_given": False, "given_by": "student"}, format="json").json()
    assert withdrawn["consent_given"] is False
    assert [(e["action"], e["given_by"], e["channel"]) for e in withdrawn["events"]] == [
        ("withdraw", "student", "api"), ("grant", "guardian", "api")]
    assert withdrawn["events"][1]["given_by_name"] == "Mum"
    assert withdrawn["events"][1]["text_version"] == CONSENT_TEXT_VERSION
    assert [(r["rule"], r["embeddings_deleted"]) for r in withdrawn["erasure_receipts"]] == [("consent_withdrawn", 0)]
    history = teacher_api.get(url).json()
    assert history == withdrawn


def test_consent_api_refuses_a_bad_party(teacher_api: Any, teacher: Any) -> None:
    student = factories.StudentFactory(created_by=teacher, consent_given=False)
    response = teacher_api.post(f"/api/v1/students/{student.pk}/consent/",
                                {"consent_given": True, "given_by": "neighbour"}, format="json")
    assert response.status_code == 400 and "given_by" in response.json()["details"]


def test_student_page_shows_history_and_receipts(teacher: Any, faces: Path, client_for: ClientFor) -> None:
    student, _ = enrolled(faces, teacher)
    client = client_for(teacher)
    client.post(f"/students/{student.pk}/consent/", {"consent_given": "no", "confirm": "on", "given_by": "guardian",
                                                     "given_by_name": "Mrs Guardian", "note": "letter of 3 Nov"})
    page = client.get(f"/students/{student.pk}/").content.decode()
    assert "Consent history" in page and "Mrs Guardian" in page and "letter of 3 Nov" in page
    assert "Consent withdrawn: 1 face embedding(s) and 1 enrolment photo(s) deleted" in page
    assert "manual only" in page
    event = ConsentEvent.objects.filter(student=student).first()
    assert (event.channel, event.given_by) == ("page", "guardian")


def test_students_without_consent_are_marked_manual_only_on_roster_and_session(teacher: Any,
                                                                               client_for: ClientFor) -> None:
    import datetime

    from attendance.register.services import session_create

    course = factories.CourseFactory(teacher=teacher)
    without = factories.StudentFactory(consent_given=False, last_name="Withoutconsent")
    factories.EnrollmentFactory(course=course, student=without)
    factories.EnrollmentFactory(course=course, student=factories.StudentFactory(last_name="Withconsent"))
    session = session_create(course=course, date=datetime.date(2026, 11, 20), by=teacher)
    client = client_for(teacher)
    for url in (f"/courses/{course.pk}/", f"/sessions/{session.pk}/"):
        page = client.get(url).content.decode()
        rows = [row for row in re.split(r"<tr>|<li>", page) if "Withoutconsent" in row or "Withconsent" in row]
        assert any("Withoutconsent" in row and "manual only" in row for row in rows), url
        assert not any("Withconsent" in row and "manual only" in row for row in rows), url


@pytest.mark.django_db(transaction=True)
def test_enrolment_waits_for_a_withdrawal_holding_the_student_lock(teacher: Any, faces: Path) -> None:
    """A real race on PostgreSQL: the withdrawal holds the student's row lock when the enrolment
    reaches its save; the enrolment waits, then sees the withdrawal and is refused."""
    import threading
    import time

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no row locks (its writes are serialised whole); run with DATABASE_URL=postgres://")
    student = factories.StudentFactory(created_by=teacher)
    outcome: dict[str, Any] = {}

    def enrol() -> None:
        try:
            outcome["face"] = face_enrol(student=StudentProfile.objects.get(pk=student.pk),
                                         image=(faces / OBAMA).read_bytes(), by=teacher)
        except DomainError as exc:
            outcome["refused"] = exc.error_code
        finally:
            connections.close_all()

    with transaction.atomic():
        # What consent_record does first: lock the row, then write the withdrawal.
        locked = StudentProfile.objects.select_for_update().get(pk=student.pk)
        locked.consent_given = False
        locked.save(update_fields=["consent_given"])
        worker = threading.Thread(target=enrol)
        worker.start()
        time.sleep(4)  # the encoding is done well before: the worker now waits for the lock
        assert worker.is_alive(), outcome
    worker.join(timeout=30)
    assert outcome == {"refused": "CONSENT_REQUIRED"}
    assert not FaceEmbedding.objects.filter(student=student).exists()
