"""Staff pages of attendance."""

from __future__ import annotations

from django.urls import path

from attendance import views

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
]
