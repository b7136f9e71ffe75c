"""Shared pieces of the staff pages: the staff-only decorator and refusals in a teacher's words."""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render

from school.api.throttling import ScopedUserThrottle, first_refusal, login_cooloff_seconds
from school.authenticated import AuthenticatedHttpRequest
from school.errors import DomainError, ErrorKind
from school.statuses import status_of

View = Callable[..., HttpResponseBase]


def staff_required(view: View) -> View:
    """Logged-in teachers and admins; a student account gets 403 on staff pages."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not (request.user.is_teacher or request.user.is_school_admin):
            raise PermissionDenied("Staff pages are for teachers and administrators.")
        return view(request, *args, **kwargs)

    return wrapper


def private_image(file: FieldFile, *, missing: str) -> FileResponse:
    """A stored photo streamed to the one user allowed to see it (never a public media URL)."""
    if not file:
        raise Http404(missing)
    response = FileResponse(file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


def refusal_text(exc: Exception) -> str:
    """The message of a service refusal, for a page (the messages are written for people)."""
    if isinstance(exc, DomainError) and exc.kind is ErrorKind.UNAVAILABLE and exc.retry_after is not None:
        return f"Face recognition is not available right now; try again in {exc.retry_after} seconds."
    return str(exc)


def refusal_status(exc: Exception) -> int:
    """The HTTP status the REST API would give the same refusal."""
    if isinstance(exc, DomainError):
        return status_of(exc)
    return 400


# What a page catches from a service and shows as a message (recognition errors are domain errors).
REFUSALS = (DomainError,)


def wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def upload_reply(request: HttpRequest, text: str, *, back: str, status: int = 200,
                 extra: dict[str, Any] | None = None) -> HttpResponse:
    """The answer to a file posted from a page: JSON ({ok, message, …extra}) for the page's script, else
    the message on the page at `back` (a redirect). A status of 400 or more is an error."""
    ok = status < 400
    if wants_json(request):
        return JsonResponse({"ok": ok, "message": text, **(extra or {})}, status=status)
    (messages.success if ok else messages.error)(request, text)
    return redirect(back)


def too_many_requests(request: HttpRequest, *, retry_after: int, message: str) -> HttpResponse:
    """429 with Retry-After: JSON ({ok, message}) for the pages' scripts, a readable page otherwise."""
    if wants_json(request):
        response: HttpResponse = JsonResponse({"ok": False, "message": message}, status=429)
    else:
        response = render(request, "429.html", {"message": message, "retry_after": retry_after}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


def _wait_text(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


def throttled(*throttles: type[ScopedUserThrottle]) -> Callable[[View], View]:
    """Applies the REST API's throttle classes to a page's POSTs: one budget for page and API."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            retry_after = first_refusal(request, list(throttles))
            if retry_after is not None:
                return too_many_requests(request, retry_after=retry_after, message=(
                    f"Too many requests: please wait {_wait_text(retry_after)} and try again."))
            return view(request, *args, **kwargs)

        return wrapper

    return decorator


def login_locked_out(request: HttpRequest, original_response: HttpResponse | None = None,
                     credentials: dict | None = None) -> HttpResponse:
    """django-axes' answer to a locked-out login (AXES_LOCKOUT_CALLABLE): 429 with Retry-After."""
    seconds = login_cooloff_seconds()
    return too_many_requests(request, retry_after=seconds, message=(
        f"Too many failed logins for this username: try again in {_wait_text(seconds)}, or ask an "
        "administrator to unlock the account."))


def office_required(view: View) -> View:
    """The office (role admin) only; a teacher gets 403."""

    @staff_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_school_admin:
            raise PermissionDenied("This page is for the school office.")
        return view(request, *args, **kwargs)

    return wrapper


def students_home(view: View) -> View:
    """Sends a logged-in student who opens the staff home (/) to their own page instead of a 403."""

    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.user.is_authenticated and request.user.is_student:
            return redirect("my-page")
        return view(request, *args, **kwargs)

    return wrapper
