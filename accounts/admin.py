"""Admin of people. Every write that has a rule goes through the same services as the pages:
consent through the consent history, deletions through the erasure services, admin powers from the role."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.guardian import guardian_contact_change
from accounts.models import (
    ConsentEvent,
    ErasureReceipt,
    GuardianContactChange,
    Role,
    StudentProfile,
    TeacherSettings,
    User,
)
from school.errors import DomainError


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StudentProfileInline(admin.StackedInline):
    model = StudentProfile
    fk_name = "user"
    extra = 0
    # Consent changes only through the consent history; deleting a profile only through its own page
    # (the service removes the faces and their files and writes the erasure receipt).
    fields = ["student_number", "first_name", "last_name", "guardian_email", "consent_given"]
    # The guardian address changes on the student's own admin page (audited, links revoked, notice).
    readonly_fields = ["guardian_email", "consent_given"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only a student login gets a student profile (a teacher's would read the student's data).
        return obj is not None and obj.role == Role.STUDENT and super().has_add_permission(request, obj)


class TeacherSettingsInline(admin.StackedInline):
    model = TeacherSettings
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        ("Personal info", {"fields": ["first_name", "last_name", "email"]}),
        ("School", {"fields": ["role", "is_active"],
                    "description": "The role decides everything: administrators get the Django admin with every "
                                   "permission, teachers and students none."}),
        ("Derived from the role", {"fields": ["is_staff", "is_superuser"]}),
        ("Important dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [*DjangoUserAdmin.add_fieldsets, ("School", {"fields": ["role"]})]
    readonly_fields = ["is_staff", "is_superuser", "last_login", "date_joined"]
    inlines = [StudentProfileInline, TeacherSettingsInline]

    # The same guard as the API: nobody removes their own rights, nor the last active administrator.
    def get_form(self, request: HttpRequest, obj: User | None = None, change: bool = False,
                 **kwargs: Any) -> type[forms.ModelForm]:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None:
            return form
        target: User = obj

        class GuardedForm(form):  # type: ignore[valid-type,misc]
            def clean(self) -> dict[str, Any]:
                cleaned = super().clean()
                try:
                    services.admin_rights_guard(user=target, by=cast(User, request.user), role=cleaned.get("role"),
                                                is_active=cleaned.get("is_active"),
                                                is_superuser=cleaned.get("is_superuser"))
                except DomainError as exc:
                    raise ValidationError(exc.message) from None
                return cleaned

        return GuardedForm

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        if obj is not None:
            try:
                services.admin_rights_guard(user=obj, by=cast(User, request.user), deleting=True)
            except DomainError:
                return False
            if obj.pk == request.user.pk:
                return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        services.user_delete(user=obj, by=cast(User, request.user))

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        users = list(queryset)
        try:
            for user in users:
                services.user_delete(user=user, by=cast(User, request.user))
        except DomainError as exc:
            transaction.set_rollback(True)
            self.message_user(request, f"Nothing was deleted: {exc.message}", level=messages.ERROR)

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        services.user_update(user=obj, data={})  # is_staff / is_superuser follow the role


class ConsentEventInline(ReadOnlyInline):
    model = ConsentEvent
    fk_name = "student"
    fields = readonly_fields = ("created_at", "action", "given_by", "given_by_name", "channel", "recorded_by_username",
              "text_version", "note", "link_sent_to")


class GuardianContactChangeInline(ReadOnlyInline):
    model = GuardianContactChange
    fk_name = "student"
    fields = readonly_fields = ("created_at", "old_email", "new_email", "channel", "changed_by_username")


class ErasureReceiptInline(ReadOnlyInline):
    model = ErasureReceipt
    fk_name = "student"
    fields = readonly_fields = ("created_at", "rule", "embeddings_deleted", "photos_deleted", "by_username")


@admin.register(StudentProfile)
class StudentProfileAdmin(admin.ModelAdmin):
    list_display = ["student_number", "last_name", "first_name", "guardian_email", "consent_given", "created_at"]
    list_filter = ["consent_given", "enrollments__course"]
    search_fields = ["student_number", "first_name", "last_name", "guardian_email"]
    readonly_fields = ["consent_given", "consent_given_at", "consent_recorded_by", "created_by", "created_at",
                       "updated_at"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    inlines = [ConsentEventInline, GuardianContactChangeInline, ErasureReceiptInline]
    actions = ["record_consent", "withdraw_consent"]

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: StudentProfile, form: Any, change: bool) -> None:
        # A new guardian address goes through the same service as the pages and the API.
        if not (change and "guardian_email" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        new_email, obj.guardian_email = obj.guardian_email, form.initial.get("guardian_email", "")
        super().save_model(request, obj, form, change)
        guardian_contact_change(student=obj, email=new_email, by=cast(User, request.user),
                                channel=ConsentEvent.Channel.ADMIN)

    # Deleting here goes through the service, so embeddings and their photos leave storage too.
    def delete_model(self, request: HttpRequest, obj: StudentProfile) -> None:
        services.student_delete(student=obj, by=cast(User, request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[StudentProfile]) -> None:
        for student in queryset:
            services.student_delete(student=student, by=cast(User, request.user))

    @admin.action(description="Record consent (given to school staff, recorded in the history)")
    def record_consent(self, request: HttpRequest, queryset: QuerySet[StudentProfile]) -> None:
        recorded = sum(1 for student in queryset if services.student_consent_set(
            student=student, consent_given=True, by=cast(User, request.user), channel=ConsentEvent.Channel.ADMIN))
        self.message_user(request, f"Consent recorded for {recorded} student(s).", messages.SUCCESS)

    @admin.action(description="Withdraw consent (deletes their faces and enrolment photos)")
    def withdraw_consent(self, request: HttpRequest, queryset: QuerySet[StudentProfile]) -> None:
        withdrawn = sum(1 for student in queryset if services.student_consent_set(
            student=student, consent_given=False, by=cast(User, request.user), channel=ConsentEvent.Channel.ADMIN))
        self.message_user(request, f"Consent withdrawn for {withdrawn} student(s); their faces were deleted.",
                          messages.SUCCESS)


class AppendOnlyAdmin(admin.ModelAdmin):
    """The consent history and the erasure receipts are evidence: readable, never edited or deleted."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ConsentEvent)
class ConsentEventAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "student_number", "student_name", "action", "given_by", "channel",
                    "recorded_by_username", "text_version"]
    list_filter = ["action", "given_by", "channel", "text_version"]
    search_fields = ["student_number", "student_name", "given_by_name", "recorded_by_username"]
    date_hierarchy = "created_at"


@admin.register(GuardianContactChange)
class GuardianContactChangeAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "student_number", "student_name", "old_email", "new_email", "channel",
                    "changed_by_username"]
    list_filter = ["channel"]
    search_fields = ["student_number", "student_name", "old_email", "new_email", "changed_by_username"]
    date_hierarchy = "created_at"


@admin.register(ErasureReceipt)
class ErasureReceiptAdmin(AppendOnlyAdmin):
    list_display = ["created_at", "student_number", "student_name", "rule", "embeddings_deleted", "photos_deleted",
                    "by_username"]
    list_filter = ["rule"]
    search_fields = ["student_number", "student_name", "by_username"]
    date_hierarchy = "created_at"


@admin.register(TeacherSettings)
class TeacherSettingsAdmin(admin.ModelAdmin):
    list_display = ["user", "confident_threshold", "uncertain_threshold", "low_attendance_percent",
                    "late_grace_minutes", "notify_guardians_on_absence", "notify_low_attendance"]
    list_filter = ["notify_guardians_on_absence", "notify_low_attendance"]
    search_fields = ["user__username", "user__last_name"]
    list_select_related = ["user"]
