"""REST representations of sessions, records, photos and reports (SPEC §4 field names)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from attendance.models import AttendanceCorrection, AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.services import MANUAL_STATUSES


class BoxField(serializers.DictField):
    child = serializers.IntegerField()


class CorrectionSerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", default=None, read_only=True)

    class Meta:
        model = AttendanceCorrection
        fields = ["old_status", "new_status", "note", "changed_by", "changed_at"]
        read_only_fields = fields


class RecordSerializer(serializers.ModelSerializer):
    student_name = serializers.CharField(source="student.full_name", read_only=True)
    student_number = serializers.CharField(source="student.student_number", read_only=True)
    photo = serializers.IntegerField(source="face.photo_id", default=None, read_only=True)
    face_index = serializers.IntegerField(source="face.face_index", default=None, read_only=True)
    box = BoxField(source="face.box", default=None, read_only=True)
    corrections = CorrectionSerializer(many=True, read_only=True)

    class Meta:
        model = AttendanceRecord
        fields = ["student", "student_name", "student_number", "status", "source", "distance", "photo", "face_index",
                  "box", "confident_threshold", "uncertain_threshold", "reason", "updated_at", "corrections"]
        read_only_fields = fields


class DetectedFaceSerializer(serializers.ModelSerializer):
    box = BoxField(read_only=True)
    student_name = serializers.CharField(source="student.full_name", default=None, read_only=True)

    class Meta:
        model = DetectedFace
        fields = ["id", "photo", "face_index", "box", "face_area_ratio", "student", "student_name", "distance",
                  "match", "reason"]
        read_only_fields = fields


class PhotoSerializer(serializers.ModelSerializer):
    image_available = serializers.SerializerMethodField()

    class Meta:
        model = SessionPhoto
        fields = ["id", "width", "height", "face_count", "processing_time_ms", "uploaded_at", "image_available"]
        read_only_fields = fields

    def get_image_available(self, photo: SessionPhoto) -> bool:
        return bool(photo.image)


class SessionSerializer(serializers.ModelSerializer):
    course_code = serializers.CharField(source="course.code", read_only=True)

    class Meta:
        model = AttendanceSession
        fields = ["id", "course", "course_code", "date", "label", "state", "created_at", "finalized_at"]
        read_only_fields = ["id", "course", "course_code", "state", "created_at", "finalized_at"]


class SessionCreateSerializer(serializers.Serializer):
    date = serializers.DateField()
    label = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")


class SessionDetailSerializer(SessionSerializer):
    records = RecordSerializer(many=True, read_only=True)
    unknown_faces = serializers.SerializerMethodField()
    photos = PhotoSerializer(many=True, read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta(SessionSerializer.Meta):
        fields = [*SessionSerializer.Meta.fields, "counts", "records", "unknown_faces", "photos"]
        read_only_fields = fields

    def get_unknown_faces(self, session: AttendanceSession) -> list[dict[str, Any]]:
        faces = [face for photo in session.photos.all() for face in photo.faces.all()
                 if face.match == DetectedFace.Match.UNKNOWN]
        return DetectedFaceSerializer(faces, many=True).data

    def get_counts(self, session: AttendanceSession) -> dict[str, int]:
        counts = {status: 0 for status in AttendanceRecord.Status.values}
        for record in session.records.all():
            counts[record.status] += 1
        return counts


class PhotoResultSerializer(serializers.Serializer):
    session = serializers.IntegerField()
    photo = PhotoSerializer()
    duplicate = serializers.BooleanField()
    faces_detected = serializers.IntegerField()
    processing_time_ms = serializers.FloatField()
    matches = DetectedFaceSerializer(many=True)
    records_changed = serializers.ListField(child=serializers.IntegerField())


class RecordUpdateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MANUAL_STATUSES)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FinalizeSerializer(serializers.Serializer):
    resolve_pending = serializers.ChoiceField(choices=["present", "absent"], required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FaceAssignSerializer(serializers.Serializer):
    student_id = serializers.IntegerField()
    add_embedding = serializers.BooleanField(default=False)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class MarkSerializer(serializers.Serializer):
    course = serializers.CharField(help_text="The course's id or code.")
    image = serializers.FileField(allow_empty_file=False)


class ReportStudentSerializer(serializers.Serializer):
    student = serializers.IntegerField(source="student.pk")
    student_number = serializers.CharField(source="student.student_number")
    name = serializers.CharField(source="student.full_name")
    sessions = serializers.IntegerField()
    present = serializers.IntegerField()
    late = serializers.IntegerField()
    absent = serializers.IntegerField()
    excused = serializers.IntegerField()
    rate = serializers.FloatField(allow_null=True)


class ReportSerializer(serializers.Serializer):
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
