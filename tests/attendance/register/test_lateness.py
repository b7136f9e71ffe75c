"""Automatic lateness from the photo's capture time (EXIF when plausible, else upload time), with the
real dlib model on real photos carrying crafted EXIF."""

from __future__ import annotations

import datetime
import io
import zoneinfo
from typing import Any

import pytest
from PIL import ExifTags, Image
from pytest_django.fixtures import Settings
from time_machine import TimeMachineFixture

from accounts.models import TeacherSettings
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession
from attendance.photos import services as photos
from attendance.register import services
from attendance.register.capture_time import EXIF, UPLOAD, exif_capture_time, photo_capture_time
from tests.classroom import EnrolledClass
from tests.conftest import ClientFor

DAY = datetime.date(2026, 11, 20)
PARIS = zoneinfo.ZoneInfo("Europe/Paris")

# The clock stands at noon in Paris on DAY from the start of each test, before any fixture: the JWT of
# teacher_api is issued in that time too (one issued in the real "now" would not be valid yet).
pytestmark = [pytest.mark.django_db,
              pytest.mark.time_machine(datetime.datetime.combine(DAY, datetime.time(12), tzinfo=PARIS), tick=False)]


def with_exif(image: bytes, taken: str, offset: str | None = None) -> bytes:
    """The photo re-saved as a JPEG whose EXIF says it was taken at `taken` ("YYYY:MM:DD HH:MM:SS")."""
    picture = Image.open(io.BytesIO(image))
    exif = Image.Exif()
    details = exif.get_ifd(ExifTags.IFD.Exif)
    details[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        details[ExifTags.Base.OffsetTimeOriginal] = offset
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="JPEG", quality=95, exif=exif)
    return buffer.getvalue()


class Clock:
    """The server's clock, stopped at a school time on DAY by `set(hh, mm)`."""

    def __init__(self, machine: TimeMachineFixture) -> None:
        self.machine = machine

    def set(self, hour: int, minute: int) -> None:
        self.machine.move_to(datetime.datetime.combine(DAY, datetime.time(hour, minute), tzinfo=PARIS), tick=False)


@pytest.fixture
def school_clock(settings: Settings, time_machine: TimeMachineFixture) -> Clock:
    """The school in Paris, its clock at noon on DAY."""
    settings.TIME_ZONE = "Europe/Paris"
    clock = Clock(time_machine)
    clock.set(12, 0)
    return clock


@pytest.fixture
def period(enrolled_class: EnrolledClass, teacher: Any, school_clock: Clock) -> AttendanceSession:
    return services.session_create(course=enrolled_class.course, date=DAY, label="Period 1", by=teacher,
                                   starts_at=datetime.time(9, 0))


def record_of(session: AttendanceSession, student: Any) -> AttendanceRecord:
    return AttendanceRecord.objects.get(session=session, student=student)


def test_exif_capture_time_is_read_with_its_offset_or_in_school_time(enrolled_class: EnrolledClass,
                                                                     school_clock: Clock) -> None:
    photo = enrolled_class.bytes("probes/obama_and_biden.jpg")
    assert exif_capture_time(photo) is None
    assert exif_capture_time(with_exif(photo, "2026:11:20 09:05:00")) == datetime.datetime(
        2026, 11, 20, 9, 5, tzinfo=PARIS)
    utc = exif_capture_time(with_exif(photo, "2026:11:20 08:05:00", offset="+00:00"))
    assert utc is not None and utc.astimezone(PARIS).time() == datetime.time(9, 5)
    assert exif_capture_time(b"not an image") is None


@pytest.mark.parametrize(("taken", "why"), [("2026:11:19 09:05:00", "another day"),
                                             ("2026:11:20 13:00:00", "in the future"),
                                             ("0000:00:00 00:00:00", "a camera without a clock")])
def test_an_implausible_exif_time_falls_back_to_the_upload_time(enrolled_class: EnrolledClass, school_clock: Clock,
                                                                taken: str, why: str) -> None:
    school_clock.set(12, 0)
    result = photo_capture_time(with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), taken),
                                session_date=DAY)
    assert result.source == UPLOAD, why
    assert result.at == datetime.datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)


@pytest.mark.parametrize(("taken", "expected"), [("2026:11:20 09:09:59", "present"),
                                                 ("2026:11:20 09:10:00", "present"),
                                                 ("2026:11:20 09:10:01", "late")])
def test_lateness_from_the_exif_time_around_the_grace_boundary(enrolled_class: EnrolledClass, teacher: Any,
                                                               period: AttendanceSession, taken: str,
                                                               expected: str) -> None:
    photo = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), taken)
    photos.session_photo_process(session=period, image=photo, by=teacher)
    for key in ("obama", "biden"):
        record = record_of(period, enrolled_class.students[key])
        assert record.status == expected
        assert record.seen_at_source == EXIF
        assert record.seen_at == datetime.datetime.strptime(taken, "%Y:%m:%d %H:%M:%S").replace(tzinfo=PARIS)
    assert period.photos.get().taken_at_source == EXIF


def test_the_exif_offset_is_converted_to_school_time(enrolled_class: EnrolledClass, teacher: Any,
                                                     period: AttendanceSession) -> None:
    # 08:15 UTC is 09:15 in Paris: five minutes past the grace.
    photo = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 08:15:00", offset="+00:00")
    photos.session_photo_process(session=period, image=photo, by=teacher)
    assert record_of(period, enrolled_class.students["obama"]).status == "late"


