"""Live mode follows faces between frames (issue 18), with the real dlib model on 1280x720 frames composed
from real photos: across frames in which the class moves a little, following faces gives the same
identities and marks as encoding every face, and encodes fewer faces; a still picture still marks nobody;
the tracks live on the run's row (shared by every worker), hold no embedding, and go with consent."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.consent import consent_record
from attendance.models import AttendanceRecord, AttendanceSession, LiveRun
from attendance.register import services
from recognition.backends.local import DlibBackend
from tests.attendance.live_frames import frame_scene
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db

PEOPLE = ("obama", "biden", "rose_leslie")


def moving_frames(faces: Path, steps: int = 5) -> list[bytes]:
    """One class a second apart: the three students drift 3 px right and 1 px down a frame (a head
    moving while listening), the strangers sit still."""
    return [frame_scene(faces, PEOPLE, 7, tuple((person, 3 * step, step) for person in PEOPLE)).jpeg(quality=85)
            for step in range(steps)]


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of faces each call of the dlib encoder encoded."""
    calls: list[int] = []
    original = DlibBackend._encode

    def counting(self: DlibBackend, decoded: Any, boxes: list, num_jitters: int) -> list[np.ndarray]:
        calls.append(len(boxes))
        return original(self, decoded, boxes, num_jitters)

    monkeypatch.setattr(DlibBackend, "_encode", counting)
    return calls


def run_frames(api: Any, session: AttendanceSession, frames: list[bytes]) -> list[dict]:
    assert api.post(f"/api/v1/sessions/{session.pk}/live/").status_code == 201
    bodies = []
    for index, data in enumerate(frames):
        response = api.post(f"/api/v1/sessions/{session.pk}/live/frames/",
                            {"image": SimpleUploadedFile(f"f{index}.jpg", data, content_type="image/jpeg")},
                            format="multipart")
        assert response.status_code == 200, response.content
        bodies.append(response.json())
    return bodies


def seen(body: dict) -> list[tuple]:
    return sorted((tuple(face["box"].values()), face["student"], face["match"]) for face in body["faces"])


def marks(session: AttendanceSession) -> dict[int, tuple[str, str]]:
    return {record.student_id: (record.status, record.source)
            for record in AttendanceRecord.objects.filter(session=session)}


def test_following_faces_gives_the_same_marks_as_encoding_every_face_with_fewer_encodings(
        settings: Any, teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass, faces: Path,
        encoded: list[int]) -> None:
    frames = moving_frames(faces)
    settings.LIVE_TRACKING = False
    every = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)
    all_bodies = run_frames(teacher_api, every, frames)
    encoded_all = sum(encoded)
    encoded.clear()
    settings.LIVE_TRACKING = True
    followed = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 21), by=teacher)
    tracked_bodies = run_frames(teacher_api, followed, frames)
    encoded_tracked = sum(encoded)

    faces_per_frame = len(all_bodies[0]["faces"])
    assert faces_per_frame == 10 and encoded_all == faces_per_frame * len(frames)
    # The first frame is encoded whole; after it only faces that moved too far or changed are.
    assert encoded_tracked < encoded_all
    assert sum(body["encoded_faces"] for body in tracked_bodies) == encoded_tracked
    for every_body, tracked_body in zip(all_bodies, tracked_bodies, strict=True):
        assert seen(tracked_body) == seen(every_body)
    students = {enrolled_class.students[key].pk for key in PEOPLE}
    assert {sid for sid, (status, _) in marks(every).items() if status == "present"} == students
    assert marks(followed) == marks(every)


def test_a_still_picture_followed_frame_after_frame_marks_nobody(settings: Any, teacher: Any, teacher_api: Any,
                                                                 enrolled_class: EnrolledClass, faces: Path,
                                                                 encoded: list[int]) -> None:
    settings.LIVE_TRACKING = True
    still = moving_frames(faces, steps=1)[0]
    session = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)
    bodies = run_frames(teacher_api, session, [still] * 4)
    assert encoded == [10]  # encoded once, then followed
    assert all(body["newly_marked"] == [] for body in bodies) and bodies[-1]["present_count"] == 0
    assert all(body["repeated"] for body in bodies[1:])
    assert {status for status, _ in marks(session).values()} == {"unmarked"}


def test_the_tracks_are_on_the_run_and_go_with_consent(settings: Any, teacher: Any, teacher_api: Any,
                                                       enrolled_class: EnrolledClass, faces: Path) -> None:
    settings.LIVE_TRACKING = True
    session = services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)
    run_frames(teacher_api, session, moving_frames(faces, steps=1))
    tracks = LiveRun.objects.get(session=session).tracks
    assert len(tracks) == 10 and all(set(track) == {"box", "signature", "student", "distance", "status", "age"}
                                     for track in tracks)
    obama = enrolled_class.students["obama"]
    assert obama.pk in {track["student"] for track in tracks}
    consent_record(student=obama, given=False, by=teacher, channel="page")
    assert LiveRun.objects.get(session=session).tracks == []
