"""Reports beyond one course: the school-wide day report for the office, a student's report across
courses, and a course's register (students by sessions) for a date range. Each has CSV rows; the PDF
comes from attendance/reports/pdf.py."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import QuerySet

from accounts.models import StudentProfile, User
from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register.day import Period, periods_of_day
from attendance.register.selectors import AtRisk, StudentCounts, at_risk_for_user, csv_safe, student_counts
from classes.models import Course
from classes.selectors import course_list_visible
from school.calendar import closure_on, expected_q
from school.models import Closure

Status = AttendanceRecord.Status
CONSECUTIVE_ABSENCES = 3  # the office's list: students absent this many sessions in a row, or more
STREAK_WINDOW_DAYS = 60


@dataclass(frozen=True)
class Absentee:
    student: StudentProfile
    courses: list[str]


@dataclass(frozen=True)
class AbsenceStreak:
    student: StudentProfile
    absences: int
    since: datetime.date
    courses: list[str]


@dataclass(frozen=True)
class SchoolReport:
    day: datetime.date
    closure: Closure | None
    taken: list[Period]
    missing: list[Period]
    absentees: list[Absentee]
    at_risk: list[AtRisk]
    streaks: list[AbsenceStreak]


def _finalised_records(courses: QuerySet[Course]) -> QuerySet[AttendanceRecord]:
    return AttendanceRecord.objects.filter(expected_q("session__date"), session__course__in=courses,
                                           session__state=AttendanceSession.State.FINALIZED)


def absence_streaks(*, courses: QuerySet[Course], day: datetime.date,
                    minimum: int = CONSECUTIVE_ABSENCES) -> list[AbsenceStreak]:
    """Students whose latest finalised sessions (up to `day`, school days only, across the courses)
    are `minimum` or more absences in a row; excused sessions neither count nor break the run."""
    rows = (_finalised_records(courses)
            .filter(session__date__lte=day, session__date__gte=day - datetime.timedelta(days=STREAK_WINDOW_DAYS))
            .exclude(status=Status.EXCUSED)
            .order_by("student_id", "-session__date", "-session__starts_at", "-session__created_at")
            .values_list("student_id", "status", "session__date", "session__course__code"))
    runs: dict[int, list[tuple[datetime.date, str]]] = {}
    broken: set[int] = set()
    for student_id, status, date, code in rows:
        if student_id in broken:
            continue
        if status == Status.ABSENT:
            runs.setdefault(student_id, []).append((date, code))
        else:
            broken.add(student_id)
    found = {sid: run for sid, run in runs.items() if len(run) >= minimum}
    students = StudentProfile.objects.in_bulk(list(found))
    streaks = [AbsenceStreak(student=students[sid], absences=len(run), since=run[-1][0],
                             courses=sorted({code for _, code in run})) for sid, run in found.items()]
    return sorted(streaks, key=lambda s: (-s.absences, s.student.last_name, s.student.first_name))


def school_report(*, user: User, day: datetime.date, now: datetime.datetime | None = None) -> SchoolReport:
    """The whole school on a day (the office sees every course; a teacher asking sees theirs)."""
    courses = course_list_visible(user=user)
    periods = periods_of_day(day=day, courses=list(courses), now=now)
    absent: dict[int, list[str]] = defaultdict(list)
    students: dict[int, StudentProfile] = {}
    for record in (_finalised_records(courses).filter(session__date=day, status=Status.ABSENT)
                   .select_related("student", "session__course").order_by("student__last_name")):
        students[record.student_id] = record.student
        absent[record.student_id].append(record.session.course.code)
    return SchoolReport(
        day=day, closure=closure_on(day),
        taken=[p for p in periods if p.state == "finalised"], missing=[p for p in periods if p.state != "finalised"],
        absentees=[Absentee(student=students[sid], courses=sorted(set(codes))) for sid, codes in absent.items()],
        at_risk=at_risk_for_user(user=user), streaks=absence_streaks(courses=courses, day=day))


def school_report_sections(report: SchoolReport) -> list[tuple[str, list[list[str]]]]:
    """The report as titled tables (header row first): the CSV and the PDF are both made from them."""
    def period_row(p: Period) -> list[str]:
        return [f"{p.slot.start_time:%H:%M}-{p.slot.end_time:%H:%M}", p.course.code, p.slot.session_label,
                str(p.course.teacher), p.state_label, "overdue" if p.overdue else ""]

    header = ["period", "course", "label", "teacher", "state", "overdue"]
    return [
        ("Registers taken", [header, *[period_row(p) for p in report.taken]]),
        ("Registers missing", [header, *[period_row(p) for p in report.missing]]),
        ("Absent today", [["student_number", "student", "courses"],
                          *[[a.student.student_number, a.student.full_name, " ".join(a.courses)]
                            for a in report.absentees]]),
        ("At risk", [["student_number", "student", "course", "rate_percent", "threshold_percent"],
                     *[[r.student.student_number, r.student.full_name, r.course.code, f"{r.rate:g}",
                        str(r.threshold)] for r in report.at_risk]]),
        (f"{CONSECUTIVE_ABSENCES} or more absences in a row",
         [["student_number", "student", "absences", "since", "courses"],
          *[[s.student.student_number, s.student.full_name, str(s.absences), s.since.isoformat(),
             " ".join(s.courses)] for s in report.streaks]]),
    ]


# --- a student across courses ----------------------------------------------------------------


@dataclass(frozen=True)
class StudentReport:
    student: StudentProfile
    date_from: datetime.date | None
    date_to: datetime.date | None
    courses: list[tuple[Course, StudentCounts]]
    records: list[AttendanceRecord]

    @property
    def rate(self) -> float | None:
        attended = sum(c.present + c.late for _, c in self.courses)
        counted = attended + sum(c.absent for _, c in self.courses)
        return None if counted == 0 else round(100.0 * attended / counted, 1)


def student_report(*, student: StudentProfile, user: User, date_from: datetime.date | None = None,
                   date_to: datetime.date | None = None) -> StudentReport:
    """A student's attendance in each course the user sees, and their finalised records in the range."""
    courses = list(course_list_visible(user=user).filter(enrollments__student=student))
    per_course = []
    for course in courses:
        counts = student_counts(course=course, date_from=date_from, date_to=date_to, students=[student])
        per_course.append((course, counts[0]))
    records = (_finalised_records(course_list_visible(user=user)).filter(student=student)
               .select_related("session__course").order_by("-session__date", "-session__starts_at"))
    if date_from:
        records = records.filter(session__date__gte=date_from)
    if date_to:
        records = records.filter(session__date__lte=date_to)
    return StudentReport(student=student, date_from=date_from, date_to=date_to, courses=per_course,
                         records=list(records[:500]))


