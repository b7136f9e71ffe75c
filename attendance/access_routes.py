"""The access-log classification of attendance's routes (see school/access_log.py): which serve biometric
data (faces, classroom photos, crops, check-in selfies) or a report (a course's, a student's, the school's,
a register over dates; page, JSON, CSV or PDF) and are logged at each read, and why the others are not."""

from __future__ import annotations

from school.access_log import Kind, Logged, NotLogged, RouteClass

_REGISTER = NotLogged("a lesson's register as it is taken and corrected: its photos and crops are read "
                      "through their own routes, which are logged")
_SELF_CHECKIN = NotLogged("self check-in: the student's own scan and selfie being sent; the teacher's window")
_PEOPLE = NotLogged("courses, rosters and students' pages: their faces and photos are read through their own "
                    "routes, which are logged")
_OWN = NotLogged("the student's own data, read by themself (their face images are logged)")
_GUARDIAN = NotLogged("the family's own child, through their sealed link")


def _report(object_type: str, object_kwarg: str | None = None) -> Logged:
    return Logged(Kind.REPORT_VIEW, object_type, object_kwarg, download_kind=Kind.REPORT_EXPORT)


ROUTES: dict[str, RouteClass] = {
    # Biometric data.
    "face-image": Logged(Kind.FACE_IMAGE, "face", "face_id"),
    "my-face-image": Logged(Kind.FACE_IMAGE, "face", "face_id"),
    "enrolment-face-crop": Logged(Kind.FACE_IMAGE, "face (crop)", "face_id"),
    "session-photo-image": Logged(Kind.CLASSROOM_PHOTO, "classroom photo", "photo_id"),
    "api:face-crop": Logged(Kind.FACE_CROP, "detected face", "face_id"),
    "checkin-selfie": Logged(Kind.CHECKIN_SELFIE, "check-in attempt", "attempt_id"),
    "my-checkin-selfie": Logged(Kind.CHECKIN_SELFIE, "check-in attempt", "attempt_id"),
    # Reports and registers over dates.
    "course-report-page": _report("course report", "course_id"),
    "course-report-csv": _report("course report", "course_id"),
    "course-report-pdf": _report("course report", "course_id"),
    "student-report": _report("student report", "student_id"),
    "office-report": _report("school report"),
    "api:course-report": _report("course report", "course_id"),
    "api:course-register": _report("course register", "course_id"),
    "api:school-report": _report("school report"),
    "api:student-report-api": _report("student report", "student_id"),
    # Neither.
    **dict.fromkeys([
        "dashboard", "take-attendance", "session-history", "session-page", "session-photo-upload", "record-decide",
        "record-correct", "face-assign-page", "face-dismiss-page", "session-finalize-page", "slot-take",
        "api:course-sessions", "api:session-list", "api:session-detail", "api:session-photos", "api:session-record",
        "api:session-finalize", "api:session-face-assign", "api:session-face-dismiss", "api:photo-status",
        "api:attendance-mark", "api:session-live", "api:session-live-frames"], _REGISTER),
    **dict.fromkeys(["checkin-open", "checkin-close", "checkin-qr", "checkin-page", "checkin-scan",
                     "api:checkin-scan-api", "api:checkin-api", "checkin-review"], _SELF_CHECKIN),
    **dict.fromkeys([
        "course-list", "course-page", "course-enrol", "course-unenrol", "course-roster", "student-list",
        "student-page", "student-consent", "student-face-enrol", "student-face-delete", "student-face-review",
        "student-guardian-consent-link", "student-guardian-revoke", "teacher-settings"], _PEOPLE),
    **dict.fromkeys(["my-page", "my-consent-withdraw", "my-export", "api:me-attendance", "api:me-export"], _OWN),
    **dict.fromkeys(["guardian-attendance", "guardian-consent"], _GUARDIAN),
    **dict.fromkeys(["office-calibration", "office-calibration-apply"],
                    NotLogged("recognition rates counted per course and year group, and thresholds: no "
                              "person's attendance or face is shown")),
}
