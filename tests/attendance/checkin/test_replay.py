"""A self check-in cannot be replayed (issue 18, SPEC §9), with the real dlib model on real photos: a
picture the school already has (an earlier check-in's picture, any student's enrolment photo, a face crop of
a classroom photo), re-encoded, rescaled or slightly cropped, is refused with SELFIE_REPLAYED; a selfie that
is another student's face, anywhere in the school, is refused with FACE_OF_ANOTHER_STUDENT; an honest new
selfie is not refused. Consent withdrawal forgets the student's hashes."""

from __future__ import annotations

import datetime
import io
import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.consent import consent_record
from attendance.checkin import services as checkin
from attendance.models import AttendanceSession, CheckinAttempt, CheckinWindow, DetectedFace
from attendance.photos import review
from attendance.photos import services as photos
from attendance.register import services as register
from classes.models import Enrollment
from recognition.backends import get_backend
from recognition.images import decode_image
from recognition.matching import nearest_distance
from recognition.models import FaceEmbedding
from tests.attendance.checkin.phones import BIDEN_SELFIE, OBAMA_TURN, pupil, record, scan
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db

CLASSROOM = "probes/kit_with_rose.jpg"  # Kit Harington and Rose Leslie, faces about 200 px


def altered(data: bytes, *, scale: float = 1.0, crop: float = 0.0, quality: int = 90) -> bytes:
    """The picture a cheat would send instead of the original: cropped by `crop` on the left and top,
    rescaled, re-encoded as JPEG."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, height = image.size
    image = image.crop((round(width * crop), round(height * crop), width, height))
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def upload(data: bytes, name: str = "frame.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def send(enrolled: EnrolledClass, window: CheckinWindow, key: str, pictures: list[bytes]) -> CheckinAttempt:
    """The student `key` checks in with `pictures` (several: the liveness step's frames) from their phone."""
    student = enrolled.students[key]
    if student.user_id:  # logged in before: the same login on a phone again
        phone = Client()
        phone.force_login(student.user)
    else:
        phone = pupil(enrolled, key)
    scan(phone, window)
    field = "frames" if len(pictures) > 1 else "selfie"
    phone.post("/checkin/", {field: [upload(p, f"{i}.jpg") for i, p in enumerate(pictures)]})
    return CheckinAttempt.objects.filter(window=window, student=enrolled.students[key]).latest("id")


def next_window(enrolled: EnrolledClass, teacher: Any, day: int) -> CheckinWindow:
    session = register.session_create(course=enrolled.course, date=datetime.date(2026, 11, day), by=teacher)
    return checkin.checkin_window_create(session=session, by=teacher, minutes=10)


def test_an_earlier_checkin_picture_sent_again_is_refused(teacher: Any, session: AttendanceSession,
                                                          window: CheckinWindow, enrolled_class: EnrolledClass) -> None:
    frames = [enrolled_class.bytes(frame) for frame in OBAMA_TURN]
    first = send(enrolled_class, window, "obama", frames)
    assert first.outcome == "present" and len(first.picture_hashes) == 2
    # The next lesson: the same frames, re-encoded, 2% cropped off two sides and rescaled, as a new check-in.
    tomorrow = next_window(enrolled_class, teacher, 21)
    again = send(enrolled_class, tomorrow, "obama", [altered(frame, scale=0.8, crop=0.02, quality=70)
                                                     for frame in frames])
    assert (again.outcome, again.error_code) == ("refused", "SELFIE_REPLAYED")
    assert "an earlier check-in's picture" in again.reason and len(again.picture_hashes) == 2
    assert record(tomorrow.session, enrolled_class, "obama").status == "unmarked"


@pytest.mark.parametrize(("owner", "sender"), [("biden", "biden"), ("rose_leslie", "biden")])
def test_an_enrolment_photo_of_any_student_is_refused(owner: str, sender: str, window: CheckinWindow,
                                                      enrolled_class: EnrolledClass, caplog: Any) -> None:
    enrolled_face = FaceEmbedding.objects.get(student=enrolled_class.students[owner])
    assert enrolled_face.picture_hash  # computed at enrolment
    photo = {"biden": "people/biden/biden.jpg", "rose_leslie": "people/rose_leslie/img1.jpg"}[owner]
    with caplog.at_level(logging.WARNING, logger="attendance.checkin.services"):
        attempt = send(enrolled_class, window, sender, [altered(enrolled_class.bytes(photo), scale=0.5, crop=0.03)])
    assert (attempt.outcome, attempt.error_code) == ("refused", "SELFIE_REPLAYED")
    assert "an enrolment photo" in attempt.reason
    assert "sent an enrolment photo again" in caplog.text
    assert record(window.session, enrolled_class, sender).status == "unmarked"


def test_a_face_crop_of_a_classroom_photo_is_refused(teacher: Any, session: AttendanceSession,
                                                     window: CheckinWindow, enrolled_class: EnrolledClass) -> None:
    result = photos.session_photo_process(session=session, image=enrolled_class.bytes(CLASSROOM), by=teacher)
    rose = next(face for face in result.faces if face.student_id == enrolled_class.students["rose_leslie"].pk)
    assert DetectedFace.objects.get(pk=rose.pk).picture_hash  # computed when the photo was processed
    crop = review.face_crop(face=DetectedFace.objects.get(pk=rose.pk))
    assert crop is not None
    # The crop the review grid shows, enlarged to a selfie's size and re-encoded, from a classmate's phone.
    attempt = send(enrolled_class, window, "alex_lacamoire", [altered(crop, scale=3.0, quality=85)])
    assert (attempt.outcome, attempt.error_code) == ("refused", "SELFIE_REPLAYED")
    assert "a classroom photo" in attempt.reason


def test_an_honest_new_selfie_is_not_refused(teacher: Any, session: AttendanceSession, window: CheckinWindow,
                                             enrolled_class: EnrolledClass) -> None:
    """Enrolment photos, a classroom photo with the student on it and classmates' check-ins are all on
    file: new pictures of the student pass the replay check."""
    photos.session_photo_process(session=session, image=enrolled_class.bytes("groups/two_people.jpg"), by=teacher)
    assert send(enrolled_class, window, "obama", [enrolled_class.bytes(f) for f in OBAMA_TURN]).outcome == "present"
    biden = send(enrolled_class, window, "biden", [enrolled_class.bytes(BIDEN_SELFIE)])
    assert (biden.outcome, biden.error_code) == ("pending", "")  # one photo, no liveness step: pending, not refused


def test_a_selfie_of_another_student_of_the_school_is_refused(teacher: Any, session: AttendanceSession,
                                                              window: CheckinWindow, enrolled_class: EnrolledClass,
                                                              caplog: Any) -> None:
    """Kit is a student of the school but not of this course: Rose's login sending Kit's face is one face
    with two accounts, refused and logged (the answer does not say whom it resembles)."""
    kit = enrolled_class.students["kit_harington"]
    Enrollment.objects.filter(course=enrolled_class.course, student=kit).delete()
    frames = [enrolled_class.bytes("people/kit_harington/john1.jpeg"),
              enrolled_class.bytes("probes/johnsnow_test1.jpg")]
    with caplog.at_level(logging.WARNING, logger="attendance.checkin.services"):
        attempt = send(enrolled_class, window, "rose_leslie", frames)
    assert (attempt.outcome, attempt.error_code) == ("refused", "FACE_OF_ANOTHER_STUDENT")
    assert "Kit" not in attempt.reason and "Harington" not in attempt.reason
    rose = enrolled_class.students["rose_leslie"]
    assert f"student {rose.pk}'s login matches student {kit.pk}" in caplog.text
    assert record(session, enrolled_class, "rose_leslie").status == "unmarked" and attempt.picture_hashes


def test_a_student_without_own_faces_sending_a_classmates_face_is_refused(
        session: AttendanceSession, window: CheckinWindow, enrolled_class: EnrolledClass) -> None:
    FaceEmbedding.objects.filter(student=enrolled_class.students["alex_lacamoire"]).delete()
    attempt = send(enrolled_class, window, "alex_lacamoire", [enrolled_class.bytes(f) for f in OBAMA_TURN])
    assert (attempt.outcome, attempt.error_code) == ("refused", "FACE_OF_ANOTHER_STUDENT")


def test_withdrawing_consent_forgets_the_students_picture_hashes(teacher: Any, session: AttendanceSession,
                                                                 window: CheckinWindow,
                                                                 enrolled_class: EnrolledClass) -> None:
    photos.session_photo_process(session=session, image=enrolled_class.bytes("groups/two_people.jpg"), by=teacher)
    send(enrolled_class, window, "obama", [enrolled_class.bytes(f) for f in OBAMA_TURN])
    send(enrolled_class, window, "biden", [enrolled_class.bytes(BIDEN_SELFIE)])
    obama, biden = enrolled_class.students["obama"], enrolled_class.students["biden"]
    assert DetectedFace.objects.filter(student=obama).exclude(picture_hash="").exists()
    consent_record(student=obama, given=False, by=teacher, channel="page")
    assert CheckinAttempt.objects.get(student=obama).picture_hashes == []
    assert not DetectedFace.objects.filter(student=obama).exclude(picture_hash="").exists()
    assert not FaceEmbedding.objects.filter(student=obama).exists()
    # Another student's hashes stay.
    assert CheckinAttempt.objects.get(student=biden).picture_hashes
    assert DetectedFace.objects.filter(student=biden).exclude(picture_hash="").exists()
    assert FaceEmbedding.objects.get(student=biden).picture_hash


def test_a_face_of_nobody_at_the_school_is_still_a_mismatch(window: CheckinWindow, enrolled_class: EnrolledClass,
                                                            faces: Path) -> None:
    """The third person of probes/obama_and_biden.jpg is enrolled nowhere: no other student is nearer, so the
    refusal stays FACE_MISMATCH."""
    decoded = decode_image((faces / "probes/obama_and_biden.jpg").read_bytes())
    enrolled = [face.embedding for face in FaceEmbedding.objects.all()]
    stranger = next(face for face in get_backend().detect_faces(decoded).faces
                    if nearest_distance(face.embedding, enrolled) >= 0.6)
    box = stranger.box
    picture = Image.fromarray(decoded.pixels).crop((box.left - box.width, box.top - box.height,
                                                    box.right + box.width, box.bottom + box.height))
    buffer = io.BytesIO()
    picture.resize((picture.width * 3, picture.height * 3)).save(buffer, format="JPEG", quality=90)
    attempt = send(enrolled_class, window, "alex_lacamoire", [buffer.getvalue()])
    assert (attempt.outcome, attempt.error_code) == ("refused", "FACE_MISMATCH")
