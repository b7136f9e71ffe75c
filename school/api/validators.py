"""Validators shared by the API's serializers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.validators import UniqueValidator

from school.clock import school_today
from school.errors import DomainError
from school.validators import BIRTH_DATE_PATTERN, SCHOOL_DATE_PATTERN, school_date


class VisibleUniqueValidator(UniqueValidator):
    """A uniqueness check whose message depends on who asks: when the clashing object is one the user
    may see, it says so; when it belongs to someone else (another teacher's course or student), the
    message is generic and names nothing about it."""

    def __init__(self, queryset: QuerySet, *, visible: Callable[..., QuerySet], seen_message: str,
                 unseen_message: str, lookup: str = "exact") -> None:
        super().__init__(queryset=queryset, message=seen_message, lookup=lookup)
        self.visible = visible
        self.unseen_message = unseen_message

    def __call__(self, value: Any, serializer_field: Any) -> None:
        try:
            super().__call__(value, serializer_field)
        except ValidationError:
            request = serializer_field.context.get("request")
            user = getattr(request, "user", None)
            clash = self.exclude_current_instance(
                self.filter_queryset(value, self.queryset, serializer_field.source_attrs[-1]),
                getattr(serializer_field.parent, "instance", None))
            if user is not None and user.is_authenticated and self.visible(user=user).filter(pk__in=clash).exists():
                raise
            raise ValidationError(self.unseen_message, code="unique") from None



@extend_schema_field({"type": "string", "format": "date", "pattern": SCHOOL_DATE_PATTERN})
class SchoolDateField(serializers.DateField):
    """A DateField limited to the school's dates (school_date)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(school_date)


@extend_schema_field({"type": "string", "format": "date", "pattern": BIRTH_DATE_PATTERN})
class BirthDateField(serializers.DateField):
    """A date of birth: 1900-2099 as the schema says; one after today is a rule the schema cannot
    state, refused with its own code (BIRTH_DATE_IN_FUTURE), not as a malformed value."""

    def to_internal_value(self, value: Any) -> Any:
        day = super().to_internal_value(value)
        if not 1900 <= day.year <= 2099:
            self.fail("invalid", format="YYYY-MM-DD, a year from 1900 to 2099")
        if day > school_today():
            raise DomainError("A date of birth cannot be after today.", error_code="BIRTH_DATE_IN_FUTURE",
                              details={"date_of_birth": ["A date of birth cannot be after today."]})
        return day
