"""Staff pages of the attendance app."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from classes.selectors import course_list_for_day, course_list_visible


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    context = {
        "today": today,
        "todays_courses": course_list_for_day(user=request.user, day=today),
        "courses": course_list_visible(user=request.user),
    }
    return render(request, "attendance/dashboard.html", context)
