"""Live mode through the REST API, with the real dlib model on 1280x720 frames composed from real photos:
marks after LIVE_MIN_FRAMES frames, never on one; pending from uncertain matches only; the teacher's
decision wins; the period rule; stop conditions; backpressure and limits."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.consent import consent_record
from accounts.models import ErasureReceipt, TeacherSettings
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, LiveEvidence, LiveRun, SessionPhoto
from attendance.register import services
from school.clock import school_now
from tests.attendance.live_frames import frame_scene, post_frame, tiny_jpeg
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db


def start(api: Any, session: AttendanceSession) -> dict:
    response = api.post(f"/api/v1/sessions/{session.pk}/live/")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def session(enrolled_class: EnrolledClass, teacher: Any) -> AttendanceSession:
    return services.session_create(course=enrolled_class.course, date=datetime.date(2026, 11, 20), by=teacher)


def status_of(session: AttendanceSession, enrolled: EnrolledClass, key: str) -> AttendanceRecord:
    return AttendanceRecord.objects.get(session=session, student=enrolled.students[key])


def test_students_become_present_after_two_frames_and_one_frame_changes_nothing(
        teacher_api: Any, session: AttendanceSession, enrolled_class: EnrolledClass, faces: Path) -> None:
    start(teacher_api, session)
    first = post_frame(teacher_api, session.pk, faces, ("obama", "biden", "rose_leslie"), seed=1)
    assert first.status_code == 200, first.content
    body = first.json()
    assert (body["width"], body["height"]) == (1280, 720)
    named = {face["name"]: face for face in body["faces"] if face["student"]}
    assert set(named) == {"Barack Obama", "Joe Biden", "Rose Leslie"}
    assert all(face["match"] == "confident" and face["status"] == "unmarked" for face in named.values())
    assert any(face["student"] is None for face in body["faces"])  # the strangers, unknown
    assert body["newly_marked"] == [] and body["present_count"] == 0 and body["stopped"] == ""
    assert SessionPhoto.objects.filter(session=session).count() == 0  # a frame is not kept for nothing

    second = post_frame(teacher_api, session.pk, faces, ("obama", "biden", "kit_harington"), seed=2).json()

    assert sorted(m["name"] for m in second["newly_marked"]) == ["Barack Obama", "Joe Biden"]
    assert second["present_count"] == 2 and second["remaining"] == 3 and second["run"]["frames"] == 2
    for key in ("obama", "biden"):
        record = status_of(session, enrolled_class, key)
        assert record.status == "present" and record.source == "face" and record.distance < 0.5
        assert record.seen_at_source == "live" and "2 frames" in record.reason
        # The evidence is the kept frame, with the student's face on it, like a photo's.
        assert record.face.photo.session_id == session.pk and record.face.student_id == record.student_id
    # Rose (first frame only) and Kit (second frame only) were seen once: nothing changed for them.
    assert status_of(session, enrolled_class, "rose_leslie").status == "unmarked"
    assert status_of(session, enrolled_class, "kit_harington").status == "unmarked"
    assert LiveEvidence.objects.get(session=session, student=enrolled_class.students["kit_harington"]
                                    ).confident_frames == 1
    photos = SessionPhoto.objects.filter(session=session)
    assert photos.count() == 1 and photos[0].image  # one frame kept: the evidence of both marks
    kept = DetectedFace.objects.filter(photo=photos[0])
    assert {face.student_id for face in kept} == {enrolled_class.students[k].pk
                                                  for k in ("obama", "biden", "kit_harington")}
    # The review's crops work on it as on a photo.
    crop = teacher_api.get(f"/api/v1/sessions/{session.pk}/faces/{kept[0].pk}/crop/")
    assert crop.status_code == 200 and crop["Content-Type"] == "image/jpeg"


def test_withdrawing_consent_erases_the_faces_live_mode_kept_to_see_motion(
        teacher_api: Any, teacher: Any, session: AttendanceSession, enrolled_class: EnrolledClass,
        faces: Path) -> None:
    start(teacher_api, session)
    for seed in (1, 2):
        assert post_frame(teacher_api, session.pk, faces, ("obama", "biden"), seed=seed).status_code == 200
    obama, biden = enrolled_class.students["obama"], enrolled_class.students["biden"]
    assert LiveEvidence.objects.get(session=session, student=obama).motion_signature  # a 24x24 grey face

    consent_record(student=obama, given=False, by=teacher, channel="page")

    evidence = LiveEvidence.objects.get(session=session, student=obama)
    assert evidence.motion_signature is None and evidence.motion_region is None
    assert evidence.confident_frames == 2  # the register's evidence stays; the face goes
    receipt = ErasureReceipt.objects.get(student=obama)
    assert receipt.photos_deleted >= 1 and receipt.embeddings_deleted >= 1
    assert LiveEvidence.objects.get(session=session, student=biden).motion_signature  # only his


def _frame_bytes(scene: Any, quality: int, scale: float = 1.0) -> bytes:
    import io

    from PIL import Image

    image = Image.fromarray(scene.pixels)
    if scale != 1.0:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def _post_bytes(api: Any, session: AttendanceSession, data: bytes) -> dict:
    response = api.post(f"/api/v1/sessions/{session.pk}/live/frames/",
                        {"image": SimpleUploadedFile("frame.jpg", data, content_type="image/jpeg")}, format="multipart")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_still_photo_sent_again_re_encoded_or_rescaled_never_marks_anyone(
        teacher_api: Any, session: AttendanceSession, enrolled_class: EnrolledClass, faces: Path) -> None:
    start(teacher_api, session)
    still = frame_scene(faces, ("obama", "biden"), seed=11)
    first = _frame_bytes(still, 85)
    # The same picture: again byte for byte, re-encoded at other JPEG qualities, slightly rescaled.
    copies = [first, first, _frame_bytes(still, 90), _frame_bytes(still, 75), _frame_bytes(still, 95),
              _frame_bytes(still, 60), _frame_bytes(still, 85, 0.97), _frame_bytes(still, 90, 0.9),
              _frame_bytes(still, 85, 1.03)]
    for index, data in enumerate(copies):
        body = _post_bytes(teacher_api, session, data)
        # Both are recognised in every copy (so the copies are sightings), and nobody is marked.
        assert {face["name"] for face in body["faces"] if face["student"]} == {"Barack Obama", "Joe Biden"}, index
        assert body["newly_marked"] == [] and body["repeated"] is (index > 0), index
    for key in ("obama", "biden"):
        assert status_of(session, enrolled_class, key).status == "unmarked"
        evidence = LiveEvidence.objects.get(session=session, student=enrolled_class.students[key])
        assert evidence.confident_frames + evidence.uncertain_frames == 1  # one piece of evidence
    assert SessionPhoto.objects.filter(session=session).count() == 0


def test_a_student_who_moves_is_marked_after_live_min_frames_and_still_frames_between_do_not_count(
        settings: Any, teacher_api: Any, session: AttendanceSession, enrolled_class: EnrolledClass,
        faces: Path) -> None:
    settings.LIVE_MIN_FRAMES = 3
    start(teacher_api, session)

    def frame(moves: tuple[tuple[str, int, int], ...], quality: int) -> bytes:
        return _frame_bytes(frame_scene(faces, ("obama",), 12, moves), quality)

    steps = [frame((), 85),
             frame((), 90),  # the same class re-encoded: not a sighting
             frame((("obama", 4, 0),), 85),  # moved 4 px to the right: the second
             frame((("obama", 4, 0),), 75),  # still there: not one
             frame((("obama", 4, 3),), 85)]  # moved 3 px down: the third, marked
    marked = [[m["name"] for m in _post_bytes(teacher_api, session, data)["newly_marked"]] for data in steps]
    assert marked == [[], [], [], [], ["Barack Obama"]]
    record = status_of(session, enrolled_class, "obama")
    assert record.status == "present" and "3 frames" in record.reason
    assert LiveEvidence.objects.get(session=session, student=enrolled_class.students["obama"]).confident_frames == 3


def test_uncertain_matches_only_make_a_pending_record(teacher_api: Any, teacher: Any, session: AttendanceSession,
                                                      enrolled_class: EnrolledClass, faces: Path) -> None:
    # With the tightest confident threshold every match of these frames (0.36-0.43) is only uncertain.
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.35", uncertain_threshold="0.60")
    start(teacher_api, session)
    one = post_frame(teacher_api, session.pk, faces, ("obama",), seed=3).json()
    assert [f["match"] for f in one["faces"] if f["student"]] == ["uncertain"] and one["newly_marked"] == []
    two = post_frame(teacher_api, session.pk, faces, ("obama",), seed=4).json()
    assert [(m["name"], m["status"]) for m in two["newly_marked"]] == [("Barack Obama", "pending")]
    record = status_of(session, enrolled_class, "obama")
    assert record.status == "pending" and record.face is not None and record.face.match == "uncertain"


def test_the_teachers_decision_wins(teacher_api: Any, teacher: Any, session: AttendanceSession,
                                    enrolled_class: EnrolledClass, faces: Path) -> None:
    services.record_correct(record=status_of(session, enrolled_class, "obama"), status="excused", by=teacher,
                            note="At the dentist")
    start(teacher_api, session)
    for seed in (5, 6):
        body = post_frame(teacher_api, session.pk, faces, ("obama", "biden"), seed=seed).json()
    assert [m["name"] for m in body["newly_marked"]] == ["Joe Biden"]
    record = status_of(session, enrolled_class, "obama")
    assert record.status == "excused" and record.source == "manual"


# Frozen from the start of the test (before teacher_api's JWT is issued) at 10:30 in the school's time zone,
# so that a period that started an hour ago is today's.
@pytest.mark.time_machine(datetime.datetime(2026, 11, 20, 10, 30, tzinfo=datetime.UTC), tick=False)
def test_a_student_first_seen_after_the_grace_is_late(settings: Any, teacher_api: Any, teacher: Any,
                                                      enrolled_class: EnrolledClass, faces: Path) -> None:
    settings.TIME_ZONE = "UTC"
    now = school_now()
    assert (now.date(), now.hour, now.minute) == (datetime.date(2026, 11, 20), 10, 30)
    session = services.session_create(course=enrolled_class.course, date=now.date(), by=teacher,
                                      starts_at=(now - datetime.timedelta(hours=1)).time())
    start(teacher_api, session)
    post_frame(teacher_api, session.pk, faces, ("biden",), seed=7)
    body = post_frame(teacher_api, session.pk, faces, ("biden",), seed=8).json()
    assert [(m["name"], m["status"]) for m in body["newly_marked"]] == [("Joe Biden", "late")]


def test_live_mode_stops_when_everyone_is_present(teacher_api: Any, teacher: Any, faces: Path) -> None:
    from tests.classroom import make_class

    small = make_class(teacher=teacher, faces=faces, enrol=("obama", "biden"))
    for key in ("kit_harington", "rose_leslie", "alex_lacamoire"):
        small.course.enrollments.filter(student=small.students[key]).delete()
    session = services.session_create(course=small.course, date=datetime.date(2026, 11, 21), by=teacher)
    start(teacher_api, session)
    post_frame(teacher_api, session.pk, faces, ("obama", "biden"), seed=9)
    body = post_frame(teacher_api, session.pk, faces, ("obama", "biden"), seed=10).json()
    assert body["stopped"] == "everyone_present" and body["remaining"] == 0 and body["present_count"] == 2
    assert body["run"]["running"] is False
    after = post_frame(teacher_api, session.pk, faces, ("obama",), seed=9)
    assert after.status_code == 409 and after.json()["error_code"] == "LIVE_NOT_RUNNING"


def test_frames_need_a_running_live_mode_and_it_stops_at_the_time_limit(teacher_api: Any,
                                                                        session: AttendanceSession) -> None:
    url = f"/api/v1/sessions/{session.pk}/live/frames/"
    frame = SimpleUploadedFile("f.jpg", tiny_jpeg(), content_type="image/jpeg")
    refused = teacher_api.post(url, {"image": frame}, format="multipart")
    assert refused.status_code == 409 and refused.json()["error_code"] == "LIVE_NOT_RUNNING"

    run = start(teacher_api, session)
    assert start(teacher_api, session)["id"] == run["id"]  # starting again returns the same run
    LiveRun.objects.filter(pk=run["id"]).update(ends_at=timezone.now() - datetime.timedelta(seconds=1))
    frame = SimpleUploadedFile("f.jpg", tiny_jpeg(), content_type="image/jpeg")
    late = teacher_api.post(url, {"image": frame}, format="multipart")
    assert late.status_code == 409 and late.json()["details"]["ended_reason"] == "time_limit"
    assert teacher_api.get(f"/api/v1/sessions/{session.pk}/live/").json()["ended_reason"] == "time_limit"


def test_a_frame_while_another_is_processed_is_told_to_retry(teacher_api: Any, session: AttendanceSession) -> None:
    run = start(teacher_api, session)
    url = f"/api/v1/sessions/{session.pk}/live/frames/"
    # A frame of this session in flight (claimed by another worker).
    LiveRun.objects.filter(pk=run["id"]).update(frame_busy_until=timezone.now() + datetime.timedelta(seconds=30))
    busy = teacher_api.post(url, {"image": SimpleUploadedFile("f.jpg", tiny_jpeg())}, format="multipart")
    assert busy.status_code == 429 and busy.json()["error_code"] == "LIVE_FRAME_IN_FLIGHT"
    assert busy["Retry-After"] == "1"
    # A claim past its time (the worker died with the frame) blocks nothing; a processed frame leaves none.
    LiveRun.objects.filter(pk=run["id"]).update(frame_busy_until=timezone.now() - datetime.timedelta(seconds=1))
    ok = teacher_api.post(url, {"image": SimpleUploadedFile("f.jpg", tiny_jpeg())}, format="multipart")
    assert ok.status_code == 200 and ok.json()["faces"] == []
    assert LiveRun.objects.get(pk=run["id"]).frame_busy_until is None


@pytest.mark.django_db(transaction=True)
def test_frames_of_one_session_sent_at_once_to_several_workers_are_processed_one_at_a_time(settings: Any) -> None:
    """Four frames of one session reach four worker processes at once (no Redis: each has its own local
    cache): one is processed, the three others are told to retry, while it is in flight."""
    import multiprocessing

    from django.db import connection

    from attendance.live.services import live_run_start
    from tests import factories
    from tests.attendance.live import frame_workers

    teacher = factories.TeacherFactory()
    course = factories.CourseFactory(teacher=teacher)
    factories.EnrollmentFactory(course=course)  # a student still to see: the run goes on
    session = services.session_create(course=course, date=datetime.date(2026, 11, 20), by=teacher)
    run = live_run_start(session=session, by=teacher)
    context = multiprocessing.get_context("spawn")  # nothing inherited: a worker of its own
    messages, release = context.Queue(), context.Event()
    workers = [context.Process(target=frame_workers.post_frame, daemon=True, args=(
        index, connection.settings_dict["NAME"], str(settings.MEDIA_ROOT), teacher.pk, session.pk, tiny_jpeg(),
        messages, release)) for index in range(4)]
    for worker in workers:
        worker.start()
    entered: set[int] = set()
    answers: dict[int, tuple] = {}
    try:
        # Every worker has answered or is recognising its frame: only then may the frames in flight finish.
        while len(answers) + len(entered - set(answers)) < len(workers):
            kind, index, *rest = messages.get(timeout=300)
            if kind == "entered":
                entered.add(index)
            else:
                answers[index] = tuple(rest)
        release.set()
        while len(answers) < len(workers):
            kind, index, *rest = messages.get(timeout=300)
            if kind == "answer":
                answers[index] = tuple(rest)
    finally:
        release.set()
        for worker in workers:
            worker.join(60)
    assert len(entered) == 1, answers
    assert sorted(status for status, _, _ in answers.values()) == [200, 429, 429, 429], answers
    assert all((code, retry_after) == ("LIVE_FRAME_IN_FLIGHT", "1")
               for status, code, retry_after in answers.values() if status == 429), answers
    run.refresh_from_db()
    assert run.frames == 1 and run.frame_busy_until is None


def test_frames_are_small_limited_and_private(settings: Any, teacher_api: Any, other_teacher_api: Any,
                                              session: AttendanceSession) -> None:
    import io

    from PIL import Image

    start(teacher_api, session)
    url = f"/api/v1/sessions/{session.pk}/live/frames/"
    buffer = io.BytesIO()
    Image.new("RGB", (2400, 1600), (90, 90, 90)).save(buffer, format="JPEG")
    big = teacher_api.post(url, {"image": SimpleUploadedFile("b.jpg", buffer.getvalue())}, format="multipart")
    assert big.status_code == 413 and big.json()["error_code"] == "IMAGE_TOO_LARGE"
    garbage = teacher_api.post(url, {"image": SimpleUploadedFile("g.jpg", b"not an image")}, format="multipart")
    assert garbage.status_code in (400, 415)
    other = other_teacher_api.post(url, {"image": SimpleUploadedFile("f.jpg", tiny_jpeg())}, format="multipart")
    assert other.status_code == 404
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "live_frame": "2/min"}}
    for _ in range(2):
        teacher_api.post(url, {"image": SimpleUploadedFile("f.jpg", tiny_jpeg())}, format="multipart")
    limited = teacher_api.post(url, {"image": SimpleUploadedFile("f.jpg", tiny_jpeg())}, format="multipart")
    assert limited.status_code == 429 and limited.json()["error_code"] == "RATE_LIMITED"
    assert int(limited["Retry-After"]) >= 1


def test_stop_ends_the_run(teacher_api: Any, session: AttendanceSession) -> None:
    start(teacher_api, session)
    stopped = teacher_api.delete(f"/api/v1/sessions/{session.pk}/live/")
    assert stopped.status_code == 200 and stopped.json()["ended_reason"] == "stopped"
    assert teacher_api.delete(f"/api/v1/sessions/{session.pk}/live/").status_code == 204


def test_finalising_ends_live_mode(teacher_api: Any, teacher: Any, session: AttendanceSession) -> None:
    start(teacher_api, session)
    services.session_finalize(session=session, by=teacher)
    frame = SimpleUploadedFile("f.jpg", tiny_jpeg(), content_type="image/jpeg")
    refused = teacher_api.post(f"/api/v1/sessions/{session.pk}/live/frames/", {"image": frame}, format="multipart")
    assert refused.status_code == 409 and refused.json()["error_code"] == "SESSION_FINALIZED"
    assert teacher_api.get(f"/api/v1/sessions/{session.pk}/live/").json()["ended_reason"] == "finalized"
    assert teacher_api.post(f"/api/v1/sessions/{session.pk}/live/").status_code == 409
