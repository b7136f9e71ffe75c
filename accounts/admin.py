from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import StudentProfile, TeacherSettings, User
from accounts.services import student_delete


class StudentProfileInline(admin.StackedInline):
    model = StudentProfile
    fk_name = "user"
    extra = 0
    fields = ["student_number", "first_name", "last_name", "guardian_email", "consent_given"]


class TeacherSettingsInline(admin.StackedInline):
    model = TeacherSettings
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "is_staff"]
    search_fields = ["username", "email", "first_name", "last_name"]
    fieldsets = [*DjangoUserAdmin.fieldsets, ("School", {"fields": ["role"]})]
    add_fieldsets = [*DjangoUserAdmin.add_fieldsets, ("School", {"fields": ["role"]})]
    inlines = [StudentProfileInline, TeacherSettingsInline]


@admin.register(StudentProfile)
class StudentProfileAdmin(admin.ModelAdmin):
    list_display = ["student_number", "last_name", "first_name", "guardian_email", "consent_given", "created_at"]
    list_filter = ["consent_given", "enrollments__course"]
    search_fields = ["student_number", "first_name", "last_name", "guardian_email"]
    readonly_fields = ["consent_given_at", "consent_recorded_by", "created_by", "created_at", "updated_at"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]

    # Deleting here goes through the service, so embeddings and their photos leave storage too.
    def delete_model(self, request: HttpRequest, obj: StudentProfile) -> None:
        student_delete(student=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StudentProfile]) -> None:
        for student in queryset:
            student_delete(student=student)


@admin.register(TeacherSettings)
class TeacherSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "confident_threshold", "uncertain_threshold", "low_attendance_percent",
                    "late_grace_minutes", "notify_guardians_on_absence", "notify_low_attendance"]
    list_filter = ["notify_guardians_on_absence", "notify_low_attendance"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user"]
