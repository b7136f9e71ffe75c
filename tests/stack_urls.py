"""The web role's routes plus the recognition API, whatever RECOGNITION_API_KEY was at import: tests
that serve both from one process (the recognition server thread and the API under test)."""

from __future__ import annotations

from django.urls import include, path

from smart_attendance.urls import urlpatterns as web

urlpatterns = [*web, path("", include("recognition.urls"))]
