"""The AutoSchema that documents every error status of every operation, in the one error shape."""

from __future__ import annotations

from typing import Any

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


class SchoolAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus every error status an operation can answer, in the error shape.

    Derived from the operation (login needed → 401, a role check → 403, path ids or pages → 404, a
    body or query parameters → 400, a body → 415, an upload → 413, a throttle → 429); statuses that
    only the view knows (409, 422, 503…) come from its `error_statuses = {"post": {409}}`."""

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> dict[str, Any]:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema.get("format") == "time":
            del schema["format"]
            schema.update(pattern=SCHOOL_TIME_PATTERN, example="09:00:00")
        return schema

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
            codes.add(415)
            if "multipart/form-data" in body.get("content", {}):
                codes.add(413)
        if view.get_throttles():
            codes.add(429)
        return codes
