"""Pages of the school day: taking a period's register, the office's school-wide report, calendar,
outbox and school settings, a student's report across courses, and the PDF downloads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from attendance.register import periods
from attendance.register.day import periods_of_day
from classes.models import TimetableSlot
from classes.selectors import course_list_visible
from school.authenticated import AuthenticatedHttpRequest
from school.calendar import closure_on, is_school_day
from school.clock import school_today
from school.pages import staff_required

View = Callable[..., HttpResponseBase]


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



def dashboard_day(*, user: Any) -> dict[str, Any]:
    """The dashboard's school-day part: today's periods in order with their state, the registers
    not taken by their cut-off, and today's closure if any."""
    today = school_today()
    day_periods = periods_of_day(day=today, user=user)
    return {"periods": day_periods, "registers_missing": [p for p in day_periods if p.overdue],
            "closed_today": closure_on(today)}
