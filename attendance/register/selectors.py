"""Reads of attendance, scoped to what the asking user may see, and the reports."""

from __future__ import annotations

import csv
import datetime
import io
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import StudentProfile, TeacherSettings, User
from accounts.selectors import teacher_settings_get
from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from classes.models import Course
from classes.selectors import course_list_visible
from recognition.models import FaceEmbedding
from school.calendar import expected_q

Status = AttendanceRecord.Status


def session_list_visible(*, user: User) -> QuerySet[AttendanceSession]:
    """Admins see every session; a teacher the sessions of their courses; a student none."""
    sessions = AttendanceSession.objects.select_related("course").order_by("-date", "-created_at")
    if user.is_school_admin:
        return sessions
    if user.is_teacher:
        return sessions.filter(course__teacher=user)
    return sessions.none()



def session_visible_or_404(*, user: User, session_id: int | str) -> AttendanceSession:
    """The session if `user` may see it; otherwise not found (someone else's id is a 404, never a 403)."""
    return get_object_or_404(session_list_visible(user=user), pk=session_id)


def session_detail(*, session: AttendanceSession) -> AttendanceSession:
    """The session with everything its detail shows, in a fixed number of queries."""
    return (AttendanceSession.objects.select_related("course", "course__teacher", "finalized_by")
            .prefetch_related(
                Prefetch("records", queryset=AttendanceRecord.objects.select_related("student", "face")
                         .prefetch_related(Prefetch("corrections", queryset=AttendanceCorrection.objects
                                                    .select_related("changed_by")))),
                Prefetch("photos", queryset=SessionPhoto.objects.prefetch_related(
                    Prefetch("faces", queryset=DetectedFace.objects.select_related("student")))))
            .get(pk=session.pk))


def enrolment_thumbnails(*, students: list[StudentProfile]) -> dict[int, int]:
    """Student id → the id of one enrolment photo kept for them (for a face-image thumbnail), for
    those who have one (none in embeddings-only mode)."""
    thumbnails: dict[int, int] = {}
    faces = FaceEmbedding.objects.filter(student__in=students).exclude(source_image="").order_by("created_at")
    for student_id, face_id in faces.values_list("student_id", "pk"):
        thumbnails.setdefault(student_id, face_id)
    return thumbnails


@dataclass(frozen=True)
class StudentCounts:
    student: StudentProfile
    sessions: int
    present: int
    late: int
    absent: int
    excused: int

    @property
    def rate(self) -> float | None:
        """Share of counted sessions attended (present or late); excused sessions are not counted."""
        counted = self.present + self.late + self.absent
        return None if counted == 0 else round(100.0 * (self.present + self.late) / counted, 1)


def student_counts(*, course: Course, date_from: datetime.date | None = None, date_to: datetime.date | None = None,
                   students: list[StudentProfile] | None = None,
                   exclude_session: AttendanceSession | None = None) -> list[StudentCounts]:
    """Per-student counts over the course's finalised sessions in the range, on school days only
    (a session held on a holiday is not expected): one query."""
    session_filter = Q(attendance__session__course=course,
                       attendance__session__state=AttendanceSession.State.FINALIZED)
    session_filter &= expected_q("attendance__session__date")
    if date_from:
        session_filter &= Q(attendance__session__date__gte=date_from)
    if date_to:
        session_filter &= Q(attendance__session__date__lte=date_to)
    if exclude_session is not None:
        session_filter &= ~Q(attendance__session=exclude_session)
    queryset = course.students.all() if students is None else StudentProfile.objects.filter(
        pk__in=[s.pk for s in students])
    rows = queryset.annotate(
        n_sessions=Count("attendance", filter=session_filter),
        n_present=Count("attendance", filter=session_filter & Q(attendance__status=Status.PRESENT)),
        n_late=Count("attendance", filter=session_filter & Q(attendance__status=Status.LATE)),
        n_absent=Count("attendance", filter=session_filter & Q(attendance__status=Status.ABSENT)),
        n_excused=Count("attendance", filter=session_filter & Q(attendance__status=Status.EXCUSED)),
    ).order_by("last_name", "first_name")
    return [StudentCounts(student=row, sessions=row.n_sessions, present=row.n_present, late=row.n_late,
                          absent=row.n_absent, excused=row.n_excused) for row in rows]


