"""The access log of biometric data and reports: one row per read of a face or classroom photo, a face
crop, a check-in selfie, a report or register (page, JSON, CSV or PDF), or the faces in the Django admin.

Pages and the API alike are logged by one middleware (`AccessLogMiddleware`) from the classification of
every route (`access_routes_declare`, filled in by each app); the admin calls `access_log_add` itself."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from school.models import AccessLogEntry

Kind = AccessLogEntry.Kind
How = AccessLogEntry.How


def access_log_add(*, user: Any, kind: str, how: str, object_type: str, object_id: Any = "",
                   path: str = "") -> AccessLogEntry:
    """Writes one entry (who: the user; what: kind, object type and id; when: now; how: page/API/admin)."""
    known = user if user is not None and user.is_authenticated else None
    return AccessLogEntry.objects.create(user=known, username=known.get_username() if known else "anonymous",
                                         kind=kind, how=how, object_type=object_type[:40],
                                         object_id=str(object_id)[:40], path=path[:300])


@dataclass(frozen=True)
class Logged:
    """A route that serves biometric data or a report: each successful read (GET, 200) writes an entry.
    `download_kind`: the kind when the answer is a download (CSV, PDF) rather than a page or JSON."""

    kind: str
    object_type: str
    object_kwarg: str | None = None
    download_kind: str | None = None


@dataclass(frozen=True)
class NotLogged:
    """A route that serves neither biometric data nor a report, and why."""

    reason: str


RouteClass = Logged | NotLogged
# Every route of the site, classified by the app that owns it (AppConfig.ready(), through
# access_routes_declare): keys are URL names, "api:" + the name for the API (its names repeat the
# pages'), "<namespace>:*" for a whole namespace. tests/school/test_access_log_routes.py walks the URL
# resolver and fails on a route nobody classified.
_routes: dict[str, RouteClass] = {}


def access_routes_declare(routes: Mapping[str, RouteClass]) -> None:
    _routes.update(routes)


def route_key(*, route: str, view_name: str, url_name: str | None) -> str:
    """The key of a route in the classification: its view name, "api:"-prefixed under /api/."""
    return f"api:{view_name}" if route.startswith("api/") and url_name else view_name


def route_class(key: str) -> RouteClass | None:
    """How a route is classified (None: not classified at all)."""
    if key in _routes:
        return _routes[key]
    namespace, _, _ = key.rpartition(":")
    return _routes.get(f"{namespace}:*") if namespace else None


class AccessLogMiddleware:
    """Writes the access-log entry of every successful read of a route classified `Logged`, whether a
    page or the API asked (the API's JWT user is known here: DRF sets it on the request)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        match = request.resolver_match
        if match is None or request.method not in ("GET", "HEAD") or response.status_code != 200:
            return response
        key = route_key(route=match.route, view_name=match.view_name, url_name=match.url_name)
        rule = route_class(key)
        if isinstance(rule, Logged):
            downloaded = "attachment" in response.get("Content-Disposition", "")
            access_log_add(user=getattr(request, "user", None),
                           kind=rule.download_kind if downloaded and rule.download_kind else rule.kind,
                           how=How.API if key.startswith("api:") else How.PAGE, object_type=rule.object_type,
                           object_id=match.kwargs.get(rule.object_kwarg, "") if rule.object_kwarg else "",
                           path=request.get_full_path())
        return response


def access_log_list(*, username: str = "", kind: str = "", date_from: datetime.date | None = None,
                    date_to: datetime.date | None = None) -> QuerySet[AccessLogEntry]:
    """The log, newest first, filtered by user (name contains), kind and date range."""
    entries = AccessLogEntry.objects.all()
    if username:
        entries = entries.filter(username__icontains=username)
    if kind:
        entries = entries.filter(kind=kind)
    if date_from:
        entries = entries.filter(at__date__gte=date_from)
    if date_to:
        entries = entries.filter(at__date__lte=date_to)
    return entries

