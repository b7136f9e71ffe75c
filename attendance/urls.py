"""Staff pages of attendance."""

from __future__ import annotations

from django.urls import path

from attendance import checkin_views, school_views, views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("courses/<int:course_id>/take/", views.take_attendance, name="take-attendance"),
    path("courses/<int:course_id>/report/", views.course_report, name="course-report-page"),
    path("courses/<int:course_id>/report.csv", views.course_report_csv, name="course-report-csv"),
    path("sessions/", views.session_history, name="session-history"),
    path("sessions/<int:session_id>/", views.session_page, name="session-page"),
    path("sessions/<int:session_id>/photos/", views.session_photo_upload, name="session-photo-upload"),
    path("sessions/<int:session_id>/records/<int:student_id>/decide/", views.record_decide, name="record-decide"),
    path("sessions/<int:session_id>/records/<int:student_id>/correct/", views.record_correct,
         name="record-correct"),
    path("sessions/<int:session_id>/faces/<int:face_id>/assign/", views.face_assign, name="face-assign-page"),
    path("sessions/<int:session_id>/faces/<int:face_id>/dismiss/", views.face_dismiss, name="face-dismiss-page"),
    path("sessions/<int:session_id>/finalize/", views.session_finalize, name="session-finalize-page"),
    path("photos/<int:photo_id>/image", views.session_photo_image, name="session-photo-image"),
    path("faces/<int:face_id>/enrolment-crop", views.enrolment_face_crop, name="enrolment-face-crop"),
    # Self check-in (attendance/checkin_views.py)
    path("sessions/<int:session_id>/checkin/open/", checkin_views.checkin_open, name="checkin-open"),
    path("sessions/<int:session_id>/checkin/close/", checkin_views.checkin_close, name="checkin-close"),
    path("sessions/<int:session_id>/checkin/qr.svg", checkin_views.checkin_qr, name="checkin-qr"),
    path("checkins/<int:attempt_id>/selfie", checkin_views.checkin_selfie, name="checkin-selfie"),
    path("checkin/", checkin_views.checkin_page, name="checkin-page"),
    path("checkin/<str:token>/", checkin_views.checkin_scan, name="checkin-scan"),
    # The school day (attendance/school_views.py)
    path("periods/<int:slot_id>/take/", school_views.slot_take, name="slot-take"),
    path("courses/<int:course_id>/report.pdf", school_views.course_report_pdf, name="course-report-pdf"),
    path("students/<int:student_id>/report/", school_views.student_report, name="student-report"),
    path("office/report/", school_views.school_report, name="office-report"),
    path("office/calendar/", school_views.calendar_page, name="office-calendar"),
    path("office/calendar/<str:kind>/<int:entry_id>/delete/", school_views.calendar_delete,
         name="office-calendar-delete"),
    path("office/outbox/", school_views.outbox_page, name="office-outbox"),
    path("office/outbox/<int:message_id>/retry/", school_views.outbox_retry, name="office-outbox-retry"),
    path("office/settings/", school_views.school_settings_page, name="office-settings"),
]
