"""REST API of self check-in for a student's mobile app (JWT): scan the QR code, then send the selfie.

The page flow (/checkin/<token>/, /checkin/) does the same with the browser's session and cookie; the
app exchanges the 30-second QR token for a scan ticket (valid CHECKIN_SCAN_SECONDS: the time to take the
selfie), then posts the frames of the liveness step with the ticket and its own device id (`X-Device-ID`,
a random id it keeps per installation: a hint, which the app chooses, so never a proof)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.password_api import ErrorSerializer  # the API's one error shape (one schema component)
from attendance.checkin import presence
from attendance.checkin import services as checkin
from attendance.models import CheckinAttempt
from recognition.images import upload_bytes
from school.api.strict import StrictModelSerializer, StrictSerializer
from school.api.throttling import PhotoUploadThrottle, client_ip
from school.authenticated import AuthenticatedRequest
from school.errors import DomainError, ErrorKind


class ScanSerializer(StrictSerializer):
    token = serializers.CharField(max_length=500, help_text="The text of the QR code's URL after /checkin/.")


class ScanResultSerializer(StrictSerializer):
    ticket = serializers.CharField(help_text="Send it with the selfie within `valid_seconds`.")
    valid_seconds = serializers.IntegerField()
    session = serializers.IntegerField()
    course = serializers.CharField()
    needs_location = serializers.BooleanField(help_text="Send latitude and longitude with the selfie.")


class SelfieSerializer(StrictSerializer):
    ticket = serializers.CharField(max_length=500)
    frames = serializers.ListField(
        child=serializers.FileField(allow_empty_file=False), required=False, min_length=2,
        max_length=checkin.MAX_FRAMES,
        help_text="The liveness step: pictures taken while the student looks at the camera and turns their head "
                  "(repeat the field). Without them `image` alone makes the check-in pending.")
    image = serializers.FileField(allow_empty_file=False, required=False,
                                  help_text="A single selfie (no liveness step: pending at best).")
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("frames") and not attrs.get("image"):
            raise DomainError("Send the frames of the head turn (or an image).", error_code="SELFIE_MISSING",
                              details={"frames": ["Send the frames of the head turn (or an image)."]})
        return attrs


class AttemptSerializer(StrictModelSerializer):
    status = serializers.CharField(source="record.status", default=None, read_only=True,
                                   help_text="The record's status after the check-in.")

    class Meta:
        model = CheckinAttempt
        fields = ["id", "session", "outcome", "error_code", "reason", "distance", "status", "created_at"]
        read_only_fields = fields


def _error(text: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=text)


class IsStudent(BasePermission):
    """A logged-in student (a login linked to a student profile is checked by the service)."""

    message = "Only students check themselves in."

    def has_permission(self, request: Request, view: object) -> bool:
        return bool(request.user and request.user.is_authenticated and getattr(request.user, "is_student", False))


class CheckinScanView(APIView):
    """A scanned QR code: checked (signature, age, window and session open) and exchanged for a ticket."""

    permission_classes = [IsStudent]
    parser_classes = [JSONParser, FormParser]

    @extend_schema(request=ScanSerializer, responses={
        200: ScanResultSerializer, 400: _error("CHECKIN_TOKEN_INVALID: tampered, foreign or not for this lesson."),
        401: _error("Not logged in."), 403: _error("Not a student."),
        409: _error("SESSION_FINALIZED."), 410: _error("CHECKIN_TOKEN_EXPIRED or CHECKIN_CLOSED.")})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = ScanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        window = checkin.checkin_token_verify(token=serializer.validated_data["token"].strip().strip("/"))
        return Response({"ticket": checkin.checkin_scan_ticket(window=window, user=request.user),
                         "valid_seconds": int(checkin.settings.CHECKIN_SCAN_SECONDS),
                         "session": window.session_id, "course": window.session.course.name,
                         "needs_location": presence.geofence() is not None})


class CheckinSelfieView(APIView):
    """The selfie of a check-in (multipart `image` with the scan `ticket`). 201 with the attempt when
    the record became present or pending; a refusal is logged too and answered with its code."""

    permission_classes = [IsStudent]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [PhotoUploadThrottle]

    @extend_schema(
        request={"multipart/form-data": SelfieSerializer},
        parameters=[OpenApiParameter("X-Device-ID", str, OpenApiParameter.HEADER, required=False,
                                     description="A random id the app keeps per installation (one device, "
                                                 "one student per session).")],
        responses={201: AttemptSerializer, 400: _error("VALIDATION_ERROR, CHECKIN_TOKEN_INVALID or a bad image."),
                   401: _error("Not logged in."), 403: _error("NOT_A_STUDENT or NOT_ENROLLED."),
                   409: _error("ALREADY_CHECKED_IN, TEACHER_DECIDED or SESSION_FINALIZED."),
                   410: _error("SCAN_EXPIRED or CHECKIN_CLOSED."), 413: _error("IMAGE_TOO_LARGE."),
                   422: _error("FACE_MISMATCH, SELFIE_REPLAYED, FACE_OF_ANOTHER_STUDENT, NO_FACE_FOUND, "
                                    "MULTIPLE_FACES or FACE_TOO_SMALL."),
                   429: _error("RATE_LIMITED (Retry-After)."), 503: _error("Recognition unavailable (Retry-After).")})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = SelfieSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        window = checkin.checkin_scan_ticket_verify(ticket=data["ticket"], user=request.user)
        position = (presence.Position(data["latitude"], data["longitude"])
                    if "latitude" in data and "longitude" in data else None)
        device = (request.headers.get("X-Device-ID") or request.COOKIES.get(checkin.DEVICE_COOKIE, ""))[:64]
        result = checkin.checkin_submit(
            window=window, user=request.user, selfie=upload_bytes(data["image"]) if data.get("image") else None,
            frames=[upload_bytes(frame) for frame in data.get("frames", [])], device_id=device, position=position,
            client_address=client_ip(request))
        attempt = result.attempt
        if attempt.outcome == CheckinAttempt.Outcome.REFUSED:
            raise DomainError(attempt.reason, error_code=attempt.error_code or "REFUSED",
                              kind=checkin.REFUSAL_KIND.get(attempt.error_code, ErrorKind.INVALID),
                              details={"attempt": attempt.pk, "distance": attempt.distance})
        return Response(AttemptSerializer(attempt).data, status=status.HTTP_201_CREATED)
