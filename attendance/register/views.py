"""Staff pages of attendance: dashboard, taking attendance, the session page, history and reports.

Every write calls the same service as the REST API; every lookup goes through a selector scoped
to the user, so someone else's course or session is a 404.
"""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register import lateness, school_views, selectors, services
from attendance.register.forms import CorrectionForm, FinalizeForm
from attendance.register.selectors import session_visible_or_404
from classes.selectors import course_list_active, course_list_for_day, course_list_visible
from school.authenticated import AuthenticatedHttpRequest
from school.clock import school_today
from school.ids import parse_id
from school.pages import (
    REFUSALS,
    refusal_text,
    staff_required,
    students_home,
)

Status = AttendanceRecord.Status




@students_home
@staff_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Today's periods with their register's state, registers not taken, sessions still open or pending,
    and students at risk."""
    today = school_today()
    sessions = selectors.session_list_visible(user=request.user)
    open_sessions = sessions.filter(state=AttendanceSession.State.OPEN).annotate(
        pending=Count("records", filter=Q(records__status=Status.PENDING)))[:20]
    context = {
        "today": today,
        "todays_courses": course_list_for_day(user=request.user, day=today),
        "courses": course_list_active(user=request.user),
        "todays_sessions": sessions.filter(date=today),
        "open_sessions": open_sessions,
        "at_risk": selectors.at_risk_for_user(user=request.user),
        **school_views.dashboard_day(user=request.user),
    }
    return render(request, "attendance/dashboard.html", context)


def back_to_session(request: AuthenticatedHttpRequest, session: AttendanceSession, text: str, *,
          error: bool = False) -> HttpResponse:
    """Back to the session's page with a message (the pages' answer to a form post)."""
    (messages.error if error else messages.success)(request, text)
    return redirect("session-page", session_id=session.pk)


def _record(request: AuthenticatedHttpRequest, session_id: int, student_id: int) -> tuple[AttendanceSession,
            AttendanceRecord]:
    session = session_visible_or_404(user=request.user, session_id=session_id)
    return session, get_object_or_404(AttendanceRecord.objects.select_related("student"), session=session,
                                      student_id=student_id)


@staff_required
@require_POST
def record_decide(request: AuthenticatedHttpRequest, session_id: int, student_id: int) -> HttpResponse:
    """Confirm (present, or late when first seen after the grace) or reject (absent) a pending match."""
    session, record = _record(request, session_id, student_id)
    confirm = request.POST.get("decision") == "confirm"
    status = lateness.confirmed_status(record) if confirm else Status.ABSENT
    try:
        services.record_correct(record=record, status=status, by=request.user, expected_status=Status.PENDING,
                                note="Pending match confirmed" if confirm else "Pending match rejected")
    except REFUSALS as exc:  # a stale page: the match was decided meanwhile
        return back_to_session(request, session, f"{record.student.full_name}: {refusal_text(exc)}", error=True)
    return back_to_session(request, session, f"{record.student.full_name}: {status}.")


@staff_required
@require_POST
def record_correct(request: AuthenticatedHttpRequest, session_id: int, student_id: int) -> HttpResponse:
    session, record = _record(request, session_id, student_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return back_to_session(request, session, "Choose a status for the correction.", error=True)
    services.record_correct(record=record, status=form.cleaned_data["status"], by=request.user,
                            note=form.cleaned_data["note"])
    return back_to_session(request, session,
                           f"{record.student.full_name}: {form.cleaned_data['status']} (correction saved).")


@staff_required
@require_POST
def session_finalize(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = session_visible_or_404(user=request.user, session_id=session_id)
    form = FinalizeForm(request.POST)
    form.is_valid()
    try:
        result = services.session_finalize(session=session, by=request.user,
                                           resolve_pending=form.cleaned_data.get("resolve_pending") or None,
                                           note=form.cleaned_data.get("note", ""))
    except REFUSALS as exc:
        return back_to_session(request, session, refusal_text(exc), error=True)
    return back_to_session(request, session,
                           f"Session finalised: {len(result.absent)} absent; guardians are being told.")


@staff_required
def session_history(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sessions by course and date."""
    sessions = selectors.session_list_visible(user=request.user).annotate(
        present=Count("records", filter=Q(records__status__in=[Status.PRESENT, Status.LATE])),
        total=Count("records"))
    course_id = request.GET.get("course")
    if selected := parse_id(course_id):
        sessions = sessions.filter(course_id=selected)
    day = request.GET.get("date")
    if day:
        try:
            sessions = sessions.filter(date=datetime.date.fromisoformat(day))
        except ValueError:
            messages.error(request, "Use a date in the form YYYY-MM-DD.")
    return render(request, "attendance/history.html", {
        "sessions": sessions[:200], "courses": course_list_visible(user=request.user),
        "selected_course": course_id, "selected_date": day or ""})
