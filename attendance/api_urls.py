"""Attendance endpoints under /api/v1/ (sessions, photos, records, one-shot marking, reports)."""

from __future__ import annotations

from django.urls import path

from attendance.checkin import api as checkin_api
from attendance.live import api as live_api
from attendance.photos import api as photos_api
from attendance.register import api
from attendance.reports import api as reports_api

urlpatterns = [
    path("courses/<int:course_id>/sessions/", api.CourseSessionsView.as_view(), name="course-sessions"),
    path("courses/<int:course_id>/report/", reports_api.CourseReportView.as_view(), name="course-report"),
    path("courses/<int:course_id>/register/", reports_api.CourseRegisterView.as_view(), name="course-register"),
    path("sessions/", api.SessionListView.as_view(), name="session-list"),
    path("sessions/<int:session_id>/", api.SessionDetailView.as_view(), name="session-detail"),
    path("sessions/<int:session_id>/photos/", photos_api.SessionPhotosView.as_view(), name="session-photos"),
    path("sessions/<int:session_id>/records/<int:student_id>/", api.RecordDetailView.as_view(),
         name="session-record"),
    path("sessions/<int:session_id>/finalize/", api.SessionFinalizeView.as_view(), name="session-finalize"),
    path("sessions/<int:session_id>/faces/<int:face_id>/assign/", photos_api.FaceAssignView.as_view(),
         name="session-face-assign"),
    path("sessions/<int:session_id>/faces/<int:face_id>/dismiss/", photos_api.FaceDismissView.as_view(),
         name="session-face-dismiss"),
    path("sessions/<int:session_id>/faces/<int:face_id>/crop/", photos_api.FaceCropView.as_view(), name="face-crop"),
    path("photos/<int:photo_id>/", photos_api.PhotoStatusView.as_view(), name="photo-status"),
    path("sessions/<int:session_id>/live/", live_api.LiveRunView.as_view(), name="session-live"),
    path("sessions/<int:session_id>/live/frames/", live_api.LiveFrameView.as_view(), name="session-live-frames"),
    path("checkin/scan/", checkin_api.CheckinScanView.as_view(), name="checkin-scan-api"),
    path("checkin/", checkin_api.CheckinSelfieView.as_view(), name="checkin-api"),
    path("attendance/mark/", photos_api.AttendanceMarkView.as_view(), name="attendance-mark"),
    path("reports/school/", reports_api.SchoolReportView.as_view(), name="school-report"),
    path("students/<int:student_id>/report/", reports_api.StudentReportView.as_view(), name="student-report-api"),
]
