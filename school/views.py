"""The office's pages of the school itself: the calendar, the outbox and the school's settings."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from school import calendar as calendar_services
from school import outbox
from school.authenticated import AuthenticatedHttpRequest
from school.calendar import closure_on, is_school_day
from school.clock import school_today
from school.forms import ClosureForm, SchoolSettingsForm, TermForm
from school.models import Closure, OutboxMessage, Term
from school.pages import REFUSALS, office_required, refusal_text
from school.selectors import school_settings_get

View = Callable[..., HttpResponseBase]


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
    form = SchoolSettingsForm(request.POST or None, instance=school_settings_get())
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "School settings saved.")
        return redirect("office-settings")
    return render(request, "attendance/office_settings.html", {"form": form})
