"""The pages of people and their courses as staff, students and guardians see them, with their attendance
and faces: the course roster, a student's page, the student's own page, the guardian's link page."""

from __future__ import annotations

from django.urls import include, path

from attendance.people import course_views, staff_views

urlpatterns = [
    # A course's roster (attendance/people/course_views.py)
    path("courses/", course_views.course_list, name="course-list"),
    path("courses/<int:course_id>/", course_views.course_detail, name="course-page"),
    path("courses/<int:course_id>/enrol/", course_views.course_enrol, name="course-enrol"),
    path("courses/<int:course_id>/unenrol/<int:student_id>/", course_views.course_unenrol, name="course-unenrol"),
    path("courses/<int:course_id>/roster/", course_views.course_roster_import, name="course-roster"),
    # A student's page for staff, faces, consent and guardian links (attendance/people/staff_views.py)
    path("students/", staff_views.student_list, name="student-list"),
    path("students/<int:student_id>/", staff_views.student_detail, name="student-page"),
    path("students/<int:student_id>/consent/", staff_views.student_consent, name="student-consent"),
    path("students/<int:student_id>/faces/", staff_views.student_face_enrol, name="student-face-enrol"),
    path("students/<int:student_id>/faces/<int:face_id>/delete/", staff_views.student_face_delete,
         name="student-face-delete"),
    path("students/<int:student_id>/faces/<int:face_id>/review/", staff_views.student_face_review,
         name="student-face-review"),
    path("students/<int:student_id>/guardian/consent-link/", staff_views.student_guardian_consent_link,
         name="student-guardian-consent-link"),
    path("students/<int:student_id>/guardian/revoke/", staff_views.student_guardian_revoke,
         name="student-guardian-revoke"),
    path("faces/<int:face_id>/image", staff_views.face_image, name="face-image"),
    path("settings/", staff_views.teacher_settings, name="teacher-settings"),
    path("", include("attendance.people.student_views")),
    path("", include("attendance.people.guardian_views")),
]
