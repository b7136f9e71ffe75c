from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from recognition.models import FaceEmbedding
from recognition.services import face_embedding_delete


@admin.register(FaceEmbedding)
class FaceEmbeddingAdmin(admin.ModelAdmin):
    """Shows how each face was enrolled; the vector itself is never displayed (biometric data)."""

    list_display = ["id", "student", "model_name", "model_version", "detector", "num_jitters",
                    "face_area_ratio", "has_photo", "enrolled_by", "created_at"]
    list_filter = ["model_name", "model_version", "detector"]
    search_fields = ["student__student_number", "student__last_name", "student__first_name"]
    list_select_related = ["student", "enrolled_by"]
    exclude = ["vector"]
    readonly_fields = ["student", "model_name", "model_version", "detector", "num_jitters", "box_top", "box_right",
                       "box_bottom", "box_left", "face_area_ratio", "image_width", "image_height", "source_image",
                       "content_hash", "enrolled_by", "created_at"]

    def delete_model(self, request: HttpRequest, obj: FaceEmbedding) -> None:
        face_embedding_delete(face=obj)  # the stored photo goes too

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[FaceEmbedding]) -> None:
        for face in queryset:
            face_embedding_delete(face=face)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # faces are enrolled through the recognition pipeline, never typed in

    @admin.display(boolean=True, description="photo kept")
    def has_photo(self, face: FaceEmbedding) -> bool:
        return bool(face.source_image)
