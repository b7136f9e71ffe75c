from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from classes.models import Course, Enrollment, TimetableSlot
from classes.services import course_delete


class EnrollmentInline(admin.TabularInline):
    model = Enrollment
    extra = 0
    raw_id_fields = ["student"]


class TimetableSlotInline(admin.TabularInline):
    model = TimetableSlot
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "teacher", "student_count", "created_at"]
    list_filter = ["teacher"]
    search_fields = ["code", "name", "teacher__username", "teacher__last_name"]
    list_select_related = ["teacher"]
    inlines = [TimetableSlotInline, EnrollmentInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Course]:
        return super().get_queryset(request).annotate(_student_count=Count("enrollments"))

    # Through the service: the sessions' classroom photos leave storage too.
    def delete_model(self, request: HttpRequest, obj: Course) -> None:
        course_delete(course=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Course]) -> None:
        for course in queryset:
            course_delete(course=course)

    @admin.display(description="students", ordering="_student_count")
    def student_count(self, course: Course) -> int:
        return course._student_count  # type: ignore[attr-defined]


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ["course", "student", "enrolled_at"]
    list_filter = ["course"]
    search_fields = ["course__code", "student__student_number", "student__last_name"]
    list_select_related = ["course", "student"]
    raw_id_fields = ["student"]


@admin.register(TimetableSlot)
class TimetableSlotAdmin(admin.ModelAdmin):
    list_display = ["course", "weekday", "start_time", "end_time", "label", "room"]
    list_filter = ["weekday", "course"]
    search_fields = ["course__code", "room"]
    list_select_related = ["course"]
