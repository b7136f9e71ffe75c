"""/api/v1/: every REST endpoint of the product, one router."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path
from rest_framework.routers import DefaultRouter

from accounts.api import (
    LogoutView,
    MeView,
    MySettingsView,
    RevocationCheckingVerifyView,
    RotatingTokenRefreshView,
    StudentViewSet,
    ThrottledTokenObtainView,
    UserViewSet,
)
from accounts.password_api import PasswordChangeView, PasswordResetConfirmView, PasswordResetRequestView
from attendance.people.me_api import MyAttendanceView, MyExportView
from classes.api import CourseViewSet
from school.calendar_api import ClosureViewSet, TermViewSet

router = DefaultRouter()
router.register("users", UserViewSet, basename="user")
router.register("students", StudentViewSet, basename="student")
router.register("courses", CourseViewSet, basename="course")
router.register("calendar/terms", TermViewSet, basename="term")
router.register("calendar/closures", ClosureViewSet, basename="closure")

urlpatterns: list[URLPattern | URLResolver] = [
    path("auth/token/", ThrottledTokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", RotatingTokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", RevocationCheckingVerifyView.as_view(), name="token-verify"),
    path("auth/logout/", LogoutView.as_view(), name="token-logout"),
    path("auth/password/reset/", PasswordResetRequestView.as_view(), name="api-password-reset"),
    path("auth/password/reset/confirm/", PasswordResetConfirmView.as_view(), name="api-password-reset-confirm"),
    path("auth/password/change/", PasswordChangeView.as_view(), name="api-password-change"),
    path("me/", MeView.as_view(), name="me"),
    path("me/attendance/", MyAttendanceView.as_view(), name="me-attendance"),
    path("me/export/", MyExportView.as_view(), name="me-export"),
    path("me/settings/", MySettingsView.as_view(), name="me-settings"),
    path("", include("recognition.api_urls")),
    path("", include("attendance.api_urls")),
    path("", include(router.urls)),
]
