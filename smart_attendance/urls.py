"""Root URLs of the web role: pages, admin, REST API v1, its schema, and the recognition API."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularSwaggerView

from school import health
from school.api.schema import SchemaView
from school.api.throttling import LoginThrottle
from school.pages import throttled
from smart_attendance.api_urls import urlpatterns as api_v1

admin.site.site_header = "Smart Attendance administration"
admin.site.site_title = "Smart Attendance"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", health.metrics, name="metrics"),
    # Login, password reset and change POSTs share the API token endpoint's per-IP limit; django-axes
    # locks a username + IP out after repeated wrong passwords.
    path("accounts/", include("accounts.auth_views")),
    path("admin/login/", throttled(LoginThrottle)(admin.site.login), name="admin-login"),
    # The admin pages of models that moved to `school` in the re-layering: old bookmarks still land.
    re_path(r"^admin/(?:accounts|attendance|classes)/(?P<model>accesslogentry|outboxmessage|schoolsettings|term|closure)"
            r"/(?P<rest>.*)$", RedirectView.as_view(url="/admin/school/%(model)s/%(rest)s", permanent=True,
                                                   query_string=True), name="admin-moved-models"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("school.urls")),
    path("", include("attendance.urls")),
    path("", include("attendance.people.urls")),
    path("", include("accounts.office_views")),
    path("", include("classes.office_views")),
]

if settings.RECOGNITION_API_ON_WEB and settings.RECOGNITION_API_KEY:
    # The web role serves the recognition API too only when explicitly asked and protected by a key
    # (a web role using the remote backend has the key too, to send it); the recognition role
    # (SERVICE_ROLE=recognition, urls_recognition.py) always serves it.
    urlpatterns += [path("", include("recognition.urls"))]

# No /media/ route in any configuration, DEBUG included: stored faces and classroom photos are
# biometric data, streamed only by login-protected views (face-image, session-photo-image).

# Under /api/, a request Django refuses, an unknown URL and an unhandled exception answer JSON (school/api/errors.py).
handler400 = "school.api.errors.bad_request"
handler404 = "school.api.errors.not_found"
handler500 = "school.api.errors.server_error"
