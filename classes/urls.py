"""Staff pages of courses."""

from __future__ import annotations

from django.urls import path

from classes import views

urlpatterns = [
    path("courses/", views.course_list, name="course-list"),
    path("courses/<int:course_id>/", views.course_detail, name="course-page"),
    path("courses/<int:course_id>/enrol/", views.course_enrol, name="course-enrol"),
    path("courses/<int:course_id>/unenrol/<int:student_id>/", views.course_unenrol, name="course-unenrol"),
    path("courses/<int:course_id>/roster/", views.course_roster_import, name="course-roster"),
]
