"""REST API of the reports beyond one course: the school on a day (office) and a student across courses.
`?format=csv` or `?format=pdf` downloads the same report."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import student_list_visible
from attendance.register import selectors
from attendance.register.day import Period
from attendance.register.serializers import ReportSerializer
from attendance.reports import pdf
from attendance.reports import selectors as reports
from attendance.reports.selectors import course_register
from classes.selectors import course_visible_or_404
from school.api.params import choice_param, date_param
from school.api.permissions import IsSchoolAdmin, IsStaff
from school.authenticated import AuthenticatedRequest
from school.clock import school_today

FORMAT = OpenApiParameter("format", str, enum=["json", "csv", "pdf"])


def _period(p: Period) -> dict[str, Any]:
    return {"slot": p.slot.pk, "course": p.course.pk, "course_code": p.course.code, "label": p.slot.session_label,
            "start": p.slot.start_time, "end": p.slot.end_time, "state": p.state, "overdue": p.overdue,
            "session": p.session.pk if p.session else None}


def _download(request: AuthenticatedRequest, *, title: str, lines: list[str], sections: list,
              name: str) -> HttpResponse | None:
    fmt = choice_param(request, "format", ("json", "csv", "pdf"), "json")
    if fmt == "csv":
        response = HttpResponse(reports.sections_csv(sections), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    if fmt == "pdf":
        response = HttpResponse(pdf.report_pdf(title=title, lines=lines, sections=sections, wide=True),
                                content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return None


class SchoolReportView(APIView):
    """The whole school on a day (default today, school time): registers taken and missing, absentees,
    students at risk, students absent 3 or more sessions in a row. Office (admins) only."""

    permission_classes = [IsSchoolAdmin]

    @extend_schema(parameters=[OpenApiParameter("date", OpenApiTypes.DATE), FORMAT],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request: AuthenticatedRequest) -> Response | HttpResponse:
        day = date_param(request, "date") or school_today()
        report = reports.school_report(user=request.user, day=day)
        download = _download(request, title="School attendance", lines=[f"Day: {day:%A %d %B %Y}"],
                             sections=reports.school_report_sections(report), name=f"school-{day.isoformat()}")
        if download is not None:
            return download
        return Response({
            "date": day, "closure": report.closure.name if report.closure else None,
            "registers_taken": [_period(p) for p in report.taken],
            "registers_missing": [_period(p) for p in report.missing],
            "absentees": [{"student": a.student.pk, "name": a.student.full_name, "courses": a.courses}
                          for a in report.absentees],
            "at_risk": [{"student": r.student.pk, "name": r.student.full_name, "course": r.course.pk,
                         "course_code": r.course.code, "rate": r.rate, "threshold": r.threshold}
                        for r in report.at_risk],
            "consecutive_absences": [{"student": s.student.pk, "name": s.student.full_name, "absences": s.absences,
                                      "since": s.since, "courses": s.courses} for s in report.streaks],
        })


class StudentReportView(APIView):
    """A student's attendance in each course the user sees, and their finalised records."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=[OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
                               FORMAT], responses={200: OpenApiTypes.OBJECT})
    def get(self, request: AuthenticatedRequest, student_id: int) -> Response | HttpResponse:
        student = get_object_or_404(student_list_visible(user=request.user), pk=student_id)
        date_from, date_to = date_param(request, "from"), date_param(request, "to")
        if date_from and date_to and date_from > date_to:
            raise ValidationError({"from": ["'from' must not be after 'to'."]})
        report = reports.student_report(student=student, user=request.user, date_from=date_from, date_to=date_to)
        download = _download(request, title="Student attendance",
                             lines=[f"{student.full_name} ({student.student_number})"],
                             sections=reports.student_report_sections(report),
                             name=f"attendance-{slugify(student.student_number)}")
        if download is not None:
            return download
        return Response({
            "student": student.pk, "rate": report.rate,
            "courses": [{"course": course.pk, "course_code": course.code, "sessions": c.sessions,
                         "present": c.present, "late": c.late, "absent": c.absent, "excused": c.excused,
                         "rate": c.rate} for course, c in report.courses],
            "records": [{"session": r.session_id, "date": r.session.date, "course_code": r.session.course.code,
                         "label": r.session.label, "status": r.status, "seen_at": r.seen_at,
                         "seen_at_source": r.seen_at_source} for r in report.records],
        })


class CourseReportView(APIView):
    """Per-student counts and rates over the course's finalised sessions, the course average and the
    students under the at-risk threshold. `?format=csv` downloads the same as CSV."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=[OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
                               OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses=ReportSerializer)
    def get(self, request: AuthenticatedRequest, course_id: int) -> Response | HttpResponse:
        course = course_visible_or_404(user=request.user, course_id=course_id)
        date_from, date_to = date_param(request, "from"), date_param(request, "to")
        if date_from and date_to and date_from > date_to:
            raise ValidationError({"from": ["'from' must not be after 'to'."]})
        report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
        if choice_param(request, "format", ("json", "csv"), "json") == "csv":
            response = HttpResponse(selectors.course_report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="attendance-{slugify(course.code)}.csv"'
            return response
        return Response(ReportSerializer(report).data)


REGISTER_MAX_DAYS = 366


class CourseRegisterView(APIView):
    """The course's register for a date range (default: the last 30 days): one row per enrolled student,
    one column per session, statuses as P (present), L (late), A (absent), E (excused), ? (pending),
    - (not seen yet). `?format=csv` downloads it."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=[OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
                               OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request: AuthenticatedRequest, course_id: int) -> Response | HttpResponse:
        course = course_visible_or_404(user=request.user, course_id=course_id)
        date_to = date_param(request, "to") or school_today()
        date_from = date_param(request, "from") or date_to - datetime.timedelta(days=30)
        if date_from > date_to:
            raise ValidationError({"from": ["'from' must not be after 'to'."]})
        if (date_to - date_from).days > REGISTER_MAX_DAYS:
            raise ValidationError({"from": [f"A register covers at most {REGISTER_MAX_DAYS} days."]})
        rows = course_register(course=course, date_from=date_from, date_to=date_to)
        if choice_param(request, "format", ("json", "csv"), "json") == "csv":
            buffer = io.StringIO()
            csv.writer(buffer).writerows([[selectors.csv_safe(cell) for cell in row] for row in rows])
            response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (f'attachment; filename="register-{slugify(course.code)}-'
                                               f'{date_from.isoformat()}-{date_to.isoformat()}.csv"')
            return response
        header, *body = rows
        return Response({"course": course.pk, "from": date_from, "to": date_to, "sessions": header[3:],
                         "students": [{"student_number": row[0], "last_name": row[1], "first_name": row[2],
                                       "marks": row[3:]} for row in body]})
