"""The classroom photos through the API: upload, status, the faces found (assign, dismiss, crop) and
the one-shot mark."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import student_list_visible
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.photos import processing, review
from attendance.photos import services as photos
from attendance.register import selectors
from attendance.register.selectors import session_visible_or_404
from attendance.register.serializers import (
    DetectedFaceSerializer,
    FaceAssignResultSerializer,
    FaceAssignSerializer,
    FaceDismissSerializer,
    MarkSerializer,
    PhotoResultSerializer,
    PhotoStatusSerializer,
    RecordSerializer,
)
from classes.selectors import course_list_visible
from recognition.serializers import ImageUploadSerializer, read_upload
from school.api.permissions import IsStaff
from school.api.throttling import FaceEnrolThrottle, PhotoUploadThrottle, enforce
from school.authenticated import AuthenticatedRequest
from school.ids import parse_id


def _photo_status(result: photos.PhotoResult) -> int:
    if result.duplicate:
        return status.HTTP_200_OK
    return status.HTTP_202_ACCEPTED if result.queued else status.HTTP_201_CREATED


def photo_result_data(session: AttendanceSession, result: photos.PhotoResult) -> dict:
    return PhotoResultSerializer({
        "session": session.pk, "photo": result.photo, "duplicate": result.duplicate,
        "faces_detected": len(result.faces), "processing_time_ms": result.processing_time_ms,
        "matches": result.faces, "records_changed": [r.student_id for r in result.changed_records],
    }).data


class SessionPhotosView(APIView):
    """Upload a classroom photo: faces are found, matched against the course's students only, and
    the records updated (201). With a queue (CELERY_BROKER_URL) the photo is stored and answered at
    once (202, `photo.state` and `photo.status_url` to poll); a worker does the rest. The same photo
    again is a no-op (200 with `duplicate: true`)."""

    permission_classes = [IsStaff]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [PhotoUploadThrottle]
    error_statuses = {"post": {409, 502, 503}}

    @extend_schema(request={"multipart/form-data": ImageUploadSerializer},
                   responses={201: PhotoResultSerializer, 202: PhotoResultSerializer, 200: PhotoResultSerializer})
    def post(self, request: AuthenticatedRequest, session_id: int) -> Response:
        session = session_visible_or_404(user=request.user, session_id=session_id)
        upload = ImageUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        result = processing.session_photo_submit(session=session, image=read_upload(upload.validated_data["image"]),
                                                 by=request.user)
        return Response(photo_result_data(session, result), status=_photo_status(result))


class PhotoStatusView(APIView):
    """A classroom photo's processing state (queued, processing, waiting_for_recognition, done, failed)
    and, once done, its faces."""

    permission_classes = [IsStaff]

    @extend_schema(responses=PhotoStatusSerializer)
    def get(self, request: AuthenticatedRequest, photo_id: int) -> Response:
        photo = get_object_or_404(
            SessionPhoto.objects.filter(session__in=selectors.session_list_visible(user=request.user)), pk=photo_id)
        return Response(PhotoStatusSerializer(photo).data)


def _face(request: AuthenticatedRequest, session_id: int, face_id: int) -> DetectedFace:
    session = session_visible_or_404(user=request.user, session_id=session_id)
    return get_object_or_404(DetectedFace.objects.select_related("photo__session"), pk=face_id,
                             photo__session=session)


class FaceAssignView(APIView):
    """Say who a face is: that student becomes present (audited). With `add_embedding` the face is
    then enrolled for the student too; when that is refused (too small, blurred, no consent) the
    assignment still stands and `enrol_error` says why."""

    permission_classes = [IsStaff]
    # With add_embedding, the face is enrolled: the enrolment's refusals and recognition errors too.
    error_statuses = {"post": {409, 422, 502, 503}}

    @extend_schema(request=FaceAssignSerializer, responses=FaceAssignResultSerializer)
    def post(self, request: AuthenticatedRequest, session_id: int, face_id: int) -> Response:
        face = _face(request, session_id, face_id)
        serializer = FaceAssignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        student = get_object_or_404(student_list_visible(user=request.user),
                                    pk=serializer.validated_data["student_id"])
        if serializer.validated_data["add_embedding"]:
            enforce(request, [FaceEnrolThrottle])  # enrolling from a photo costs what an upload does
        result = review.face_assign(face=face, student=student, by=request.user,
                                    add_embedding=serializer.validated_data["add_embedding"],
                                    note=serializer.validated_data["note"])
        record = (AttendanceRecord.objects.select_related("student", "face")
                  .prefetch_related("corrections__changed_by").get(pk=result.record.pk))
        body = RecordSerializer(record).data
        body["face_enrolled"] = result.enrolled.pk if result.enrolled else None
        body["enrol_error"] = result.enrol_error or None
        body["enrol_error_code"] = result.enrol_error_code or None
        return Response(body)


class FaceDismissView(APIView):
    """"Not a student" (a visitor, a poster, a reflection): the face leaves the review, audited."""

    permission_classes = [IsStaff]

    @extend_schema(request=FaceDismissSerializer, responses=DetectedFaceSerializer)
    def post(self, request: AuthenticatedRequest, session_id: int, face_id: int) -> Response:
        face = _face(request, session_id, face_id)
        serializer = FaceDismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        face = review.face_dismiss(face=face, by=request.user, note=serializer.validated_data["note"])
        return Response(DetectedFaceSerializer(
            DetectedFace.objects.select_related("photo", "student").get(pk=face.pk)).data)


class FaceCropView(APIView):
    """A JPEG of one face of a session's photo (made from the kept photo; 404 once it is purged)."""

    permission_classes = [IsStaff]

    @extend_schema(responses={(200, "image/jpeg"): OpenApiTypes.BINARY})
    def get(self, request: AuthenticatedRequest, session_id: int, face_id: int) -> HttpResponse:
        crop = review.face_crop(face=_face(request, session_id, face_id))
        if crop is None:
            raise NotFound("This photo was deleted after the retention period.")
        response = HttpResponse(crop, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=600"
        return response


class AttendanceMarkView(APIView):
    """One-shot: opens (or reuses) today's session of the course and processes the photo."""

    permission_classes = [IsStaff]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [PhotoUploadThrottle]
    error_statuses = {"post": {404, 409, 502, 503}}

    @extend_schema(request={"multipart/form-data": MarkSerializer},
                   responses={201: PhotoResultSerializer, 202: PhotoResultSerializer, 200: PhotoResultSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = MarkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = ImageUploadSerializer(data={"image": serializer.validated_data["image"]})
        upload.is_valid(raise_exception=True)
        reference = serializer.validated_data["course"].strip()
        courses = course_list_visible(user=request.user)
        course_id = parse_id(reference)
        course = get_object_or_404(courses, pk=course_id) if course_id else get_object_or_404(
            courses, code__iexact=reference)
        session, result = processing.attendance_mark_submit(
            course=course, image=read_upload(upload.validated_data["image"]), by=request.user)
        return Response(photo_result_data(session, result), status=_photo_status(result))
