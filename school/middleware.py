"""Request correlation: every request carries an X-Request-ID that logs and downstream calls reuse."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
import uuid
from collections.abc import Callable, Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from school.errors import DomainError
from school.statuses import status_of

REQUEST_ID_HEADER = "X-Request-ID"
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# Only accept ids that are safe to echo into headers and logs.
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def current_request_id() -> str:
    """The id of the request being served, or '-' outside a request."""
    return _request_id.get()


@contextlib.contextmanager
def request_id_bound(request_id: str) -> Iterator[str]:
    """Runs the block with `request_id` as the current one (a Celery task carries its upload's id)."""
    token = _request_id.set(request_id)
    try:
        yield request_id
    finally:
        _request_id.reset(token)


class RequestIDMiddleware:
    """Takes the caller's X-Request-ID (or makes one), exposes it to logs and echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        with request_id_bound(request_id):
            response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIDLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id()
        return True


class RequestSizeLimitMiddleware:
    """Refuses a request whose Content-Length exceeds MAX_REQUEST_BYTES with 413, before its body is
    read. Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not count multipart file parts, so without this
    a gigabyte upload would be streamed to disk before any view could refuse it. (Under WSGI a body
    without Content-Length is read as empty, so the header bounds what is read.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = settings.MAX_REQUEST_BYTES
        if length > limit:
            return _too_large(request, length, limit)
        return self.get_response(request)


def _too_large(request: HttpRequest, length: int, limit: int) -> HttpResponse:
    message = f"The request is {length / 1e6:.1f} MB; the limit is {limit / 1e6:.1f} MB."
    details = {"bytes": length, "max_bytes": limit}
    if request.path.startswith("/api/ml/"):  # the recognition API's own error shape (SPEC §2.4)
        body = {"success": False, "error": message, "error_code": "IMAGE_TOO_LARGE", "details": details}
    elif request.path.startswith("/api/"):
        body = {"error_code": "IMAGE_TOO_LARGE", "message": message, "details": details}
    elif "application/json" in request.headers.get("Accept", ""):  # the pages' upload scripts
        body = {"ok": False, "message": message}
    else:
        return HttpResponse(f"413 Request Entity Too Large: {message}", status=413,
                            content_type="text/plain; charset=utf-8")
    return JsonResponse(body, status=413)


class DomainErrorPageMiddleware:
    """A page whose service refused (a domain error the view did not turn into a message itself) answers
    the refusal's status with its message on a page, never a 500. The REST API has its own handler
    (school.api.errors); this one leaves /api/ alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, DomainError) or request.path.startswith("/api/"):
            return None
        status = status_of(exception)
        if "application/json" in request.headers.get("Accept", ""):  # the pages' scripts
            response: HttpResponse = JsonResponse({"ok": False, "message": exception.message}, status=status)
        else:
            response = render(request, "refusal.html", {"message": exception.message, "status": status},
                              status=status)
        if exception.retry_after is not None:
            response["Retry-After"] = str(exception.retry_after)
        return response
