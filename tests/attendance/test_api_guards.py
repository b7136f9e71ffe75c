"""Bad input, other teachers' objects, recognition down, privacy and query counts of the attendance API."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from attendance.faces.analysis import course_candidates
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.photos import services as photos
from attendance.register import services
from recognition.backends.local import DlibBackend
from recognition.errors import RecognitionUnavailable
from recognition.models import FaceEmbedding
from recognition.selectors import candidates_for
from tests import factories
from tests.classroom import EnrolledClass, make_class

pytestmark = pytest.mark.django_db


def png_bytes(width: int, height: int, mode: str = "1") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def session(enrolled_class: EnrolledClass, teacher: Any) -> AttendanceSession:
    return services.session_create(course=enrolled_class.course, date="2026-11-20", by=teacher)


def snapshot() -> tuple:
    return (list(AttendanceSession.objects.values()), list(AttendanceRecord.objects.values()),
            SessionPhoto.objects.count(), DetectedFace.objects.count(), AttendanceCorrection.objects.count())


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    (b"\xff\xd8\xff\xe0" + b"\x00" * 200, "image/jpeg", 400, "INVALID_IMAGE"),
    (b"just some text", "image/jpeg", 415, "UNSUPPORTED_IMAGE_TYPE"),
    (b"GIF89a" + b"\x00" * 100, "image/gif", 415, "UNSUPPORTED_IMAGE_TYPE"),
    (png_bytes(20000, 20000), "image/png", 413, "IMAGE_TOO_LARGE"),
])
def test_a_bad_photo_gets_its_error_and_changes_nothing(teacher_api: Any, session: AttendanceSession, data: bytes,
                                                        content_type: str, status: int, code: str) -> None:
    before = snapshot()
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                {"image": SimpleUploadedFile("x.jpg", data, content_type=content_type)},
                                format="multipart")
    assert response.status_code == status, response.content
    assert response.json()["error_code"] == code
    assert snapshot() == before


def test_upload_without_the_image_field_or_as_json_is_refused(teacher_api: Any, session: AttendanceSession) -> None:
    missing = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/", {}, format="multipart")
    assert missing.status_code == 400 and "image" in missing.json()["details"]
    as_json = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/", {"image": "abc"}, format="json")
    assert as_json.status_code == 415 and as_json.json()["error_code"] == "UNSUPPORTED_MEDIA_TYPE"


def test_an_upload_over_the_byte_cap_is_refused(teacher_api: Any, session: AttendanceSession, settings: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 10_000
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                {"image": SimpleUploadedFile("big.png", b"\x89PNG\r\n\x1a\n" + b"0" * 20_000)},
                                format="multipart")
    # Too many bytes is 413 like too many pixels (the README's table), not a 400.
    assert response.status_code == 413 and response.json()["error_code"] == "IMAGE_TOO_LARGE"


class _UnavailableBackend(DlibBackend):
    """The real backend whose detection service is down (orchestration test of the 503 path)."""

    def detect_faces(self, image: bytes, **kwargs: Any) -> Any:
        raise RecognitionUnavailable("The recognition service is not answering.", retry_after=42)


def test_recognition_down_is_503_with_retry_after_and_nothing_written(
        teacher_api: Any, session: AttendanceSession, enrolled_class: EnrolledClass, settings: Any) -> None:
    settings.RECOGNITION = {"BACKEND": f"{__name__}._UnavailableBackend", "OPTIONS": {}}
    before = snapshot()
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                {"image": enrolled_class.photo("probes/obama1.jpg")}, format="multipart")
    assert response.status_code == 503
    assert response["Retry-After"] == "42"
    assert response.json()["error_code"] == "RECOGNITION_UNAVAILABLE"
    assert snapshot() == before
    one_shot = teacher_api.post("/api/v1/attendance/mark/", {
        "course": enrolled_class.course.code, "image": enrolled_class.photo("probes/obama1.jpg")}, format="multipart")
    assert one_shot.status_code == 503
    assert snapshot() == before  # not even an empty session for today


def test_remote_recognition_unreachable_is_503_and_nothing_written(
        teacher_api: Any, session: AttendanceSession, enrolled_class: EnrolledClass, settings: Any) -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.RECOGNITION = {"BACKEND": "recognition.backends.remote.HTTPBackend",
                            "OPTIONS": {"URL": f"http://127.0.0.1:{port}", "TIMEOUT": 2, "MAX_RETRIES": 0}}
    before = snapshot()
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                                {"image": enrolled_class.photo("probes/obama1.jpg")}, format="multipart")
    assert response.status_code == 503 and "Retry-After" in response
    assert snapshot() == before


def test_another_teacher_gets_404_on_everything(other_teacher_api: Any, teacher_api: Any,
                                                enrolled_class: EnrolledClass, session: AttendanceSession) -> None:
    photo = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                             {"image": enrolled_class.photo("probes/obama_and_biden.jpg")}, format="multipart").json()
    unknown = next(m for m in photo["matches"] if m["student"] is None)
    obama = enrolled_class.students["obama"]
    face = FaceEmbedding.objects.filter(student=obama).first()
    course = enrolled_class.course.pk
    before = snapshot()
    calls = [
        ("get", f"/api/v1/courses/{course}/sessions/", None),
        ("post", f"/api/v1/courses/{course}/sessions/", {"date": "2026-11-21"}),
        ("get", f"/api/v1/courses/{course}/report/", None),
        ("get", f"/api/v1/sessions/{session.pk}/", None),
        ("post", f"/api/v1/sessions/{session.pk}/photos/", {"image": enrolled_class.photo("probes/obama1.jpg")}),
        ("patch", f"/api/v1/sessions/{session.pk}/records/{obama.pk}/", {"status": "absent"}),
        ("post", f"/api/v1/sessions/{session.pk}/finalize/", {}),
        ("post", f"/api/v1/sessions/{session.pk}/faces/{unknown['id']}/assign/", {"student_id": obama.pk}),
        ("get", f"/api/v1/students/{obama.pk}/faces/", None),
        ("post", f"/api/v1/students/{obama.pk}/faces/", {"image": enrolled_class.photo("people/obama/obama2.jpg")}),
        ("delete", f"/api/v1/students/{obama.pk}/faces/{face.pk}/", None),
    ]
    for method, url, data in calls:
        kwargs = {"format": "multipart" if data and "image" in data else "json"} if data is not None else {}
        response = getattr(other_teacher_api, method)(url, data, **kwargs) if data is not None else getattr(
            other_teacher_api, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
    assert snapshot() == before
    assert FaceEmbedding.objects.filter(student=obama).count() == 1
    listed = other_teacher_api.get("/api/v1/sessions/").json()
    assert listed["count"] == 0


def test_students_cannot_use_attendance_endpoints(student_api: Any, session: AttendanceSession) -> None:
    assert student_api.get(f"/api/v1/sessions/{session.pk}/").status_code == 403
    assert student_api.get("/api/v1/sessions/").status_code == 403


def test_report_counts_rates_and_at_risk(teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    students = enrolled_class.students
    for day, present in (("2026-11-16", {"obama", "biden", "kit_harington", "rose_leslie"}),
                         ("2026-11-17", {"obama", "biden", "kit_harington"}),
                         ("2026-11-18", {"obama", "kit_harington"})):
        session = services.session_create(course=enrolled_class.course, date=day, by=teacher)
        for key in present:
            record = session.records.get(student=students[key])
            services.record_correct(record=record, status="present", by=teacher)
        services.session_finalize(session=session, by=teacher)
    services.session_create(course=enrolled_class.course, date="2026-11-19", by=teacher)  # open: not counted

    body = teacher_api.get(f"/api/v1/courses/{enrolled_class.course.pk}/report/").json()

    rates = {row["student"]: row["rate"] for row in body["students"]}
    assert body["session_count"] == 3
    assert rates[students["obama"].pk] == 100.0 and rates[students["alex_lacamoire"].pk] == 0.0
    assert rates[students["biden"].pk] == pytest.approx(66.7) and rates[students["rose_leslie"].pk] == 33.3
    assert body["average_rate"] == pytest.approx((100 + 66.7 + 100 + 33.3 + 0) / 5, abs=0.1)
    assert body["threshold"] == 75
    assert {row["student"] for row in body["at_risk"]} == {
        students["biden"].pk, students["rose_leslie"].pk, students["alex_lacamoire"].pk}
    ranged = teacher_api.get(f"/api/v1/courses/{enrolled_class.course.pk}/report/?from=2026-11-17&to=2026-11-17")
    assert ranged.json()["session_count"] == 1
    bad = teacher_api.get(f"/api/v1/courses/{enrolled_class.course.pk}/report/?from=yesterday")
    assert bad.status_code == 400 and "from" in bad.json()["details"]
    bad_csv = teacher_api.get(f"/api/v1/courses/{enrolled_class.course.pk}/report/?format=csv&from=2026-12-01"
                              "&to=2026-01-01")
    assert bad_csv.status_code == 400 and bad_csv.json()["error_code"] == "VALIDATION_ERROR"


def test_report_csv_is_safe_against_formula_injection(teacher: Any, teacher_api: Any) -> None:
    course = factories.CourseFactory(teacher=teacher)
    evil = factories.StudentFactory(first_name="=cmd|' /C calc'!A0", last_name="+SUM(A1)", student_number="@S1")
    factories.EnrollmentFactory(course=course, student=evil)
    response = teacher_api.get(f"/api/v1/courses/{course.pk}/report/?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][0] == "student_number"
    assert rows[1][:3] == ["'@S1", "'+SUM(A1)", "'=cmd|' /C calc'!A0"]


def _process(teacher: Any, course: Any, data: bytes) -> int:
    course = type(course).objects.get(pk=course.pk)  # fresh, as in a request
    session = services.session_create(course=course, date="2026-11-20", label=str(len(data)), by=teacher)
    course_candidates(course)  # warm: a changed roster costs one more query, once
    with CaptureQueriesContext(connection) as queries:
        photos.session_photo_process(session=session, image=data, by=teacher)
    return len(queries)


def test_queries_per_photo_do_not_grow_with_faces_or_students(teacher: Any, faces: Any) -> None:
    small = make_class(teacher=teacher, faces=faces)
    one_face = _process(teacher, small.course, small.bytes("probes/obama1.jpg"))
    three_faces = _process(teacher, small.course, small.bytes("probes/obama_and_biden.jpg"))
    for _ in range(20):  # a bigger class: 20 more students, each with an embedding
        student = factories.StudentFactory()
        factories.EnrollmentFactory(course=small.course, student=student)
        clone = FaceEmbedding.objects.filter(student=small.students["alex_lacamoire"]).first()
        clone.pk, clone.student, clone.content_hash, clone.source_image = None, student, student.student_number, ""
        clone.save()
    bigger = _process(teacher, small.course, small.bytes("probes/kit_with_rose.jpg"))
    assert one_face == three_faces == bigger, (one_face, three_faces, bigger)
    assert bigger <= 20


def test_the_candidate_matrix_is_reused_until_the_embeddings_change(teacher: Any, faces: Any) -> None:
    enrolled = make_class(teacher=teacher, faces=faces, enrol=("obama", "biden"))
    course_faces = FaceEmbedding.objects.filter(student__enrollments__course=enrolled.course)
    first = candidates_for(key=("test", enrolled.course.pk), embeddings=course_faces)
    assert candidates_for(key=("test", enrolled.course.pk), embeddings=course_faces) is first
    from recognition.services import face_enrol

    face_enrol(student=enrolled.students["kit_harington"], image=enrolled.bytes("people/kit_harington/john2.jpeg"),
               by=teacher)
    rebuilt = candidates_for(key=("test", enrolled.course.pk), embeddings=course_faces)
    assert rebuilt is not first and len(rebuilt.candidate_set) == 3


def test_deleting_a_course_deletes_its_classroom_photos(teacher_api: Any, session: AttendanceSession,
                                                        enrolled_class: EnrolledClass,
                                                        django_capture_on_commit_callbacks: Any) -> None:
    teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/",
                     {"image": enrolled_class.photo("probes/obama1.jpg")}, format="multipart")
    name = SessionPhoto.objects.get().image.name
    assert default_storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        assert teacher_api.delete(f"/api/v1/courses/{enrolled_class.course.pk}/").status_code == 204
    assert not default_storage.exists(name)
    assert not AttendanceSession.objects.exists() and not SessionPhoto.objects.exists()


def test_malformed_requests_get_a_json_4xx_never_a_500(teacher_api: Any, session: AttendanceSession,
                                                       enrolled_class: EnrolledClass) -> None:
    course, obama = enrolled_class.course.pk, enrolled_class.students["obama"].pk
    calls = [
        ("post", f"/api/v1/courses/{course}/sessions/", {"date": 5, "label": "x" * 80}, "json", 400),
        ("post", f"/api/v1/courses/{course}/sessions/", {"date": "2026-02-30"}, "json", 400),
        ("post", f"/api/v1/courses/{course}/sessions/", ["a"], "json", 400),
        ("patch", f"/api/v1/sessions/{session.pk}/records/{obama}/", {"status": ["present"]}, "json", 400),
        ("patch", f"/api/v1/sessions/{session.pk}/records/{obama}/", {"status": "present", "note": {"a": 1}}, "json",
         400),
        ("post", f"/api/v1/sessions/{session.pk}/finalize/", {"resolve_pending": "maybe"}, "json", 400),
        ("post", f"/api/v1/sessions/{session.pk}/finalize/", "garbage", "json", 400),
        ("post", "/api/v1/attendance/mark/", {"course": "", "image": SimpleUploadedFile("a.jpg", b"")}, "multipart",
         400),
        ("post", "/api/v1/attendance/mark/", {"course": "9" * 30, "image": SimpleUploadedFile("a.jpg", b"x")},
         "multipart", 404),
        ("post", f"/api/v1/courses/{course}/enrollments/", {"student_ids": ["a", None]}, "json", 400),
        ("post", f"/api/v1/students/{obama}/faces/", {"image": "not a file"}, "multipart", 400),
        ("get", f"/api/v1/courses/{course}/report/?format=xml&from=2026-13-01", None, None, 400),
        ("get", "/api/v1/sessions/?date=not-a-date", None, None, 400),
    ]
    for method, url, data, fmt, status in calls:
        call = getattr(teacher_api, method)
        response = call(url, data, format=fmt) if data is not None else call(url)
        assert response.status_code == status, (url, response.content)
        assert response.json()["error_code"], url
    assert AttendanceSession.objects.get(pk=session.pk).is_open


def test_the_photo_endpoint_runs_the_same_queries_for_one_face_or_three(teacher_api: Any,
                                                                        enrolled_class: EnrolledClass) -> None:
    counts = []
    for day, photo in (("2026-11-01", "probes/obama1.jpg"), ("2026-11-02", "probes/obama_and_biden.jpg"),
                       ("2026-11-03", "probes/kit_with_rose.jpg")):
        session = teacher_api.post(f"/api/v1/courses/{enrolled_class.course.pk}/sessions/", {"date": day},
                                   format="json").json()
        with CaptureQueriesContext(connection) as queries:
            response = teacher_api.post(f"/api/v1/sessions/{session['id']}/photos/",
                                        {"image": enrolled_class.photo(photo)}, format="multipart")
        assert response.status_code == 201
        assert all(m["student_name"] for m in response.json()["matches"] if m["student"])
        counts.append(len(queries))
    assert counts[1] == counts[2] and counts[0] <= counts[1] + 1, counts  # +1: the first builds the course matrix


def _big_upload(size: int) -> SimpleUploadedFile:
    return SimpleUploadedFile("big.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (size - 4), content_type="image/jpeg")


def test_a_30_mb_upload_is_413_before_it_is_read(teacher_api: Any, teacher: Any) -> None:
    course = factories.CourseFactory(teacher=teacher)
    session = services.session_create(course=course, date="2026-11-20", by=teacher)
    before = snapshot()
    response = teacher_api.post(f"/api/v1/sessions/{session.pk}/photos/", {"image": _big_upload(30 * 1024 * 1024)},
                                format="multipart")
    assert response.status_code == 413
    assert response.json()["error_code"] == "IMAGE_TOO_LARGE" and response.json()["details"]["max_bytes"] > 0
    assert snapshot() == before


def test_a_file_just_over_the_upload_limit_is_413_not_400(settings: Any, teacher_api: Any, teacher: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 100_000  # the request cap stays larger: the serializer decides
    student = factories.StudentFactory(created_by=teacher)
    response = teacher_api.post(f"/api/v1/students/{student.pk}/faces/", {"image": _big_upload(150_000)},
                                format="multipart")
    assert response.status_code == 413
    assert response.json()["error_code"] == "IMAGE_TOO_LARGE"
    assert response.json()["details"] == {"bytes": 150_000, "max_bytes": 100_000}


def test_the_pages_refuse_an_oversized_upload_from_its_size(settings: Any, client: Any, teacher: Any) -> None:
    settings.MAX_UPLOAD_BYTES = 100_000
    client.force_login(teacher)
    student = factories.StudentFactory(created_by=teacher)
    enrol = client.post(f"/students/{student.pk}/faces/", {"image": _big_upload(150_000)},
                        HTTP_ACCEPT="application/json")
    assert enrol.status_code == 413 and "the limit is 0.1 MB" in enrol.json()["message"]
    session = services.session_create(course=factories.CourseFactory(teacher=teacher), date="2026-11-20", by=teacher)
    photo = client.post(f"/sessions/{session.pk}/photos/", {"image": _big_upload(150_000)},
                        HTTP_ACCEPT="application/json")
    assert photo.status_code == 413 and "the limit is 0.1 MB" in photo.json()["message"]
    settings.MAX_REQUEST_BYTES = 120_000  # now the whole request is over the cap: refused before reading
    early = client.post(f"/sessions/{session.pk}/photos/", {"image": _big_upload(150_000)},
                        HTTP_ACCEPT="application/json")
    assert early.status_code == 413 and early.json()["ok"] is False