@pytest.mark.parametrize(("upload_at", "expected"), [((9, 10), "present"), ((9, 11), "late")])
def test_without_exif_the_upload_time_decides(enrolled_class: EnrolledClass, teacher: Any, school_clock: Clock,
                                              period: AttendanceSession, upload_at: tuple[int, int],
                                              expected: str) -> None:
    school_clock.set(*upload_at)
    photos.session_photo_process(session=period, image=enrolled_class.bytes("probes/obama_and_biden.jpg"),
                                   by=teacher)
    record = record_of(period, enrolled_class.students["biden"])
    assert record.status == expected and record.seen_at_source == UPLOAD


def test_the_teachers_grace_is_used(enrolled_class: EnrolledClass, teacher: Any, period: AttendanceSession) -> None:
    TeacherSettings.objects.create(user=teacher, late_grace_minutes=20)
    photo = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 09:15:00")
    photos.session_photo_process(session=period, image=photo, by=teacher)
    assert record_of(period, enrolled_class.students["obama"]).status == "present"


def test_an_earlier_photo_makes_a_late_student_present(enrolled_class: EnrolledClass, teacher: Any,
                                                       period: AttendanceSession) -> None:
    late = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 09:30:00")
    photos.session_photo_process(session=period, image=late, by=teacher)
    obama = enrolled_class.students["obama"]
    assert record_of(period, obama).status == "late"
    # Uploaded afterwards, but taken at 09:02: Obama was there on time (first sighting wins).
    early = with_exif(enrolled_class.bytes("probes/obama1.jpg"), "2026:11:20 09:02:00")
    photos.session_photo_process(session=period, image=early, by=teacher)
    record = record_of(period, obama)
    assert record.status == "present" and record.seen_at.astimezone(PARIS).time() == datetime.time(9, 2)


def test_a_later_photo_does_not_make_a_present_student_late(enrolled_class: EnrolledClass, teacher: Any,
                                                            period: AttendanceSession) -> None:
    photos.session_photo_process(
        session=period, image=with_exif(enrolled_class.bytes("probes/obama1.jpg"), "2026:11:20 09:01:00"), by=teacher)
    # two_people.jpg is a closer match for Obama, taken at 09:40: the best distance moves, the status does not.
    photos.session_photo_process(
        session=period, image=with_exif(enrolled_class.bytes("groups/two_people.jpg"), "2026:11:20 09:40:00"),
        by=teacher)
    record = record_of(period, enrolled_class.students["obama"])
    assert record.status == "present" and record.seen_at.astimezone(PARIS).time() == datetime.time(9, 1)


def test_a_session_without_a_start_time_has_no_lateness(enrolled_class: EnrolledClass, teacher: Any,
                                                        school_clock: Clock) -> None:
    session = services.session_create(course=enrolled_class.course, date=DAY, by=teacher)
    photos.session_photo_process(
        session=session, image=with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 11:00:00"),
        by=teacher)
    assert record_of(session, enrolled_class.students["obama"]).status == "present"


def test_the_teacher_can_correct_an_automatic_late_mark(enrolled_class: EnrolledClass, teacher: Any,
                                                        period: AttendanceSession, teacher_api: Any) -> None:
    photo = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 09:25:00")
    photos.session_photo_process(session=period, image=photo, by=teacher)
    obama = enrolled_class.students["obama"]
    response = teacher_api.patch(f"/api/v1/sessions/{period.pk}/records/{obama.pk}/",
                                 {"status": "present", "note": "Was at the nurse"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "present" and body["seen_at_source"] == "exif" and body["seen_at"]
    correction = AttendanceCorrection.objects.get(record__student=obama)
    assert (correction.old_status, correction.new_status, correction.changed_by) == ("late", "present", teacher)


def test_confirming_a_pending_match_seen_late_marks_late(enrolled_class: EnrolledClass, teacher: Any,
                                                         period: AttendanceSession, client_for: ClientFor) -> None:
    # Biden is only uncertain under a 0.40 confident threshold (distance 0.42 on this photo).
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.40", uncertain_threshold="0.60")
    photo = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 09:20:00")
    photos.session_photo_process(session=period, image=photo, by=teacher)
    biden = enrolled_class.students["biden"]
    assert record_of(period, biden).status == "pending"
    client = client_for(teacher)
    client.post(f"/sessions/{period.pk}/records/{biden.pk}/decide/", {"decision": "confirm"})
    assert record_of(period, biden).status == "late"


def test_an_unknown_face_assigned_from_a_late_photo_is_late(enrolled_class: EnrolledClass, period: AttendanceSession,
                                                             teacher: Any) -> None:
    """The teacher says who the unknown face is; the photo's time still decides present or late."""
    from attendance.models import DetectedFace
    from attendance.photos import review

    photo = with_exif(enrolled_class.bytes("probes/obama_and_biden.jpg"), "2026:11:20 09:25:00")
    photos.session_photo_process(session=period, image=photo, by=teacher)
    unknown = DetectedFace.objects.get(photo__session=period, match=DetectedFace.Match.UNKNOWN)
    kit = enrolled_class.students["kit_harington"]
    result = review.face_assign(face=unknown, student=kit, by=teacher)
    assert result.record.status == "late"
    record = record_of(period, kit)
    assert (record.status, record.seen_at_source) == ("late", EXIF)
