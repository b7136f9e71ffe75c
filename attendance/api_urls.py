"""Attendance endpoints under /api/v1/ (sessions, photos, records, one-shot marking, reports)."""

from __future__ import annotations

from django.urls import path

from attendance import api, checkin_api, live_api, reports_api

urlpatterns = [
    path("courses/<int:course_id>/sessions/", api.CourseSessionsView.as_view(), name="course-sessions"),
    path("courses/<int:course_id>/report/", api.CourseReportView.as_view(), name="course-report"),
    path("courses/<int:course_id>/register/", api.CourseRegisterView.as_view(), name="course-register"),
    path("sessions/", api.SessionListView.as_view(), name="session-list"),
    path("sessions/<int:session_id>/", api.SessionDetailView.as_view(), name="session-detail"),
    path("sessions/<int:session_id>/photos/", api.SessionPhotosView.as_view(), name="session-photos"),
    path("sessions/<int:session_id>/records/<int:student_id>/", api.RecordDetailView.as_view(),
         name="session-record"),
    path("sessions/<int:session_id>/finalize/", api.SessionFinalizeView.as_view(), name="session-finalize"),
    path("sessions/<int:session_id>/faces/<int:face_id>/assign/", api.FaceAssignView.as_view(),
         name="session-face-assign"),
    path("sessions/<int:session_id>/faces/<int:face_id>/dismiss/", api.FaceDismissView.as_view(),
         name="session-face-dismiss"),
    path("sessions/<int:session_id>/faces/<int:face_id>/crop/", api.FaceCropView.as_view(), name="face-crop"),
    path("photos/<int:photo_id>/", api.PhotoStatusView.as_view(), name="photo-status"),
    path("sessions/<int:session_id>/live/", live_api.LiveRunView.as_view(), name="session-live"),
    path("sessions/<int:session_id>/live/frames/", live_api.LiveFrameView.as_view(), name="session-live-frames"),
    path("checkin/scan/", checkin_api.CheckinScanView.as_view(), name="checkin-scan-api"),
    path("checkin/", checkin_api.CheckinSelfieView.as_view(), name="checkin-api"),
    path("attendance/mark/", api.AttendanceMarkView.as_view(), name="attendance-mark"),
    path("reports/school/", reports_api.SchoolReportView.as_view(), name="school-report"),
    path("students/<int:student_id>/report/", reports_api.StudentReportView.as_view(), name="student-report-api"),
]
