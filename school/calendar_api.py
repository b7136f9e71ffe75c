"""REST API of the school calendar: /api/v1/calendar/terms/ and /api/v1/calendar/closures/.
Staff read it; only the office (admins) changes it."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.serializers import BaseSerializer

from school import calendar as calendar_services
from school.api.permissions import IsSchoolAdmin, IsStaff
from school.api.strict import StrictModelSerializer
from school.api.validators import SchoolDateField
from school.models import Closure, Term


class TermSerializer(StrictModelSerializer):
    starts_on = SchoolDateField()
    ends_on = SchoolDateField()

    class Meta:
        model = Term
        fields = ["id", "name", "starts_on", "ends_on"]


class ClosureSerializer(StrictModelSerializer):
    starts_on = SchoolDateField()
    ends_on = SchoolDateField()

    class Meta:
        model = Closure
        fields = ["id", "name", "kind", "starts_on", "ends_on"]


class _CalendarViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                       mixins.DestroyModelMixin, viewsets.GenericViewSet):
    def get_permissions(self) -> list[BasePermission]:
        request: Request = self.request
        return [IsStaff()] if request.method in SAFE_METHODS else [IsSchoolAdmin()]

    def perform_destroy(self, instance: Term | Closure) -> None:
        calendar_services.calendar_entry_delete(entry=instance)


class TermViewSet(_CalendarViewSet):
    """School terms: sessions are expected on their days (when any term is defined)."""

    serializer_class = TermSerializer
    error_statuses = {"post": {409}}  # TERM_OVERLAP

    def get_queryset(self) -> QuerySet[Term]:
        return Term.objects.order_by("starts_on")

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = calendar_services.term_create(**serializer.validated_data)


class ClosureViewSet(_CalendarViewSet):
    """Holidays and closures: no session is expected on their days."""

    serializer_class = ClosureSerializer
    filterset_fields = ["kind"]

    def get_queryset(self) -> QuerySet[Closure]:
        return Closure.objects.order_by("starts_on")

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = calendar_services.closure_create(**serializer.validated_data)
