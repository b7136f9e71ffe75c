from __future__ import annotations

from django.apps import AppConfig


class SchoolConfig(AppConfig):
    """The shared ground under every app (see school/models.py)."""

    name = "school"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from school.access_log import access_routes_declare
        from school.access_routes import ROUTES

        access_routes_declare(ROUTES)
