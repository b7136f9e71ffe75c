"""REST representations of enrolled faces: everything about a face except its vector."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from recognition.errors import ErrorCode, InvalidImageError
from recognition.images import upload_bytes
from recognition.models import FaceEmbedding
from school.api.strict import StrictModelSerializer, StrictSerializer


class LearnedFromSerializer(serializers.Serializer):
    how = serializers.ChoiceField(choices=FaceEmbedding.LearnedHow.choices)
    session = serializers.IntegerField(allow_null=True)
    photo = serializers.IntegerField(allow_null=True)
    face = serializers.IntegerField(allow_null=True)
    where = serializers.CharField(help_text="The course, date, photo and face, in words")
    distance = serializers.FloatField(allow_null=True)


class FaceSerializer(StrictModelSerializer):
    box = serializers.SerializerMethodField()
    has_photo = serializers.SerializerMethodField()
    learned_from = serializers.SerializerMethodField()

    class Meta:
        model = FaceEmbedding
        # Never the vector: embeddings are biometric data (SPEC §8).
        fields = ["id", "student", "model_name", "model_version", "detector", "num_jitters", "box",
                  "face_area_ratio", "image_width", "image_height", "has_photo", "enrolled_by", "created_at",
                  "approval", "approved_by", "approved_at", "source", "learned_from"]
        read_only_fields = fields

    @extend_schema_field(LearnedFromSerializer(allow_null=True))
    def get_learned_from(self, face: FaceEmbedding) -> dict | None:
        """Where a learned face comes from (null for an enrolled one): the session, photo and face it
        was cut from, how (a pending match confirmed, or an unknown face assigned), and its distance to
        the student's other faces then."""
        if not face.is_learned:
            return None
        return {"how": face.learned_how, "session": face.learned_session_id, "photo": face.learned_photo_id,
                "face": face.learned_face_id, "where": face.learned_context,
                "distance": face.learned_distance}

    def get_box(self, face: FaceEmbedding) -> dict[str, int]:
        return {"top": face.box_top, "right": face.box_right, "bottom": face.box_bottom, "left": face.box_left}

    def get_has_photo(self, face: FaceEmbedding) -> bool:
        return bool(face.source_image)


class ImageUploadSerializer(StrictSerializer):
    """A multipart upload with the photo in the field `image`. The real type is sniffed from the
    bytes later; the client's content type and file name are not trusted."""

    image = serializers.FileField(allow_empty_file=False)

    def validate_image(self, upload: Any) -> Any:
        if upload.size > settings.MAX_UPLOAD_BYTES:
            # Too many bytes is 413 IMAGE_TOO_LARGE, as for too many pixels (not a 400).
            raise InvalidImageError(
                ErrorCode.IMAGE_TOO_LARGE,
                f"The file is {upload.size / 1e6:.1f} MB; the limit is {settings.MAX_UPLOAD_BYTES / 1e6:.1f} MB.",
                details={"bytes": upload.size, "max_bytes": settings.MAX_UPLOAD_BYTES})
        return upload


def read_upload(upload: Any) -> bytes:
    return upload_bytes(upload)
