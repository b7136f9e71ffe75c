"""A student's own pages (/me/): attendance per course with its evidence, consent, faces, and the
download of everything the school holds about them. Phone-first; a student sees only themself."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from accounts.consent_calls import Channel, Party, consent_change, consent_state, consent_text
from accounts.forms import ConsentForm
from accounts.models import StudentProfile
from attendance.models import CheckinAttempt
from attendance.people.own import own_attendance, own_data_export
from recognition.models import FaceEmbedding
from recognition.reenrolment import enrolment_age
from school.authenticated import AuthenticatedHttpRequest
from school.pages import private_image

View = Callable[..., HttpResponseBase]


def own_profile(user: Any) -> StudentProfile | None:
    """The student record linked to a student login, if any."""
    return StudentProfile.objects.filter(user=user).first() if user.is_authenticated else None


def student_required(view: View) -> View:
    """Logged-in students only; the view receives their own student record."""

    @login_required
    @wraps(view)
    def wrapper(request: AuthenticatedHttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_student:
            raise PermissionDenied("These pages are a student's own.")
        student = own_profile(request.user)
        if student is None:
            return render(request, "accounts/me_unlinked.html", status=404)
        return view(request, student, *args, **kwargs)

    return wrapper


@student_required
def me(request: AuthenticatedHttpRequest, student: StudentProfile) -> HttpResponse:
    return render(request, "accounts/me.html", {
        "student": student, "courses": own_attendance(student=student), "consent": consent_state(student=student),
        "consent_text": consent_text(),
        "faces": FaceEmbedding.objects.filter(student=student).order_by("created_at"),
        "enrolment": enrolment_age(student)})


@student_required
@require_POST
def me_consent_withdraw(request: AuthenticatedHttpRequest, student: StudentProfile) -> HttpResponse:
    """A student withdraws their own consent (giving it goes through the school or a guardian)."""
    form = ConsentForm({"consent_given": "no", "confirm": request.POST.get("confirm", "")})
    if not form.is_valid():
        messages.error(request, "Tick the box to confirm: your enrolled faces will be deleted.")
    elif student.consent_given:
        consent_change(student=student, given=False, by=request.user, party=Party.STUDENT, channel=Channel.PAGE)
        messages.success(request, "Consent withdrawn; your enrolled faces and their photos were deleted.")
    return redirect("my-page")


@student_required
def me_export(request: AuthenticatedHttpRequest, student: StudentProfile) -> HttpResponse:
    """All my data in one JSON file (profile, records, corrections, consent, the biometric data held)."""
    document = own_data_export(student=student, consent=consent_state(student=student))
    response = HttpResponse(json.dumps(document, indent=2), content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="my-data-{student.student_number}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


@student_required
def me_checkin_selfie(request: AuthenticatedHttpRequest, student: StudentProfile, attempt_id: int) -> HttpResponseBase:
    """A selfie the student sent to check in (listed in their data export)."""
    attempt = get_object_or_404(CheckinAttempt.objects.filter(Q(student=student) | Q(user=request.user)),
                                pk=attempt_id)
    return private_image(attempt.selfie, missing="This selfie is no longer kept.")


@student_required
def me_face_image(request: AuthenticatedHttpRequest, student: StudentProfile, face_id: int) -> HttpResponseBase:
    face = get_object_or_404(FaceEmbedding, student=student, pk=face_id)
    return private_image(face.source_image, missing="No photo is kept for this face.")


urlpatterns = [
    path("me/", me, name="my-page"),
    path("me/consent/withdraw/", me_consent_withdraw, name="my-consent-withdraw"),
    path("me/export/", me_export, name="my-export"),
    path("me/faces/<int:face_id>/image", me_face_image, name="my-face-image"),
    path("me/checkins/<int:attempt_id>/selfie", me_checkin_selfie, name="my-checkin-selfie"),
]
