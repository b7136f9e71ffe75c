from __future__ import annotations

from typing import Any, cast

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import User
from recognition.models import FaceEmbedding
from recognition.services import face_approve, face_embedding_delete
from school.access_log import How, Kind, access_log_add


@admin.register(FaceEmbedding)
class FaceEmbeddingAdmin(admin.ModelAdmin):
    """Shows how each face was enrolled; the vector itself is never displayed (biometric data), and
    the photo is linked through the login-protected view, never a storage URL."""

    list_display = ["id", "student", "source", "approval", "model_name", "model_version", "detector", "num_jitters",
                    "face_area_ratio", "has_photo", "enrolled_by", "created_at"]
    list_filter = ["source", "approval", "model_name", "model_version", "detector"]
    search_fields = ["student__student_number", "student__last_name", "student__first_name"]
    list_select_related = ["student", "enrolled_by"]
    fields = readonly_fields = (
        "student", "approval", "approved_by", "approved_at", "model_name", "model_version", "detector", "num_jitters",
        "box_top", "box_right", "box_bottom", "box_left", "face_area_ratio", "image_width", "image_height", "photo",
        "content_hash", "enrolled_by", "created_at", "source", "learned_how", "learned_session_id",
        "learned_photo_id", "learned_face_id", "learned_context", "learned_distance")
    actions = ["approve"]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        access_log_add(user=request.user, kind=Kind.ADMIN_FACES, how=How.ADMIN, object_type="face list",
                       path=request.get_full_path())
        return super().changelist_view(request, extra_context)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict | None = None) -> HttpResponse:
        access_log_add(user=request.user, kind=Kind.ADMIN_FACES, how=How.ADMIN, object_type="face",
                       object_id=object_id, path=request.get_full_path())
        return super().change_view(request, object_id, form_url, extra_context)

    def delete_model(self, request: HttpRequest, obj: FaceEmbedding) -> None:
        face_embedding_delete(face=obj, by=cast(User, request.user))  # the stored photo goes too, with a receipt

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FaceEmbedding]) -> None:
        for face in queryset.select_related("student"):
            face_embedding_delete(face=face, by=cast(User, request.user))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # faces are enrolled through the recognition pipeline, never typed in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # nothing about a face is edited by hand; approve with the action

    @admin.action(description="Approve the selected self-enrolled or held learned faces")
    def approve(self, request: HttpRequest, queryset: QuerySet[FaceEmbedding]) -> None:
        pending = list(queryset.exclude(approval=FaceEmbedding.Approval.APPROVED))
        for face in pending:
            face_approve(face=face, by=cast(User, request.user))
        self.message_user(request, f"{len(pending)} face(s) approved.", messages.SUCCESS)

    @admin.display(boolean=True, description="photo kept")
    def has_photo(self, face: FaceEmbedding) -> bool:
        return bool(face.source_image)

    @admin.display(description="photo")
    def photo(self, face: FaceEmbedding) -> str:
        if not face.source_image:
            return "not kept"
        return format_html('<a href="{}">view (login required)</a>', reverse("face-image", args=[face.pk]))
