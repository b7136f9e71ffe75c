"""The API reads JSON the way its schema says: a value of the wrong JSON type is refused, never coerced.

DRF is lenient on purpose (forms send every value as text): `0` becomes the name "0", `0` or "no" a
false boolean, "12" the number 12. A client that sends a number where the schema promises text has a
bug, and quietly storing "0" hides it. Every API serializer of the project derives from
`StrictSerializer` or `StrictModelSerializer`; the check runs before DRF's own validation, on JSON
bodies only (uploads come as multipart forms, whose values are all text by nature).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.fields import empty

# Digits, and a point followed by digits if any: no sign but minus, no spaces, no "1." or ".5".
DECIMAL_TEXT = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")

# The JSON types each kind of field takes, tried in order (the first matching field class wins).
_TEXT = (str,)
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], str]] = [
    (serializers.BooleanField, (bool,), "a boolean (true or false)"),
    (serializers.MultipleChoiceField, (list,), "a list of the listed values"),
    (serializers.ChoiceField, (str, int), "one of the listed values"),
    (serializers.CharField, _TEXT, "text"),
    (serializers.DateTimeField, _TEXT, "a date and time as text (ISO 8601)"),
    (serializers.DateField, _TEXT, "a date as text (YYYY-MM-DD)"),
    (serializers.TimeField, _TEXT, "a time as text (HH:MM[:SS])"),
    (serializers.DecimalField, _TEXT, "a decimal number written as text, such as \"0.50\""),
    (serializers.IntegerField, (int,), "a whole number"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.ManyRelatedField, (list,), "a list of ids"),
    (serializers.PrimaryKeyRelatedField, (int,), "an id (a whole number)"),
    (serializers.SlugRelatedField, _TEXT, "text"),
    (serializers.ListField, (list,), "a list"),
    (serializers.DictField, (dict,), "an object"),
    (serializers.JSONField, (dict, list, str, int, float, bool), "a JSON value"),
]


def _wrong_type(field: serializers.Field, value: Any) -> str | None:
    """What the field expected, when `value` is not of a JSON type it takes; None when it is."""
    if value is None:
        return None  # DRF's own allow_null check answers this one
    for field_class, types, expected in _JSON_TYPES:
        if isinstance(field, field_class):
            # bool is an int in Python; in JSON true is not 1.
            if isinstance(value, bool) and bool not in types:
                return expected
            if not isinstance(value, types):
                return expected
            if isinstance(field, serializers.DecimalField) and not DECIMAL_TEXT.fullmatch(str(value)):
                return expected
            return None
    return None


class StrictTypesMixin:
    """Refuses (400, VALIDATION_ERROR, one message per field) JSON values of the wrong type."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping) and not isinstance(data, QueryDict):
            errors = {}
            fields: Mapping[str, serializers.Field] = self.fields  # type: ignore[attr-defined]
            for name, field in fields.items():
                if field.read_only or isinstance(field, (serializers.BaseSerializer, serializers.HiddenField)):
                    continue  # nested serializers check their own fields
                value = data.get(name, empty)
                if value is empty:
                    continue
                expected = _wrong_type(field, value)
                if expected:
                    errors[name] = [f"Expected {expected}, got {type(value).__name__}."]
            if errors:
                raise serializers.ValidationError(errors, code="invalid_type")
        return super().to_internal_value(data)  # type: ignore[misc]


class StrictSerializer(StrictTypesMixin, serializers.Serializer):
    """A serializer of the API: JSON types as the schema says."""


class StrictModelSerializer(StrictTypesMixin, serializers.ModelSerializer):
    """A model serializer of the API: JSON types as the schema says."""
