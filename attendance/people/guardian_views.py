"""Guardians' pages, reached only through signed links from e-mails (no account): the child's
attendance for the term (read-only) and biometric consent (give or withdraw)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.cache import never_cache

from accounts.consent_calls import Channel, Party, consent_change, consent_state, consent_text
from accounts.guardian import GuardianLinkInvalid, Purpose, guardian_link_read
from attendance.people.own import own_attendance
from school.api.throttling import LoginThrottle
from school.calendar import term_on
from school.clock import school_today
from school.pages import throttled

_REFUSALS = {
    "expired": "This link has expired. Ask the school for a new one.",
    "revoked": "This link was withdrawn by the school. Ask the school for a new one.",
    "invalid": "This link is not valid. Check that it was copied whole, or ask the school for a new one.",
}


def _refused(request: HttpRequest, exc: GuardianLinkInvalid) -> HttpResponse:
    return render(request, "accounts/guardian_refused.html", {"message": _REFUSALS[exc.reason]}, status=403)


@never_cache
def guardian_attendance(request: HttpRequest, token: str) -> HttpResponse:
    try:
        student = guardian_link_read(token=token, purpose=Purpose.ATTENDANCE).student
    except GuardianLinkInvalid as exc:
        return _refused(request, exc)
    term = term_on(school_today())
    courses = own_attendance(student=student, date_from=term.starts_on if term else None,
                             date_to=term.ends_on if term else None)
    return render(request, "accounts/guardian_attendance.html", {"student": student, "term": term,
                                                                  "courses": courses})


@never_cache
@throttled(LoginThrottle)
def guardian_consent(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = guardian_link_read(token=token, purpose=Purpose.CONSENT)
    except GuardianLinkInvalid as exc:
        return _refused(request, exc)
    student = link.student
    done = ""
    error = ""
    if request.method == "POST":
        choice = request.POST.get("consent")
        if choice not in ("give", "withdraw"):
            error = "Choose to give or to withdraw consent."
        elif choice == "withdraw" and not request.POST.get("confirm"):
            error = "Tick the box to confirm: the stored face data will be deleted."
        else:
            consent_change(student=student, given=choice == "give", by=None, party=Party.GUARDIAN,
                           channel=Channel.GUARDIAN_LINK, link_sent_to=link.sent_to)
            student.refresh_from_db()
            done = ("Thank you: consent is recorded." if choice == "give" else
                    "Consent withdrawn: the stored face data was deleted; attendance is now taken by hand.")
    return render(request, "accounts/guardian_consent.html", {
        "student": student, "consent": consent_state(student=student), "consent_text": consent_text(),
        "done": done, "error": error},
        status=400 if error else 200)


urlpatterns = [
    path("guardian/attendance/<str:token>/", guardian_attendance, name="guardian-attendance"),
    path("guardian/consent/<str:token>/", guardian_consent, name="guardian-consent"),
]
