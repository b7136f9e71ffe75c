"""Pages of the school day: taking a period's register, the office's school-wide report, calendar,
outbox and school settings, a student's report across courses, and the PDF downloads."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.access_log import Kind, access_logged
from accounts.selectors import student_list_visible
from attendance import outbox, pdf, periods, reports, selectors
from attendance.calendar import closure_on, is_school_day, periods_of_day
from attendance.models import OutboxMessage
from attendance.office_forms import ClosureForm, SchoolSettingsForm, TermForm
from attendance.schooltime import school_today
from classes import calendar_services
from classes.models import Closure, Term, TimetableSlot
from classes.selectors import course_list_visible
from smart_attendance.authenticated import AuthenticatedHttpRequest
from smart_attendance.pages import REFUSALS, refusal_text, staff_required

View = Callable[..., HttpResponseBase]


def office_required(view: View) -> View:
    """The office (role admin) only; a teacher gets 403."""

    @staff_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_school_admin:
            raise PermissionDenied("This page is for the school office.")
        return view(request, *args, **kwargs)

    return wrapper


def _day(request: AuthenticatedHttpRequest) -> datetime.date:
    value = request.GET.get("date")
    if not value:
        return school_today()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise Http404("Use a date in the form YYYY-MM-DD.") from None


def _dates(request: AuthenticatedHttpRequest) -> tuple[datetime.date | None, datetime.date | None]:
    try:
        return tuple(datetime.date.fromisoformat(request.GET[name]) if request.GET.get(name) else None
                     for name in ("from", "to"))  # type: ignore[return-value]
    except ValueError:
        raise Http404("Use dates in the form YYYY-MM-DD.") from None


def _download(content: str | bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- a period's register --------------------------------------------------------------------


@staff_required
@require_POST
def slot_take(request: AuthenticatedHttpRequest, slot_id: int) -> HttpResponse:
    """Opens (or reuses) today's session of a timetable slot, labelled by it, and goes to its page."""
    slot = get_object_or_404(TimetableSlot.objects.select_related("course").filter(
        course__in=course_list_visible(user=request.user)), pk=slot_id)
    today = school_today()
    if slot.weekday != today.weekday() or not is_school_day(today):
        messages.error(request, f"{slot.course.code} has no {slot.session_label} today.")
        return redirect("dashboard")
    session = periods.session_for_slot(slot=slot, date=today, by=request.user)
    return redirect("session-page", session_id=session.pk)


# --- school-wide report ---------------------------------------------------------------------


@office_required
@access_logged(Kind.REPORT_EXPORT, object_type="school report", attachment_only=True)
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
@access_logged(Kind.REPORT_EXPORT, object_type="student report", object_kwarg="student_id", attachment_only=True)
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
@access_logged(Kind.REPORT_EXPORT, object_type="course report", object_kwarg="course_id")
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


@office_required
def calendar_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Terms, holidays and closures: add and remove."""
    term_form, closure_form = TermForm(prefix="term"), ClosureForm(prefix="closure")
    if request.method == "POST":
        try:
            if "term-name" in request.POST:
                term_form = TermForm(request.POST, prefix="term")
                if term_form.is_valid():
                    term = calendar_services.term_create(**term_form.cleaned_data)
                    messages.success(request, f"Term added: {term}.")
                    return redirect("office-calendar")
            elif "closure-name" in request.POST:
                closure_form = ClosureForm(request.POST, prefix="closure")
                if closure_form.is_valid():
                    closure = calendar_services.closure_create(**closure_form.cleaned_data)
                    messages.success(request, f"{closure.get_kind_display()} added: {closure}.")
                    return redirect("office-calendar")
        except REFUSALS as exc:
            messages.error(request, refusal_text(exc))
    today = school_today()
    return render(request, "attendance/office_calendar.html", {
        "terms": Term.objects.order_by("starts_on"), "closures": Closure.objects.order_by("starts_on"),
        "term_form": term_form, "closure_form": closure_form, "today": today, "closed_today": closure_on(today),
        "school_day": is_school_day(today)})


@office_required
@require_POST
def calendar_delete(request: AuthenticatedHttpRequest, kind: str, entry_id: int) -> HttpResponse:
    model = {"term": Term, "closure": Closure}.get(kind)
    if model is None:
        raise Http404("No such calendar entry.")
    entry = cast("Term | Closure", get_object_or_404(model, pk=entry_id))
    calendar_services.calendar_entry_delete(entry=entry)
    messages.success(request, f"Removed: {entry}.")
    return redirect("office-calendar")


@office_required
def outbox_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every e-mail: waiting, sent, failed (with the last error); failed ones can be sent again."""
    status = request.GET.get("status", "")
    rows = OutboxMessage.objects.order_by("-created_at", "-id")
    if status in OutboxMessage.Status.values:
        rows = rows.filter(status=status)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "attendance/office_outbox.html", {
        "page": page, "status": status, "statuses": OutboxMessage.Status.choices})


@office_required
@require_POST
def outbox_retry(request: AuthenticatedHttpRequest, message_id: int) -> HttpResponse:
    message = get_object_or_404(OutboxMessage, pk=message_id)
    outbox.outbox_retry(message=message)
    outbox.outbox_send_due(ids=[message.pk])
    message.refresh_from_db()
    messages.success(request, f"Message to {message.to}: {message.get_status_display().lower()}.")
    return redirect("office-outbox")


@office_required
def school_settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = SchoolSettingsForm(request.POST or None, instance=selectors.school_settings_get())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "School settings saved.")
        return redirect("office-settings")
    return render(request, "attendance/office_settings.html", {"form": form})


def dashboard_day(*, user: Any) -> dict[str, Any]:
    """The dashboard's school-day part: today's periods in order with their state, the registers
    not taken by their cut-off, and today's closure if any."""
    today = school_today()
    day_periods = periods_of_day(day=today, user=user)
    return {"periods": day_periods, "registers_missing": [p for p in day_periods if p.overdue],
            "closed_today": closure_on(today)}
