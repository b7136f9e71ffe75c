"""REST API for attendance: sessions, classroom photos, records, finalising, one-shot, reports."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from attendance.models import AttendanceRecord, AttendanceSession
from attendance.register import selectors, services
from attendance.register.selectors import session_visible_or_404
from attendance.register.serializers import (
    FinalizeSerializer,
    RecordSerializer,
    RecordUpdateSerializer,
    SessionCreateSerializer,
    SessionDetailSerializer,
    SessionSerializer,
)
from classes.selectors import course_visible_or_404
from school.api.permissions import IsStaff
from school.authenticated import AuthenticatedRequest


class CourseSessionsView(generics.ListAPIView):
    """A course's sessions; POST opens a new one with a record per enrolled student."""

    request: AuthenticatedRequest
    permission_classes = [IsStaff]
    serializer_class = SessionSerializer
    error_statuses = {"post": {409}}

    def get_queryset(self) -> QuerySet[AttendanceSession]:
        if getattr(self, "swagger_fake_view", False):
            return AttendanceSession.objects.none()
        course = course_visible_or_404(user=self.request.user, course_id=self.kwargs["course_id"])
        return course.sessions.select_related("course").order_by("-date", "-created_at")

    @extend_schema(request=SessionCreateSerializer, responses={201: SessionDetailSerializer})
    def post(self, request: AuthenticatedRequest, course_id: int) -> Response:
        course = course_visible_or_404(user=request.user, course_id=course_id)
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
        session = session_visible_or_404(user=request.user, session_id=session_id)
        return Response(SessionDetailSerializer(selectors.session_detail(session=session)).data)


class RecordDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(request=RecordUpdateSerializer, responses=RecordSerializer)
    def patch(self, request: AuthenticatedRequest, session_id: int, student_id: int) -> Response:
        session = session_visible_or_404(user=request.user, session_id=session_id)
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
        session = session_visible_or_404(user=request.user, session_id=session_id)
        serializer = FinalizeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.session_finalize(session=session, by=request.user, **serializer.validated_data)
        return Response(SessionDetailSerializer(selectors.session_detail(session=session)).data)
