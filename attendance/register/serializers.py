"""REST representations of sessions, records, photos and reports (SPEC §4 field names)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.register.services import MANUAL_STATUSES
from school.api.strict import StrictModelSerializer, StrictSerializer
from school.api.validators import SchoolDateField
from school.ids import MAX_ID


class BoxField(serializers.DictField):
    child = serializers.IntegerField()


class CorrectionSerializer(StrictModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", default=None, read_only=True, allow_null=True)

    class Meta:
        model = AttendanceCorrection
        fields = ["old_status", "new_status", "note", "changed_by", "changed_at"]
        read_only_fields = fields


class RecordSerializer(StrictModelSerializer):
    student_name = serializers.CharField(source="student.full_name", read_only=True)
    student_number = serializers.CharField(source="student.student_number", read_only=True)
    photo = serializers.IntegerField(source="face.photo_id", default=None, read_only=True, allow_null=True)
    face_index = serializers.IntegerField(source="face.face_index", default=None, read_only=True, allow_null=True)
    box = BoxField(source="face.box", default=None, read_only=True, allow_null=True)
    corrections = CorrectionSerializer(many=True, read_only=True)

    class Meta:
        model = AttendanceRecord
        fields = ["student", "student_name", "student_number", "status", "source", "distance", "photo", "face_index",
                  "box", "confident_threshold", "uncertain_threshold", "reason", "seen_at", "seen_at_source",
                  "updated_at", "corrections"]
        read_only_fields = fields


class DetectedFaceSerializer(StrictModelSerializer):
    box = BoxField(read_only=True)
    student_name = serializers.CharField(source="student.full_name", default=None, read_only=True,
                                         allow_null=True)
    crop_url = serializers.SerializerMethodField(help_text="A JPEG of this face (JWT), or null once the photo "
                                                           "is purged.")

    class Meta:
        model = DetectedFace
        fields = ["id", "photo", "face_index", "box", "face_area_ratio", "student", "student_name", "distance",
                  "match", "reason", "crop_url"]
        read_only_fields = fields

    def get_crop_url(self, face: DetectedFace) -> str | None:
        if not face.photo.image:
            return None
        return reverse("face-crop", args=[face.photo.session_id, face.pk])


class PhotoSerializer(StrictModelSerializer):
    image_available = serializers.SerializerMethodField()
    status_url = serializers.SerializerMethodField()

    class Meta:
        model = SessionPhoto
        fields = ["id", "state", "width", "height", "face_count", "processing_time_ms", "uploaded_at",
                  "image_available", "status_url"]
        read_only_fields = fields

    def get_image_available(self, photo: SessionPhoto) -> bool:
        return bool(photo.image)

    def get_status_url(self, photo: SessionPhoto) -> str:
        return reverse("photo-status", args=[photo.pk])


class PhotoStatusSerializer(PhotoSerializer):
    """A photo's progress (polled by the session page while a worker processes it) and, once `done`,
    what was found on it."""

    session = serializers.IntegerField(source="session_id", read_only=True)
    state_label = serializers.CharField(source="get_state_display", read_only=True)
    matches = serializers.SerializerMethodField()

    class Meta(PhotoSerializer.Meta):
        fields = [*PhotoSerializer.Meta.fields, "session", "state_label", "error_code", "error", "attempts",
                  "next_attempt_at", "processed_at", "matches"]
        read_only_fields = fields

    def get_matches(self, photo: SessionPhoto) -> list[dict[str, Any]]:
        return DetectedFaceSerializer(photo.faces.select_related("student"),  # type: ignore[return-value]
                                      many=True).data  # many=True: a list


class SessionSerializer(StrictModelSerializer):
    course_code = serializers.CharField(source="course.code", read_only=True)

    class Meta:
        model = AttendanceSession
        fields = ["id", "course", "course_code", "date", "label", "starts_at", "slot", "state", "created_at",
                  "finalized_at"]
        read_only_fields = ["id", "course", "course_code", "starts_at", "slot", "state", "created_at", "finalized_at"]


class SessionCreateSerializer(StrictSerializer):
    date = SchoolDateField()
    # A declared field named like DRF's Field.label attribute, which the stubs cannot tell apart.
    label = serializers.CharField(max_length=50, required=False, allow_blank=True,  # type: ignore[assignment]
                                  default="")
    starts_at = serializers.TimeField(required=False, allow_null=True, default=None,
                                      help_text="Start of the period (school time): students first seen after it "
                                                "plus the teacher's grace are late.")


class SessionDetailSerializer(SessionSerializer):
    records = RecordSerializer(many=True, read_only=True)
    unknown_faces = serializers.SerializerMethodField()
    review_faces = serializers.SerializerMethodField()
    photos = PhotoSerializer(many=True, read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "counts", "records", "unknown_faces", "review_faces", "photos"]
        read_only_fields = fields

    @extend_schema_field(DetectedFaceSerializer(many=True))
    def get_review_faces(self, session: AttendanceSession) -> list[dict[str, Any]]:
        """Faces the teacher should look at: unknown ones and uncertain matches, with their crops."""
        review = (DetectedFace.Match.UNKNOWN, DetectedFace.Match.UNCERTAIN)
        faces = [face for photo in session.photos.all() for face in photo.faces.all() if face.match in review]
        return DetectedFaceSerializer(faces, many=True).data  # type: ignore[return-value]  # many=True: a list

    @extend_schema_field(DetectedFaceSerializer(many=True))
    def get_unknown_faces(self, session: AttendanceSession) -> list[dict[str, Any]]:
        faces = [face for photo in session.photos.all() for face in photo.faces.all()
                 if face.match == DetectedFace.Match.UNKNOWN]
        return DetectedFaceSerializer(faces, many=True).data  # type: ignore[return-value]  # many=True: a list

    def get_counts(self, session: AttendanceSession) -> dict[str, int]:
        counts = {status: 0 for status in AttendanceRecord.Status.values}
        for record in session.records.all():
            counts[record.status] += 1
        return counts


class PhotoResultSerializer(StrictSerializer):
    session = serializers.IntegerField()
    photo = PhotoSerializer()
    duplicate = serializers.BooleanField()
    faces_detected = serializers.IntegerField()
    processing_time_ms = serializers.FloatField()
    matches = DetectedFaceSerializer(many=True)
    records_changed = serializers.ListField(child=serializers.IntegerField())


class RecordUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=MANUAL_STATUSES)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FinalizeSerializer(StrictSerializer):
    resolve_pending = serializers.ChoiceField(choices=["present", "absent"], required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FaceDismissSerializer(StrictSerializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=200,
                                 help_text="Why, e.g. 'visitor', 'poster', 'reflection'.")


class FaceAssignSerializer(StrictSerializer):
    student_id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    add_embedding = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FaceAssignResultSerializer(RecordSerializer):
    """The record after an assignment, and what became of "also enrol this face"."""

    face_enrolled = serializers.IntegerField(allow_null=True, read_only=True)
    enrol_error = serializers.CharField(allow_null=True, read_only=True)
    enrol_error_code = serializers.CharField(allow_null=True, read_only=True)

    class Meta(RecordSerializer.Meta):
        fields = [*RecordSerializer.Meta.fields, "face_enrolled", "enrol_error", "enrol_error_code"]
        read_only_fields = fields


class MarkSerializer(StrictSerializer):
    course = serializers.CharField(help_text="The course's id or code.")
    image = serializers.FileField(allow_empty_file=False)


class ReportStudentSerializer(StrictSerializer):
    student = serializers.IntegerField(source="student.pk")
    student_number = serializers.CharField(source="student.student_number")
    name = serializers.CharField(source="student.full_name")
    sessions = serializers.IntegerField()
    present = serializers.IntegerField()
    late = serializers.IntegerField()
    absent = serializers.IntegerField()
    excused = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class ReportSerializer(StrictSerializer):
    course = serializers.IntegerField(source="course.pk")
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    session_count = serializers.SerializerMethodField()
    average_rate = serializers.FloatField(allow_null=True)
    threshold = serializers.IntegerField()
    students = ReportStudentSerializer(many=True)
    at_risk = ReportStudentSerializer(many=True)

    def get_session_count(self, report: Any) -> int:
        return len(report.sessions)
