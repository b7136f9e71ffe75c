"""The teacher's review of a photo's faces, with the real model on real photos: crops of pending and
unknown faces (only for the session's teacher), nothing preselected, "not a student" audited, and
an assignment that stands when "also enrol" is refused."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from PIL import Image

from accounts.models import TeacherSettings
from attendance.models import AttendanceCorrection, AttendanceRecord, DetectedFace, SessionPhoto
from tests import scenes
from tests.attendance.photos.test_flow import open_session, upload
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture
def reviewed(teacher_api: Any, enrolled_class: EnrolledClass) -> dict:
    """obama_and_biden.jpg with tight thresholds: Obama and Biden pending, the third face unknown."""
    TeacherSettings.objects.update_or_create(user=enrolled_class.course.teacher,
                                             defaults={"confident_threshold": 0.35, "uncertain_threshold": 0.60})
    session = open_session(teacher_api, enrolled_class.course.pk)
    response = upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))
    assert response.status_code == 201, response.content
    return teacher_api.get(f"/api/v1/sessions/{session['id']}/").json()


def jpeg_size(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image.size


def test_pending_and_unknown_faces_come_with_crops(teacher_api: Any, reviewed: dict) -> None:
    faces = reviewed["review_faces"]
    assert sorted(f["match"] for f in faces) == ["uncertain", "uncertain", "unknown"]
    for face in faces:
        response = teacher_api.get(face["crop_url"])
        assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
        width, height = jpeg_size(response.content)
        box = face["box"]
        # The face and a margin, never enlarged, at most 160 px.
        assert min(160, box["right"] - box["left"]) <= max(width, height) <= 160


def test_crops_are_refused_to_another_teacher_and_to_students(other_teacher_api: Any, student_api: Any,
                                                             anonymous_api: Any, reviewed: dict) -> None:
    url = reviewed["review_faces"][0]["crop_url"]
    assert other_teacher_api.get(url).status_code == 404
    assert student_api.get(url).status_code == 403
    assert anonymous_api.get(url).status_code == 401


def test_crops_go_with_the_purged_photo(teacher_api: Any, reviewed: dict) -> None:
    url = reviewed["review_faces"][0]["crop_url"]
    photo = SessionPhoto.objects.get(pk=reviewed["photos"][0]["id"])
    photo.image.delete(save=True)
    assert teacher_api.get(url).status_code == 404
    detail = teacher_api.get(f"/api/v1/sessions/{reviewed['id']}/").json()
    assert all(face["crop_url"] is None for face in detail["review_faces"])


def test_the_session_page_shows_crops_and_preselects_nobody(teacher: Any, reviewed: dict,
                                                            client_for: ClientFor) -> None:
    client = client_for(teacher)
    page = client.get(f"/sessions/{reviewed['id']}/").content.decode()
    for face in reviewed["review_faces"]:
        assert face["crop_url"] in page
        assert f'id="face-{face["id"]}"' in page and f'href="#face-{face["id"]}"' in page
    selects = re.findall(r'<select id="assign-\d+" name="student".*?</select>', page, re.S)
    assert len(selects) == 1  # the unknown face
    assert re.findall(r"<option[^>]*selected[^>]*>[^<]*", selects[0]) == ['<option value="" selected>Choose a student']
    # The students not seen yet come first.
    assert selects[0].index('label="Not seen yet"') < selects[0].index("Obama")
    unknown = next(f for f in reviewed["review_faces"] if f["match"] == "unknown")
    refused = client.post(f"/sessions/{reviewed['id']}/faces/{unknown['id']}/assign/", {"student": ""}, follow=True)
    assert "Choose who this face is." in refused.content.decode()
    assert DetectedFace.objects.get(pk=unknown["id"]).match == "unknown"


def test_not_a_student_is_audited_and_leaves_the_review(teacher: Any, teacher_api: Any, reviewed: dict,
                                                        client_for: ClientFor) -> None:
    unknown = next(f for f in reviewed["review_faces"] if f["match"] == "unknown")
    response = teacher_api.post(f"/api/v1/sessions/{reviewed['id']}/faces/{unknown['id']}/dismiss/",
                                {"note": "poster on the wall"}, format="json")
    assert response.status_code == 200 and response.json()["match"] == "dismissed"
    face = DetectedFace.objects.get(pk=unknown["id"])
    assert (face.reviewed_by, face.review_note) == (teacher, "poster on the wall") and face.reviewed_at

    # A pending match dismissed: the student is "not seen yet" again, and the record says why.
    pending = next(f for f in reviewed["review_faces"] if f["match"] == "uncertain")
    client = client_for(teacher)
    client.post(f"/sessions/{reviewed['id']}/faces/{pending['id']}/dismiss/")
    record = AttendanceRecord.objects.get(session_id=reviewed["id"], student_id=pending["student"])
    assert (record.status, record.source, record.face_id) == ("unmarked", "none", None)
    correction = AttendanceCorrection.objects.get(record=record)
    assert (correction.old_status, correction.new_status, correction.changed_by) == ("pending", "unmarked", teacher)
    detail = teacher_api.get(f"/api/v1/sessions/{reviewed['id']}/").json()
    assert {f["id"] for f in detail["review_faces"]} == {f["id"] for f in reviewed["review_faces"]} - {
        unknown["id"], pending["id"]}


def test_a_refused_enrolment_keeps_the_assignment(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    """A back-row face (45 px) is too small to enrol: the student is present all the same, and the
    answer says why the face was not enrolled."""
    scene = scenes.scaled_group(enrolled_class.faces, "groups/bald_guys.jpg", 0.5)
    session = open_session(teacher_api, enrolled_class.course.pk)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = upload(teacher_api, session["id"], SimpleUploadedFile("row.jpg", scene.jpeg(90), "image/jpeg"))
    assert response.status_code == 201 and response.json()["faces_detected"] == 24
    smallest = min(response.json()["matches"], key=lambda f: f["box"]["right"] - f["box"]["left"])
    obama = enrolled_class.students["obama"]
    answer = teacher_api.post(f"/api/v1/sessions/{session['id']}/faces/{smallest['id']}/assign/",
                              {"student_id": obama.pk, "add_embedding": True}, format="json")
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["status"] == "present" and body["face_enrolled"] is None
    assert body["enrol_error_code"] in ("FACE_TOO_SMALL", "FACE_BLURRY", "NO_FACE_FOUND") and body["enrol_error"]
    assert DetectedFace.objects.get(pk=smallest["id"]).match == "assigned"
    assert obama.face_embeddings.count() == 1  # only the enrolment photo


def test_a_pending_face_is_shown_next_to_the_students_enrolled_face(teacher: Any, other_teacher: Any,
                                                                     reviewed: dict, client_for: ClientFor) -> None:
    from recognition.models import FaceEmbedding

    pending = next(f for f in reviewed["review_faces"] if f["match"] == "uncertain")
    enrolled = FaceEmbedding.objects.get(student_id=pending["student"])
    client = client_for(teacher)
    page = client.get(f"/sessions/{reviewed['id']}/").content.decode()
    url = f"/faces/{enrolled.pk}/enrolment-crop"
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and max(jpeg_size(response.content)) <= 160
    stranger = client_for(other_teacher)
    assert stranger.get(url).status_code == 404


def test_confirming_a_match_decided_meanwhile_changes_nothing(teacher: Any, reviewed: dict,
                                                              client_for: ClientFor) -> None:
    """A stale page's "Confirm" does not overwrite a decision taken since (the record is locked and
    checked)."""
    pending = next(f for f in reviewed["review_faces"] if f["match"] == "uncertain")
    client = client_for(teacher)
    url = f"/sessions/{reviewed['id']}/records/{pending['student']}/decide/"
    assert client.post(url, {"decision": "reject"}).status_code == 302
    answer = client.post(url, {"decision": "confirm"}, follow=True).content.decode()
    assert "someone decided meanwhile" in answer
    record = AttendanceRecord.objects.get(session_id=reviewed["id"], student_id=pending["student"])
    assert record.status == "absent" and record.corrections.count() == 1
