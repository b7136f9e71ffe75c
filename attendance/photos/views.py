"""The session's review page and the classroom photos: taking attendance by photo, the upload, the photo
and face images, and the teacher's decisions on faces (assign, dismiss)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.selectors import student_list_visible
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.photos import processing, review
from attendance.register import periods, selectors, services
from attendance.register.forms import AssignForm, CorrectionForm, FinalizeForm, PhotoForm, SessionForm
from attendance.register.selectors import session_visible_or_404
from attendance.register.views import back_to_session
from classes.selectors import course_visible_or_404
from recognition.images import upload_bytes
from recognition.models import FaceEmbedding
from school.api.throttling import FaceEnrolThrottle, PhotoUploadThrottle, first_refusal
from school.authenticated import AuthenticatedHttpRequest
from school.errors import DomainError
from school.pages import (
    REFUSALS,
    private_image,
    refusal_status,
    refusal_text,
    staff_required,
    throttled,
    too_many_requests,
    upload_reply,
)

Status = AttendanceRecord.Status




@staff_required
def take_attendance(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Choose today's session of a course (or open one for another date or period)."""
    course = course_visible_or_404(user=request.user, course_id=course_id)
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        date, label = form.cleaned_data["date"], form.cleaned_data["label"].strip()
        session = AttendanceSession.objects.filter(course=course, date=date, label=label).first()
        if session is None:
            try:
                session = services.session_create(course=course, date=date, label=label, by=request.user,
                                                  starts_at=form.cleaned_data.get("starts_at"))
                messages.success(request, f"Session opened for {course.code} on {date:%d %b %Y}.")
            except DomainError as exc:  # the same form submitted twice at once: the other request opened it
                if exc.error_code != "SESSION_EXISTS":
                    raise
                session = AttendanceSession.objects.get(pk=exc.details["session_id"])
        return redirect("session-page", session_id=session.pk)
    recent = course.sessions.order_by("-date", "-created_at")[:10]
    return render(request, "attendance/take.html", {"course": course, "form": form, "recent": recent,
                                                    "now_slot": periods.slot_now(course=course)})


def _face_view(face: DetectedFace, photo: SessionPhoto) -> dict:
    """A face box in percent of the photo, for absolutely positioned boxes that scale with it."""
    return {
        "face": face,
        "left": 100 * face.box_left / photo.width, "top": 100 * face.box_top / photo.height,
        "width": 100 * (face.box_right - face.box_left) / photo.width,
        "height": 100 * (face.box_bottom - face.box_top) / photo.height,
        # Labels of faces near the right edge hang from the box's right edge, so they stay on the photo.
        "end": (face.box_left + face.box_right) / 2 > 0.75 * photo.width,
        "kind": ("present" if face.match in (DetectedFace.Match.CONFIDENT, DetectedFace.Match.ASSIGNED)
                 else "pending" if face.match == DetectedFace.Match.UNCERTAIN
                 else "dismissed" if face.match == DetectedFace.Match.DISMISSED
                 else "too-small" if face.match == DetectedFace.Match.TOO_SMALL else "unknown"),
    }


