"""The attendance flow end to end through the REST API, with the real dlib model and real photos."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from accounts.models import TeacherSettings
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, SessionPhoto
from tests.classroom import EnrolledClass

pytestmark = pytest.mark.django_db


def open_session(api: Any, course_id: int, date: str = "2026-11-20", label: str = "") -> dict:
    response = api.post(f"/api/v1/courses/{course_id}/sessions/", {"date": date, "label": label}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def upload(api: Any, session_id: int, photo: Any) -> Any:
    return api.post(f"/api/v1/sessions/{session_id}/photos/", {"image": photo}, format="multipart")


def statuses(api: Any, session_id: int) -> dict[int, str]:
    body = api.get(f"/api/v1/sessions/{session_id}/").json()
    return {record["student"]: record["status"] for record in body["records"]}


def test_photo_marks_the_recognised_students_present_with_evidence(teacher_api: Any,
                                                                   enrolled_class: EnrolledClass) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    assert {r["status"] for r in session["records"]} == {"unmarked"} and len(session["records"]) == 5

    response = upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["faces_detected"] == 3 and body["duplicate"] is False
    obama, biden = enrolled_class.students["obama"], enrolled_class.students["biden"]
    matched = {m["student"]: m for m in body["matches"] if m["student"]}
    assert set(matched) == {obama.pk, biden.pk}
    assert all(m["match"] == "confident" and m["distance"] < 0.5 for m in matched.values())
    unknown = [m for m in body["matches"] if m["student"] is None]
    assert len(unknown) == 1 and unknown[0]["match"] == "unknown"

    detail = teacher_api.get(f"/api/v1/sessions/{session['id']}/").json()
    records = {r["student"]: r for r in detail["records"]}
    for student in (obama, biden):
        record = records[student.pk]
        assert record["status"] == "present" and record["source"] == "face"
        assert record["distance"] < 0.5 and record["photo"] == body["photo"]["id"]
        assert set(record["box"]) == {"top", "right", "bottom", "left"}
        assert record["confident_threshold"] == 0.5 and record["uncertain_threshold"] == 0.6
    assert len(detail["unknown_faces"]) == 1 and detail["unknown_faces"][0]["box"]["right"] > 0
    assert detail["counts"]["present"] == 2 and detail["counts"]["unmarked"] == 3


def test_finalise_marks_the_unseen_absent_and_emails_their_guardians(
        teacher_api: Any, enrolled_class: EnrolledClass, django_capture_on_commit_callbacks: Any) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))

    with django_capture_on_commit_callbacks(execute=True):
        response = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["state"] == "finalized"
    absent = {key for key, s in enrolled_class.students.items()
              if statuses(teacher_api, session["id"])[s.pk] == "absent"}
    assert absent == {"kit_harington", "rose_leslie", "alex_lacamoire"}
    guardian_mails = [m for m in mail.outbox if m.subject.startswith("Absence")]
    assert sorted(m.to[0] for m in guardian_mails) == sorted(
        enrolled_class.students[k].guardian_email for k in absent)
    assert all(enrolled_class.course.name in m.body for m in guardian_mails)
    # The three absent students fell to 0%, under the teacher's 75%: one alert to the teacher.
    alerts = [m for m in mail.outbox if m.subject.startswith("Low attendance")]
    assert len(alerts) == 1 and alerts[0].to == [enrolled_class.course.teacher.email]
    assert "Harington" in alerts[0].body and "Obama" not in alerts[0].body


def test_a_second_photo_merges_and_the_same_photo_again_changes_nothing(teacher_api: Any,
                                                                         enrolled_class: EnrolledClass) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))
    second = upload(teacher_api, session["id"], enrolled_class.photo("probes/kit_with_rose.jpg"))
    assert second.status_code == 201
    after_two = statuses(teacher_api, session["id"])
    present = {k for k, s in enrolled_class.students.items() if after_two[s.pk] == "present"}
    assert present == {"obama", "biden", "kit_harington", "rose_leslie"}
    records_before = list(AttendanceRecord.objects.order_by("pk").values())

    again = upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg", "renamed.jpg"))

    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["faces_detected"] == 3
    assert SessionPhoto.objects.filter(session_id=session["id"]).count() == 2
    assert list(AttendanceRecord.objects.order_by("pk").values()) == records_before


def test_the_best_distance_across_photos_wins(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))
    obama = enrolled_class.students["obama"]
    first = AttendanceRecord.objects.get(session_id=session["id"], student=obama).distance
    upload(teacher_api, session["id"], enrolled_class.photo("groups/two_people.jpg"))
    second = AttendanceRecord.objects.get(session_id=session["id"], student=obama)
    assert second.distance < first  # two_people.jpg is a closer match (0.31 vs 0.38)
    upload(teacher_api, session["id"], enrolled_class.photo("probes/obama1.jpg"))  # 0.37: farther
    assert AttendanceRecord.objects.get(pk=second.pk).distance == pytest.approx(second.distance)


def test_an_uncertain_match_is_pending_and_blocks_finalise(teacher: Any, teacher_api: Any,
                                                           enrolled_class: EnrolledClass) -> None:
    # Biden's distance on this photo is 0.42: under a 0.40 confident threshold it is only uncertain.
    TeacherSettings.objects.create(user=teacher, confident_threshold="0.40", uncertain_threshold="0.60")
    session = open_session(teacher_api, enrolled_class.course.pk)
    upload(teacher_api, session["id"], enrolled_class.photo("probes/obama_and_biden.jpg"))
    biden, obama = enrolled_class.students["biden"], enrolled_class.students["obama"]
    assert statuses(teacher_api, session["id"])[biden.pk] == "pending"
    assert statuses(teacher_api, session["id"])[obama.pk] == "present"

    refused = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")

    assert refused.status_code == 409
    assert refused.json()["error_code"] == "PENDING_RECORDS"
    assert [p["student"] for p in refused.json()["details"]["pending"]] == [biden.pk]
    assert AttendanceSession.objects.get(pk=session["id"]).state == "open"
    assert not mail.outbox

    resolved = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {"resolve_pending": "present"},
                                format="json")
    assert resolved.status_code == 200
    record = next(r for r in resolved.json()["records"] if r["student"] == biden.pk)
    assert record["status"] == "present" and record["corrections"][0]["old_status"] == "pending"


def test_corrections_are_audited_and_allowed_after_finalise(teacher: Any, teacher_api: Any,
                                                            enrolled_class: EnrolledClass) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    kit = enrolled_class.students["kit_harington"]
    url = f"/api/v1/sessions/{session['id']}/records/{kit.pk}/"
    response = teacher_api.patch(url, {"status": "late", "note": "Bus was late"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "late"
    teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")

    after = teacher_api.patch(url, {"status": "excused", "note": "Doctor's note"}, format="json")

    assert after.status_code == 200
    trail = after.json()["corrections"]
    assert [(c["old_status"], c["new_status"], c["note"], c["changed_by"]) for c in trail] == [
        ("unmarked", "late", "Bus was late", teacher.username), ("late", "excused", "Doctor's note", teacher.username)]
    detail = teacher_api.get(f"/api/v1/sessions/{session['id']}/").json()
    assert next(r for r in detail["records"] if r["student"] == kit.pk)["corrections"] == trail
    bad = teacher_api.patch(url, {"status": "pending"}, format="json")
    assert bad.status_code == 400 and bad.json()["error_code"] == "VALIDATION_ERROR"
    assert AttendanceCorrection.objects.count() == 2


def test_a_finalised_session_takes_no_more_photos(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    session = open_session(teacher_api, enrolled_class.course.pk)
    teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")
    response = upload(teacher_api, session["id"], enrolled_class.photo("probes/obama1.jpg"))
    assert response.status_code == 409 and response.json()["error_code"] == "SESSION_FINALIZED"
    again = teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")
    assert again.status_code == 409


def test_an_unknown_face_can_be_assigned_and_enrolled(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    kit = enrolled_class.students["kit_harington"]
    kit.face_embeddings.all().delete()  # Kit is not recognisable yet
    session = open_session(teacher_api, enrolled_class.course.pk)
    body = upload(teacher_api, session["id"], enrolled_class.photo("probes/johnsnow_test1.jpg")).json()
    (face,) = [m for m in body["matches"] if m["student"] is None]

    response = teacher_api.post(f"/api/v1/sessions/{session['id']}/faces/{face['id']}/assign/",
                                {"student_id": kit.pk, "add_embedding": True}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "present" and response.json()["face_enrolled"]
    assert kit.face_embeddings.count() == 1
    # Now the same face is recognised in a new session.
    other = open_session(teacher_api, enrolled_class.course.pk, date="2026-11-21")
    again = upload(teacher_api, other["id"], enrolled_class.photo("probes/johnsnow_test1.jpg")).json()
    assert [m["student"] for m in again["matches"]] == [kit.pk]


def test_look_alike_students_are_never_automatically_present(teacher: Any, teacher_api: Any, faces: Any) -> None:
    from recognition.services import face_enrol
    from tests import factories

    course = factories.CourseFactory(teacher=teacher)
    twins = []
    for photo in ("people/obama/obama.jpg", "people/obama/obama2.jpg"):
        student = factories.StudentFactory(created_by=teacher)
        factories.EnrollmentFactory(course=course, student=student)
        face_enrol(student=student, image=(faces / photo).read_bytes(), by=teacher)
        twins.append(student)
    session = open_session(teacher_api, course.pk)

    body = upload(teacher_api, session["id"], open_photo(faces, "probes/obama1.jpg")).json()

    (match,) = body["matches"]
    assert match["student"] in {t.pk for t in twins} and match["distance"] < 0.5
    assert match["match"] == "uncertain" and match["reason"].startswith("Looks like")
    assert statuses(teacher_api, session["id"])[match["student"]] == "pending"


def open_photo(faces: Any, relative: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(relative.rsplit("/", 1)[-1], (faces / relative).read_bytes(), content_type="image/jpeg")


def test_one_shot_mark_opens_todays_session(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    response = teacher_api.post("/api/v1/attendance/mark/", {
        "course": enrolled_class.course.code, "image": enrolled_class.photo("probes/obama1.jpg")}, format="multipart")
    assert response.status_code == 201, response.content
    session = AttendanceSession.objects.get(pk=response.json()["session"])
    assert session.course == enrolled_class.course and session.label == ""
    assert statuses(teacher_api, session.pk)[enrolled_class.students["obama"].pk] == "present"
    second = teacher_api.post("/api/v1/attendance/mark/", {
        "course": str(enrolled_class.course.pk), "image": enrolled_class.photo("probes/kit_with_rose.jpg")},
        format="multipart")
    assert second.status_code == 201 and second.json()["session"] == session.pk
    assert AttendanceSession.objects.count() == 1


def test_one_shot_mark_refuses_bad_input(teacher_api: Any, other_teacher_api: Any,
                                         enrolled_class: EnrolledClass) -> None:
    missing = teacher_api.post("/api/v1/attendance/mark/", {"course": enrolled_class.course.code},
                               format="multipart")
    assert missing.status_code == 400 and "image" in missing.json()["details"]
    foreign = other_teacher_api.post("/api/v1/attendance/mark/", {
        "course": enrolled_class.course.code, "image": enrolled_class.photo("probes/obama1.jpg")}, format="multipart")
    assert foreign.status_code == 404
    assert not AttendanceSession.objects.exists()


def test_creating_the_same_session_twice_is_a_conflict(teacher_api: Any, enrolled_class: EnrolledClass) -> None:
    first = open_session(teacher_api, enrolled_class.course.pk, label="P1")
    response = teacher_api.post(f"/api/v1/courses/{enrolled_class.course.pk}/sessions/",
                                {"date": "2026-11-20", "label": "P1"}, format="json")
    assert response.status_code == 409
    assert response.json()["error_code"] == "SESSION_EXISTS"
    assert response.json()["details"]["session_id"] == first["id"]
    bad = teacher_api.post(f"/api/v1/courses/{enrolled_class.course.pk}/sessions/", {"date": "20/11/2026"},
                           format="json")
    assert bad.status_code == 400 and "date" in bad.json()["details"]


def test_enrolment_changes_after_opening_are_reflected_on_finalise(
        teacher: Any, teacher_api: Any, enrolled_class: EnrolledClass,
        django_capture_on_commit_callbacks: Any) -> None:
    from tests import factories

    session = open_session(teacher_api, enrolled_class.course.pk)
    leaver = enrolled_class.students["alex_lacamoire"]
    teacher_api.delete(f"/api/v1/courses/{enrolled_class.course.pk}/enrollments/{leaver.pk}/")
    newcomer = factories.StudentFactory(created_by=teacher)
    factories.EnrollmentFactory(course=enrolled_class.course, student=newcomer)

    with django_capture_on_commit_callbacks(execute=True):
        teacher_api.post(f"/api/v1/sessions/{session['id']}/finalize/", {}, format="json")

    final = statuses(teacher_api, session["id"])
    assert leaver.pk not in final and final[newcomer.pk] == "absent"
    recipients = {m.to[0] for m in mail.outbox if m.subject.startswith("Absence")}
    assert newcomer.guardian_email in recipients and leaver.guardian_email not in recipients
