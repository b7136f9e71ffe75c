"""Root URLs of the recognition role (SERVICE_ROLE=recognition): only the recognition HTTP API."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("recognition.urls"))]

# Under /api/, an unknown URL and an unhandled exception answer JSON (school/api/errors.py).
handler404 = "school.api.errors.not_found"
handler500 = "school.api.errors.server_error"
