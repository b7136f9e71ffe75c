"""Office pages about people (role admin): the biometric access log, teachers and students."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from accounts import services
from accounts.models import ConsentEvent, Role, StudentProfile, User
from accounts.office_forms import InviteForm, RosterUploadForm, StudentForm, StudentLoginForm
from school.access_log import Kind, access_log_list
from school.api.throttling import LoginThrottle
from school.authenticated import AuthenticatedHttpRequest
from school.pages import office_required, throttled


def _date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@office_required
def access_log(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Who looked at faces and classroom photos or exported reports, filtered by user, kind and dates."""
    kind = request.GET.get("kind", "")
    username, kind = request.GET.get("user", "").strip(), kind if kind in Kind.values else ""
    date_from, date_to = _date(request.GET.get("from")), _date(request.GET.get("to"))
    entries = access_log_list(username=username, kind=kind, date_from=date_from, date_to=date_to)
    filters = {"username": username, "kind": kind, "date_from": date_from, "date_to": date_to}
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "accounts/office_access_log.html", {
        "page": page, "kinds": Kind.choices, "filters": filters, "query": query.urlencode()})


# --- teachers -------------------------------------------------------------------------------


@office_required
@throttled(LoginThrottle)  # each invitation sends an e-mail with a set-password link
def teachers(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Staff logins; invite a teacher (or an office user) by e-mail."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = services.user_create(invite=True, **form.cleaned_data)
        messages.success(request, f"Invitation e-mailed to {user.email}.")
        return redirect("office-teachers")
    staff = User.objects.filter(role__in=[Role.TEACHER, Role.ADMIN]).order_by("-is_active", "last_name", "username")
    return render(request, "accounts/office_teachers.html", {"form": form, "staff": staff},
                  status=400 if form.errors else 200)


@office_required
@require_POST
def teacher_active(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    user = get_object_or_404(User.objects.filter(role__in=[Role.TEACHER, Role.ADMIN]), pk=user_id)
    active = request.POST.get("active") == "yes"
    try:
        services.user_set_active(user=user, active=active, by=request.user)
    except ValueError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{user} can log in again." if active else f"{user} can no longer log in.")
    return redirect("office-teachers")


# --- students -------------------------------------------------------------------------------


@office_required
def students(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every student, a search, a form to add one (with an optional invited login), the roster import."""
    query = request.GET.get("q", "").strip()
    rows = StudentProfile.objects.select_related("user").order_by("last_name", "first_name")
    if query:
        rows = rows.filter(Q(last_name__icontains=query) | Q(first_name__icontains=query)
                           | Q(student_number__icontains=query))
    form, login_form = StudentForm(request.POST or None), StudentLoginForm(request.POST or None)
    if request.method == "POST" and all([form.is_valid(), login_form.is_valid()]):  # both forms' errors shown
        with transaction.atomic():
            student = services.student_create(by=request.user, **form.cleaned_data)
            if login_form.cleaned_data["username"]:
                services.student_login_invite(student=student, username=login_form.cleaned_data["username"],
                                              email=login_form.cleaned_data["email"])
        messages.success(request, f"{student.full_name} added.")
        return redirect("office-students")
    page = Paginator(rows, 100).get_page(request.GET.get("page"))
    return render(request, "accounts/office_students.html", {
        "page": page, "query": query, "form": form, "login_form": login_form, "roster_form": RosterUploadForm()},
        status=400 if (form.errors or login_form.errors) else 200)


@office_required
def student_edit(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    student = get_object_or_404(StudentProfile, pk=student_id)
    form = StudentForm(request.POST or None, instance=student)
    login_form = StudentLoginForm(request.POST or None) if student.user_id is None else None
    if request.method == "POST" and all([form.is_valid(), login_form is None or login_form.is_valid()]):
        with transaction.atomic():
            services.student_update(student=student, by=request.user, channel=ConsentEvent.Channel.PAGE, data={
                name: form.cleaned_data[name] for name in form.changed_data})
            if login_form is not None and login_form.cleaned_data["username"]:
                services.student_login_invite(student=student, username=login_form.cleaned_data["username"],
                                              email=login_form.cleaned_data["email"])
        messages.success(request, f"{student.full_name} saved.")
        return redirect("office-students")
    return render(request, "accounts/office_student_edit.html", {
        "student": student, "form": form, "login_form": login_form},
        status=400 if form.errors or (login_form is not None and login_form.errors) else 200)


urlpatterns = [
    path("office/access-log/", access_log, name="office-access-log"),
    path("office/teachers/", teachers, name="office-teachers"),
    path("office/teachers/<int:user_id>/active/", teacher_active, name="office-teacher-active"),
    path("office/students/", students, name="office-students"),
    path("office/students/<int:student_id>/", student_edit, name="office-student-edit"),
]
