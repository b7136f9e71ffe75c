"""The AutoSchema that documents every error status of every operation, in the one error shape."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers


class ErrorSerializer(serializers.Serializer):
    """The one error shape of the API (school/api/errors.py)."""

    error_code = serializers.CharField(help_text="Stable: clients branch on it.")
    message = serializers.CharField(help_text="For people; may change.")
    details = serializers.JSONField(required=False, help_text="Field errors, conflicting ids, the request id…")


ERROR_DESCRIPTIONS = {
    400: "Invalid input (VALIDATION_ERROR with the field errors, MALFORMED_REQUEST, or a refusal such as an "
         "unusable photo).",
    401: "No or invalid credentials (NOT_AUTHENTICATED, AUTHENTICATION_FAILED, TOKEN_INVALID).",
    403: "Authenticated, but this role may not do this (PERMISSION_DENIED, CONSENT_REQUIRED, NOT_A_STUDENT).",
    404: "No such object among those you may see (NOT_FOUND).",
    409: "Conflicts with the current state (SESSION_EXISTS, SESSION_FINALIZED, PENDING_RECORDS, LAST_ADMIN, …).",
    413: "The upload is too large (IMAGE_TOO_LARGE).",
    415: "Unsupported body or image type (UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_IMAGE_TYPE).",
    422: "The photo has no usable face (NO_FACE_FOUND, MULTIPLE_FACES, FACE_TOO_SMALL, quality).",
    429: "Too many requests (RATE_LIMITED); see Retry-After.",
    502: "The recognition service answered something unusable.",
    503: "Recognition is unavailable (RECOGNITION_UNAVAILABLE); see Retry-After.",
}
_ANY_LOGIN = (permissions.AllowAny, permissions.IsAuthenticated)
# A time of the school day as the API writes it ("09:00:00") and reads it (REST_FRAMEWORK's
# TIME_INPUT_FORMATS: "%H:%M:%S" or "%H:%M"). Not `format: time`: that is RFC 3339's time with a UTC
# offset ("09:00:00+01:00"), and the school's times are wall-clock times without one.
SCHOOL_TIME_PATTERN = r"^([01][0-9]|2[0-3]|[0-9]):([0-5][0-9]|[0-9])(:([0-5][0-9]|[0-9]))?$"


def decimal_pattern(field: serializers.DecimalField) -> str:
    """The pattern of a decimal written as text, as the API reads it (school/api/strict.py): digits, an
    optional point and decimals. With bounds and a few decimals, the pattern lists the values allowed
    (0.35, 0.36 … 0.65, with or without trailing zeros), so the range is in the schema too."""
    places = field.decimal_places or 0
    whole = max((field.max_digits or 20) - places, 1)
    generic = rf"^-?\d{{1,{whole}}}(?:\.\d{{1,{places}}})?$" if places else rf"^-?\d{{1,{whole}}}$"
    low, high = field.min_value, field.max_value
    if low is None or high is None:
        return generic
    step = Decimal(1).scaleb(-places)
    count = int((Decimal(high) - Decimal(low)) / step) + 1
    if count > 400:
        return generic
    forms: list[str] = []
    for index in range(count):
        value = (Decimal(low) + index * step).quantize(step)
        written = f"{value:.{places}f}"
        forms += [written] + [written[:-cut].rstrip(".") for cut in range(1, places + 1) if written.endswith("0" * cut)]
    return "^(?:" + "|".join(re.escape(form) for form in dict.fromkeys(forms)) + ")$"


class SchoolAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus every error status an operation can answer, in the error shape.

    Derived from the operation (login needed → 401, a role check → 403, path ids, pages or ids in a body → 404, a
    body or query parameters → 400, a body → 415, an upload → 413, a throttle → 429); statuses that
    only the view knows (409, 422, 503…) come from its `error_statuses = {"post": {409}}`."""

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            del schema["format"]
            schema.update(pattern=SCHOOL_TIME_PATTERN, example="09:00:00")
        if direction == "request" and isinstance(field, serializers.DecimalField) and schema.get("type") == "string":
            schema["pattern"] = decimal_pattern(field)
        if direction == "request" and isinstance(field, serializers.CharField) and "enum" not in schema:
            self._text_pattern(field, schema)
        return schema

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        self._one_text_schema(schema)

    @staticmethod
    def _one_text_schema(schema: dict[str, Any]) -> None:
        """A text that may be blank and has a pattern is written by drf-spectacular as "oneOf: the pattern, or
        empty"; when the pattern accepts the empty text too (a year group: printable characters, or none),
        "" matches both and oneOf refuses it. The pattern alone then says it all."""
        alternatives = schema.get("oneOf")
        if (isinstance(alternatives, list) and len(alternatives) == 2 and alternatives[1] == {
                "type": "string", "maxLength": 0} and "pattern" in alternatives[0] and "format" not in alternatives[0]
                and re.search(alternatives[0]["pattern"], "") is not None):
            del schema["oneOf"]
            schema.update(alternatives[0])

    @staticmethod
    def _text_pattern(field: serializers.CharField, schema: dict[str, Any]) -> None:
        """The pattern a text value must match, as the validators check it: a RegexValidator of the field
        or its model (a username, a course code), and, where DRF trims then refuses blanks, something
        more than spaces."""
        regexes = [regex.pattern for v in field.validators if isinstance(v, RegexValidator) and not v.inverse_match
                   for regex in [re.compile(v.regex)] if not regex.flags & re.IGNORECASE]
        pattern = schema.get("pattern") or (regexes[0].replace("\\Z", "$") if len(regexes) == 1 else None)
        if (pattern is None and "format" not in schema
                and any(isinstance(v, ProhibitNullCharactersValidator) for v in field.validators)):
            pattern = "^[^\\x00]*$"  # DRF refuses NUL in every plain text field: the schema says so
        if not field.allow_blank and field.trim_whitespace and type(field) in (serializers.CharField,
                                                                               serializers.SlugField):
            body = pattern[1:] if pattern and pattern.startswith("^") else (f".*(?:{pattern})" if pattern else "")
            pattern = f"^(?=.*\\S){body}"
        if pattern:
            schema["pattern"] = pattern

    def get_operation(self, path: str, path_regex: str, path_prefix: str, method: str,
                      registry: Any) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        self._add_download_types(operation)
        component = self.resolve_serializer(ErrorSerializer, "response")
        for code in sorted(self._error_statuses(operation)):
            operation["responses"].setdefault(str(code), {
                "description": ERROR_DESCRIPTIONS[code], "content": {"application/json": {"schema": component.ref}}})
        return operation

    @staticmethod
    def _add_download_types(operation: dict[str, Any]) -> None:
        """`?format=csv` / `?format=pdf` downloads the same report: its 200 has those media types too."""
        fmt = next((p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] == "format"), None)
        content = operation.get("responses", {}).get("200", {}).get("content")
        if fmt is None or content is None:
            return
        formats = fmt.get("schema", {}).get("enum", [])
        if "csv" in formats:
            content.setdefault("text/csv", {"schema": {"type": "string"}})
        if "pdf" in formats:
            content.setdefault("application/pdf", {"schema": {"type": "string", "format": "binary"}})

    def _error_statuses(self, operation: dict[str, Any]) -> set[int]:
        view, method = self.view, self.method.lower()
        permission_classes = [type(p) for p in view.get_permissions()]
        # 401 everywhere: an invalid or expired token is refused before the permission check, even
        # where no login is needed.
        codes: set[int] = {401, *getattr(view, "error_statuses", {}).get(method, ())}
        if not all(issubclass(cls, _ANY_LOGIN) for cls in permission_classes):
            codes.add(403)
        parameters = operation.get("parameters", [])
        if any(p["in"] == "path" for p in parameters) or any(p["name"] == "page" for p in parameters):
            codes.add(404)
        body = operation.get("requestBody")
        if body or any(p["in"] == "query" for p in parameters):
            codes.add(400)
        if body:
            # 404 and 409 as well: an id in the body that names nothing this user may see, a value
            # already taken (school/api/errors.py).
            codes.update({404, 409, 415})
            if "multipart/form-data" in body.get("content", {}):
                codes.add(413)
        if view.get_throttles():
            codes.add(429)
        return codes
