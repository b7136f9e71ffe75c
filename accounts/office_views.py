"""Office pages about people (role admin): the biometric access log, teachers and students."""

from __future__ import annotations

import datetime

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from accounts.access_log import Kind, access_log_list
from attendance.school_views import office_required


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@office_required
def access_log(request: HttpRequest) -> HttpResponse:
    """Who looked at faces and classroom photos or exported reports, filtered by user, kind and dates."""
    filters = {"username": request.GET.get("user", "").strip(), "kind": request.GET.get("kind", ""),
               "date_from": _date(request.GET.get("from")), "date_to": _date(request.GET.get("to"))}
    if filters["kind"] not in Kind.values:
        filters["kind"] = ""
    page = Paginator(access_log_list(**filters), 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/office_access_log.html", {
        "page": page, "kinds": Kind.choices, "filters": filters, "query": query.urlencode()})


urlpatterns = [
    path("office/access-log/", access_log, name="office-access-log"),
]
