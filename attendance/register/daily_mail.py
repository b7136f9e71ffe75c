"""Daily e-mails, queued in the outbox by commands run from cron: the reminder of registers not taken
(to each teacher who has any) and the guardians' daily summary (when the school chose it)."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.db import transaction

from accounts.guardian import absence_mail_footer
from accounts.models import User
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register.day import Period, registers_not_taken
from school.models import OutboxMessage
from school.outbox import outbox_add
from school.selectors import school_settings_get

Kind = OutboxMessage.Kind
Status = AttendanceRecord.Status


def summary_key(*, guardian_email: str, day: datetime.date) -> str:
    return f"summary:{guardian_email.strip().lower()}:{day.isoformat()}"


@transaction.atomic
def registers_reminders_queue(*, day: datetime.date, now: datetime.datetime | None = None) -> int:
    """One e-mail per teacher with registers of `day` not finalised by their cut-off; at most one per
    teacher and day however often it runs. Returns how many were queued."""
    missing: dict[int, list[Period]] = defaultdict(list)
    teachers: dict[int, User] = {}
    for period in registers_not_taken(day=day, now=now):
        teacher = period.course.teacher
        teachers[teacher.pk] = teacher
        missing[teacher.pk].append(period)
    queued = 0
    for teacher_id, periods in missing.items():
        teacher = teachers[teacher_id]
        if not teacher.email:
            continue
        lines = "\n".join(f"- {p.slot.start_time:%H:%M} {p.course.code} {p.slot.session_label}: "
                          f"{p.state_label.lower()}" for p in periods)
        queued += bool(outbox_add(
            to=teacher.email, kind=Kind.REGISTERS, key=f"registers:{teacher.pk}:{day.isoformat()}",
            subject=f"Registers not taken on {day:%d %B %Y}",
            body=(f"Dear {teacher.get_full_name() or teacher.username},\n\nThese registers of {day:%A %d %B %Y} "
                  f"were not finalised by their cut-off:\n\n{lines}\n\nPlease take or finish them.\n")))
    return queued


@transaction.atomic
def guardian_summaries_queue(*, day: datetime.date) -> int:
    """With the school's daily-summary option on: one e-mail per guardian listing their children's
    absences and late arrivals of `day` (finalised sessions); at most one per guardian and day."""
    if not school_settings_get().guardian_daily_summary:
        return 0
    records = (AttendanceRecord.objects
               .filter(session__date=day, session__state=AttendanceSession.State.FINALIZED,
                       status__in=[Status.ABSENT, Status.LATE])
               .exclude(student__guardian_email="").select_related("student", "session__course")
               .order_by("student__last_name", "session__starts_at", "session__created_at"))
    by_guardian: dict[str, list[AttendanceRecord]] = defaultdict(list)
    for record in records:
        by_guardian[record.student.guardian_email.strip().lower()].append(record)
    queued = 0
    for guardian, items in by_guardian.items():
        lines = "\n".join(
            f"- {r.student.full_name}: {'absent' if r.status == Status.ABSENT else 'late'} from "
            f"{r.session.course.name}{' (' + r.session.label + ')' if r.session.label else ''}" for r in items)
        queued += bool(outbox_add(
            to=guardian, kind=Kind.DAILY_SUMMARY, key=summary_key(guardian_email=guardian, day=day),
            subject=f"Attendance on {day:%d %B %Y}",
            body=(f"Dear parent or guardian,\n\nAttendance on {day:%A %d %B %Y}:\n\n{lines}\n\n"
                  "If something is wrong or an absence was excused, please contact the school.\n"
                  + "".join(absence_mail_footer(student=child)
                            for child in {r.student_id: r.student for r in items}.values()))))
    return queued
