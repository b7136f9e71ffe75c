"""Pages of self check-in: the teacher's window and rotating QR code, and the student's scan and selfie.

The QR code points at /checkin/<token>/: the token is checked there (signature, age, window and session
open) and the scan is remembered in the visitor's session for CHECKIN_SCAN_SECONDS, so a student who
still has to log in is not sent back to scan again. /checkin/ then takes the selfie.
"""

from __future__ import annotations

import io
import time

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from attendance.checkin import presence, review
from attendance.checkin import services as checkin
from attendance.models import CheckinAttempt, CheckinWindow
from attendance.register import selectors
from attendance.register.selectors import session_visible_or_404
from recognition.errors import RecognitionError, RecognitionUnavailable
from recognition.images import upload_bytes
from school.api.throttling import PhotoUploadThrottle, client_ip
from school.authenticated import AuthenticatedHttpRequest
from school.errors import DomainError, ErrorKind
from school.pages import private_image, refusal_status, refusal_text, staff_required, throttled
from school.statuses import STATUS_OF_KIND

SCAN_KEY = "checkin_scan"



# --- teacher ----------------------------------------------------------------------------------


@staff_required
@require_POST
def checkin_open(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = session_visible_or_404(user=request.user, session_id=session_id)
    try:
        minutes = int(request.POST.get("minutes") or settings.CHECKIN_WINDOW_MINUTES)
        window = checkin.checkin_window_create(session=session, by=request.user, minutes=minutes)
    except ValueError:
        messages.error(request, "Give the number of minutes the check-in stays open.")
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Self check-in open until {window.closes_at:%H:%M}.")
    return redirect(reverse("session-page", args=[session.pk]) + "#checkin")


@staff_required
@require_POST
def checkin_close(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = session_visible_or_404(user=request.user, session_id=session_id)
    checkin.checkin_window_close(session=session, by=request.user)
    messages.success(request, "Self check-in closed.")
    return redirect(reverse("session-page", args=[session.pk]) + "#checkin")


@staff_required
@never_cache
def checkin_qr(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The QR code of the open window as SVG, a new token at every request (the page fetches it again
    every CHECKIN_QR_ROTATE_SECONDS). 404 when no window is open."""
    session = session_visible_or_404(user=request.user, session_id=session_id)
    window = checkin.checkin_window_open(session=session)
    if window is None:
        return HttpResponse("No check-in window is open.", status=404, content_type="text/plain")
    url = request.build_absolute_uri(reverse("checkin-scan", args=[checkin.checkin_token_make(window=window)]))
    svg = io.BytesIO()
    # A standalone SVG document (with its namespace): the page shows it in an <img>.
    segno.make(url, error="m").save(svg, kind="svg", scale=6, border=4, xmldecl=False)
    return HttpResponse(svg.getvalue(), content_type="image/svg+xml")


@staff_required
@require_POST
def checkin_review(request: AuthenticatedHttpRequest, session_id: int, attempt_id: int) -> HttpResponse:
    """The teacher's one tap on a pending check-in's selfie: present or absent."""
    session = session_visible_or_404(user=request.user, session_id=session_id)
    attempt = get_object_or_404(CheckinAttempt, pk=attempt_id, session=session)
    try:
        record = review.checkin_review_decide(attempt=attempt, decision=request.POST.get("decision", ""),
                                              by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{record.student.full_name}: {record.get_status_display().lower()}.")
    return redirect(reverse("session-page", args=[session.pk]) + "#checkin-review")


@staff_required
def checkin_selfie(request: AuthenticatedHttpRequest, attempt_id: int) -> HttpResponseBase:
    attempt = get_object_or_404(CheckinAttempt.objects.filter(
        session__in=selectors.session_list_visible(user=request.user)), pk=attempt_id)
    return private_image(attempt.selfie, missing="This selfie was deleted.")


# --- student ----------------------------------------------------------------------------------


def _device_cookie(request: AuthenticatedHttpRequest, response: HttpResponse) -> HttpResponse:
    if not request.COOKIES.get(checkin.DEVICE_COOKIE):
        response.set_cookie(checkin.DEVICE_COOKIE, checkin.device_id_new(), max_age=365 * 24 * 3600, httponly=True,
                            samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return response


@never_cache
def checkin_scan(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """Where the QR code leads: the token is checked, the scan remembered, then the selfie page."""
    try:
        window = checkin.checkin_token_verify(token=token)
    except DomainError as exc:
        response = render(request, "attendance/checkin.html", {"refusal": exc.message},
                          status=refusal_status(exc))
        return _device_cookie(request, response)
    request.session[SCAN_KEY] = {"window": window.pk, "at": time.time()}
    return _device_cookie(request, redirect("checkin-page"))


def _scanned_window(request: AuthenticatedHttpRequest) -> CheckinWindow | None:
    scan = request.session.get(SCAN_KEY)
    if not isinstance(scan, dict) or not isinstance(scan.get("window"), int) \
            or time.time() - float(scan.get("at", 0)) > settings.CHECKIN_SCAN_SECONDS:
        return None
    return CheckinWindow.objects.select_related("session__course").filter(pk=scan["window"]).first()


@login_required
@never_cache
@throttled(PhotoUploadThrottle)
def checkin_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The student's selfie page (GET) and the check-in itself (POST)."""
    window = _scanned_window(request)
    if window is None:
        return render(request, "attendance/checkin.html", {
            "refusal": "Scan the code on your teacher's screen to check in."}, status=410)
    fence = presence.geofence()
    context = {"window": window, "session": window.session, "needs_location": fence is not None,
               "max_frames": checkin.MAX_FRAMES}
    if request.method != "POST":
        return _device_cookie(request, render(request, "attendance/checkin.html", context))
    upload = request.FILES.get("selfie")
    frames = request.FILES.getlist("frames")
    if upload is None and not frames:
        context["error"] = "Take a selfie first."
        return render(request, "attendance/checkin.html", context, status=400)
    try:
        result = checkin.checkin_submit(window=window, user=request.user,
                                        selfie=upload_bytes(upload) if upload is not None else None,
                                        frames=[upload_bytes(frame) for frame in frames[:checkin.MAX_FRAMES + 1]],
                                        device_id=request.COOKIES.get(checkin.DEVICE_COOKIE, ""),
                                        position=presence.position_from(request.POST),
                                        client_address=client_ip(request))
    except RecognitionError as exc:
        context["error"] = refusal_text(exc)
        response = render(request, "attendance/checkin.html", context, status=refusal_status(exc))
        if isinstance(exc, RecognitionUnavailable):
            response["Retry-After"] = str(exc.retry_after)
        return response
    attempt = result.attempt
    context["attempt"] = attempt
    status = 200 if attempt.outcome != CheckinAttempt.Outcome.REFUSED else STATUS_OF_KIND[
        checkin.REFUSAL_KIND.get(attempt.error_code, ErrorKind.INVALID)]
    if attempt.outcome != CheckinAttempt.Outcome.REFUSED or attempt.error_code == "ALREADY_CHECKED_IN":
        request.session.pop(SCAN_KEY, None)
    return render(request, "attendance/checkin.html", context, status=status)
