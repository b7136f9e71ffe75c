"""Reads of one student's own attendance: the student's pages (/me/), the mobile app's /api/v1/me/
endpoints, the guardian's page, and the data export (a subject access request in one file).

Every function takes the student, never a user: callers decide whose data may be shown."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from accounts.models import StudentProfile
from attendance.models import (
    AttendanceCorrection,
    AttendanceRecord,
    AttendanceSession,
    CheckinAttempt,
    DetectedFace,
    LiveEvidence,
)
from attendance.register.selectors import StudentCounts, student_counts
from classes.models import Course


@dataclass(frozen=True)
class CourseAttendance:
    """A student's attendance in one course: counts, rate and each finalised session's record."""

    course: Course
    counts: StudentCounts | None
    records: list[AttendanceRecord]

    @property
    def rate(self) -> float | None:
        return self.counts.rate if self.counts else None


def own_attendance(*, student: StudentProfile, date_from: datetime.date | None = None,
                   date_to: datetime.date | None = None) -> list[CourseAttendance]:
    """Per course the student is enrolled in: finalised sessions only (an open session may still change)."""
    result = []
    for course in student.courses.order_by("code"):
        counts = student_counts(course=course, students=[student], date_from=date_from, date_to=date_to)
        records = (AttendanceRecord.objects.filter(student=student, session__course=course,
                                                   session__state=AttendanceSession.State.FINALIZED)
                   .select_related("session").order_by("-session__date", "-session__pk"))
        if date_from:
            records = records.filter(session__date__gte=date_from)
        if date_to:
            records = records.filter(session__date__lte=date_to)
        result.append(CourseAttendance(course=course, counts=counts[0] if counts else None, records=list(records)))
    return result


def record_evidence(record: AttendanceRecord) -> dict[str, Any] | None:
    """What a face match rests on, in plain data: the distance and the date of the photo."""
    if record.source != AttendanceRecord.Source.FACE or record.distance is None:
        return None
    seen = record.seen_at or None
    return {"distance": round(record.distance, 3), "date": record.session.date.isoformat(),
            "seen_at": seen.isoformat() if seen else None}


def record_as_dict(record: AttendanceRecord) -> dict[str, Any]:
    session = record.session
    return {"session": session.pk, "date": session.date.isoformat(), "label": session.label,
            "status": record.status, "source": record.source, "evidence": record_evidence(record)}


def own_attendance_as_dicts(items: list[CourseAttendance]) -> list[dict[str, Any]]:
    return [{"course": {"id": item.course.pk, "code": item.course.code, "name": item.course.name},
             "rate": item.rate,
             "counts": ({"sessions": item.counts.sessions, "present": item.counts.present,
                         "late": item.counts.late, "absent": item.counts.absent, "excused": item.counts.excused}
                        if item.counts else None),
             "records": [record_as_dict(r) for r in item.records]} for item in items]


def own_biometric_data(*, student: StudentProfile) -> dict[str, Any]:
    """The list of biometric data the school holds about the student: what and when, never the vectors."""
    faces = [{"id": face.pk, "enrolled_at": face.created_at.isoformat(), "model": face.model_name,
              "photo_kept": bool(face.source_image), "source": face.source, "approval": face.approval,
              "learned_from": face.learned_context if face.is_learned else None}
             for face in student.face_embeddings.order_by("created_at")]
    matched = (DetectedFace.objects.filter(student=student).select_related("photo__session__course")
               .order_by("photo__uploaded_at"))
    classroom = [{"course": m.photo.session.course.code, "date": m.photo.session.date.isoformat(),
                  "photo_kept": bool(m.photo.image), "distance": None if m.distance is None else round(m.distance, 3)}
                 for m in matched]
    return {"enrolled_faces": faces, "faces_in_classroom_photos": classroom,
            "note": "Face vectors (embeddings) are never exported or shown."}


def _when(value: datetime.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def own_records(*, student: StudentProfile) -> list[dict[str, Any]]:
    """Every attendance record of the student, in any course (a course left since included) and any
    state of its session, with what it rests on."""
    records = (AttendanceRecord.objects.filter(student=student).select_related("session__course")
               .order_by("session__date", "session__pk"))
    return [{"course": r.session.course.code, "date": r.session.date.isoformat(), "label": r.session.label,
             "session_state": r.session.state, "status": r.status, "source": r.source, "reason": r.reason,
             "distance": _rounded(r.distance), "seen_at": _when(r.seen_at), "seen_at_source": r.seen_at_source}
            for r in records]


def own_checkins(*, student: StudentProfile) -> list[dict[str, Any]]:
    """Every self check-in attempt of the student (refused ones included) and whether its selfie is kept;
    the selfie itself is at `selfie` (the student's own, logged, address)."""
    mine = Q(student=student) | (Q(user=student.user) if student.user_id else Q(pk__in=[]))
    attempts = CheckinAttempt.objects.filter(mine).select_related("session__course").order_by("created_at", "pk")
    return [{"course": a.session.course.code, "date": a.session.date.isoformat(), "at": a.created_at.isoformat(),
             "outcome": a.outcome, "error_code": a.error_code, "reason": a.reason, "distance": _rounded(a.distance),
             "metres_from_school": a.metres_from_school, "device_id": a.device_id,
             "selfie": reverse("my-checkin-selfie", args=[a.pk]) if a.selfie else None}
            for a in attempts]


def own_live_evidence(*, student: StudentProfile) -> list[dict[str, Any]]:
    """What live mode saw of the student in each session (frame counts, best likeness, when), and whether
    the frame that became the evidence of a mark is kept."""
    evidence = (LiveEvidence.objects.filter(student=student).select_related("session__course", "face__photo")
                .order_by("first_seen_at", "pk"))
    return [{"course": e.session.course.code, "date": e.session.date.isoformat(),
             "confident_frames": e.confident_frames, "uncertain_frames": e.uncertain_frames,
             "best_distance": _rounded(e.best_distance), "first_seen_at": e.first_seen_at.isoformat(),
             "last_seen_at": e.last_seen_at.isoformat(),
             "frame_kept": bool(e.face is not None and e.face.photo.image)} for e in evidence]


# Every model that keeps something about a student (a foreign key to StudentProfile), and the part of the
# export that carries it: tests/attendance/people/test_data_export.py fails on a model missing here.
EXPORTED_MODELS = {
    "accounts.ConsentEvent": "consent.history",
    "accounts.ErasureReceipt": "consent.erasure_receipts",
    "accounts.GuardianContactChange": "guardian_contact_changes",
    "classes.Enrollment": "courses",
    "recognition.FaceEmbedding": "biometric_data.enrolled_faces",
    "attendance.AttendanceRecord": "records",
    "attendance.DetectedFace": "biometric_data.faces_in_classroom_photos",
    "attendance.LiveEvidence": "live_mode",
    "attendance.CheckinAttempt": "self_checkins",
}


def own_data_export(*, student: StudentProfile, consent: dict[str, Any]) -> dict[str, Any]:
    """Everything the school holds about the student, as one JSON-ready document (README, "Privacy")."""
    corrections = (AttendanceCorrection.objects.filter(record__student=student)
                   .select_related("record__session__course").order_by("changed_at"))
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {"student_number": student.student_number, "first_name": student.first_name,
                    "last_name": student.last_name, "guardian_email": student.guardian_email,
                    "username": student.user.username if student.user else None,
                    "login_email": student.user.email if student.user else None,
                    "created_at": student.created_at.isoformat()},
        "courses": [{"code": e.course.code, "name": e.course.name, "enrolled_at": e.enrolled_at.isoformat()}
                    for e in student.enrollments.select_related("course").order_by("enrolled_at", "pk")],
        "attendance": own_attendance_as_dicts(own_attendance(student=student)),
        "records": own_records(student=student),
        "corrections": [{"course": c.record.session.course.code, "date": c.record.session.date.isoformat(),
                         "from": c.old_status, "to": c.new_status, "note": c.note,
                         "changed_at": c.changed_at.isoformat()} for c in corrections],
        "consent": consent,
        # When and how the guardian address changed; the addresses themselves are the guardians' data.
        "guardian_contact_changes": [{"at": c.created_at.isoformat(), "channel": c.channel}
                                     for c in student.guardian_contact_changes.order_by("created_at", "pk")],
        "biometric_data": own_biometric_data(student=student),
        "self_checkins": own_checkins(student=student),
        "live_mode": own_live_evidence(student=student),
    }
