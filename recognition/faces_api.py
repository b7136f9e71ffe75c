"""REST API for enrolled faces: /api/v1/students/{id}/faces/ and /api/v1/students/me/faces/.

A face a student enrolls themself waits for staff approval (…/faces/{face_id}/approve/ or reject/)."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import StudentProfile
from accounts.selectors import student_list_visible
from recognition import services
from recognition.models import FaceEmbedding
from recognition.serializers import FaceSerializer, ImageUploadSerializer, read_upload
from school.api.permissions import IsStaff
from school.api.throttling import FaceEnrolThrottle
from school.authenticated import AuthenticatedRequest
from school.errors import DomainError, ErrorKind


def _visible_student(request: AuthenticatedRequest, student_id: int) -> StudentProfile:
    return get_object_or_404(student_list_visible(user=request.user), pk=student_id)


def _enrol(request: AuthenticatedRequest, student: StudentProfile) -> Response:
    upload = ImageUploadSerializer(data=request.data)
    upload.is_valid(raise_exception=True)
    face = services.face_enrol(student=student, image=read_upload(upload.validated_data["image"]),
                               by=request.user, filename=upload.validated_data["image"].name)
    return Response(FaceSerializer(face).data, status=status.HTTP_201_CREATED)


class StudentFacesView(APIView):
    """A student's enrolled faces. Enrolling needs the student's recorded consent."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [FaceEnrolThrottle]  # POSTs only: listing faces is not counted
    error_statuses = {"post": {403, 409, 422, 502, 503}}

    @extend_schema(responses=FaceSerializer(many=True))
    def get(self, request: AuthenticatedRequest, student_id: int) -> Response:
        student = _visible_student(request, student_id)
        faces = FaceEmbedding.objects.filter(student=student).order_by("created_at")
        return Response(FaceSerializer(faces, many=True).data)

    @extend_schema(request={"multipart/form-data": ImageUploadSerializer}, responses={201: FaceSerializer})
    def post(self, request: AuthenticatedRequest, student_id: int) -> Response:
        return _enrol(request, _visible_student(request, student_id))


class StudentFaceDetailView(APIView):
    permission_classes = [IsAuthenticated]
    error_statuses = {"delete": {403}}

    @extend_schema(responses={204: None})
    def delete(self, request: AuthenticatedRequest, student_id: int, face_id: int) -> Response:
        student = _visible_student(request, student_id)
        face = get_object_or_404(FaceEmbedding.objects.select_related("student"), student=student, pk=face_id)
        services.face_embedding_delete(face=face, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StudentFaceReviewView(APIView):
    """Staff approve (the face is matched from now on) or reject (it is deleted) a self-enrolled face."""

    permission_classes = [IsStaff]
    decision = ""

    @extend_schema(request=None, responses={200: FaceSerializer, 204: None})
    def post(self, request: AuthenticatedRequest, student_id: int, face_id: int) -> Response:
        student = _visible_student(request, student_id)
        face = get_object_or_404(FaceEmbedding, student=student, pk=face_id)
        if self.decision == "approve":
            return Response(FaceSerializer(services.face_approve(face=face, by=request.user)).data)
        services.face_reject(face=face, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MyFacesView(APIView):
    """A student enrolling their own face from the mobile app."""

    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [FaceEnrolThrottle]  # POSTs only: listing faces is not counted
    error_statuses = {"get": {403}, "post": {403, 409, 422, 502, 503}}

    def _me(self, request: AuthenticatedRequest) -> StudentProfile:
        student = StudentProfile.objects.filter(user=request.user).first()
        if student is None:
            raise DomainError("Only a student account has its own faces.", error_code="NOT_A_STUDENT",
                              kind=ErrorKind.FORBIDDEN)
        return student

    @extend_schema(responses=FaceSerializer(many=True))
    def get(self, request: AuthenticatedRequest) -> Response:
        faces = FaceEmbedding.objects.filter(student=self._me(request)).order_by("created_at")
        return Response(FaceSerializer(faces, many=True).data)

    @extend_schema(request={"multipart/form-data": ImageUploadSerializer}, responses={201: FaceSerializer})
    def post(self, request: AuthenticatedRequest) -> Response:
        return _enrol(request, self._me(request))