def student_report_sections(report: StudentReport) -> list[tuple[str, list[list[str]]]]:
    return [
        ("By course", [["course", "sessions", "present", "late", "absent", "excused", "rate_percent"],
                       *[[course.code, str(c.sessions), str(c.present), str(c.late), str(c.absent), str(c.excused),
                          "" if c.rate is None else f"{c.rate:g}"] for course, c in report.courses]]),
        ("Sessions", [["date", "course", "label", "status", "seen_at"],
                      *[[r.session.date.isoformat(), r.session.course.code, r.session.label, r.status,
                         "" if r.seen_at is None else r.seen_at.isoformat(timespec="minutes")]
                        for r in report.records]]),
    ]


# --- a course's register ---------------------------------------------------------------------

REGISTER_CODES: dict[str, str] = {Status.PRESENT: "P", Status.LATE: "L", Status.ABSENT: "A", Status.EXCUSED: "E",
                  Status.PENDING: "?", Status.UNMARKED: "-"}


def course_register(*, course: Course, date_from: datetime.date, date_to: datetime.date) -> list[list[str]]:
    """The course's register for a date range: one row per enrolled student, one column per session
    (date and label), the status as P/L/A/E (? pending, - not seen yet): three queries. Cells are raw
    (escape them with `csv_safe` for a CSV)."""
    sessions = list(course.sessions.filter(date__gte=date_from, date__lte=date_to)
                    .order_by("date", "starts_at", "created_at"))
    marks = {(r.session_id, r.student_id): r.status for r in
             AttendanceRecord.objects.filter(session__in=sessions).only("session_id", "student_id", "status")}
    header = ["student_number", "last_name", "first_name",
              *[f"{s.date.isoformat()} {s.label}".strip() for s in sessions]]
    rows = [header]
    for student in course.students.order_by("last_name", "first_name"):
        rows.append([student.student_number, student.last_name, student.first_name,
                     *[REGISTER_CODES.get(marks.get((s.pk, student.pk), ""), "") for s in sessions]])
    return rows


def sections_csv(sections: list[tuple[str, list[list[str]]]]) -> str:
    """Several tables in one CSV: a title line before each, a blank line between, cells escaped."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for index, (title, rows) in enumerate(sections):
        if index:
            writer.writerow([])
        writer.writerow([f"# {title}"])
        writer.writerows([[csv_safe(cell) for cell in row] for row in rows])
    return buffer.getvalue()
