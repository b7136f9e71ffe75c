"""Reads of one student's own attendance: the student's pages (/me/), the mobile app's /api/v1/me/
endpoints, the guardian's page, and the data export (a subject access request in one file).

Every function takes the student, never a user: callers decide whose data may be shown."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from accounts.models import StudentProfile
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, DetectedFace
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
              "photo_kept": bool(face.source_image)}
             for face in student.face_embeddings.order_by("created_at")]
    matched = (DetectedFace.objects.filter(student=student).select_related("photo__session__course")
               .order_by("photo__uploaded_at"))
    classroom = [{"course": m.photo.session.course.code, "date": m.photo.session.date.isoformat(),
                  "photo_kept": bool(m.photo.image), "distance": None if m.distance is None else round(m.distance, 3)}
                 for m in matched]
    return {"enrolled_faces": faces, "faces_in_classroom_photos": classroom,
            "note": "Face vectors (embeddings) are never exported or shown."}


def own_data_export(*, student: StudentProfile, consent: dict[str, Any]) -> dict[str, Any]:
    """Everything the school holds about the student, as one JSON-ready document."""
    corrections = (AttendanceCorrection.objects.filter(record__student=student)
                   .select_related("record__session__course").order_by("changed_at"))
    return {
        "exported_at": timezone.now().isoformat(),
        "profile": {"student_number": student.student_number, "first_name": student.first_name,
                    "last_name": student.last_name, "guardian_email": student.guardian_email,
                    "username": student.user.username if student.user else None,
                    "created_at": student.created_at.isoformat()},
        "attendance": own_attendance_as_dicts(own_attendance(student=student)),
        "corrections": [{"course": c.record.session.course.code, "date": c.record.session.date.isoformat(),
                         "from": c.old_status, "to": c.new_status, "note": c.note,
                         "changed_at": c.changed_at.isoformat()} for c in corrections],
        "consent": consent,
        "biometric_data": own_biometric_data(student=student),
    }
