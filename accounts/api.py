"""REST API for authentication, the current user, users (admins) and students."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import Count, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView, TokenVerifyView

from accounts import services
from accounts.consent import CONSENT_TEXT_VERSION
from accounts.devices import device_remember
from accounts.models import ConsentEvent, StudentProfile, User
from accounts.selectors import consent_history, student_list_visible, teacher_settings_get
from accounts.serializers import (
    ConsentChangeSerializer,
    ConsentHistorySerializer,
    LogoutSerializer,
    MeSerializer,
    StudentSerializer,
    TeacherSettingsSerializer,
    UserSerializer,
)
from accounts.tokens import RevocationCheckingRefreshSerializer, RevocationCheckingVerifySerializer
from school.api.permissions import IsSchoolAdmin, IsStaffOrReadOnly
from school.api.throttling import LoginThrottle, login_cooloff_seconds
from school.authenticated import AuthenticatedRequest
from school.errors import DomainError, ErrorKind


class ThrottledTokenObtainView(TokenObtainPairView):
    """POST {username, password} → {access, refresh}. Rate-limited per name and client IP, and a username
    is locked out for that IP after repeated wrong passwords (django-axes): 429 with Retry-After. A
    client that keeps the `login_device` cookie of its last success is counted on its own instead."""

    throttle_classes = [LoginThrottle]

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            response = super().post(request, *args, **kwargs)
        except AuthenticationFailed:
            # django-axes marks the (DRF) request it was given; its middleware only sees Django's.
            if getattr(request, "axes_locked_out", False):
                raise Throttled(wait=login_cooloff_seconds(), detail=(
                    "Too many failed logins for this username: try again later, or ask an administrator "
                    "to unlock the account.")) from None
            raise
        # The app (its cookie jar) is now a trusted device of the login: others' wrong passwords do not lock it.
        device_remember(request=request, response=response, username=str(cast(dict, request.data)["username"]))
        return response


class RotatingTokenRefreshView(TokenRefreshView):
    """POST {refresh} → a new access token and a new refresh token; the old refresh is blacklisted.
    A refresh token issued before a password change is refused (401)."""

    serializer_class = RevocationCheckingRefreshSerializer


class RevocationCheckingVerifyView(TokenVerifyView):
    """POST {token}: 200 when the token is valid, not blacklisted and issued under the current password."""

    serializer_class = RevocationCheckingVerifySerializer


class LogoutView(APIView):
    """POST {refresh}: blacklists the refresh token so it can never be used again."""

    permission_classes = [AllowAny]  # the refresh token itself is the credential

    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request: AuthenticatedRequest) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        RefreshToken(serializer.validated_data["refresh"]).blacklist()
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        return Response(MeSerializer(request.user).data)


class MySettingsView(APIView):
    """A teacher's thresholds and notification switches."""

    error_statuses = {"get": {403}, "patch": {403}}

    @extend_schema(responses=TeacherSettingsSerializer)
    def get(self, request: AuthenticatedRequest) -> Response:
        self._require_teacher(request)
        return Response(TeacherSettingsSerializer(teacher_settings_get(user=request.user)).data)

    @extend_schema(request=TeacherSettingsSerializer, responses=TeacherSettingsSerializer)
    def patch(self, request: AuthenticatedRequest) -> Response:
        self._require_teacher(request)
        current = teacher_settings_get(user=request.user)
        serializer = TeacherSettingsSerializer(current, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        updated = services.teacher_settings_update(user=request.user, data=dict(serializer.validated_data))
        return Response(TeacherSettingsSerializer(updated).data)

    @staticmethod
    def _require_teacher(request: AuthenticatedRequest) -> None:
        if request.user.is_student:
            raise DomainError("Only teachers and admins have settings.", error_code="PERMISSION_DENIED",
                              kind=ErrorKind.FORBIDDEN)


class UserViewSet(viewsets.ModelViewSet):
    """Logins of the school. Administrators only."""

    request: AuthenticatedRequest
    serializer_class = UserSerializer
    permission_classes = [IsSchoolAdmin]
    error_statuses = {"put": {409}, "patch": {409}, "delete": {409}}
    queryset = User.objects.all()
    filterset_fields = ["role", "is_active"]
    search_fields = ["username", "email", "first_name", "last_name"]
    ordering_fields = ["username", "date_joined"]

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.user_create(**serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.user_update(user=cast(User, serializer.instance),
                                                   data=dict(serializer.validated_data),
                                                   by=self.request.user)

    def perform_destroy(self, instance: User) -> None:
        services.user_delete(user=instance, by=self.request.user)


class StudentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Students. Teachers see their courses' students and those they created; a student sees themself."""

    request: AuthenticatedRequest
    serializer_class = StudentSerializer
    permission_classes = [IsStaffOrReadOnly]
    error_statuses = {"delete": {403}}
    filterset_fields = {"consent_given": ["exact"], "enrollments__course": ["exact"]}
    search_fields = ["student_number", "first_name", "last_name"]
    ordering_fields = ["student_number", "last_name", "created_at"]

    def get_queryset(self) -> QuerySet[StudentProfile]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return StudentProfile.objects.none()
        return student_list_visible(user=self.request.user).annotate(face_count=Count("face_embeddings", distinct=True))

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.student_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.student_update(student=cast(StudentProfile, serializer.instance),
                                                      by=self.request.user,
                                                      data=dict(serializer.validated_data))

    def perform_destroy(self, instance: StudentProfile) -> None:
        user = self.request.user
        if not (user.is_school_admin or instance.created_by_id == user.pk):
            raise DomainError("Only an administrator or the teacher who created this student may delete it.",
                              error_code="PERMISSION_DENIED", kind=ErrorKind.FORBIDDEN)
        services.student_delete(student=instance, by=user)

    @extend_schema(request=ConsentChangeSerializer, responses={200: ConsentHistorySerializer,
                                                               201: ConsentHistorySerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=ConsentChangeSerializer)
    def consent(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        """GET: the consent history and erasure receipts. POST (staff): record a grant or a withdrawal
        (a withdrawal deletes the student's faces and enrolment photos); 201 when something was
        recorded, 200 when it changed nothing."""
        student = self.get_object()
        recorded = None
        if request.method == "POST":
            serializer = ConsentChangeSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
            recorded = services.student_consent_set(
                student=student, consent_given=data["consent_given"], by=request.user,
                channel=ConsentEvent.Channel.API, given_by=data["given_by"], given_by_name=data["given_by_name"],
                note=data["note"])
        history = consent_history(student=student)
        body = ConsentHistorySerializer({"consent_given": student.consent_given, "text_version": CONSENT_TEXT_VERSION,
                                         "events": history.events, "erasure_receipts": history.receipts}).data
        return Response(body, status=status.HTTP_201_CREATED if recorded else status.HTTP_200_OK)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().update(request, *args, **kwargs)
        # Re-read so the annotated face count reflects a consent withdrawal.
        response.data = self.get_serializer(self.get_object()).data
        return response
