"""Face enrolment endpoints under /api/v1/ (mounted before the router so that `me` is not an id)."""

from __future__ import annotations

from django.urls import path

from recognition.faces_api import MyFacesView, StudentFaceDetailView, StudentFaceReviewView, StudentFacesView

urlpatterns = [
    path("students/me/faces/", MyFacesView.as_view(), name="my-faces"),
    path("students/<int:student_id>/faces/", StudentFacesView.as_view(), name="student-faces"),
    path("students/<int:student_id>/faces/<int:face_id>/", StudentFaceDetailView.as_view(), name="student-face"),
    path("students/<int:student_id>/faces/<int:face_id>/approve/", StudentFaceReviewView.as_view(decision="approve"),
         name="student-face-approve"),
    path("students/<int:student_id>/faces/<int:face_id>/reject/", StudentFaceReviewView.as_view(decision="reject"),
         name="student-face-reject"),
]
