"""A student's phone in the self check-in tests: logged in, scanning, sending a selfie or the frames of
the liveness step (real photos of one person turned to each side)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.models import StudentProfile
from attendance.checkin import services as checkin
from attendance.models import AttendanceRecord, AttendanceSession, CheckinWindow
from tests import factories
from tests.classroom import EnrolledClass

OBAMA_SELFIE = "probes/obama1.jpg"  # obama is enrolled with people/obama/obama.jpg
BIDEN_SELFIE = "people/biden/biden2.jpg"  # biden is enrolled with people/biden/biden.jpg
# The liveness step's frames: photos of one person turned about 24° to each side (as a head turn in front
# of the phone gives), none of them the enrolment photo.
OBAMA_TURN = ("people/obama/obama2.jpg", "probes/obama1.jpg")
KIT_TURN = ("people/kit_harington/john1.jpeg", "probes/johnsnow_test1.jpg")  # enrolled with john2.jpeg
SCHOOL_NETWORK = "127.0.0.0/8"  # the test client's address, 127.0.0.1, is the school's Wi-Fi here


def pupil(enrolled: EnrolledClass, key: str) -> Client:
    """A logged-in phone of the student `key` (with a login of their own)."""
    student: StudentProfile = enrolled.students[key]
    student.user = factories.StudentUserFactory(username=f"pupil-{key}")
    student.save(update_fields=["user"])
    client = Client()
    client.force_login(student.user)
    return client


def scan(client: Client, window: CheckinWindow) -> Any:
    return client.get(f"/checkin/{checkin.checkin_token_make(window=window)}/")


def send_selfie(client: Client, enrolled: EnrolledClass, relative: str, **extra: str) -> Any:
    """A single photo, without the liveness step."""
    return client.post("/checkin/", {"selfie": enrolled.photo(relative), **extra})


def send_turn(client: Client, enrolled: EnrolledClass, frames: tuple[str, ...] = OBAMA_TURN, **extra: Any) -> Any:
    """What the page sends after its liveness step: the frames of the head turn."""
    return client.post("/checkin/", {"frames": [enrolled.photo(frame) for frame in frames], **extra})


def record(session: AttendanceSession, enrolled: EnrolledClass, key: str) -> AttendanceRecord:
    return AttendanceRecord.objects.get(session=session, student=enrolled.students[key])
