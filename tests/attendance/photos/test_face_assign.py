"""Assigning classroom faces keeps matches one-to-one: a face has at most one student, and a student at
most one face per photo (real dlib model, real photos)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError

from attendance.models import AttendanceCorrection, AttendanceRecord, DetectedFace
from recognition.backends.local import DlibBackend
from recognition.results import FaceMatch
from tests.attendance.photos.test_flow import open_session, upload
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db


@pytest.fixture
def photo(teacher_api: Any, enrolled_class: EnrolledClass) -> dict:
    """obama_and_biden.jpg in a new session: Obama and Biden matched, a third face unknown."""
    session = open_session(teacher_api, enrolled_class.course.pk)
    body = upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg")).json()
    faces = {m["student"]: m for m in body["matches"]}
    return {"session": session["id"], "photo": body["photo"]["id"], "faces": faces}


def assign(api: Any, session_id: int, face_id: int, student_id: int) -> Any:
    return api.post(f"/api/v1/sessions/{session_id}/faces/{face_id}/assign/", {"student_id": student_id},
                    format="json")


def students_on_photo(photo_id: int) -> list[int | None]:
    return list(DetectedFace.objects.filter(photo_id=photo_id).order_by("face_index").values_list("student",
                                                                                                     flat=True))


def test_assigning_another_face_to_a_matched_student_moves_the_match(
        teacher_api: Any, enrolled_class: EnrolledClass, photo: dict) -> None:
    obama = enrolled_class.students["obama"]
    old_face, unknown = photo["faces"][obama.pk], photo["faces"][None]

    response = assign(teacher_api, photo["session"], unknown["id"], obama.pk)

    assert response.status_code == 200, response.content
    assert response.json()["face_index"] == unknown["face_index"]
    assert students_on_photo(photo["photo"]).count(obama.pk) == 1
    old = DetectedFace.objects.get(pk=old_face["id"])
    assert old.student_id is None and old.match == "unknown"
    record = AttendanceRecord.objects.get(session_id=photo["session"], student=obama)
    assert record.face_id == unknown["id"] and record.status == "present"
    detail = teacher_api.get(f"/api/v1/sessions/{photo['session']}/").json()
    assert [f["id"] for f in detail["unknown_faces"]] == [old_face["id"]]


def test_reassigning_a_matched_face_takes_it_from_its_previous_student(
        teacher_api: Any, enrolled_class: EnrolledClass, photo: dict) -> None:
    obama, biden = enrolled_class.students["obama"], enrolled_class.students["biden"]
    biden_face, obama_face = photo["faces"][biden.pk], photo["faces"][obama.pk]

    # The teacher says the face matched to Biden is in fact Obama.
    response = assign(teacher_api, photo["session"], biden_face["id"], obama.pk)

    assert response.status_code == 200, response.content
    assert DetectedFace.objects.get(pk=biden_face["id"]).student_id == obama.pk
    assert DetectedFace.objects.get(pk=obama_face["id"]).student_id is None
    assert students_on_photo(photo["photo"]).count(obama.pk) == 1 and biden.pk not in students_on_photo(
        photo["photo"])
    # Biden's only evidence is gone: not seen (audited), so absent on finalise unless corrected.
    record = AttendanceRecord.objects.get(session_id=photo["session"], student=biden)
    assert record.status == "unmarked" and record.face_id is None and record.distance is None
    audit = AttendanceCorrection.objects.get(record=record)
    assert (audit.old_status, audit.new_status) == ("present", "unmarked")


def test_assigning_a_face_to_its_own_student_changes_nothing_else(
        teacher_api: Any, enrolled_class: EnrolledClass, photo: dict) -> None:
    obama = enrolled_class.students["obama"]
    before = students_on_photo(photo["photo"])

    response = assign(teacher_api, photo["session"], photo["faces"][obama.pk]["id"], obama.pk)

    assert response.status_code == 200, response.content
    assert students_on_photo(photo["photo"]) == before
    assert DetectedFace.objects.get(pk=photo["faces"][obama.pk]["id"]).match == "assigned"


def test_the_database_refuses_a_student_on_two_faces_of_one_photo(enrolled_class: EnrolledClass,
                                                                  photo: dict) -> None:
    obama = enrolled_class.students["obama"]
    with pytest.raises(IntegrityError):
        DetectedFace.objects.filter(pk=photo["faces"][None]["id"]).update(student=obama)


class _OneStudentForEveryFaceBackend(DlibBackend):
    """The real detector, with a matcher (as a faulty or hostile recognition service might answer)
    that names the same student for every face, the second face closest."""

    def match_faces(self, embeddings: Any, candidates: Any, **kwargs: Any) -> list[FaceMatch]:
        student = candidates.student_ids[0]
        return [FaceMatch(face_index=i, student_id=student, distance=0.45 - 0.1 * (i == 1), status="confident")
                for i in range(len(embeddings))]


def test_a_student_named_for_two_faces_keeps_only_the_closest(teacher_api: Any, enrolled_class: EnrolledClass,
                                                              settings: Any) -> None:
    settings.RECOGNITION = {"BACKEND": f"{__name__}._OneStudentForEveryFaceBackend", "OPTIONS": {}}
    session = open_session(teacher_api, enrolled_class.course.pk)

    response = upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))

    assert response.status_code == 201, response.content
    assert [m["student"] is not None for m in response.json()["matches"]] == [False, True, False]
