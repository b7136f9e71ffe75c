"""Validators shared by the API's serializers."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.core.validators import RegexValidator
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.validators import UniqueValidator


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


# A date of the school's life: a typo such as 0359 or 3026 is refused, not stored. The schema says the
# same with a pattern on the year (SchoolDateField), so a client sees the range before sending.
EARLIEST_DATE = datetime.date(2000, 1, 1)
LATEST_DATE = datetime.date(2099, 12, 31)
SCHOOL_DATE_PATTERN = r"^20[0-9]{2}-"


def school_date(value: datetime.date) -> None:
    """Refuses a date outside EARLIEST_DATE..LATEST_DATE with a message that gives the range."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(f"Give a date between {EARLIEST_DATE:%Y-%m-%d} and {LATEST_DATE:%Y-%m-%d}.",
                              code="date_out_of_range")


@extend_schema_field({"type": "string", "format": "date", "pattern": SCHOOL_DATE_PATTERN})
class SchoolDateField(serializers.DateField):
    """A DateField limited to the school's dates (school_date)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(school_date)


# Codes people type and read (course codes): no control characters (tabs, line breaks, escapes, NUL…).
printable = RegexValidator(r"^[^\x00-\x1f\x7f-\x9f]*$", message="Use letters, digits and punctuation only: "
                           "no control characters such as tabs or line breaks.", code="not_printable")
