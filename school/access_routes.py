"""The access-log classification of the routes the core and the project serve (see school/access_log.py)."""

from __future__ import annotations

from school.access_log import NotLogged, RouteClass

_OPERATIONS = NotLogged("operations: liveness, readiness and metrics, no personal data")
_API_DESCRIPTION = NotLogged("the API's description, no data")
_SCHOOL = NotLogged("the school's calendar, settings and e-mail queue: no biometric data, no report")

ROUTES: dict[str, RouteClass] = {
    "healthz": _OPERATIONS, "readyz": _OPERATIONS, "metrics": _OPERATIONS,
    "api:api-root": _API_DESCRIPTION, "api:api-schema": _API_DESCRIPTION, "api:api-docs": _API_DESCRIPTION,
    "office-calendar": _SCHOOL, "office-calendar-delete": _SCHOOL, "office-settings": _SCHOOL,
    "office-outbox": _SCHOOL, "office-outbox-retry": _SCHOOL,
    "api:term-list": _SCHOOL, "api:term-detail": _SCHOOL, "api:closure-list": _SCHOOL, "api:closure-detail": _SCHOOL,
    # The Django admin logs its own views of faces (recognition/admin.py, kind admin_faces).
    "admin:*": NotLogged("the Django admin: its face pages log themselves"),
    "admin-login": NotLogged("signing in"),
    "admin-moved-models": NotLogged("a redirect of old admin addresses"),
}
