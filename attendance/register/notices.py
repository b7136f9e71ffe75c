"""E-mails of attendance decisions: absences to guardians, low attendance to the teacher, the follow-up
of a corrected absence. Each is an outbox row written in the transaction of the decision (see
school/outbox.py), so a failing mail server never undoes a decision and no message is lost."""

from __future__ import annotations

from typing import cast

from accounts.guardian import absence_mail_footer
from accounts.models import StudentProfile
from accounts.selectors import teacher_settings_get
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession
from attendance.register.daily_mail import summary_key
from attendance.register.selectors import at_risk_threshold, student_counts
from classes.models import Course
from school.models import OutboxMessage
from school.outbox import outbox_add
from school.selectors import school_settings_get

Kind = OutboxMessage.Kind
Status = AttendanceRecord.Status


def attendance_rates(*, course: Course, students: list[StudentProfile],
                     exclude_session: AttendanceSession | None = None) -> dict[int, float | None]:
    rows = student_counts(course=course, students=students, exclude_session=exclude_session)
    return {row.student.pk: row.rate for row in rows}


def _contact(session: AttendanceSession) -> str:
    teacher = session.course.teacher
    return (teacher.get_full_name() or teacher.username) + (f" at {teacher.email}" if teacher.email else "")


def _when(session: AttendanceSession) -> str:
    return f"{session.date:%A %d %B %Y}" + (f" ({session.label})" if session.label else "")


def session_finalized(*, session_id: int, before: dict[int, float | None]) -> int:
    """Queues the e-mails of a session being finalised (call it inside the finalising transaction);
    returns how many were queued. With the school's daily summary on, guardians get the day's summary
    (`send_guardian_summaries`) instead of one e-mail per absence."""
    session = AttendanceSession.objects.select_related("course__teacher").get(pk=session_id)
    course, teacher = session.course, session.course.teacher
    preferences = teacher_settings_get(user=teacher)
    queued = 0
    if preferences.notify_guardians_on_absence and not school_settings_get().guardian_daily_summary:
        absent = (session.records.filter(status=Status.ABSENT).exclude(student__guardian_email="")
                  .select_related("student"))
        for record in absent:
            student = record.student
            queued += bool(outbox_add(
                to=student.guardian_email, kind=Kind.ABSENCE, key=absence_key(record),
                subject=f"Absence: {student.full_name}, {course.name} on {session.date:%d %B %Y}",
                body=(f"Dear parent or guardian,\n\n{student.full_name} was marked absent from {course.name} "
                      f"({course.code}) on {_when(session)}.\n\n"
                      f"If this is a mistake or the absence was excused, please contact {_contact(session)}.\n"
                      + absence_mail_footer(student=student))))
    if preferences.notify_low_attendance and teacher.email:
        threshold = at_risk_threshold(course=course)
        students = list(course.students.all())
        now = attendance_rates(course=course, students=students)
        fallen = [s for s in students if (rate := now.get(s.pk)) is not None and rate < threshold
                  and ((was := before.get(s.pk)) is None or was >= threshold)]
        if fallen:
            lines = "\n".join(f"- {s.full_name} ({s.student_number}): {now[s.pk]:.0f}%" for s in fallen)
            queued += bool(outbox_add(
                to=teacher.email, kind=Kind.LOW_ATTENDANCE, key=f"low:{session.pk}",
                subject=f"Low attendance in {course.code}",
                body=f"These students of {course.name} are now under {threshold}% attendance:\n\n{lines}\n"))
    return queued


def absence_key(record: AttendanceRecord) -> str:
    """The outbox key of the absence e-mail of a record: at most one per record, and how it is found."""
    return f"absence:{record.pk}"


FOLLOWED_UP = (Status.PRESENT, Status.LATE, Status.EXCUSED)


def correction_follow_up(*, record: AttendanceRecord, correction: AttendanceCorrection) -> bool:
    """Queues a follow-up when an absence the guardian was told of is corrected to present, late or
    excused (call it in the correcting transaction). True when one was queued."""
    if correction.old_status != Status.ABSENT or correction.new_status not in FOLLOWED_UP:
        return False
    session = AttendanceSession.objects.select_related("course__teacher").get(pk=record.session_id)
    student = StudentProfile.objects.get(pk=record.student_id)
    told = (OutboxMessage.objects.filter(key=absence_key(record), kind=Kind.ABSENCE)
            | OutboxMessage.objects.filter(kind=Kind.DAILY_SUMMARY,
                                           key=summary_key(guardian_email=student.guardian_email, day=session.date))
            ).exclude(status=OutboxMessage.Status.FAILED).order_by("-created_at").first()
    if told is None:
        return False  # nobody was told of the absence: nothing to take back
    now_status = cast(dict[str, str], {Status.PRESENT: "present", Status.LATE: "present (arrived late)",
                  Status.EXCUSED: "excused"})[correction.new_status]
    return bool(outbox_add(
        to=told.to, kind=Kind.FOLLOW_UP, key=f"follow-up:{correction.pk}",
        subject=f"Correction: {student.full_name}, {session.course.name} on {session.date:%d %B %Y}",
        body=(f"Dear parent or guardian,\n\nWe wrote that {student.full_name} was absent from "
              f"{session.course.name} ({session.course.code}) on {_when(session)}. That was corrected: "
              f"{student.full_name} is now recorded as {now_status}.\n\n"
              f"For any question, please contact {_contact(session)}.\n")))
