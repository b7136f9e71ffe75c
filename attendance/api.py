"""REST API for attendance: sessions, classroom photos, records, finalising, one-shot, reports."""

from __future__ import annotations

import datetime

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access_log import How, Kind, access_log_add
from accounts.selectors import student_list_visible
from attendance import photos, processing, review, selectors, services
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.serializers import (
    DetectedFaceSerializer,
    FaceAssignResultSerializer,
    FaceAssignSerializer,
    FaceDismissSerializer,
    FinalizeSerializer,
    MarkSerializer,
    PhotoResultSerializer,
    PhotoStatusSerializer,
    RecordSerializer,
    RecordUpdateSerializer,
    ReportSerializer,
    SessionCreateSerializer,
    SessionDetailSerializer,
    SessionSerializer,
)
from classes.models import Course
from classes.selectors import course_list_visible
from recognition.serializers import ImageUploadSerializer, read_upload
from smart_attendance.api.permissions import IsStaff
from smart_attendance.api.throttling import FaceEnrolThrottle, PhotoUploadThrottle, enforce
from smart_attendance.authenticated import AuthenticatedRequest
from smart_attendance.ids import parse_id


def _course(request: AuthenticatedRequest, course_id: int | str) -> Course:
    return get_object_or_404(course_list_visible(user=request.user), pk=course_id)


def _session(request: AuthenticatedRequest, session_id: int) -> AttendanceSession:
    return get_object_or_404(selectors.session_list_visible(user=request.user), pk=session_id)


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


class CourseSessionsView(generics.ListAPIView):
    """A course's sessions; POST opens a new one with a record per enrolled student."""

    request: AuthenticatedRequest
    permission_classes = [IsStaff]
    serializer_class = SessionSerializer
    error_statuses = {"post": {409}}

    def get_queryset(self) -> QuerySet[AttendanceSession]:
        if getattr(self, "swagger_fake_view", False):
            return AttendanceSession.objects.none()
        return _course(self.request, self.kwargs["course_id"]).sessions.select_related("course").order_by(
            "-date", "-created_at")

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionDetailSerializer})
    def post(self, request: AuthenticatedRequest, course_id: int) -> Response:
        course = _course(request, course_id)
        serializer = SessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = services.session_create(course=course, by=request.user, **serializer.validated_data)
        return Response(SessionDetailSerializer(selectors.session_detail(session=session)).data,
                        status=status.HTTP_201_CREATED)


class SessionListView(generics.ListAPIView):
    request: AuthenticatedRequest
    permission_classes = [IsStaff]
    serializer_class = SessionSerializer
    filterset_fields = ["course", "date", "state"]
    ordering_fields = ["date", "created_at"]

    def get_queryset(self) -> QuerySet[AttendanceSession]:
        if getattr(self, "swagger_fake_view", False):
            return AttendanceSession.objects.none()
        return selectors.session_list_visible(user=self.request.user)


class SessionDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=SessionDetailSerializer)
    def get(self, request: AuthenticatedRequest, session_id: int) -> Response:
        session = _session(request, session_id)
        return Response(SessionDetailSerializer(selectors.session_detail(session=session)).data)


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
        session = _session(request, session_id)
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


class RecordDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=RecordUpdateSerializer, responses=RecordSerializer)
    def patch(self, request: AuthenticatedRequest, session_id: int, student_id: int) -> Response:
        session = _session(request, session_id)
        record = get_object_or_404(AttendanceRecord, session=session, student_id=student_id)
        serializer = RecordUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.record_correct(record=record, by=request.user, **serializer.validated_data)
        record = (AttendanceRecord.objects.select_related("student", "face")
                  .prefetch_related("corrections__changed_by").get(pk=record.pk))
        return Response(RecordSerializer(record).data)


class SessionFinalizeView(APIView):
    permission_classes = [IsStaff]
    error_statuses = {"post": {409}}

    @extend_schema(request=FinalizeSerializer, responses=SessionDetailSerializer)
    def post(self, request: AuthenticatedRequest, session_id: int) -> Response:
        session = _session(request, session_id)
        serializer = FinalizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.session_finalize(session=session, by=request.user, **serializer.validated_data)
        return Response(SessionDetailSerializer(selectors.session_detail(session=session)).data)


def _face(request: AuthenticatedRequest, session_id: int, face_id: int) -> DetectedFace:
    session = _session(request, session_id)
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
        access_log_add(user=request.user, kind=Kind.FACE_CROP, how=How.API, object_type="detected face",
                       object_id=face_id, path=request.get_full_path())
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


def _date_param(request: AuthenticatedRequest, name: str) -> datetime.date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({name: ["Use a date in the form YYYY-MM-DD."]}) from None


class CourseReportView(APIView):
    """Per-student counts and rates over the course's finalised sessions, the course average and the
    students under the at-risk threshold. `?format=csv` downloads the same as CSV."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=[OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
                               OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses=ReportSerializer)
    def get(self, request: AuthenticatedRequest, course_id: int) -> Response | HttpResponse:
        course = _course(request, course_id)
        date_from, date_to = _date_param(request, "from"), _date_param(request, "to")
        if date_from and date_to and date_from > date_to:
            raise ValidationError({"from": ["'from' must not be after 'to'."]})
        report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
        if request.query_params.get("format") == "csv":
            access_log_add(user=request.user, kind=Kind.REPORT_EXPORT, how=How.API, object_type="course report",
                           object_id=course.pk, path=request.get_full_path())
            response = HttpResponse(selectors.course_report_csv(report), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="attendance-{slugify(course.code)}.csv"'
            return response
        return Response(ReportSerializer(report).data)


REGISTER_MAX_DAYS = 366


class CourseRegisterView(APIView):
    """The course's register for a date range (default: the last 30 days): one row per enrolled student,
    one column per session, statuses as P (present), L (late), A (absent), E (excused), ? (pending),
    - (not seen yet). `?format=csv` downloads it."""

    permission_classes = [IsStaff]

    @extend_schema(parameters=[OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
                               OpenApiParameter("format", str, enum=["json", "csv"])],
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request: AuthenticatedRequest, course_id: int) -> Response | HttpResponse:
        from attendance.reports import course_register
        from attendance.schooltime import school_today

        course = _course(request, course_id)
        date_to = _date_param(request, "to") or school_today()
        date_from = _date_param(request, "from") or date_to - datetime.timedelta(days=30)
        if date_from > date_to:
            raise ValidationError({"from": ["'from' must not be after 'to'."]})
        if (date_to - date_from).days > REGISTER_MAX_DAYS:
            raise ValidationError({"from": [f"A register covers at most {REGISTER_MAX_DAYS} days."]})
        rows = course_register(course=course, date_from=date_from, date_to=date_to)
        if request.query_params.get("format") == "csv":
            import csv
            import io

            buffer = io.StringIO()
            csv.writer(buffer).writerows([[selectors.csv_safe(cell) for cell in row] for row in rows])
            access_log_add(user=request.user, kind=Kind.REPORT_EXPORT, how=How.API, object_type="course register",
                           object_id=course_id, path=request.get_full_path())
            response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (f'attachment; filename="register-{slugify(course.code)}-'
                                               f'{date_from.isoformat()}-{date_to.isoformat()}.csv"')
            return response
        header, *body = rows
        return Response({"course": course.pk, "from": date_from, "to": date_to, "sessions": header[3:],
                         "students": [{"student_number": row[0], "last_name": row[1], "first_name": row[2],
                                       "marks": row[3:]} for row in body]})