def at_risk_threshold(*, course: Course) -> int:
    # 0 is a valid choice ("flag nobody"), not a missing value.
    return teacher_settings_get(user=course.teacher).low_attendance_percent


@dataclass(frozen=True)
class CourseReport:
    course: Course
    date_from: datetime.date | None
    date_to: datetime.date | None
    sessions: list[AttendanceSession]
    students: list[StudentCounts]
    average_rate: float | None
    threshold: int

    @property
    def at_risk(self) -> list[StudentCounts]:
        return [row for row in self.students if row.rate is not None and row.rate < self.threshold]


def course_report(*, course: Course, date_from: datetime.date | None = None,
                  date_to: datetime.date | None = None) -> CourseReport:
    sessions = course.sessions.filter(expected_q("date"), state=AttendanceSession.State.FINALIZED)
    if date_from:
        sessions = sessions.filter(date__gte=date_from)
    if date_to:
        sessions = sessions.filter(date__lte=date_to)
    rows = student_counts(course=course, date_from=date_from, date_to=date_to)
    rates = [row.rate for row in rows if row.rate is not None]
    return CourseReport(course=course, date_from=date_from, date_to=date_to,
                        sessions=list(sessions.order_by("date", "created_at").annotate(
                            n_present=Count("records", filter=Q(records__status__in=[Status.PRESENT, Status.LATE])),
                            n_counted=Count("records", filter=Q(records__status__in=[
                                Status.PRESENT, Status.LATE, Status.ABSENT])))),
                        students=rows, average_rate=round(sum(rates) / len(rates), 1) if rates else None,
                        threshold=at_risk_threshold(course=course))


_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_safe(value: object) -> str:
    """A cell that spreadsheets show as text: a leading =, +, -, @, tab or CR would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def course_report_rows(report: CourseReport) -> list[list[str]]:
    """The report as CSV rows (header first), every cell escaped against formula injection."""
    rows = [["student_number", "last_name", "first_name", "sessions", "present", "late", "absent", "excused",
             "attendance_rate_percent", "at_risk"]]
    at_risk = {row.student.pk for row in report.at_risk}
    for row in report.students:
        rows.append([csv_safe(v) for v in (
            row.student.student_number, row.student.last_name, row.student.first_name, row.sessions, row.present,
            row.late, row.absent, row.excused, "" if row.rate is None else row.rate,
            "yes" if row.student.pk in at_risk else "no")])
    return rows


def course_report_csv(report: CourseReport) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(course_report_rows(report))
    return buffer.getvalue()


@dataclass(frozen=True)
class AtRisk:
    student: StudentProfile
    course: Course
    rate: float
    threshold: int


def at_risk_for_user(*, user: User) -> list[AtRisk]:
    """Students under their course teacher's threshold, across the courses the user sees: three
    queries whatever the number of courses and students."""
    courses = {c.pk: c for c in course_list_visible(user=user).select_related("teacher")}
    if not courses:
        return []
    rows = (AttendanceRecord.objects
            .filter(expected_q("session__date"), session__course__in=courses,
                    session__state=AttendanceSession.State.FINALIZED)
            .values("session__course", "student")
            .annotate(attended=Count("pk", filter=Q(status__in=[Status.PRESENT, Status.LATE])),
                      counted=Count("pk", filter=Q(status__in=[Status.PRESENT, Status.LATE, Status.ABSENT]))))
    teachers = {c.teacher_id for c in courses.values()}
    thresholds = {ts.user_id: ts.low_attendance_percent
                  for ts in TeacherSettings.objects.filter(user_id__in=teachers)}
    found = []
    for row in rows:
        if not row["counted"]:
            continue
        course = courses[row["session__course"]]
        threshold = thresholds.get(course.teacher_id, settings.AT_RISK_THRESHOLD_PERCENT)
        rate = round(100.0 * row["attended"] / row["counted"], 1)
        if rate < threshold:
            found.append((row["student"], course, rate, threshold))
    students = StudentProfile.objects.in_bulk([student for student, *_ in found])
    return sorted((AtRisk(students[sid], course, rate, threshold) for sid, course, rate, threshold in found),
                  key=lambda item: (item.rate, item.student.last_name))
