"""A student's own data for the mobile app: attendance per course, and the full data export."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.consent_calls import consent_state
from accounts.models import StudentProfile
from accounts.password_api import ErrorSerializer
from attendance.people.own import own_attendance, own_attendance_as_dicts, own_data_export
from school.api.strict import StrictSerializer
from school.authenticated import AuthenticatedRequest
from school.errors import DomainError, ErrorKind


class EvidenceSerializer(StrictSerializer):
    distance = serializers.FloatField(help_text="Distance between the classroom face and the enrolled face.")
    date = serializers.DateField()
    seen_at = serializers.DateTimeField(allow_null=True)


class OwnRecordSerializer(StrictSerializer):
    session = serializers.IntegerField()
    date = serializers.DateField()
    # Declared fields named like Field attributes: DRF's metaclass takes them off the class.
    label = serializers.CharField()  # type: ignore[assignment]
    status = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    evidence = EvidenceSerializer(allow_null=True, help_text="Present when the status came from a face match.")


class CourseRefSerializer(StrictSerializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()


class CountsSerializer(StrictSerializer):
    sessions = serializers.IntegerField()
    present = serializers.IntegerField()
    late = serializers.IntegerField()
    absent = serializers.IntegerField()
    excused = serializers.IntegerField()


class OwnCourseAttendanceSerializer(StrictSerializer):
    course = CourseRefSerializer()
    rate = serializers.FloatField(allow_null=True, help_text="Percent of counted sessions attended.")
    counts = CountsSerializer(allow_null=True)
    records = OwnRecordSerializer(many=True)


class OwnExportSerializer(StrictSerializer):
    """Everything the school keeps about the student (README, "Privacy": what the export contains)."""

    exported_at = serializers.DateTimeField()
    profile = serializers.DictField()
    courses = serializers.ListField(child=serializers.DictField(), help_text="Enrolments, with their dates.")
    attendance = OwnCourseAttendanceSerializer(many=True)
    records = serializers.ListField(child=serializers.DictField(),
                                    help_text="Every attendance record, in any course and session state.")
    corrections = serializers.ListField(child=serializers.DictField())
    consent = serializers.DictField()
    guardian_contact_changes = serializers.ListField(child=serializers.DictField(),
                                                     help_text="When and how the guardian address changed.")
    biometric_data = serializers.DictField(help_text="What is held and when; never the face vectors.")
    self_checkins = serializers.ListField(child=serializers.DictField(), help_text=(
        "Every self check-in attempt; `selfie` is the address of the kept selfie (the student's own, logged)."))
    live_mode = serializers.ListField(child=serializers.DictField(),
                                      help_text="What live mode saw of the student in each session.")


_NOT_A_STUDENT = {403: OpenApiResponse(ErrorSerializer, description="Not a student login."),
                  404: OpenApiResponse(ErrorSerializer, description="No student record is linked to this login."),
                  401: OpenApiResponse(ErrorSerializer, description="Not logged in.")}


def _own_student(request: AuthenticatedRequest) -> StudentProfile:
    if not request.user.is_student:
        raise DomainError("Only a student has their own attendance.", error_code="PERMISSION_DENIED",
                          kind=ErrorKind.FORBIDDEN)
    student = StudentProfile.objects.filter(user=request.user).first()
    if student is None:
        raise DomainError("No student record is linked to this login.", error_code="NOT_FOUND",
                          kind=ErrorKind.NOT_FOUND)
    return student


class MyAttendanceView(APIView):
    """GET: the logged-in student's attendance per course (finalised sessions), with face-match evidence."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OwnCourseAttendanceSerializer(many=True), **_NOT_A_STUDENT})
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(own_attendance_as_dicts(own_attendance(student=_own_student(request))))


class MyExportView(APIView):
    """GET: everything the school holds about the logged-in student, as one JSON document."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OwnExportSerializer, **_NOT_A_STUDENT})
    def get(self, request: AuthenticatedRequest) -> Response:
        student = _own_student(request)
        response = Response(own_data_export(student=student, consent=consent_state(student=student)))
        response["Content-Disposition"] = f'attachment; filename="my-data-{student.student_number}.json"'
        return response
