"""Role checks shared by the API modules. Object visibility is done by selectors (unseen → 404)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission


class IsSchoolAdmin(BasePermission):
    message = "Only school administrators may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_school_admin)


class IsStaffOrReadOnly(BasePermission):
    """Teachers and admins may write; students may only read what they can see."""

    message = "Students may not change this."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return request.method in SAFE_METHODS or user.is_school_admin or user.is_teacher


class IsStaff(BasePermission):
    """Teachers and admins only (attendance is staff work; students see their own data elsewhere)."""

    message = "Only teachers and administrators may do this."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_school_admin or user.is_teacher))
