"""Query filters read as the schema says (django-filter, a little stricter).

- An empty filter (`?date=`) is a 400: the schema's types have no empty value.
- A boolean filter takes `true` or `false`; anything else (`null`, `yes`, `2`) is a 400, not a filter
  silently dropped (django-filter's widget reads unknown words as "no filter").
- A filter naming an object the user cannot see or that does not exist (`?course=999`) answers an
  empty list: what that object holds, for this user, is nothing; nor does the answer tell whether it
  exists (another teacher's course and no course look the same).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters import BooleanFilter, ModelChoiceFilter, ModelMultipleChoiceFilter
from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

BOOLEAN_WORDS = {"true", "false"}


class StrictFilterBackend(DjangoFilterBackend):
    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        loose = {name: ["Give a value or leave the parameter out."] for name in filterset.filters
                 if "" in request.query_params.getlist(name)}
        loose.update({name: ["Use true or false."] for name, flt in filterset.filters.items()
                      if isinstance(flt, BooleanFilter) and name not in loose
                      and any(value not in BOOLEAN_WORDS for value in request.query_params.getlist(name))})
        if loose:
            raise ValidationError(loose)
        if not filterset.is_valid():
            errors = filterset.form.errors.as_data()
            unknown_ids = all(
                isinstance(filterset.filters.get(name), ModelChoiceFilter | ModelMultipleChoiceFilter)
                and all(error.code in {"invalid_choice", "invalid_pk_value"} for error in field_errors)
                for name, field_errors in errors.items())
            if unknown_ids and not self._malformed(filterset, errors):
                return queryset.none()
            raise translate_validation(filterset.errors)
        return filterset.qs

    @staticmethod
    def _malformed(filterset: Any, errors: dict[str, Any]) -> bool:
        """An id filter given something that is not an id at all (`?course=abc`) stays a 400."""
        for name in errors:
            field = filterset.form.fields[name]
            for value in filterset.form.data.getlist(name) if hasattr(filterset.form.data, "getlist") else []:
                try:
                    field.queryset.model._meta.pk.to_python(value)
                except Exception:
                    return True
        return False
