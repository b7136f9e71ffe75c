"""Staff pages of attendance: registers, photos and their review, self check-in, reports."""

from __future__ import annotations

from django.urls import path

from attendance.checkin import views as checkin_views
from attendance.photos import views as photo_views
from attendance.register import school_views, views
from attendance.reports import calibration_views
from attendance.reports import views as report_views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("courses/<int:course_id>/take/", photo_views.take_attendance, name="take-attendance"),
    path("courses/<int:course_id>/report/", report_views.course_report, name="course-report-page"),
    path("courses/<int:course_id>/report.csv", report_views.course_report_csv, name="course-report-csv"),
    path("sessions/", views.session_history, name="session-history"),
    path("sessions/<int:session_id>/", photo_views.session_page, name="session-page"),
    path("sessions/<int:session_id>/photos/", photo_views.session_photo_upload, name="session-photo-upload"),
    path("sessions/<int:session_id>/records/<int:student_id>/decide/", views.record_decide, name="record-decide"),
    path("sessions/<int:session_id>/records/<int:student_id>/correct/", views.record_correct,
         name="record-correct"),
    path("sessions/<int:session_id>/faces/<int:face_id>/assign/", photo_views.face_assign, name="face-assign-page"),
    path("sessions/<int:session_id>/faces/<int:face_id>/dismiss/", photo_views.face_dismiss, name="face-dismiss-page"),
    path("sessions/<int:session_id>/finalize/", views.session_finalize, name="session-finalize-page"),
    path("photos/<int:photo_id>/image", photo_views.session_photo_image, name="session-photo-image"),
    path("faces/<int:face_id>/enrolment-crop", photo_views.enrolment_face_crop, name="enrolment-face-crop"),
    # Self check-in (attendance/checkin/views.py)
    path("sessions/<int:session_id>/checkin/open/", checkin_views.checkin_open, name="checkin-open"),
    path("sessions/<int:session_id>/checkin/close/", checkin_views.checkin_close, name="checkin-close"),
    path("sessions/<int:session_id>/checkin/qr.svg", checkin_views.checkin_qr, name="checkin-qr"),
    path("sessions/<int:session_id>/checkin/<int:attempt_id>/review/", checkin_views.checkin_review,
         name="checkin-review"),
    path("checkins/<int:attempt_id>/selfie", checkin_views.checkin_selfie, name="checkin-selfie"),
    path("checkin/", checkin_views.checkin_page, name="checkin-page"),
    path("checkin/<str:token>/", checkin_views.checkin_scan, name="checkin-scan"),
    # The school day (attendance/register/school_views.py) and reports (attendance/reports/views.py)
    path("periods/<int:slot_id>/take/", school_views.slot_take, name="slot-take"),
    path("courses/<int:course_id>/report.pdf", report_views.course_report_pdf, name="course-report-pdf"),
    path("students/<int:student_id>/report/", report_views.student_report, name="student-report"),
    path("office/report/", report_views.school_report, name="office-report"),
    path("office/calibration/", calibration_views.calibration_page, name="office-calibration"),
    path("office/calibration/<int:course_id>/apply/", calibration_views.calibration_apply,
         name="office-calibration-apply"),
]
