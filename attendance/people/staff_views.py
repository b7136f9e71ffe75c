"""Staff pages of students (faces, consent, attendance history) and of the teacher's settings."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.consent import CONSENT_TEXT, CONSENT_TEXT_VERSION
from accounts.forms import ConsentForm, FaceForm, TeacherSettingsForm
from accounts.guardian import guardian_consent_link_send, guardian_links_revoke
from accounts.models import ConsentEvent, StudentProfile
from accounts.selectors import consent_history, student_list_visible, teacher_settings_get
from accounts.services import student_consent_set, teacher_settings_update
from attendance.models import AttendanceRecord
from attendance.register.selectors import session_list_visible
from recognition.images import upload_bytes
from recognition.models import FaceEmbedding
from recognition.reenrolment import enrolment_age
from recognition.services import face_approve, face_embedding_delete, face_enrol, face_reject
from school.api.throttling import FaceEnrolThrottle
from school.authenticated import AuthenticatedHttpRequest
from school.pages import REFUSALS, private_image, refusal_status, refusal_text, staff_required, throttled, upload_reply


def _student(request: AuthenticatedHttpRequest, student_id: int) -> StudentProfile:
    return get_object_or_404(student_list_visible(user=request.user), pk=student_id)


@staff_required
def student_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    students = student_list_visible(user=request.user)
    if query:
        students = students.filter(last_name__icontains=query) | students.filter(student_number__icontains=query) \
            | students.filter(first_name__icontains=query)
    return render(request, "accounts/student_list.html", {"students": students[:300], "query": query})


@staff_required
def student_detail(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    """Enrolled faces (self-enrolled ones to approve), faces learned from confirmed classroom faces (held
    ones to approve or discard) with where they come from, consent and its history with the erasure
    receipts, enrolment by upload or camera, and the attendance history in the viewer's courses."""
    student = _student(request, student_id)
    # Only the sessions the viewer may see: another teacher's course is not this teacher's business.
    history = (AttendanceRecord.objects.filter(student=student, session__in=session_list_visible(user=request.user))
               .select_related("session__course").order_by("-session__date")[:100])
    return render(request, "accounts/student_detail.html", {
        "student": student, "faces": FaceEmbedding.objects.enrolled().filter(student=student).order_by("created_at"),
        "learned_faces": FaceEmbedding.objects.learned().filter(student=student).select_related(
            "enrolled_by", "approved_by").order_by("-created_at"),
        "learned_window": settings.FACE_LEARNED_PER_STUDENT,
        "history": history, "consent": consent_history(student=student), "consent_text": CONSENT_TEXT,
        "consent_version": CONSENT_TEXT_VERSION,
        "consent_form": ConsentForm(initial={"consent_given": "no" if student.consent_given else "yes"}),
        "face_form": FaceForm(), "enrolment": enrolment_age(student),
        "max_faces": settings.MAX_FACES_PER_STUDENT, "guardian_link_days": settings.GUARDIAN_LINK_MAX_AGE_DAYS})


@staff_required
@require_POST
def student_consent(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    student = _student(request, student_id)
    form = ConsentForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("student-page", student_id=student.pk)
    given = form.cleaned_data["consent_given"]
    event = student_consent_set(student=student, consent_given=given, by=request.user,
                                channel=ConsentEvent.Channel.PAGE, given_by=form.cleaned_data["given_by"],
                                given_by_name=form.cleaned_data["given_by_name"], note=form.cleaned_data["note"])
    if event is None:
        messages.info(request, "Nothing changed: consent was already in that state.")
    elif given:
        messages.success(request, f"Consent recorded for {student.full_name}.")
    else:
        receipt = event.erasure_receipts.get()
        messages.success(request, f"Consent withdrawn; {receipt.embeddings_deleted} enrolled face(s) deleted. "
                                  f"{receipt.photos_deleted} photo(s) removed from storage; the erasure receipt "
                                  "is in the consent history.")
    return redirect("student-page", student_id=student.pk)


@staff_required
@require_POST
@throttled(FaceEnrolThrottle)
def student_face_enrol(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    """A face from a file or the camera; the quality-gate verdict comes back in words."""
    student = _student(request, student_id)
    back = reverse("student-page", args=[student.pk])
    form = FaceForm(request.POST, request.FILES)
    if not form.is_valid():
        return upload_reply(request, "Choose or take a photo first.", back=back, status=400)
    try:
        face_enrol(student=student, image=upload_bytes(form.cleaned_data["image"]), by=request.user)
    except REFUSALS as exc:
        return upload_reply(request, f"Not enrolled: {refusal_text(exc)}", back=back, status=refusal_status(exc))
    return upload_reply(request, f"Face enrolled for {student.full_name}: good size, sharp and well lit.", back=back)


def _back(request: AuthenticatedHttpRequest, student: StudentProfile, text: str, *,
          error: bool = False) -> HttpResponse:
    (messages.error if error else messages.success)(request, text)
    return redirect("student-page", student_id=student.pk)


@staff_required
@require_POST
def student_face_delete(request: AuthenticatedHttpRequest, student_id: int, face_id: int) -> HttpResponse:
    student = _student(request, student_id)
    face_embedding_delete(face=get_object_or_404(FaceEmbedding, student=student, pk=face_id), by=request.user)
    return _back(request, student, "The face and its photo were deleted.")


@staff_required
@require_POST
def student_face_review(request: AuthenticatedHttpRequest, student_id: int, face_id: int) -> HttpResponse:
    """Approve (it is matched from now on) or reject (it is deleted) a face the student enrolled, or a
    learned face held for review."""
    student = _student(request, student_id)
    face = get_object_or_404(FaceEmbedding, student=student, pk=face_id)
    decision = request.POST.get("decision")
    try:
        if decision == "approve":
            face_approve(face=face, by=request.user)
            return _back(request, student, "Face approved: it is used for recognition from now on.")
        if decision == "reject":
            face_reject(face=face, by=request.user)
            return _back(request, student, "Face rejected and deleted with its photo.")
    except REFUSALS as exc:
        return _back(request, student, refusal_text(exc), error=True)
    return _back(request, student, "Choose approve or reject.", error=True)


@staff_required
@require_POST
def student_guardian_consent_link(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    student = _student(request, student_id)
    if not guardian_consent_link_send(student=student, by=request.user):
        return _back(request, student, "Add the guardian's e-mail address first.", error=True)
    return _back(request, student, f"A consent link was e-mailed to {student.guardian_email}.")


@staff_required
@require_POST
def student_guardian_revoke(request: AuthenticatedHttpRequest, student_id: int) -> HttpResponse:
    student = _student(request, student_id)
    guardian_links_revoke(student=student)
    return _back(request, student, "Every guardian link sent so far no longer works.")


@staff_required
def face_image(request: AuthenticatedHttpRequest, face_id: int) -> HttpResponseBase:
    """An enrolment photo's thumbnail source, only for staff who may see the student."""
    face = get_object_or_404(FaceEmbedding.objects.filter(student__in=student_list_visible(user=request.user)),
                             pk=face_id)
    return private_image(face.source_image, missing="No photo is kept for this face.")


@staff_required
def teacher_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    current = teacher_settings_get(user=request.user)
    form = TeacherSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        teacher_settings_update(user=request.user, data=form.cleaned_data)
        messages.success(request, "Settings saved.")
        return redirect("teacher-settings")
    return render(request, "accounts/settings.html", {"form": form})
