"""Corroboration of self check-ins (issue 19, SPEC §9) with the real dlib model on real photos: the
classroom camera recognising the student confirms a pending check-in; the teacher confirms or refuses one
with one tap on its selfie; the session page says when check-ins outnumber the faces the camera counted."""

from __future__ import annotations

from typing import Any

import pytest

from attendance.models import AttendanceCorrection, AttendanceSession, CheckinAttempt, CheckinWindow
from attendance.photos import services as photos
from tests.attendance.checkin.phones import BIDEN_SELFIE, OBAMA_SELFIE, pupil, record, scan, send_selfie
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

pytestmark = pytest.mark.django_db

CLASSROOM = "groups/two_people.jpg"  # Obama and Biden, small faces: the camera at the back of the room
CLOSE_SELFIE = "edge/obama_partial_face.jpg"  # nearer Obama's enrolled face than the classroom photo is


def pending_checkin(session: AttendanceSession, window: CheckinWindow, enrolled: EnrolledClass, key: str,
                    selfie: str) -> CheckinAttempt:
    phone = pupil(enrolled, key)
    scan(phone, window)
    send_selfie(phone, enrolled, selfie)  # one photo: no liveness step, so pending
    assert record(session, enrolled, key).status == "pending"
    return CheckinAttempt.objects.get(session=session, student=enrolled.students[key])


def test_a_classroom_photo_that_recognises_the_student_confirms_the_checkin(
        teacher: Any, session: AttendanceSession, window: CheckinWindow, enrolled_class: EnrolledClass,
        client_for: ClientFor) -> None:
    pending_checkin(session, window, enrolled_class, "obama", CLOSE_SELFIE)
    selfie_distance = record(session, enrolled_class, "obama").distance
    result = photos.session_photo_process(session=session, image=enrolled_class.bytes(CLASSROOM), by=teacher)
    seen = next(face for face in result.faces if face.student_id == enrolled_class.students["obama"].pk)
    assert seen.match == "confident"
    assert seen.distance > selfie_distance  # the selfie was closer, yet the room is what counts
    obama = record(session, enrolled_class, "obama")
    assert (obama.status, obama.source, obama.face_id) == ("present", "face", seen.pk)
    assert "confirms the self check-in" in obama.reason
    page = client_for(teacher).get(f"/sessions/{session.pk}/").content.decode()
    assert "confirmed by the camera" in page and "data-checkin-review" not in page


def test_the_teacher_confirms_or_refuses_a_checkin_with_one_tap(teacher: Any, other_teacher: Any,
                                                                session: AttendanceSession, window: CheckinWindow,
                                                                enrolled_class: EnrolledClass,
                                                                client_for: ClientFor) -> None:
    obama = pending_checkin(session, window, enrolled_class, "obama", OBAMA_SELFIE)
    biden = pending_checkin(session, window, enrolled_class, "biden", BIDEN_SELFIE)
    desk = client_for(teacher)
    page = desk.get(f"/sessions/{session.pk}/").content.decode()
    assert "data-checkin-review" in page
    assert f"/checkins/{obama.pk}/selfie" in page and f"/checkins/{biden.pk}/selfie" in page
    url = f"/sessions/{session.pk}/checkin/{obama.pk}/review/"
    # Another teacher's session is a 404, a student's login is refused, nothing changes.
    assert client_for(other_teacher).post(url, {"decision": "present"}).status_code == 404
    assert pupil(enrolled_class, "rose_leslie").post(url, {"decision": "present"}).status_code == 403
    assert record(session, enrolled_class, "obama").status == "pending"

    assert desk.post(url, {"decision": "present"}).status_code == 302
    assert desk.post(f"/sessions/{session.pk}/checkin/{biden.pk}/review/", {"decision": "absent"}).status_code == 302
    assert (record(session, enrolled_class, "obama").status, record(session, enrolled_class, "obama").source) == (
        "present", "manual")
    assert record(session, enrolled_class, "biden").status == "absent"
    audit = AttendanceCorrection.objects.get(record=record(session, enrolled_class, "obama"))
    assert (audit.old_status, audit.new_status, audit.changed_by) == ("pending", "present", teacher)
    again = desk.post(url, {"decision": "absent"}, follow=True)
    assert "no longer waits" in again.content.decode()
    assert record(session, enrolled_class, "obama").status == "present"
    assert "data-checkin-review" not in desk.get(f"/sessions/{session.pk}/").content.decode()


def test_the_page_says_when_checkins_outnumber_the_faces_the_camera_counted(
        teacher: Any, session: AttendanceSession, window: CheckinWindow, enrolled_class: EnrolledClass,
        client_for: ClientFor) -> None:
    for key, selfie in (("obama", OBAMA_SELFIE), ("biden", BIDEN_SELFIE),
                        ("rose_leslie", "people/rose_leslie/img2.jpg")):
        pending_checkin(session, window, enrolled_class, key, selfie)
    desk = client_for(teacher)
    page = desk.get(f"/sessions/{session.pk}/").content.decode()
    assert "data-checkin-uncounted" in page and "data-checkin-outnumber" not in page
    photos.session_photo_process(session=session, image=enrolled_class.bytes(CLASSROOM), by=teacher)
    page = desk.get(f"/sessions/{session.pk}/").content.decode()
    assert "data-checkin-outnumber" in page
    assert "3 self check-ins, but the camera counted at most 2 faces" in page
