"""The office's calibration page: recognition rates per course and per year group by week, teacher
corrections, suggested thresholds (applied only by an admin's explicit action) and their audit."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from attendance.reports import calibration
from attendance.reports.services import thresholds_apply
from classes.models import Course
from school.authenticated import AuthenticatedHttpRequest
from school.clock import school_today
from school.pages import REFUSALS, office_required, refusal_text

WEEKS = 12


@office_required
def calibration_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    rates = calibration.calibration_rates(until=school_today(), weeks=WEEKS)
    courses = Course.objects.filter(archived=False).select_related("teacher").order_by("code")
    return render(request, "attendance/office_calibration.html", {
        "rates": rates, "kinds": calibration.KINDS, "weeks": WEEKS,
        "suggestions": calibration.course_suggestions(courses), "changes": calibration.threshold_changes()})


@office_required
@require_POST
def calibration_apply(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(Course.objects.select_related("teacher"), pk=course_id)
    try:
        confident, uncertain = Decimal(request.POST.get("confident", "")), Decimal(request.POST.get("uncertain", ""))
    except InvalidOperation:
        messages.error(request, "Apply a suggestion from the page.")
        return redirect("office-calibration")
    try:
        change = thresholds_apply(course=course, confident=confident, uncertain=uncertain, by=request.user)
    except REFUSALS as exc:
        messages.error(request, refusal_text(exc))
        return redirect("office-calibration")
    messages.success(request, f"{change.teacher_username}'s thresholds are now {change.new_confident} (confident) "
                              f"and {change.new_uncertain} (uncertain); they were {change.old_confident} and "
                              f"{change.old_uncertain}.")
    return redirect("office-calibration")
