"""Staff pages of attendance: dashboard, taking attendance, the session page, history and reports.

Every write calls the same service as the REST API; every lookup goes through a selector scoped
to the user, so someone else's course or session is a 404.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from accounts.access_log import Kind, access_logged
from accounts.selectors import student_list_visible
from accounts.student_views import students_home
from attendance import lateness, periods, processing, review, school_views, selectors, services
from attendance.forms import AssignForm, CorrectionForm, FinalizeForm, PhotoForm, SessionForm
from attendance.models import AttendanceRecord, AttendanceSession, DetectedFace, SessionPhoto
from attendance.schooltime import school_today
from classes.models import Course
from classes.selectors import course_list_active, course_list_for_day, course_list_visible
from recognition.images import upload_bytes
from recognition.models import FaceEmbedding
from smart_attendance.api.errors import DomainError
from smart_attendance.api.throttling import FaceEnrolThrottle, PhotoUploadThrottle, first_refusal
from smart_attendance.authenticated import AuthenticatedHttpRequest
from smart_attendance.ids import parse_id
from smart_attendance.pages import (
    REFUSALS,
    private_image,
    refusal_status,
    refusal_text,
    staff_required,
    throttled,
    too_many_requests,
)

Status = AttendanceRecord.Status


def _course(request: AuthenticatedHttpRequest, course_id: int) -> Course:
    return get_object_or_404(course_list_visible(user=request.user), pk=course_id)


def _session(request: AuthenticatedHttpRequest, session_id: int) -> AttendanceSession:
    return get_object_or_404(selectors.session_list_visible(user=request.user), pk=session_id)


@students_home
@staff_required
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Today's periods with their register's state, registers not taken, sessions still open or pending,
    and students at risk."""
    today = school_today()
    sessions = selectors.session_list_visible(user=request.user)
    open_sessions = sessions.filter(state=AttendanceSession.State.OPEN).annotate(
        pending=Count("records", filter=Q(records__status=Status.PENDING)))[:20]
    context = {
        "today": today,
        "todays_courses": course_list_for_day(user=request.user, day=today),
        "courses": course_list_active(user=request.user),
        "todays_sessions": sessions.filter(date=today),
        "open_sessions": open_sessions,
        "at_risk": selectors.at_risk_for_user(user=request.user),
        **school_views.dashboard_day(user=request.user),
    }
    return render(request, "attendance/dashboard.html", context)


@staff_required
def take_attendance(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Choose today's session of a course (or open one for another date or period)."""
    course = _course(request, course_id)
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
                 else "dismissed" if face.match == DetectedFace.Match.DISMISSED else "unknown"),
    }


