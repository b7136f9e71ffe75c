"""Staff pages of courses: the list and each course's roster (enrol, unenrol, import a roster)."""

from __future__ import annotations

import io

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import student_list_visible
from attendance.register.selectors import student_counts
from classes import roster, services
from classes.forms import EnrolForm, RosterForm
from classes.selectors import course_list_active, course_list_visible, course_visible_or_404
from recognition.models import FaceEmbedding
from recognition.reenrolment import enrolment_ages
from school.api.throttling import RosterImportThrottle
from school.authenticated import AuthenticatedHttpRequest
from school.pages import staff_required, throttled


@staff_required
def course_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "classes/course_list.html", {"courses": course_list_active(user=request.user)})


@staff_required
def course_detail(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """The roster: each student's enrolled faces and their age (due for renewal?), consent and attendance
    rate."""
    course = course_visible_or_404(user=request.user, course_id=course_id)
    counts = student_counts(course=course)
    faces = dict(FaceEmbedding.objects.filter(student__enrollments__course=course).values("student")
                 .annotate(n=Count("pk")).values_list("student", "n"))
    ages = enrolment_ages([row.student for row in counts])
    enrolled = {row.student.pk for row in counts}
    candidates = [s for s in student_list_visible(user=request.user) if s.pk not in enrolled]
    return render(request, "classes/course_detail.html", {
        "course": course,
        "rows": [{"counts": row, "faces": faces.get(row.student.pk, 0), "enrolment": ages[row.student.pk]}
                 for row in counts],
        "enrol_form": EnrolForm(candidates=candidates), "roster_form": RosterForm(), "has_candidates": candidates})


@staff_required
@require_POST
def course_enrol(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = course_visible_or_404(user=request.user, course_id=course_id)
    candidates = list(student_list_visible(user=request.user))
    form = EnrolForm(request.POST, candidates=candidates)
    if form.is_valid():
        chosen = [s for s in candidates if s.pk in set(form.cleaned_data["students"])]
        added = services.enrollment_add(course=course, students=chosen)
        messages.success(request, f"{len(added)} student(s) enrolled in {course.code}.")
    else:
        messages.error(request, "Choose at least one of your students.")
    return redirect("course-page", course_id=course.pk)


@staff_required
@require_POST
def course_unenrol(request: AuthenticatedHttpRequest, course_id: int, student_id: int) -> HttpResponse:
    course = course_visible_or_404(user=request.user, course_id=course_id)
    student = get_object_or_404(course.students.all(), pk=student_id)
    services.enrollment_remove(course=course, student=student)
    messages.success(request, f"{student.full_name} is no longer enrolled in {course.code}.")
    return redirect("course-page", course_id=course.pk)


@staff_required
@require_POST
@throttled(RosterImportThrottle)
def course_roster_import(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Imports a roster CSV into the course, with the outcome of every row."""
    course = course_visible_or_404(user=request.user, course_id=course_id)
    form = RosterForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file.")
        return redirect("course-page", course_id=course.pk)
    try:
        roster.roster_size_check(size=form.cleaned_data["file"].size)
        text = io.StringIO(form.cleaned_data["file"].read().decode("utf-8-sig"), newline="")
        result = roster.roster_import(file=text, by=request.user, default_course=course,
                                      editable=student_list_visible(user=request.user),
                                      courses=course_list_visible(user=request.user))
    except UnicodeDecodeError:
        messages.error(request, "The file is not a UTF-8 text (CSV) file.")
        return redirect("course-page", course_id=course.pk)
    except roster.RosterFileError as exc:
        messages.error(request, f"The roster was not imported: {exc}.")
        return redirect("course-page", course_id=course.pk)
    messages.success(request, f"Roster imported: {result.created} new, {result.updated} updated, "
                              f"{result.enrolled} enrolled.")
    for line, problem in result.errors:
        messages.error(request, f"Line {line} not imported: {problem}")
    return redirect("course-page", course_id=course.pk)
