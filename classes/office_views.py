"""Office pages of courses (role admin): create, assign a teacher, archive; each course's timetable."""

from __future__ import annotations

import io

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from accounts.office_forms import RosterUploadForm
from classes import roster, services
from classes.models import Course, TimetableSlot
from classes.office_forms import AssignTeacherForm, CourseForm, SlotForm
from school.api.throttling import RosterImportThrottle
from school.authenticated import AuthenticatedHttpRequest
from school.pages import office_required, throttled


@office_required
def courses(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Every course (archived ones last) and a form to create one for any teacher."""
    form = CourseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        course = services.course_create(by=request.user, **form.cleaned_data)
        messages.success(request, f"{course.code} created for {course.teacher}.")
        return redirect("office-courses")
    rows = (Course.objects.select_related("teacher").annotate(student_count=Count("enrollments", distinct=True),
                                                              slot_count=Count("timetable_slots", distinct=True))
            .order_by("archived", "code"))
    return render(request, "classes/office_courses.html", {
        "form": form, "courses": rows, "assign_form": AssignTeacherForm()}, status=400 if form.errors else 200)


@office_required
@require_POST
def course_assign(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=course_id)
    form = AssignTeacherForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose an active teacher.")
    else:
        services.course_update(course=course, by=request.user, data={"teacher": form.cleaned_data["teacher"]})
        messages.success(request, f"{course.code} is now taught by {course.teacher}.")
    return redirect("office-courses")


@office_required
@require_POST
def course_archive(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(Course, pk=course_id)
    archived = request.POST.get("archived") == "yes"
    services.course_archive(course=course, archived=archived)
    messages.success(request, f"{course.code} archived: it left the teachers' lists." if archived
                     else f"{course.code} is active again.")
    return redirect("office-courses")


@office_required
def course_timetable(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """The weekly periods of one course: list, add, remove."""
    course = get_object_or_404(Course, pk=course_id)
    form = SlotForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        slot = services.timetable_slot_create(course=course, **form.cleaned_data)
        messages.success(request, f"Added {slot.get_weekday_display()} {slot.start_time:%H:%M}.")
        return redirect("office-course-timetable", course_id=course.pk)
    return render(request, "classes/office_timetable.html", {
        "course": course, "slots": course.timetable_slots.all(), "form": form}, status=400 if form.errors else 200)


@office_required
@require_POST
def slot_delete(request: AuthenticatedHttpRequest, course_id: int, slot_id: int) -> HttpResponse:
    slot = get_object_or_404(TimetableSlot, course_id=course_id, pk=slot_id)
    services.timetable_slot_delete(slot=slot)
    messages.success(request, "Period removed.")
    return redirect("office-course-timetable", course_id=course_id)


@office_required
@require_POST
@throttled(RosterImportThrottle)
def students_import(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The roster CSV (the same importer as `manage.py import_roster`), every row's outcome shown."""
    form = RosterUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file.")
        return redirect("office-students")
    try:
        roster.roster_size_check(size=form.cleaned_data["file"].size)
        text = io.StringIO(form.cleaned_data["file"].read().decode("utf-8-sig"), newline="")
        result = roster.roster_import(file=text, by=request.user)
    except UnicodeDecodeError:
        messages.error(request, "The file is not a UTF-8 text (CSV) file.")
        return redirect("office-students")
    except roster.RosterFileError as exc:
        messages.error(request, f"The roster was not imported: {exc}.")
        return redirect("office-students")
    messages.success(request, f"Roster imported: {result.created} new, {result.updated} updated, "
                              f"{result.enrolled} enrolled.")
    for line, problem in result.errors:
        messages.error(request, f"Line {line} not imported: {problem}")
    return redirect("office-students")


urlpatterns = [
    # The office's roster upload (students and their enrolments), on the students page of accounts.
    path("office/students/import/", students_import, name="office-students-import"),
    path("office/courses/", courses, name="office-courses"),
    path("office/courses/<int:course_id>/teacher/", course_assign, name="office-course-assign"),
    path("office/courses/<int:course_id>/archive/", course_archive, name="office-course-archive"),
    path("office/courses/<int:course_id>/timetable/", course_timetable, name="office-course-timetable"),
    path("office/courses/<int:course_id>/timetable/<int:slot_id>/delete/", slot_delete, name="office-slot-delete"),
]