@staff_required
def session_page(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """The photos with a box on every face, the faces to review as crops (pending matches to
    confirm, unknown faces to assign or dismiss), who is not seen yet, corrections and finalising."""
    session = selectors.session_detail(session=_session(request, session_id))
    records = list(session.records.all())
    photos: list[dict[str, Any]] = [{"photo": photo, "faces": [_face_view(face, photo) for face in photo.faces.all()]}
              for photo in session.photos.all() if photo.state == SessionPhoto.State.DONE]
    # Photos a worker has not finished (or could not process): the page polls their state.
    in_progress = [photo for photo in session.photos.all() if photo.state != SessionPhoto.State.DONE]
    unseen = [r for r in records if r.status == Status.UNMARKED]
    pending = [r for r in records if r.status == Status.PENDING]
    unknown_faces = [f for p in photos for f in p["faces"] if f["face"].match == DetectedFace.Match.UNKNOWN]
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


def _wants_json(request: AuthenticatedHttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


@staff_required
@require_POST
@throttled(PhotoUploadThrottle)
def session_photo_upload(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    """One classroom photo (the page's script sends each chosen photo here with a progress bar)."""
    session = _session(request, session_id)
    form = PhotoForm(request.POST, request.FILES)
    if not form.is_valid():
        text = "Choose a photo to upload."
        return JsonResponse({"ok": False, "message": text}, status=400) if _wants_json(request) else \
            _back(request, session, text, error=True)
    upload = form.cleaned_data["image"]
    try:
        result = processing.session_photo_submit(session=session, image=upload_bytes(upload), by=request.user)
    except REFUSALS as exc:
        if _wants_json(request):
            return JsonResponse({"ok": False, "message": refusal_text(exc)}, status=refusal_status(exc))
        return _back(request, session, f"{upload.name}: {refusal_text(exc)}", error=True)
    recognised = sum(1 for face in result.faces if face.student_id)
    if result.duplicate:
        text = f"{upload.name}: already processed for this session, nothing changed."
    elif result.queued:
        text = f"{upload.name}: received; faces are being recognised (this page shows the progress)."
    else:
        text = f"{upload.name}: {len(result.faces)} faces found, {recognised} recognised."
    if _wants_json(request) and result.queued:  # the page's script follows the status URL
        return JsonResponse({"ok": True, "message": text, "state": result.photo.state,
                             "status_url": reverse("photo-status", args=[result.photo.pk])},
                            status=200 if result.duplicate else 202)
    if _wants_json(request):
        return JsonResponse({"ok": True, "message": text})
    return _back(request, session, text)


def _back(request: AuthenticatedHttpRequest, session: AttendanceSession, text: str, *,
          error: bool = False) -> HttpResponse:
    (messages.error if error else messages.success)(request, text)
    return redirect("session-page", session_id=session.pk)


@staff_required
@access_logged(Kind.FACE_IMAGE, object_type="face (crop)", object_kwarg="face_id")
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
@access_logged(Kind.CLASSROOM_PHOTO, object_type="classroom photo", object_kwarg="photo_id")
def session_photo_image(request: AuthenticatedHttpRequest, photo_id: int) -> HttpResponseBase:
    """A classroom photo, only for staff who may see its session (never a public media URL)."""
    photo = get_object_or_404(SessionPhoto.objects.filter(
        session__in=selectors.session_list_visible(user=request.user)), pk=photo_id)
    return private_image(photo.image, missing="This photo was deleted after the retention period.")


def _record(request: AuthenticatedHttpRequest, session_id: int, student_id: int) -> tuple[AttendanceSession,
            AttendanceRecord]:
    session = _session(request, session_id)
    return session, get_object_or_404(AttendanceRecord.objects.select_related("student"), session=session,
                                      student_id=student_id)


@staff_required
@require_POST
def record_decide(request: AuthenticatedHttpRequest, session_id: int, student_id: int) -> HttpResponse:
    """Confirm (present, or late when first seen after the grace) or reject (absent) a pending match."""
    session, record = _record(request, session_id, student_id)
    confirm = request.POST.get("decision") == "confirm"
    status = lateness.confirmed_status(record) if confirm else Status.ABSENT
    try:
        services.record_correct(record=record, status=status, by=request.user, expected_status=Status.PENDING,
                                note="Pending match confirmed" if confirm else "Pending match rejected")
    except REFUSALS as exc:  # a stale page: the match was decided meanwhile
        return _back(request, session, f"{record.student.full_name}: {refusal_text(exc)}", error=True)
    return _back(request, session, f"{record.student.full_name}: {status}.")


@staff_required
@require_POST
def record_correct(request: AuthenticatedHttpRequest, session_id: int, student_id: int) -> HttpResponse:
    session, record = _record(request, session_id, student_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        return _back(request, session, "Choose a status for the correction.", error=True)
    services.record_correct(record=record, status=form.cleaned_data["status"], by=request.user,
                            note=form.cleaned_data["note"])
    return _back(request, session, f"{record.student.full_name}: {form.cleaned_data['status']} (correction saved).")


def _session_face(request: AuthenticatedHttpRequest, session_id: int, face_id: int) -> tuple[AttendanceSession,
                  DetectedFace]:
    session = _session(request, session_id)
    return session, get_object_or_404(DetectedFace.objects.select_related("photo__session"), pk=face_id,
                                      photo__session=session)


@staff_required
@require_POST
def face_assign(request: AuthenticatedHttpRequest, session_id: int, face_id: int) -> HttpResponse:
    session, face = _session_face(request, session_id, face_id)
    students = list(session.course.students.all())
    form = AssignForm(request.POST, students=students)
    if not form.is_valid():
        return _back(request, session, "Choose who this face is.", error=True)
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
        return _back(request, session, refusal_text(exc), error=True)
    text = f"{student.full_name} marked present."
    if result.enrolled:
        text += " The face was enrolled too."
    elif result.enrol_error:
        messages.warning(request, f"The face was not enrolled: {result.enrol_error}")
    return _back(request, session, text)


@staff_required
@require_POST
def face_dismiss(request: AuthenticatedHttpRequest, session_id: int, face_id: int) -> HttpResponse:
    """"Not a student": the face leaves the review (audited)."""
    session, face = _session_face(request, session_id, face_id)
    try:
        review.face_dismiss(face=face, by=request.user, note=request.POST.get("note", "")[:200])
    except REFUSALS as exc:
        return _back(request, session, refusal_text(exc), error=True)
    return _back(request, session, f"Face {face.face_index + 1} of photo #{face.photo_id} dismissed: not a student.")


@staff_required
@require_POST
def session_finalize(request: AuthenticatedHttpRequest, session_id: int) -> HttpResponse:
    session = _session(request, session_id)
    form = FinalizeForm(request.POST)
    form.is_valid()
    try:
        result = services.session_finalize(session=session, by=request.user,
                                           resolve_pending=form.cleaned_data.get("resolve_pending") or None,
                                           note=form.cleaned_data.get("note", ""))
    except REFUSALS as exc:
        return _back(request, session, refusal_text(exc), error=True)
    return _back(request, session, f"Session finalised: {len(result.absent)} absent; guardians are being told.")


@staff_required
def session_history(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Sessions by course and date."""
    sessions = selectors.session_list_visible(user=request.user).annotate(
        present=Count("records", filter=Q(records__status__in=[Status.PRESENT, Status.LATE])),
        total=Count("records"))
    course_id = request.GET.get("course")
    if selected := parse_id(course_id):
        sessions = sessions.filter(course_id=selected)
    day = request.GET.get("date")
    if day:
        try:
            sessions = sessions.filter(date=datetime.date.fromisoformat(day))
        except ValueError:
            messages.error(request, "Use a date in the form YYYY-MM-DD.")
    return render(request, "attendance/history.html", {
        "sessions": sessions[:200], "courses": course_list_visible(user=request.user),
        "selected_course": course_id, "selected_date": day or ""})


def _dates(request: AuthenticatedHttpRequest) -> tuple[datetime.date | None, datetime.date | None]:
    try:
        date_from, date_to = (datetime.date.fromisoformat(request.GET[name]) if request.GET.get(name) else None
                              for name in ("from", "to"))
        return date_from, date_to
    except ValueError:
        raise Http404("Use dates in the form YYYY-MM-DD.") from None


def rate_chart(sessions: list, width: int = 600, height: int = 180) -> dict:
    """Points of the attendance-rate-over-time line, in SVG coordinates (server-rendered chart)."""
    points = []
    rated = [s for s in sessions if s.n_counted]
    for index, session in enumerate(rated):
        x = 40 + (width - 60) * (index / max(len(rated) - 1, 1))
        rate = 100 * session.n_present / session.n_counted
        points.append({"x": round(x, 1), "y": round(10 + (height - 40) * (1 - rate / 100), 1), "rate": round(rate),
                       "date": session.date})
    return {"width": width, "height": height, "points": points,
            "polyline": " ".join(f"{p['x']},{p['y']}" for p in points),
            "grid": [{"y": round(10 + (height - 40) * (1 - v / 100), 1), "label": v} for v in (0, 25, 50, 75, 100)]}


@staff_required
def course_report(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    """Per-student rates with a chart over time; at-risk students highlighted; CSV download."""
    course = _course(request, course_id)
    date_from, date_to = _dates(request)
    report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
    at_risk = {row.student.pk for row in report.at_risk}
    rows = [{"row": row, "at_risk": row.student.pk in at_risk, "bar": row.rate or 0} for row in report.students]
    query = request.GET.urlencode()
    return render(request, "attendance/report.html", {
        "course": course, "report": report, "rows": rows, "chart": rate_chart(report.sessions),
        "csv_url": reverse("course-report-csv", args=[course.pk]) + (f"?{query}" if query else ""),
        "pdf_url": reverse("course-report-pdf", args=[course.pk]) + (f"?{query}" if query else ""),
        "date_from": date_from, "date_to": date_to})


@staff_required
@access_logged(Kind.REPORT_EXPORT, object_type="course report", object_kwarg="course_id")
def course_report_csv(request: AuthenticatedHttpRequest, course_id: int) -> HttpResponse:
    course = _course(request, course_id)
    date_from, date_to = _dates(request)
    report = selectors.course_report(course=course, date_from=date_from, date_to=date_to)
    response = HttpResponse(selectors.course_report_csv(report), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-{slugify(course.code)}.csv"'
    return response
