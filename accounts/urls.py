"""Staff pages of students and settings."""

from __future__ import annotations

from django.urls import path

from accounts import views

urlpatterns = [
    path("students/", views.student_list, name="student-list"),
    path("students/<int:student_id>/", views.student_detail, name="student-page"),
    path("students/<int:student_id>/consent/", views.student_consent, name="student-consent"),
    path("students/<int:student_id>/faces/", views.student_face_enrol, name="student-face-enrol"),
    path("students/<int:student_id>/faces/<int:face_id>/delete/", views.student_face_delete,
         name="student-face-delete"),
    path("students/<int:student_id>/faces/<int:face_id>/review/", views.student_face_review,
         name="student-face-review"),
    path("students/<int:student_id>/guardian/consent-link/", views.student_guardian_consent_link,
         name="student-guardian-consent-link"),
    path("students/<int:student_id>/guardian/revoke/", views.student_guardian_revoke,
         name="student-guardian-revoke"),
    path("faces/<int:face_id>/image", views.face_image, name="face-image"),
    path("settings/", views.teacher_settings, name="teacher-settings"),
]
