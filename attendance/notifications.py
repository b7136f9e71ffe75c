"""E-mails sent when a session is finalised: absences to guardians, low attendance to the teacher.

Sent through Django's e-mail framework after the commit, one message per recipient, so a failing
mail server never undoes a finalised session (failures are logged)."""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage, get_connection

from accounts.models import StudentProfile
from accounts.selectors import teacher_settings_get
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.selectors import at_risk_threshold, student_counts
from classes.models import Course

logger = logging.getLogger(__name__)


def attendance_rates(*, course: Course, students: list[StudentProfile],
                     exclude_session: AttendanceSession | None = None) -> dict[int, float | None]:
    rows = student_counts(course=course, students=students, exclude_session=exclude_session)
    return {row.student.pk: row.rate for row in rows}


def session_finalized(*, session_id: int, before: dict[int, float | None]) -> int:
    """Sends the e-mails of a just-finalised session; returns how many were sent."""
    session = AttendanceSession.objects.select_related("course__teacher").get(pk=session_id)
    course, teacher = session.course, session.course.teacher
    preferences = teacher_settings_get(user=teacher)
    contact = (teacher.get_full_name() or teacher.username) + (f" at {teacher.email}" if teacher.email else "")
    messages = []
    if preferences.notify_guardians_on_absence:
        absent = (session.records.filter(status=AttendanceRecord.Status.ABSENT).exclude(student__guardian_email="")
                  .select_related("student"))
        for record in absent:
            student = record.student
            messages.append(EmailMessage(
                subject=f"Absence: {student.full_name}, {course.name} on {session.date:%d %B %Y}",
                body=(f"Dear parent or guardian,\n\n{student.full_name} was marked absent from {course.name} "
                      f"({course.code}) on {session.date:%A %d %B %Y}"
                      f"{' (' + session.label + ')' if session.label else ''}.\n\n"
                      f"If this is a mistake or the absence was excused, please contact {contact}.\n"),
                to=[student.guardian_email]))
    if preferences.notify_low_attendance and teacher.email:
        threshold = at_risk_threshold(course=course)
        students = list(course.students.all())
        now = attendance_rates(course=course, students=students)
        fallen = [s for s in students if now.get(s.pk) is not None and now[s.pk] < threshold
                  and (before.get(s.pk) is None or before[s.pk] >= threshold)]
        if fallen:
            lines = "\n".join(f"- {s.full_name} ({s.student_number}): {now[s.pk]:.0f}%" for s in fallen)
            messages.append(EmailMessage(
                subject=f"Low attendance in {course.code}",
                body=(f"These students of {course.name} are now under {threshold}% attendance:\n\n{lines}\n"),
                to=[teacher.email]))
    if not messages:
        return 0
    try:
        return get_connection().send_messages(messages) or 0
    except Exception:  # a mail server failure must not surface as a failed finalise
        logger.exception("could not send %d attendance e-mails for session %s", len(messages), session_id)
        return 0
