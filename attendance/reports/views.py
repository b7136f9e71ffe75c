"""Report pages: the school report, a student's report and a course's PDF (the office and teachers)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import slugify

from accounts.selectors import student_list_visible
from attendance.register import selectors
from attendance.reports import pdf
from attendance.reports import selectors as reports
from classes.selectors import course_list_visible, course_visible_or_404
from school.authenticated import AuthenticatedHttpRequest
from school.clock import school_today
from school.pages import (
    office_required,
    staff_required,
)

View = Callable[..., HttpResponseBase]


def _day(request: AuthenticatedHttpRequest) -> datetime.date:
    value = request.GET.get("date")
    if not value:
        return school_today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404("Use a date in the form YYYY-MM-DD.") from None


def _download(content: str | bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- a period's register --------------------------------------------------------------------


@office_required
def school_report(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The whole school on a day: registers taken and missing, absentees, at risk, absence runs."""
    report = reports.school_report(user=request.user, day=_day(request))
    fmt = request.GET.get("format")
    sections = reports.school_report_sections(report)
    name = f"school-{report.day.isoformat()}"
    if fmt == "csv":
        return _download(reports.sections_csv(sections), filename=f"{name}.csv", content_type="text/csv; charset=utf-8")
    if fmt == "pdf":
        lines = [f"Day: {report.day:%A %d %B %Y}"] + ([f"Closed: {report.closure.name}"] if report.closure else [])
        return _download(pdf.report_pdf(title="School attendance", lines=lines, sections=sections, wide=True),
                         filename=f"{name}.pdf", content_type="application/pdf")
    return render(request, "attendance/school_report.html", {"report": report, "query": request.GET.urlencode()})


# --- a student across courses ---------------------------------------------------------------


@staff_required
def student_report(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    student = get_object_or_404(student_list_visible(user=request.user), pk=student_id)
    date_from, date_to = _dates(request)
    report = reports.student_report(student=student, user=request.user, date_from=date_from, date_to=date_to)
    sections = reports.student_report_sections(report)
    name = f"attendance-{slugify(student.student_number)}"
    fmt = request.GET.get("format")
    if fmt == "csv":
        return _download(reports.sections_csv(sections), filename=f"{name}.csv", content_type="text/csv; charset=utf-8")
    if fmt == "pdf":
        rate = "—" if report.rate is None else f"{report.rate:g}%"
        lines = [f"{student.full_name} ({student.student_number})", f"Attendance across courses: {rate}"]
        return _download(pdf.report_pdf(title="Student attendance", lines=lines, sections=sections),
                         filename=f"{name}.pdf", content_type="application/pdf")
    return render(request, "attendance/student_report.html", {
        "student": student, "report": report, "date_from": date_from, "date_to": date_to,
        "query": request.GET.urlencode()})


@staff_required
def course_report_pdf(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(course_list_visible(user=request.user), pk=course_id)
    date_from, date_to = _dates(request)
    report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
    average = "—" if report.average_rate is None else f"{report.average_rate:g}%"
    lines = [f"{course.name} ({course.code}), teacher {course.teacher}",
             f"{len(report.sessions)} finalised sessions; course average {average}; at risk under {report.threshold}%"]
    if date_from or date_to:
        lines.append(f"From {date_from or 'the start'} to {date_to or 'today'}")
    body = pdf.report_pdf(title="Course attendance", lines=lines, sections=[
        ("Students", selectors.course_report_rows(report))], wide=True)
    return _download(body, filename=f"attendance-{slugify(course.code)}.pdf", content_type="application/pdf")


# --- office: calendar, outbox, settings -------------------------------------------------------


def _dates(request: AuthenticatedHttpRequest) -> tuple[datetime.date | None, datetime.date | None]:
    try:
        date_from, date_to = (datetime.date.fromisoformat(request.GET[name]) if request.GET.get(name) else None
                              for name in ("from", "to"))
        return date_from, date_to
    except ValueError:
        raise Http404("Use dates in the form YYYY-MM-DD.") from None


def rate_chart(sessions: list, width: int = 600, height: int = 180) -> dict:
    """Points of the attendance-rate-over-time line, in SVG coordinates (server-rendered chart)."""
    points = []
    rated = [s for s in sessions if s.n_counted]
    for index, session in enumerate(rated):
        x = 40 + (width - 60) * (index / max(len(rated) - 1, 1))
        rate = 100 * session.n_present / session.n_counted
        points.append({"x": round(x, 1), "y": round(10 + (height - 40) * (1 - rate / 100), 1), "rate": round(rate),
                       "date": session.date})
    return {"width": width, "height": height, "points": points,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
            "grid": [{"y": round(10 + (height - 40) * (1 - v / 100), 1), "label": v} for v in (0, 25, 50, 75, 100)]}


@staff_required
def course_report(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Per-student rates with a chart over time; at-risk students highlighted; CSV download."""
    course = course_visible_or_404(user=request.user, course_id=course_id)
    date_from, date_to = _dates(request)
    report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
    at_risk = {row.student.pk for row in report.at_risk}
    rows = [{"row": row, "at_risk": row.student.pk in at_risk, "bar": row.rate or 0} for row in report.students]
    query = request.GET.urlencode()
    return render(request, "attendance/report.html", {
        "course": course, "report": report, "rows": rows, "chart": rate_chart(report.sessions),
        "csv_url": reverse("course-report-csv", args=[course.pk]) + (f"?{query}" if query else ""),
        "pdf_url": reverse("course-report-pdf", args=[course.pk]) + (f"?{query}" if query else ""),
        "date_from": date_from, "date_to": date_to})


@staff_required
def course_report_csv(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = course_visible_or_404(user=request.user, course_id=course_id)
    date_from, date_to = _dates(request)
    report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
    response = HttpResponse(selectors.course_report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{slugify(course.code)}.csv"'
    return response
