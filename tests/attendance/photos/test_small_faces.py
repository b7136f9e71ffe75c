"""Faces too small to identify (issue 18): a classroom face narrower than
RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS (measured by benchmarks/small_faces.py) is recorded as "too
small to identify — take the photo closer", counted in the head count, shown so in the review and
never matched, not even when it is an enrolled student. A composed scene of real faces, the real model."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from attendance.models import AttendanceRecord, DetectedFace
from tests import scenes
from tests.attendance.photos.test_flow import open_session, upload
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
TINY, NEAR = 18, 90  # the back row below the floor (YuNet still finds it), the front row well above


@pytest.fixture
def scene(enrolled_class: EnrolledClass) -> scenes.Scene:
    """A 1280x720 frame: Obama in a back row of faces 18 px wide, Biden and Rose Leslie at the front."""
    assert TINY < settings.RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS <= NEAR
    return scenes.classroom(enrolled_class.faces, name="tiny-back-row", size=(1280, 720), row_face_widths=[TINY, NEAR],
                            per_row=5, busy=False, seed=7,
                            known_rows={"obama": 0, "biden": 1, "rose_leslie": 1})


def test_faces_too_small_are_counted_never_matched_and_shown_so(
        teacher: Any, teacher_api: Any, client_for: ClientFor, enrolled_class: EnrolledClass,
        scene: scenes.Scene) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    response = upload(teacher_api, session["id"], SimpleUploadedFile("room.jpg", scene.jpeg(92), "image/jpeg"))
    assert response.status_code == 201, response.content
    faces = list(DetectedFace.objects.filter(photo__session_id=session["id"]))
    small = [face for face in faces if face.match == DetectedFace.Match.TOO_SMALL]
    identifiable = [face for face in faces if face.match != DetectedFace.Match.TOO_SMALL]
    # Most of the back row is found, and every face found there is too small; the front row is not.
    assert len(small) >= 3
    assert all(face.box_right - face.box_left < settings.RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS for face in small)
    assert all(face.box_right - face.box_left >= settings.RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS
               for face in identifiable) and len(identifiable) == 5
    for face in small:
        assert face.student_id is None and face.distance is None
        assert "take the photo closer" in face.reason
    # The head count counts them.
    assert response.json()["faces_detected"] == len(faces) == len(small) + 5
    records = {r.student_id: r.status for r in AttendanceRecord.objects.filter(session_id=session["id"])}
    students = enrolled_class.students
    assert records[students["obama"].pk] == AttendanceRecord.Status.UNMARKED  # in the back row: never matched
    assert records[students["biden"].pk] == records[students["rose_leslie"].pk] == AttendanceRecord.Status.PRESENT
    # Not among the faces to review (nobody could say who they are from so few pixels).
    detail = teacher_api.get(f"/api/v1/sessions/{session['id']}/").json()
    assert {face.pk for face in small}.isdisjoint({face["id"] for face in detail["review_faces"]})
    page = client_for(teacher).get(f"/sessions/{session['id']}/").content.decode()
    assert f'data-too-small="{len(small)}"' in page and "too small to identify — take the photo closer" in page
    assert page.count('data-face-box="too-small"') == len(small)
    # A too-small face cannot be assigned either.
    answer = teacher_api.post(f"/api/v1/sessions/{session['id']}/faces/{small[0].pk}/assign/",
                              {"student_id": students["obama"].pk}, format="json")
    assert answer.status_code == 409 and answer.json()["error_code"] == "FACE_TOO_SMALL_TO_IDENTIFY"


def test_live_mode_shows_faces_too_small_and_never_marks_them(teacher_api: Any, enrolled_class: EnrolledClass,
                                                               scene: scenes.Scene) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    assert teacher_api.post(f"/api/v1/sessions/{session['id']}/live/").status_code == 201
    answer = teacher_api.post(f"/api/v1/sessions/{session['id']}/live/frames/",
                              {"image": SimpleUploadedFile("frame.jpg", scene.jpeg(92), "image/jpeg")},
                              format="multipart")
    assert answer.status_code == 200, answer.content
    faces = answer.json()["faces"]
    small = [face for face in faces if face["match"] == "too_small"]
    assert len(small) >= 3 and all(face["student"] is None and face["distance"] is None for face in small)
    assert all(face["box"]["right"] - face["box"]["left"] < settings.RECOGNITION_MIN_IDENTIFIABLE_FACE_PIXELS
               for face in small)
    named = {face["student"] for face in faces if face["student"] is not None}
    assert enrolled_class.students["obama"].pk not in named  # in the back row
    assert {enrolled_class.students["biden"].pk, enrolled_class.students["rose_leslie"].pk} <= named
