"""Shared pieces of the staff pages: the staff-only decorator and refusals in a teacher's words."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse

from recognition.backends.base import RecognitionError, RecognitionUnavailable
from smart_attendance.api.errors import DomainError, recognition_error_as_domain_error

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    """Logged-in teachers and admins; a student account gets 403 on staff pages."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
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
    if isinstance(exc, RecognitionUnavailable):
        return f"Face recognition is not available right now; try again in {exc.retry_after} seconds."
    if isinstance(exc, RecognitionError):
        return exc.message
    if isinstance(exc, DomainError):
        return str(exc.detail)
    return str(exc)


def refusal_status(exc: Exception) -> int:
    """The HTTP status the REST API would give the same refusal."""
    if isinstance(exc, RecognitionError):
        return recognition_error_as_domain_error(exc).status_code
    return getattr(exc, "status_code", 400)


REFUSALS = (DomainError, RecognitionError)
