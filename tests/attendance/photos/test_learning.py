"""Faces that grow with the child: a classroom face a teacher vouched for becomes one of the student's
faces, with provenance; a face unlike the student's is held, never matched (real dlib model, real photos)."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.consent import consent_record
from accounts.models import ErasureReceipt, TeacherSettings
from attendance.models import AttendanceRecord, DetectedFace
from recognition.models import FaceEmbedding
from tests.attendance.photos.test_flow import open_session, statuses, upload
from tests.classroom import EnrolledClass, make_class

pytestmark = pytest.mark.django_db


def assign(api: Any, session_id: int, face_id: int, student_id: int) -> Any:
    return api.post(f"/api/v1/sessions/{session_id}/faces/{face_id}/assign/", {"student_id": student_id},
                    format="json")


def photo_faces(api: Any, session_id: int, photo: Any) -> dict[int | None, dict]:
    body = upload(api, session_id, photo).json()
    return {m["student"]: m for m in body["matches"]}


@pytest.fixture
def biden_pending(teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass) -> dict:
    """obama_and_biden.jpg under a 0.40 confident threshold: Biden (0.42) is pending."""
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.40", uncertain_threshold="0.60")
    session = open_session(teacher_api, enrolled_class.course.pk)
    faces = photo_faces(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))
    biden = enrolled_class.students["biden"]
    assert statuses(teacher_api, session["id"])[biden.pk] == "pending"
    return {"session": session["id"], "face": faces[biden.pk], "student": biden}


def test_confirming_a_pending_face_learns_it_with_its_provenance(
        teacher: Any, client_for: Any, biden_pending: dict, django_capture_on_commit_callbacks: Any) -> None:
    biden, session_id = biden_pending["student"], biden_pending["session"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(teacher).post(f"/sessions/{session_id}/records/{biden.pk}/decide/",
                                            {"decision": "confirm"})

    assert response.status_code == 302
    assert AttendanceRecord.objects.get(session_id=session_id, student=biden).status == "present"
    learned = FaceEmbedding.objects.learned().get(student=biden)
    face = DetectedFace.objects.get(pk=biden_pending["face"]["id"])
    assert learned.approval == "approved" and learned.learned_how == "confirmed"
    assert (learned.learned_session_id, learned.learned_photo_id, learned.learned_face_id) == (
        session_id, face.photo_id, face.pk)
    assert learned.enrolled_by == teacher and learned.approved_by == teacher
    assert "Mathematics 7A" in learned.learned_context and f"photo #{face.photo_id}" in learned.learned_context
    assert learned.learned_distance is not None and 0.2 < learned.learned_distance < 0.6
    # It takes part in matching from now on, like an enrolled face.
    assert learned in FaceEmbedding.objects.matchable().filter(student=biden)
    # The API lists it with its kind and provenance (never the vector).
    body = client_for(teacher).get(f"/api/v1/students/{biden.pk}/faces/").json()
    kinds = {f["id"]: (f["source"], f["learned_from"]) for f in body}
    assert kinds[learned.pk][0] == "learned" and kinds[learned.pk][1]["face"] == face.pk
    assert {source for source, _ in kinds.values()} == {"enrolled", "learned"}
    assert "vector" not in str(body)


def test_a_learned_face_makes_the_next_photo_confident(
        teacher_api: Any, biden_pending: dict, django_capture_on_commit_callbacks: Any,
        enrolled_class: EnrolledClass) -> None:
    biden = biden_pending["student"]
    with django_capture_on_commit_callbacks(execute=True):
        teacher_api.patch(f"/api/v1/sessions/{biden_pending['session']}/records/{biden.pk}/",
                          {"status": "present"}, format="json")
    assert FaceEmbedding.objects.learned().filter(student=biden, approval="approved").count() == 1

    # The same classroom the next day: Biden is now recognised without a teacher's help.
    session = open_session(teacher_api, enrolled_class.course.pk, date="2026-11-23")
    faces = photo_faces(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))

    assert faces[biden.pk]["distance"] < 0.2
    assert statuses(teacher_api, session["id"])[biden.pk] == "present"


def test_finalising_with_pending_resolved_as_present_teaches_nothing(
        teacher_api: Any, biden_pending: dict, django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = teacher_api.post(f"/api/v1/sessions/{biden_pending['session']}/finalize/",
                                    {"resolve_pending": "present"}, format="json")
    assert response.status_code == 200
    assert not FaceEmbedding.objects.learned().exists()


def test_nothing_is_learned_without_consent(teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass,
                                            django_capture_on_commit_callbacks: Any) -> None:
    obama = enrolled_class.students["obama"]
    consent_record(student=obama, given=False, by=teacher, channel="page")
    session = open_session(teacher_api, enrolled_class.course.pk)
    faces = photo_faces(teacher_api, session["id"], enrolled_class.photo("probes/obama1.jpg"))
    assert list(faces) == [None]  # without consent Obama is nobody's candidate

    with django_capture_on_commit_callbacks(execute=True):
        response = assign(teacher_api, session["id"], faces[None]["id"], obama.pk)

    assert response.status_code == 200 and response.json()["status"] == "present"
    assert not FaceEmbedding.objects.filter(student=obama).exists()


@pytest.fixture
def class_without_kit(teacher: Any, faces: Any) -> EnrolledClass:
    return make_class(teacher=teacher, faces=faces,
                      enrol=("obama", "biden", "rose_leslie", "alex_lacamoire"))


def test_a_wrong_assignment_is_held_and_marks_nobody_later(
        teacher_api: Any, class_without_kit: EnrolledClass, django_capture_on_commit_callbacks: Any) -> None:
    alex = class_without_kit.students["alex_lacamoire"]
    session = open_session(teacher_api, class_without_kit.course.pk)
    faces = photo_faces(teacher_api, session["id"], class_without_kit.photo("probes/kit_with_rose.jpg"))
    kit_face = faces[None]  # Kit is not enrolled: his face is unknown

    # The teacher clicks the wrong name: Kit's face is "Alex".
    with django_capture_on_commit_callbacks(execute=True):
        assert assign(teacher_api, session["id"], kit_face["id"], alex.pk).status_code == 200

    held = FaceEmbedding.objects.learned().get(student=alex)
    assert held.approval == "held" and held.learned_how == "assigned"
    assert held.learned_distance is not None and held.learned_distance >= 0.6
    assert held.source_image  # the reviewer sees what was held
    assert not FaceEmbedding.objects.matchable().filter(pk=held.pk).exists()

    # A later photo of Kit alone: Alex is not marked present from the wrongly assigned face.
    later = open_session(teacher_api, class_without_kit.course.pk, date="2026-11-23")
    later_faces = photo_faces(teacher_api, later["id"], class_without_kit.photo("probes/johnsnow_test1.jpg"))
    assert list(later_faces) == [None]
    assert statuses(teacher_api, later["id"])[alex.pk] == "unmarked"


def test_staff_approve_or_discard_a_held_face(
        teacher: Any, client_for: Any, teacher_api: Any, class_without_kit: EnrolledClass,
        django_capture_on_commit_callbacks: Any) -> None:
    kit, alex = class_without_kit.students["kit_harington"], class_without_kit.students["alex_lacamoire"]
    session = open_session(teacher_api, class_without_kit.course.pk)
    faces = photo_faces(teacher_api, session["id"], class_without_kit.photo("probes/kit_with_rose.jpg"))
    with django_capture_on_commit_callbacks(execute=True):
        assign(teacher_api, session["id"], faces[None]["id"], alex.pk)  # wrong
    wrong = FaceEmbedding.objects.get(student=alex, source="learned")
    page = client_for(teacher)

    assert b"held for review" in page.get(f"/students/{alex.pk}/").content
    page.post(f"/students/{alex.pk}/faces/{wrong.pk}/review/", {"decision": "reject"})
    assert not FaceEmbedding.objects.filter(pk=wrong.pk).exists()
    receipt = ErasureReceipt.objects.get(student=alex)
    assert (receipt.rule, receipt.embeddings_deleted, receipt.learned_deleted, receipt.by) == (
        "face_rejected", 1, 1, teacher)

    # Kit has no face yet: his own first classroom face has nothing to be compared with, so it is held;
    # the teacher who knows him approves it and he is recognised from then on.
    with django_capture_on_commit_callbacks(execute=True):
        assign(teacher_api, session["id"], faces[None]["id"], kit.pk)
    first = FaceEmbedding.objects.get(student=kit)
    assert first.approval == "held" and first.learned_distance is None
    page.post(f"/students/{kit.pk}/faces/{first.pk}/review/", {"decision": "approve"})
    first.refresh_from_db()
    assert first.approval == "approved" and first.approved_by == teacher
    later = open_session(teacher_api, class_without_kit.course.pk, date="2026-11-23")
    assert kit.pk in photo_faces(teacher_api, later["id"], class_without_kit.photo("probes/johnsnow_test1.jpg"))


def test_the_rolling_window_keeps_the_newest_learned_faces_and_every_enrolled_one(
        settings: Any, teacher_api: Any, enrolled_class: EnrolledClass,
        django_capture_on_commit_callbacks: Any) -> None:
    settings.FACE_LEARNED_PER_STUDENT = 1
    obama = enrolled_class.students["obama"]
    enrolled = FaceEmbedding.objects.get(student=obama)
    learned_ids = []
    for day, photo in (("2026-11-20", "probes/obama1.jpg"), ("2026-11-23", "people/obama/obama2.jpg")):
        session = open_session(teacher_api, enrolled_class.course.pk, date=day)
        faces = photo_faces(teacher_api, session["id"], enrolled_class.photo(photo))
        face = faces.get(obama.pk) or faces[None]
        # The teacher confirms the face as Obama by assigning it (it may have been matched already).
        assign(teacher_api, session["id"], face["id"], enrolled_class.students["biden"].pk)
        with django_capture_on_commit_callbacks(execute=True):
            assign(teacher_api, session["id"], face["id"], obama.pk)
        learned_ids.append(FaceEmbedding.objects.learned().filter(student=obama).latest("created_at").pk)

    remaining = FaceEmbedding.objects.filter(student=obama)
    assert sorted(remaining.values_list("pk", flat=True)) == sorted([enrolled.pk, learned_ids[1]])
    receipt = ErasureReceipt.objects.get(student=obama)
    assert (receipt.rule, receipt.embeddings_deleted, receipt.learned_deleted) == ("learned_rotated", 1, 1)


def test_withdrawing_consent_erases_learned_faces_and_the_receipt_counts_them(
        teacher: Any, teacher_api: Any, biden_pending: dict, django_capture_on_commit_callbacks: Any) -> None:
    biden = biden_pending["student"]
    with django_capture_on_commit_callbacks(execute=True):
        teacher_api.patch(f"/api/v1/sessions/{biden_pending['session']}/records/{biden.pk}/",
                          {"status": "present"}, format="json")
    assert FaceEmbedding.objects.filter(student=biden).count() == 2

    consent_record(student=biden, given=False, by=teacher, channel="page")

    assert not FaceEmbedding.objects.filter(student=biden).exists()
    receipt = ErasureReceipt.objects.get(student=biden, rule="consent_withdrawn")
    assert (receipt.embeddings_deleted, receipt.learned_deleted) == (2, 1)
    assert "1 learned from classroom photos" in receipt.summary


def test_a_teacher_of_another_course_can_neither_see_nor_remove_learned_faces(
        teacher: Any, other_teacher: Any, client_for: Any, other_teacher_api: Any, teacher_api: Any,
        biden_pending: dict, django_capture_on_commit_callbacks: Any) -> None:
    biden = biden_pending["student"]
    with django_capture_on_commit_callbacks(execute=True):
        teacher_api.patch(f"/api/v1/sessions/{biden_pending['session']}/records/{biden.pk}/",
                          {"status": "present"}, format="json")
    learned = FaceEmbedding.objects.learned().get(student=biden)
    outsider = client_for(other_teacher)

    assert outsider.get(f"/students/{biden.pk}/").status_code == 404
    assert outsider.post(f"/students/{biden.pk}/faces/{learned.pk}/delete/").status_code == 404
    assert other_teacher_api.get(f"/api/v1/students/{biden.pk}/faces/").status_code == 404
    assert other_teacher_api.delete(f"/api/v1/students/{biden.pk}/faces/{learned.pk}/").status_code == 404
    assert outsider.get(f"/faces/{learned.pk}/image").status_code == 404
    assert FaceEmbedding.objects.filter(pk=learned.pk).exists()

    # Their own teacher sees it with its provenance and removes it, with a receipt.
    page = client_for(teacher)
    content = page.get(f"/students/{biden.pk}/").content.decode()
    assert "Pending match confirmed" in content and learned.learned_context in content
    page.post(f"/students/{biden.pk}/faces/{learned.pk}/delete/")
    assert not FaceEmbedding.objects.filter(pk=learned.pk).exists()
    receipt = ErasureReceipt.objects.get(student=biden)
    assert (receipt.rule, receipt.learned_deleted, receipt.by) == ("face_deleted", 1, teacher)


def test_retention_deletes_undecided_held_faces_and_old_learned_crops(
        teacher_api: Any, class_without_kit: EnrolledClass, django_capture_on_commit_callbacks: Any) -> None:
    alex, rose = class_without_kit.students["alex_lacamoire"], class_without_kit.students["rose_leslie"]
    session = open_session(teacher_api, class_without_kit.course.pk)
    faces = photo_faces(teacher_api, session["id"], class_without_kit.photo("probes/kit_with_rose.jpg"))
    record = f"/api/v1/sessions/{session['id']}/records/{rose.pk}/"
    with django_capture_on_commit_callbacks(execute=True):
        assign(teacher_api, session["id"], faces[None]["id"], alex.pk)  # wrong: held
        # Rose was matched confidently (nothing learned); marked absent by mistake, then present again
        # on the strength of her face on the photo: the teacher vouched for it.
        teacher_api.patch(record, {"status": "absent"}, format="json")
        teacher_api.patch(record, {"status": "present"}, format="json")
    held = FaceEmbedding.objects.get(student=alex, approval="held")
    learned = FaceEmbedding.objects.learned().get(student=rose)
    assert learned.approval == "approved" and learned.source_image
    FaceEmbedding.objects.filter(pk__in=[held.pk, learned.pk]).update(
        created_at=timezone.now() - datetime.timedelta(days=31))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("purge_biometrics", "--days", "30", stdout=io.StringIO())

    assert not FaceEmbedding.objects.filter(pk=held.pk).exists()
    receipt = ErasureReceipt.objects.get(student=alex, rule="held_expired")
    assert (receipt.embeddings_deleted, receipt.learned_deleted, receipt.photos_deleted) == (1, 1, 1)
    learned.refresh_from_db()
    assert learned.approval == "approved" and not learned.source_image  # the embedding stays, the crop goes


def test_a_face_nearer_a_classmate_than_the_student_is_held_even_within_the_distance(
        settings: Any, teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass,
        django_capture_on_commit_callbacks: Any) -> None:
    # A loose distance alone would let Obama's face teach Biden; Obama is Biden's classmate.
    settings.FACE_LEARN_MAX_DISTANCE = 0.95
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.35", uncertain_threshold="0.36")
    biden, obama = enrolled_class.students["biden"], enrolled_class.students["obama"]
    session = open_session(teacher_api, enrolled_class.course.pk)
    faces = photo_faces(teacher_api, session["id"], enrolled_class.photo("probes/obama1.jpg"))
    obama_face = faces.get(None) or faces[obama.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert assign(teacher_api, session["id"], obama_face["id"], biden.pk).status_code == 200
    held = FaceEmbedding.objects.learned().get(student=biden)
    assert held.approval == "held" and held.learned_distance < 0.95
