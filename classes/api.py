"""REST API for courses, their rosters and enrolments."""

from __future__ import annotations

from typing import cast

from django.db.models import Count, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.selectors import student_list_visible
from accounts.serializers import StudentSerializer
from classes import services
from classes.models import Course
from classes.selectors import course_list_visible, course_students
from classes.serializers import CourseSerializer, EnrollmentRequestSerializer, EnrollmentResultSerializer
from school.api.permissions import IsStaffOrReadOnly
from school.authenticated import AuthenticatedRequest
from school.errors import DomainError, ErrorKind


class CourseViewSet(viewsets.ModelViewSet):
    """Courses. A teacher sees and changes only the courses they teach; students read theirs."""

    request: AuthenticatedRequest
    serializer_class = CourseSerializer
    permission_classes = [IsStaffOrReadOnly]
    filterset_fields = ["teacher"]
    search_fields = ["code", "name"]
    ordering_fields = ["code", "name", "created_at"]

    def get_queryset(self) -> QuerySet[Course]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Course.objects.none()
        return course_list_visible(user=self.request.user).prefetch_related("timetable_slots")

    def perform_create(self, serializer: BaseSerializer) -> None:
        course = services.course_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=course.pk)

    def perform_update(self, serializer: BaseSerializer) -> None:
        course = cast(Course, serializer.instance)
        services.course_update(course=course, by=self.request.user, data=dict(serializer.validated_data))
        serializer.instance = self.get_queryset().get(pk=course.pk)

    def perform_destroy(self, instance: Course) -> None:
        services.course_delete(course=instance)

    @extend_schema(responses=StudentSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=StudentSerializer)
    def students(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        course = self.get_object()
        # A student attending the course sees only themself, never a classmate (SPEC §4).
        students = (course_students(course=course).filter(pk__in=student_list_visible(user=request.user).values("pk"))
                    .annotate(face_count=Count("face_embeddings", distinct=True)))
        page = self.paginate_queryset(self.filter_queryset_for_students(students))
        return self.get_paginated_response(StudentSerializer(page, many=True).data)

    @staticmethod
    def filter_queryset_for_students(students: QuerySet) -> QuerySet:
        return students.order_by("last_name", "first_name", "student_number")

    @extend_schema(request=EnrollmentRequestSerializer, responses={201: EnrollmentResultSerializer})
    @action(detail=True, methods=["post"], url_path="enrollments", serializer_class=EnrollmentRequestSerializer)
    def enroll(self, request: AuthenticatedRequest, pk: str | None = None) -> Response:
        course = self.get_object()
        serializer = EnrollmentRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted = set(serializer.validated_data["student_ids"])
        students = list(student_list_visible(user=request.user).filter(pk__in=wanted))
        unknown = sorted(wanted - {student.pk for student in students})
        if unknown:
            raise ValidationError({"student_ids": [f"Unknown student ids: {', '.join(map(str, unknown))}"]})
        new = services.enrollment_add(course=course, students=students)
        new_ids = sorted(enrollment.student_id for enrollment in new)
        body = {"enrolled": new_ids, "already_enrolled": sorted(wanted - set(new_ids))}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["delete"], url_path=r"enrollments/(?P<student_id>\d+)")
    def unenroll(self, request: AuthenticatedRequest, pk: str | None = None, student_id: str = "") -> Response:
        course = self.get_object()
        student = course_students(course=course).filter(pk=student_id).first()
        if student is None or not services.enrollment_remove(course=course, student=student):
            raise DomainError("This student is not enrolled in this course.", error_code="NOT_FOUND",
                              kind=ErrorKind.NOT_FOUND)
        return Response(status=status.HTTP_204_NO_CONTENT)
