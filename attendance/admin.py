from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from attendance.models import (
    AttendanceCorrection,
    AttendanceRecord,
    AttendanceSession,
    DetectedFace,
    OutboxMessage,
    SchoolSettings,
    SessionPhoto,
)
from attendance.outbox import outbox_retry
from attendance.services import sessions_delete


class AttendanceRecordInline(admin.TabularInline):
    model = AttendanceRecord
    extra = 0
    fields = ["student", "status", "source", "distance", "reason"]
    readonly_fields = ["student", "source", "distance", "reason"]
    can_delete = False


class SessionPhotoInline(admin.TabularInline):
    model = SessionPhoto
    extra = 0
    fields = ["image", "face_count", "processing_time_ms", "uploaded_by", "uploaded_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(AttendanceSession)
class AttendanceSessionAdmin(admin.ModelAdmin):
    list_display = ["course", "date", "label", "state", "created_by", "finalized_at"]
    list_filter = ["state", "date", "course"]
    search_fields = ["course__code", "course__name", "label"]
    date_hierarchy = "date"
    list_select_related = ["course", "created_by"]
    inlines = [AttendanceRecordInline, SessionPhotoInline]

    # Through the service, so the classroom photos leave storage too.
    def delete_model(self, request: HttpRequest, obj: AttendanceSession) -> None:
        sessions_delete(sessions=AttendanceSession.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AttendanceSession]) -> None:
        sessions_delete(sessions=queryset)


class DetectedFaceInline(admin.TabularInline):
    model = DetectedFace
    extra = 0
    fields = ["face_index", "student", "match", "distance", "reason", "face_area_ratio"]
    readonly_fields = fields
    can_delete = False


@admin.register(SessionPhoto)
class SessionPhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "session", "face_count", "processing_time_ms", "uploaded_by", "uploaded_at",
                    "image_purged_at"]
    list_filter = ["uploaded_at"]
    search_fields = ["session__course__code"]
    list_select_related = ["session__course", "uploaded_by"]
    readonly_fields = ["content_hash", "width", "height", "face_count", "processing_time_ms"]
    inlines = [DetectedFaceInline]


class AttendanceCorrectionInline(admin.TabularInline):
    model = AttendanceCorrection
    extra = 0
    fields = ["changed_at", "changed_by", "old_status", "new_status", "note"]
    readonly_fields = fields
    can_delete = False


@admin.register(AttendanceRecord)
class AttendanceRecordAdmin(admin.ModelAdmin):
    list_display = ["student", "session", "status", "source", "distance", "updated_at"]
    list_filter = ["status", "source", "session__date"]
    search_fields = ["student__student_number", "student__last_name", "session__course__code"]
    list_select_related = ["student", "session__course"]
    readonly_fields = ["distance", "face", "confident_threshold", "uncertain_threshold", "reason"]
    inlines = [AttendanceCorrectionInline]


@admin.register(AttendanceCorrection)
class AttendanceCorrectionAdmin(admin.ModelAdmin):
    list_display = ["record", "old_status", "new_status", "changed_by", "changed_at"]
    list_filter = ["new_status", "changed_at"]
    search_fields = ["record__student__last_name", "note"]
    list_select_related = ["record__student", "record__session__course", "changed_by"]

    def has_change_permission(self, request, obj=None) -> bool:  # the audit trail is append-only
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every e-mail the product sent or will send; failed ones can be sent again."""

    list_display = ["created_at", "kind", "to", "subject", "status", "attempts", "next_attempt_at", "sent_at"]
    list_filter = ["status", "kind", "created_at"]
    search_fields = ["to", "subject", "key"]
    date_hierarchy = "created_at"
    readonly_fields = ["key", "kind", "to", "subject", "body", "status", "attempts", "last_error", "next_attempt_at",
                       "claimed_at", "sent_at", "created_at", "record"]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # messages come from decisions only
        return False

    @admin.action(description="Send the selected failed messages again")
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        for message in queryset.filter(status=OutboxMessage.Status.FAILED):
            outbox_retry(message=message)


@admin.register(SchoolSettings)
class SchoolSettingsAdmin(admin.ModelAdmin):
    list_display = ["__str__", "register_cutoff_minutes", "guardian_daily_summary", "updated_at"]