@staff_required
def session_page(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The photos with a box on every face, the faces to review as crops (pending matches to
    confirm, unknown faces to assign or dismiss), who is not seen yet, corrections and finalising."""
    session = selectors.session_detail(session=session_visible_or_404(user=request.user, session_id=session_id))
    records = list(session.records.all())
    photos: list[dict[str, Any]] = [{"photo": photo, "faces": [_face_view(face, photo) for face in photo.faces.all()]}
              for photo in session.photos.all() if photo.state == SessionPhoto.State.DONE]
    # Photos a worker has not finished (or could not process): the page polls their state.
    in_progress = [photo for photo in session.photos.all() if photo.state != SessionPhoto.State.DONE]
    unseen = [r for r in records if r.status == Status.UNMARKED]
    pending = [r for r in records if r.status == Status.PENDING]
    unknown_faces = [f for p in photos for f in p["faces"] if f["face"].match == DetectedFace.Match.UNKNOWN]
    for item in photos:  # the head count names the faces no one can identify, with what to do
        item["too_small"] = sum(1 for f in item["faces"] if f["face"].match == DetectedFace.Match.TOO_SMALL)
    thumbnails = selectors.enrolment_thumbnails(students=[r.student for r in pending])
    context = {
        "session": session, "records": records, "photos": photos, "unseen": unseen, "in_progress": in_progress,
        "pending": pending,
        "unknown_faces": unknown_faces,
        "assign_choices": _assign_choices(records),
        "pending_items": [{"record": r, "thumbnail": thumbnails.get(r.student_id)} for r in pending],
        "finalize_form": FinalizeForm(), "correction_form": CorrectionForm(), "photo_form": PhotoForm(),
        "counts": {status: sum(1 for r in records if r.status == status) for status in Status.values},
    }
    return render(request, "attendance/session.html", context)


def _assign_choices(records: list[AttendanceRecord]) -> list[tuple[str, list[tuple[int, str]]]]:
    """"Who is this?": the students not yet present first; nothing is preselected."""
    waiting = (Status.UNMARKED, Status.PENDING, Status.ABSENT)

    def label(record: AttendanceRecord) -> str:
        # Without consent the face is never enrolled or matched: the teacher marks them by hand.
        return record.student.full_name + ("" if record.student.consent_given else " (manual only)")

    first = [(r.student_id, label(r)) for r in records if r.status in waiting]
    others = [(r.student_id, label(r)) for r in records if r.status not in waiting]
    return [(label, group) for label, group in (("Not seen yet", first), ("Already marked", others)) if group]


@staff_required
@require_POST
@throttled(PhotoUploadThrottle)
def session_photo_upload(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """One classroom photo (the page's script sends each chosen photo here with a progress bar)."""
    session = session_visible_or_404(user=request.user, session_id=session_id)
    back = reverse("session-page", args=[session.pk])
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        return upload_reply(request, "Choose a photo to upload.", back=back, status=400)
    upload = form.cleaned_data["image"]
    try:
        result = processing.session_photo_submit(session=session, image=upload_bytes(upload), by=request.user)
    except REFUSALS as exc:
        return upload_reply(request, f"{upload.name}: {refusal_text(exc)}", back=back, status=refusal_status(exc))
    recognised = sum(1 for face in result.faces if face.student_id)
    if result.duplicate:
        text = f"{upload.name}: already processed for this session, nothing changed."
    elif result.queued:
        text = f"{upload.name}: received; faces are being recognised (this page shows the progress)."
    else:
        text = f"{upload.name}: {len(result.faces)} faces found, {recognised} recognised."
    if result.queued:  # the page's script follows the status URL
        return upload_reply(request, text, back=back, status=200 if result.duplicate else 202, extra={
            "state": result.photo.state, "status_url": reverse("photo-status", args=[result.photo.pk])})
    return upload_reply(request, text, back=back)


@staff_required
def enrolment_face_crop(request: AuthenticatedHttpRequest, face_id: int) -> HttpResponse:
    """The face of a student's enrolment photo, cut to its box, for staff who may see the student."""
    face = get_object_or_404(FaceEmbedding.objects.filter(student__in=student_list_visible(user=request.user)),
                             pk=face_id)
    crop = review.enrolment_crop(face=face)
    if crop is None:
        raise Http404("No photo is kept for this face.")
    response = HttpResponse(crop, content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=600"
    return response


@staff_required
def session_photo_image(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponseBase:
    """A classroom photo, only for staff who may see its session (never a public media URL)."""
    photo = get_object_or_404(SessionPhoto.objects.filter(
        session__in=selectors.session_list_visible(user=request.user)), pk=photo_id)
    return private_image(photo.image, missing="This photo was deleted after the retention period.")


def _session_face(request: AuthenticatedHttpRequest, session_id: int, face_id: int) -> tuple[AttendanceSession,
                  DetectedFace]:
    session = session_visible_or_404(user=request.user, session_id=session_id)
    return session, get_object_or_404(DetectedFace.objects.select_related("photo__session"), pk=face_id,
                                      photo__session=session)


@staff_required
@require_POST
def face_assign(request: AuthenticatedHttpRequest, session_id: int, face_id: int) -> HttpResponse:
    session, face = _session_face(request, session_id, face_id)
    students = list(session.course.students.all())
    form = AssignForm(request.POST, students=students)
    if not form.is_valid():
        return back_to_session(request, session, "Choose who this face is.", error=True)
    student = next(s for s in students if s.pk == form.cleaned_data["student"])
    if form.cleaned_data["add_embedding"]:
        retry_after = first_refusal(request, [FaceEnrolThrottle])
        if retry_after is not None:
            return too_many_requests(request, retry_after=retry_after, message=(
                f"Too many faces enrolled recently: wait {retry_after} seconds, or assign without enrolling."))
    try:
        result = review.face_assign(face=face, student=student, by=request.user,
                                    add_embedding=form.cleaned_data["add_embedding"])
    except REFUSALS as exc:
        return back_to_session(request, session, refusal_text(exc), error=True)
    text = f"{student.full_name} marked present."
    if result.enrolled:
        text += " The face was enrolled too."
    elif result.enrol_error:
        messages.warning(request, f"The face was not enrolled: {result.enrol_error}")
    return back_to_session(request, session, text)


@staff_required
@require_POST
def face_dismiss(request: AuthenticatedHttpRequest, session_id: int, face_id: int) -> HttpResponse:
    """"Not a student": the face leaves the review (audited)."""
    session, face = _session_face(request, session_id, face_id)
    try:
        review.face_dismiss(face=face, by=request.user, note=request.POST.get("note", "")[:200])
    except REFUSALS as exc:
        return back_to_session(request, session, refusal_text(exc), error=True)
    return back_to_session(request, session,
                           f"Face {face.face_index + 1} of photo #{face.photo_id} dismissed: not a student.")
