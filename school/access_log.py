"""The access log of biometric data and report exports: one row per view of a face or classroom
photo, a face crop, a report download or the faces in the Django admin.

Views call `access_logged` (a decorator for page views) or `access_log_add` (API and admin)."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from functools import wraps
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


ViewFunction = Callable[..., HttpResponseBase]


def access_logged(kind: str, *, object_type: str, object_kwarg: str | None = None,
                  attachment_only: bool = False) -> Callable[[ViewFunction], ViewFunction]:
    """Logs each successful (200) response of a page view. With `attachment_only`, only downloads
    (a report view that also renders a page logs its CSV/PDF only)."""

    def decorator(view: ViewFunction) -> ViewFunction:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            downloaded = "attachment" in response.get("Content-Disposition", "")
            if response.status_code == 200 and (downloaded or not attachment_only):
                access_log_add(user=request.user, kind=kind, how=How.PAGE, object_type=object_type,
                               object_id=kwargs.get(object_kwarg, "") if object_kwarg else "",
                               path=request.get_full_path())
            return response

        return wrapper

    return decorator


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

