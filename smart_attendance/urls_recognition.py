"""Root URLs of the recognition role (SERVICE_ROLE=recognition): only the recognition HTTP API."""

from __future__ import annotations

from django.urls import include, path

urlpatterns = [path("", include("recognition.urls"))]
