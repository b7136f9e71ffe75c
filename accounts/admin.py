from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import StudentProfile, TeacherSettings, User


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


@admin.register(TeacherSettings)
class TeacherSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "confident_threshold", "uncertain_threshold", "low_attendance_percent",
                    "notify_guardians_on_absence", "notify_low_attendance"]
    list_filter = ["notify_guardians_on_absence", "notify_low_attendance"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user"]
