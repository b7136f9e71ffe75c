"""Admin of attendance. Writes with a rule go through the services the pages use: a status change
is an audited correction, deletions remove the classroom photos from storage, photos are linked
through the login-protected view (never a storage URL)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from attendance.models import (
    AttendanceCorrection,
    AttendanceRecord,
    AttendanceSession,
    CheckinAttempt,
    CheckinWindow,
    DetectedFace,
    LiveEvidence,
    LiveRun,
    SessionPhoto,
    ThresholdChange,
)
from attendance.register.services import MANUAL_STATUSES, record_correct, sessions_delete
from attendance.retention import session_photos_delete


def photo_link(photo: SessionPhoto) -> str:
    if not photo.image:
        return "deleted (retention)" if photo.image_purged_at else "not kept"
    return format_html('<a href="{}">view (login required)</a>', reverse("session-photo-image", args=[photo.pk]))


class AttendanceRecordInline(admin.TabularInline):
    model = AttendanceRecord
    extra = 0
    # A status changes on the record's own page, as an audited correction.
    fields = readonly_fields = ("student", "status", "source", "distance", "reason")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class SessionPhotoInline(admin.TabularInline):
    model = SessionPhoto
    extra = 0
    fields = readonly_fields = ("photo", "face_count", "processing_time_ms", "uploaded_by", "uploaded_at")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="photo")
    def photo(self, obj: SessionPhoto) -> str:
        return photo_link(obj)


@admin.register(AttendanceSession)
class AttendanceSessionAdmin(admin.ModelAdmin):
    list_display = ["course", "date", "label", "state", "created_by", "finalized_at"]
    list_filter = ["state", "date", "course"]
    search_fields = ["course__code", "course__name", "label"]
    date_hierarchy = "date"
    list_select_related = ["course", "created_by"]
    # Finalising sends the guardians' e-mails: it happens on the session page, not by editing a field.
    readonly_fields = ["state", "created_by", "finalized_by", "finalized_at"]
    inlines = [AttendanceRecordInline, SessionPhotoInline]

    # Through the service, so the classroom photos leave storage too.
    def delete_model(self, request: HttpRequest, obj: AttendanceSession) -> None:
        sessions_delete(sessions=AttendanceSession.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[AttendanceSession]) -> None:
        sessions_delete(sessions=queryset)


class DetectedFaceInline(admin.TabularInline):
    model = DetectedFace
    extra = 0
    fields = readonly_fields = ("face_index", "student", "match", "distance", "reason", "face_area_ratio")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SessionPhoto)
class SessionPhotoAdmin(admin.ModelAdmin):
    list_display = ["id", "session", "face_count", "processing_time_ms", "uploaded_by", "uploaded_at",
                    "image_purged_at"]
    list_filter = ["uploaded_at"]
    search_fields = ["session__course__code"]
    list_select_related = ["session__course", "uploaded_by"]
    # Nothing is edited by hand: a "cleared" file field would leave the file in storage.
    fields = readonly_fields = ("session", "photo", "content_hash", "width", "height", "face_count",
                                "processing_time_ms", "uploaded_by", "uploaded_at", "image_purged_at")
    inlines = [DetectedFaceInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # photos are uploaded on the session page, where they are processed

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: SessionPhoto) -> None:
        session_photos_delete(photos=SessionPhoto.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SessionPhoto]) -> None:
        session_photos_delete(photos=queryset)

    @admin.display(description="photo")
    def photo(self, obj: SessionPhoto) -> str:
        return photo_link(obj)


class AttendanceCorrectionInline(admin.TabularInline):
    model = AttendanceCorrection
    extra = 0
    fields = readonly_fields = ("changed_at", "changed_by", "old_status", "new_status", "note")
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class RecordAdminForm(forms.ModelForm):
    correction_note = forms.CharField(required=False, max_length=500,
                                      help_text="Saved in the audit trail with the change.")

    class Meta:
        model = AttendanceRecord
        fields = ["status"]

    def clean_status(self) -> str:
        status = self.cleaned_data["status"]
        if status != self.initial.get("status") and status not in MANUAL_STATUSES:
            raise forms.ValidationError(f"A correction sets one of: {', '.join(MANUAL_STATUSES)}.")
        return status


@admin.register(AttendanceRecord)
class AttendanceRecordAdmin(admin.ModelAdmin):
    form = RecordAdminForm
    list_display = ["student", "session", "status", "source", "distance", "updated_at"]
    list_filter = ["status", "source", "session__date"]
    search_fields = ["student__student_number", "student__last_name", "session__course__code"]
    list_select_related = ["student", "session__course"]
    fields = ["session", "student", "status", "correction_note", "source", "distance", "face", "confident_threshold",
              "uncertain_threshold", "reason"]
    readonly_fields = ["session", "student", "source", "distance", "face", "confident_threshold",
                       "uncertain_threshold", "reason"]
    inlines = [AttendanceCorrectionInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # one record per enrolled student is made when a session opens

    def save_model(self, request: HttpRequest, obj: AttendanceRecord, form: Any, change: bool) -> None:
        # A status edited here is a correction like any other: audited (who, when, old → new, note).
        if "status" in form.changed_data:
            record_correct(record=obj, status=form.cleaned_data["status"], by=cast(User, request.user),
                           note=form.cleaned_data.get("correction_note") or "Corrected in the admin")


@admin.register(AttendanceCorrection)
class AttendanceCorrectionAdmin(admin.ModelAdmin):
    list_display = ["record", "old_status", "new_status", "changed_by", "changed_at"]
    list_filter = ["new_status", "changed_at"]
    search_fields = ["record__student__last_name", "note"]
    list_select_related = ["record__student", "record__session__course", "changed_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:  # the audit trail is append-only
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(LiveRun)
class LiveRunAdmin(admin.ModelAdmin):
    list_display = ["session", "started_by", "started_at", "ended_at", "ended_reason", "frames"]
    list_filter = ["ended_reason", "started_at"]
    list_select_related = ["session__course", "started_by"]
    readonly_fields = ["session", "started_by", "started_at", "ends_at", "ended_at", "ended_reason", "frames",
                       "last_frame_at"]


@admin.register(LiveEvidence)
class LiveEvidenceAdmin(admin.ModelAdmin):
    list_display = ["session", "student", "confident_frames", "uncertain_frames", "best_distance", "first_seen_at"]
    list_select_related = ["session__course", "student"]
    search_fields = ["student__last_name", "student__student_number"]
    readonly_fields = ["session", "student", "confident_frames", "uncertain_frames", "best_distance", "first_seen_at",
                       "last_seen_at", "face"]


class CheckinAttemptInline(admin.TabularInline):
    model = CheckinAttempt
    extra = 0
    fields = readonly_fields = ("created_at", "student", "outcome", "error_code", "reason", "distance",
                                "metres_from_school")
    can_delete = False


@admin.register(CheckinWindow)
class CheckinWindowAdmin(admin.ModelAdmin):
    list_display = ["session", "opened_by", "opened_at", "closes_at", "closed_at"]
    list_select_related = ["session__course", "opened_by"]
    readonly_fields = ["session", "opened_by", "opened_at", "closes_at", "closed_at", "closed_by"]
    inlines = [CheckinAttemptInline]


@admin.register(CheckinAttempt)
class CheckinAttemptAdmin(admin.ModelAdmin):
    """The self check-in audit log: append-only."""

    list_display = ["created_at", "session", "student", "outcome", "error_code", "reason"]
    list_filter = ["outcome", "error_code", "created_at"]
    search_fields = ["student__last_name", "student__student_number", "reason"]
    list_select_related = ["session__course", "student"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ThresholdChange)
class ThresholdChangeAdmin(admin.ModelAdmin):
    """The audit of thresholds applied from the office's calibration page: read-only, append-only."""

    list_display = ["changed_at", "teacher_username", "course", "old_confident", "old_uncertain", "new_confident",
                    "new_uncertain", "confirmed", "rejected", "changed_by"]
    list_select_related = ["course", "changed_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
